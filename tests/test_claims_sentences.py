"""Every generated sentence against the data of every cell of the default gallery: one test per template, each
checking from the cell's raw arrays that what the sentence asserts is true wherever the pages write it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gallery_builder import config, engine, extras, functions, optimizers, results, sweep, trajectory
from gallery_builder.engine import CONVERGED, DIVERGED, ESCAPED, STALLED

FAILED = (DIVERGED, ESCAPED)


def start_value(cell, fn) -> float:
    return float(fn.values(np.array([cell.start], float))[0])


def failed(cell, fn) -> np.ndarray:
    status = cell.runs.status
    return (status == DIVERGED) | ((status == ESCAPED) & (fn.minimum is not None))


def downhill_exits(runs) -> np.ndarray:
    """Left the domain below the saddle's level (0) and below the start, without flipping the sign of f."""
    rows = np.arange(len(runs.last))
    before = runs.values[rows, np.maximum(runs.last - 1, 0)]
    return ((runs.status == ESCAPED) & (runs.final_value < 0) & (runs.final_value < runs.values[:, 0])
            & (np.sign(before) * np.sign(runs.final_value) >= 0))


def median_gap(cell) -> float:
    noisy = cell.noisy
    i = noisy.chosen
    gaps = np.where(np.isin(noisy.status[i], FAILED), np.inf, np.abs(noisy.gap[i]))
    return float(np.sort(gaps)[(len(gaps) - 1) // 2])


def lowest_eigenvalues(fn, points) -> np.ndarray:
    return np.linalg.eigvalsh(fn.hessian(np.asarray(points, float))[1])[:, 0]


def climbing(cell) -> np.ndarray:
    runs = cell.runs
    return np.flatnonzero((runs.status == STALLED) & (runs.final_value > runs.values[:, 0]))


def first_within(values, fn, tolerance) -> int:
    return int(np.flatnonzero(np.abs(values - fn.minimum) <= tolerance)[0])


# Template -> check(cell, fn, text, f) from the raw arrays; f is the Facts the pages used (for its peers).
def _no_lr(cell, fn, text, f):
    assert (failed(cell, fn) | (cell.runs.final_value > start_value(cell, fn))).all()


def _best_escapes(cell, fn, text, f):
    exits = downhill_exits(cell.runs)
    assert exits[cell.best] and cell.runs.stop_step[cell.best] == cell.runs.stop_step[exits].min()
    assert f"at step {cell.runs.stop_step[cell.best]}," in text


def _best_stays(cell, fn, text, f):
    runs = cell.runs
    assert not downhill_exits(runs).any()
    kept = ~failed(cell, fn) & (runs.status != ESCAPED) & (runs.final_value <= runs.values[:, 0])
    assert runs.final_value[cell.best] <= runs.final_value[kept].min() + 1e-9


def _best_converges(cell, fn, text, f):
    values = cell.runs.values[cell.best]
    steps = first_within(values, fn, f.tolerance)
    assert abs(values[int(cell.runs.last[cell.best])] - fn.minimum) <= f.tolerance
    assert f"in {steps} step" in text


def _best_ends_short(cell, fn, text, f):
    gap = cell.runs.values[cell.best, int(cell.runs.last[cell.best])] - fn.minimum
    assert abs(gap) > f.tolerance and f"f − f* = {results.num(gap)}" in text


def _climbed_saddle(cell, fn, text, f):
    assert (lowest_eigenvalues(fn, cell.runs.final_point[climbing(cell)]) < 0).all()


def _climbed_minimum(cell, fn, text, f):
    rows = climbing(cell)
    assert (lowest_eigenvalues(fn, cell.runs.final_point[rows]) > 0).all()
    assert (np.hypot(*fn.gradient(cell.runs.final_point[rows]).T) <= engine.STALL_GRADIENT).all()


def _fails_above(cell, fn, text, f):
    lr = float(re.search(r"lr ≥ (\S+)\.", text).group(1))
    bad = failed(cell, fn)
    above = cell.lrs >= lr * (1 - 5e-3)  # the sentence rounds to 3 digits
    assert bad[above].all() and not bad[~above].any()


def _fails_at_some(cell, fn, text, f):
    bad = failed(cell, fn)
    assert f"at {bad.sum()} of the {len(cell.lrs)}" in text and not bad.all()


def _never_fails(cell, fn, text, f):
    assert not np.isin(cell.runs.status, FAILED).any()


def _overshoots(cell, fn, text, f):
    runs = cell.runs
    rows = np.flatnonzero(runs.status == ESCAPED)
    before = runs.values[rows, runs.last[rows] - 1]
    flipped = rows[np.sign(before) != np.sign(runs.final_value[rows])]
    assert len(flipped) and all(results.num(cell.lrs[i]) in text for i in flipped)


def _reached(runs, best, fn, tolerance):
    """(steps to the tolerance or None, final gap) of a search's best run, from its values."""
    values = runs.values[best]
    within = np.flatnonzero(np.abs(values - fn.minimum) <= tolerance)
    return (int(within[0]) if len(within) else None), abs(values[np.isfinite(values)][-1] - fn.minimum)


def _schedule_better(cell, fn, f) -> bool:
    constant = _reached(cell.runs, cell.best, fn, f.tolerance)
    scheduled = [_reached(s.runs, s.best, fn, f.tolerance) for s in cell.schedules.values() if s.best >= 0]
    if cell.best < 0:
        return bool(scheduled)

    def key(row):
        steps, gap = row
        return (steps is None, np.inf if steps is None else steps, gap)
    best = min(scheduled, key=key, default=None)
    if best is None:
        return False
    if key(best)[:2] != key(constant)[:2]:
        return key(best)[:2] < key(constant)[:2]
    return best[1] < constant[1] - 1e-9 * max(1, abs(fn.minimum))


def _schedule_helps(cell, fn, text, f):
    assert _schedule_better(cell, fn, f)


def _schedule_does_not_help(cell, fn, text, f):
    assert not _schedule_better(cell, fn, f)


def _noise_no_lr(cell, fn, text, f):
    noisy = cell.noisy
    rows = np.arange(len(noisy.lrs))
    status, final = noisy.status[rows, noisy.median], noisy.final_value[rows, noisy.median]
    assert (np.isin(status, FAILED) | (final > start_value(cell, fn))).all()


def _noise_best_lr(cell, fn, text, f):
    assert f"is {results.num(cell.noisy.lrs[cell.noisy.best])}." in text


def _noise_outcome(cell, fn, text, f):
    noisy = cell.noisy
    within = int((np.abs(noisy.final_value[noisy.chosen] - fn.minimum) <= f.tolerance).sum())
    assert f"{within} of {noisy.seeds} seeds" in text and f"median final gap is {results.num(median_gap(cell))}" in text


def _peer_gaps(f) -> dict:
    """The median noisy gap of every optimizer on the function that is not given f*."""
    return {p.optimizer: median_gap(p) for p in f.peers
            if p.noisy is not None and p.noisy.best >= 0 and p.optimizer != "polyak_sgd"}


def _median_end(cell) -> np.ndarray:
    path = cell.noisy.best_points[cell.noisy.median[cell.noisy.chosen]]
    return path[np.isfinite(path).all(axis=1)][-1]


# The heights f − f* of the side minima the issue names: ending there is a change of basin.
SIDE_MINIMA = {"three_hump_camel": 0.2986384422, "six_hump_camel": 1.0316284535 - 0.2154638244}


def _noise_costs(cell, fn, f):
    assert abs(cell.runs.gap[cell.best]) * 10 < median_gap(cell)


def _noise_floor(cell, fn, text, f):
    _noise_costs(cell, fn, f)
    gap = median_gap(cell)
    assert gap <= 3 * max(min(_peer_gaps(f).values()), f.tolerance)
    assert all(abs(gap - h) > 0.05 * h for name, h in SIDE_MINIMA.items() if name == fn.name)


def _scaled_gaps(cell, fn) -> np.ndarray:
    """The median seed's gap at σ/2, σ and 2σ, from the noisy sweep's raw runs at those scales."""
    gaps = np.where(np.isin(cell.noisy.scaled_status, FAILED), np.inf, np.abs(cell.noisy.scaled_gap))
    return np.sort(gaps, axis=1)[:, (gaps.shape[1] - 1) // 2]


def _noise_grows(cell, fn, text, f):
    _noise_costs(cell, fn, f)
    half, gap, double = _scaled_gaps(cell, fn)
    assert half < gap < double and double >= 2 * half and gap == pytest.approx(median_gap(cell))
    assert f"({results.num(half)} at σ/2, {results.num(gap)} at σ, {results.num(double)} at 2σ)" in text
    assert median_gap(cell) > 3 * max(min(_peer_gaps(f).values()), f.tolerance)


def _noise_basin(cell, fn, text, f):
    _noise_costs(cell, fn, f)
    end = _median_end(cell)
    assert lowest_eigenvalues(fn, [end])[0] > 0  # the median seed sits in a bowl ...
    height = float(re.search(r"f − f\* = (\S+): a change", text).group(1))
    assert abs(median_gap(cell) - height) <= 0.25 * height  # ... at about that bowl's height
    if fn.name in SIDE_MINIMA:
        assert height == pytest.approx(SIDE_MINIMA[fn.name], rel=5e-3)  # written to 3 digits


def _noise_behind(cell, fn, text, f):
    _noise_costs(cell, fn, f)
    gaps = _peer_gaps(f)
    name = min(gaps, key=gaps.get)
    assert optimizers.get(name).title in text and median_gap(cell) > 3 * max(gaps[name], f.tolerance)


def _schedules_none(cell, fn, text, f):
    assert not any(_schedule_better(c, fn, f) for c in f.peers if c.schedules)


def _schedules_some(cell, fn, text, f):
    helped = sum(_schedule_better(c, fn, f) for c in f.peers if c.schedules)
    assert text.startswith(f"A schedule beats the best constant learning rate for {helped} of")


def _family_jitter(cell, fn, text, f):
    n = f.measured
    assert 0.8 <= n["sgd_distance"] / n["momentum_distance"] <= 1.25 and n["sgd"] > n["momentum"]


def _family_apart(cell, fn, text, f):
    n = f.measured
    ratio = n["sgd_distance"] / n["momentum_distance"]
    assert not 0.8 <= ratio <= 1.25 and results.times(max(ratio, 1 / ratio)) in text


def _family_adam(cell, fn, text, f):
    n = f.measured
    assert n["adam_shrink"] * 10 < n["sgd_shrink"] and "of order 1" not in text


def _family_lion(cell, fn, text, f):
    assert f.measured["lion_spread"] <= 1e-9


CHECKS = {
    "no lr qualifies": _no_lr, "best escapes": _best_escapes, "best stays": _best_stays,
    "best converges": _best_converges, "best ends short": _best_ends_short,
    "climbed to a saddle or maximum": _climbed_saddle, "climbed to a local minimum": _climbed_minimum,
    "fails above": _fails_above, "fails at some": _fails_at_some, "never fails": _never_fails,
    "overshoots": _overshoots, "schedule helps": _schedule_helps, "schedule does not help": _schedule_does_not_help,
    "noise: no lr qualifies": _noise_no_lr, "noise: best lr": _noise_best_lr, "noise: outcome": _noise_outcome,
    "noise: sets the floor": _noise_floor, "noise: grows with σ": _noise_grows,
    "noise: changes the basin": _noise_basin, "noise: others do better": _noise_behind, "schedules: none helps": _schedules_none,
    "schedules: some help": _schedules_some, "family: momentum jitters less": _family_jitter,
    "family: momentum ends elsewhere": _family_apart, "family: Adam barely shrinks": _family_adam,
    "family: Lion's steps are lr·√2": _family_lion,
}


def written(cells: dict, settings, name: str) -> list:
    """(cell or None, fn, text, facts) wherever the pages write template ``name``."""
    out = []
    for fn in (functions.get(n) for n in settings.functions):
        peers = tuple(c for (_, f), c in cells.items() if f == fn.name)
        facts = [results.cell_facts(c, fn, settings.tolerance, peers) for c in peers]
        facts.append(results.Facts(fn, peers=peers))
        numbers = extras.family_numbers(fn.name, settings.sigma_for(fn.name))
        if numbers:
            facts.append(results.Facts(fn, measured=numbers))
        for f in facts:
            template = results.TEMPLATES[name]
            if _scope(f) == _scope_of(name) and template.wanted(f) and template.holds(f):
                out.append((f.cell, fn, template.words(f), f))
    return out


def _scope(f) -> str:
    return "cell" if f.cell is not None else "families" if f.measured is not None else "function"


def _scope_of(name: str) -> str:
    if name in results.CELL_SENTENCES:
        return "cell"
    return "families" if name in results.FAMILY_SENTENCES else "function"


def test_every_template_has_a_check():
    assert set(CHECKS) == set(results.TEMPLATES)


@pytest.fixture(scope="module")
def default_cells(default_site):
    report = sweep.run_sweep(config.Settings(), jobs=1, cache_dir=default_site / ".cache", quiet=True)
    assert report.computed == 0
    return report.cells


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_sentence_holds_on_every_cell_that_writes_it(default_cells, name):
    places = written(default_cells, config.Settings(), name)
    for cell, fn, text, facts in places:
        CHECKS[name](cell, fn, text, facts)


# --- Claims about the whole gallery, in hand-written text that cannot call run() -------------------------------

ROOT = Path(__file__).resolve().parents[1]


def test_in_300_steps_only_curvature_or_f_star_reaches_rosenbrocks_minimum(default_cells):
    """docs/methodology.md and Rosenbrock's notes: who reaches the tolerance within 300 of its 1000 steps."""
    text = " ".join((ROOT / "docs" / "methodology.md").read_text(encoding="utf-8").split())
    assert ("in 300 steps only Newton's method, L-BFGS and Polyak's step, which is given f*, reach the tolerance at "
            "any learning rate of their search, apart from a lattice coincidence of Signum's") in text
    notes = functions.get("rosenbrock").notes
    assert "only Newton's method, L-BFGS and Polyak's step (which is given f*) reach" in notes
    assert "Signum at lr = 0.1 passes through (1, 1) at step 160" in notes and "moved by 0.004 it never" in notes
    early = {name: cell.search.lrs[(cell.search.steps_to_tolerance >= 0) & (cell.search.steps_to_tolerance <= 300)]
             for (name, fn), cell in default_cells.items() if fn == "rosenbrock"}  # over every rate searched
    assert {name for name, lrs in early.items() if len(lrs)} == {"newton", "lbfgs", "polyak_sgd", "signum"}
    assert list(early["signum"]) == [0.1]
    assert trajectory("signum", "rosenbrock", steps=1000, lr=0.1).steps_to_tolerance == 160
    nudged = trajectory("signum", "rosenbrock", steps=1000, lr=0.1, start=(-1.2 + 0.004, 1.0 + 0.004))
    assert nudged.steps_to_tolerance < 0


def test_the_glossary_gives_the_builds_constants():
    """docs/glossary.md quotes the default tolerance and stall threshold, and the memory of three optimizers."""
    from gallery_builder import carried

    text = " ".join((ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").split())
    assert engine.TOLERANCE == 1e-6 and "reached the minimum: $10^{-6}$ unless" in text
    assert engine.STALL_GRADIENT == 1e-6 and "has vanished (below $10^{-6}$)" in text
    assert "0 for SGD, 1 for momentum, 2 for Adam" in text
    assert [carried.memory(n)["copies"] for n in ("sgd", "momentum", "adam")] == [0, 1, 2]


def test_lamb_and_adamw_rank_high_on_the_bowl(default_cells):
    """functions/ill_conditioned.md: both are in the first quarter of the bowl's leaderboard."""
    text = " ".join((ROOT / "docs" / "explanations" / "functions" / "ill_conditioned.md").read_text("utf-8").split())
    assert "also rank high on this bowl's leaderboard, for a reason that has nothing to do with conditioning" in text
    fn = functions.get("ill_conditioned")
    board = [row["optimizer"].name for row in
             results.leaderboard([c for (_, f), c in default_cells.items() if f == fn.name], fn)]
    assert board.index("lamb") < len(board) / 4 and board.index("adamw") < len(board) / 4
