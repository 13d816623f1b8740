"""The results stage: what each cell of the sweep amounts to, defined once for the figures, the pages and the
``gallery-builder results`` command (outcome, verdict, leaderboard, the sentences about a pair)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import engine, functions, optimizers
from .criteria import CRITERION, SADDLE_LEVEL, before_exit, ended_above_start, escapes, overshoot, tie_width
from .model import CONVERGED, DIVERGED, ESCAPED, NOISE_SCALES, STALLED, STATUSES, describe, is_failure


def num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}"


def times(ratio: float) -> str:
    """A ratio as a reader says it: "362×", "6.3×"."""
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def horizon(cell) -> int:
    return cell.runs.points.shape[1] - 1


def shown(cell) -> int:
    """The run a cell's figures open at: the best, or the default learning rate when none qualified."""
    return cell.chosen


def outcome(cell) -> str:
    """How the shown run ended: converged, stalled, moving, diverged or escaped."""
    return STATUSES[int(cell.runs.status[shown(cell)])]


def _why_not(cell, fn) -> list:
    """Why each run of a cell does not qualify, in words ("" for one that does)."""
    runs = cell.runs
    failed, above = is_failure(runs.status, fn), ended_above_start(runs)
    jumped = (runs.status == ESCAPED) & overshoot(before_exit(runs), runs.final_value)
    reasons = []
    for i, status in enumerate(runs.status):
        if failed[i]:
            reasons.append("diverged" if status == DIVERGED else "left the domain")
        elif fn.minimum is None and jumped[i]:
            reasons.append("overshot across the saddle")
        elif above[i]:
            reasons.append("left the domain uphill" if status == ESCAPED else "ended above its start")
        else:
            reasons.append("")
    return reasons


def failures(cell, fn) -> str:
    """How the runs of a cell without a qualifying learning rate ended, in a few words."""
    reasons = list(dict.fromkeys(r for r in _why_not(cell, fn) if r))
    return " or ".join(reasons) if len(reasons) <= 2 else ", ".join(reasons[:-1]) + " or " + reasons[-1]


def search_edge(cell) -> str:
    """Where the best learning rate sits at a limit of the search, in words ("" when it lies inside).

    The search runs every rate within its limits, so only a rate beyond the limit where the best one sits might do
    better."""
    lrs = cell.search.lrs
    if cell.best < 0 or len(lrs) < 2 or lrs[0] < cell.lrs[cell.best] < lrs[-1]:
        return ""
    best = float(cell.lrs[cell.best])
    decades = num(abs(float(np.log10(best / cell.hyperparameters["lr"]))))
    side = "above" if best == lrs[-1] else "below"
    return f"at the edge of the search (limit {decades} decade{'' if decades == '1' else 's'} {side} the default)"


def _failed_words(statuses) -> str:
    ended = {int(s) for s in statuses}
    words = [w for code, w in ((DIVERGED, "diverges"), (ESCAPED, "leaves the domain")) if code in ended]
    return " or ".join(words)


# --- Sentences ----------------------------------------------------------------------------------------------------
# Every generated sentence is a template registered with the predicate on the data that it asserts: it is written
# only where the page has a place for it (``wanted``) and the data satisfy its predicate (``holds``). A sentence
# wanted where its predicate fails is turned away; scripts/sentence_counts.py counts both for the default gallery.


@dataclass(frozen=True)
class Facts:
    """What a sentence may read: a cell (or, for a function's sentences, every cell on the function), its
    function, the tolerance, and the function's other cells for comparisons across optimizers."""

    fn: object
    cell: object = None
    tolerance: float = engine.TOLERANCE
    peers: tuple = ()  # every cell on fn, this one included
    # The median final gap of this cell's noisy runs at σ/2, σ and 2σ (noise_scaling): a gap that grows with σ is
    # the direct evidence that the noise sets the floor. None without noisy runs.
    scaling: tuple | None = None
    measured: dict | None = None  # a function's own measurements (the noise families)


@dataclass(frozen=True)
class Template:
    """A generated sentence: where it is wanted, what it asserts about the data, its words (each Facts -> …)."""

    wanted: Callable
    holds: Callable
    words: Callable


TEMPLATES: dict = {}  # name -> Template, in the order the pages write them


def template(name: str, wanted: Callable, holds: Callable):
    """Register the decorated words function as template ``name``, with its place and its predicate."""
    def register(words):
        TEMPLATES[name] = Template(wanted, holds, words)
        return words
    return register


def judge(facts: Facts, names) -> dict:
    """name -> True (written) or False (turned away by its predicate), for each template of ``names`` wanted
    here."""
    return {n: bool(TEMPLATES[n].holds(facts)) for n in names if TEMPLATES[n].wanted(facts)}


def say(facts: Facts, names) -> str:
    """The sentences of ``names`` that are wanted here and hold, in order."""
    return " ".join(TEMPLATES[n].words(facts) for n, ok in judge(facts, names).items() if ok)


def _best(f: Facts):
    """The best run's index, status and step at which it stopped."""
    b = f.cell.best
    return b, int(f.cell.runs.status[b]), int(f.cell.runs.stop_step[b])


def _at_best(f: Facts, outcome_text: str) -> str:
    edge = search_edge(f.cell)
    where = f"lr = {num(f.cell.lrs[f.cell.best])}" + (f", {edge}" if edge else "")
    return f"At the best learning rate, {where}, {optimizers.get(f.cell.optimizer).title} {outcome_text}."


def _span(cell) -> str:
    return f"from {num(cell.lrs[0])} to {num(cell.lrs[-1])}"


def _bounded(f):
    return f.fn.minimum is not None


def _best_is(status, bounded):
    return lambda f: f.cell.best >= 0 and _bounded(f) == bounded and (status is None or _best(f)[1] == status)


@template("no lr qualifies", lambda f: f.cell.best < 0,
          holds=lambda f: all(_why_not(f.cell, f.fn)))
def _no_lr(f):
    return (f"No learning rate {_span(f.cell)} qualifies (each run {failures(f.cell, f.fn)}), so the figure opens "
            f"at the default lr = {num(f.cell.hyperparameters['lr'])}.")


def _soonest_escape(f) -> bool:
    """The best run left the domain below the saddle's level, and no run left downhill sooner."""
    runs, (b, _, stop) = f.cell.runs, _best(f)
    left = escapes(runs)
    return bool(left[b]) and runs.final_value[b] < SADDLE_LEVEL and stop == runs.stop_step[left].min()


@template("best escapes", _best_is(ESCAPED, False), holds=_soonest_escape)
def _best_escapes(f):
    return _at_best(f, f"leaves the domain downhill at step {_best(f)[2]}, the soonest of any learning rate")


def _lowest_without_escape(f) -> bool:
    """No run escaped downhill, and the best run ends lowest among the runs that qualify."""
    runs, b = f.cell.runs, f.cell.best
    usable = [i for i, why in enumerate(_why_not(f.cell, f.fn)) if not why and runs.status[i] != ESCAPED]
    return not escapes(runs).any() and runs.final_value[b] <= runs.final_value[usable].min() + tie_width(f.fn)


@template("best stays", lambda f: _best_is(None, False)(f) and _best(f)[1] != ESCAPED, holds=_lowest_without_escape)
def _best_stays(f):
    b, status, stop = _best(f)
    where = ("stops on a stationary point that is not a minimum" if status == STALLED else
             f"is {describe(status, stop, horizon(f.cell))}")
    return _at_best(f, f"never escapes downhill; this is the smallest rate at which it ends lowest "
                       f"(f = {num(f.cell.runs.final_value[b])}): it {where}")


def _first_within(f, row: int) -> int:
    """The first step at which run ``row`` is within the tolerance, from its values (-1 if never)."""
    within = np.flatnonzero(np.abs(f.cell.runs.values[row] - f.fn.minimum) <= f.tolerance)
    return int(within[0]) if len(within) else -1


@template("best converges", _best_is(CONVERGED, True),
          holds=lambda f: abs(f.cell.runs.gap[f.cell.best]) <= f.tolerance
          and _first_within(f, f.cell.best) == f.cell.runs.steps_to_tolerance[f.cell.best])
def _best_converges(f):
    steps = int(f.cell.runs.steps_to_tolerance[f.cell.best])
    return _at_best(f, f"reaches the minimum within {num(f.tolerance)} in {plural(steps, 'step')}")


@template("best ends short", lambda f: _best_is(None, True)(f) and _best(f)[1] != CONVERGED,
          holds=lambda f: abs(f.cell.runs.gap[f.cell.best]) > f.tolerance)
def _best_ends_short(f):
    b, status, stop = _best(f)
    return _at_best(f, f"ends {horizon(f.cell)} steps with f − f* = {num(f.cell.runs.gap[b])} "
                       f"({describe(status, stop, horizon(f.cell))})")


def _climbs(cell) -> np.ndarray:
    return np.flatnonzero(ended_above_start(cell.runs) & (cell.runs.status == STALLED))


def _lowest_curvature(f) -> np.ndarray:
    """The smaller Hessian eigenvalue where each climbing run ended."""
    _, hessians = f.fn.hessian(f.cell.runs.final_point[_climbs(f.cell)])
    return np.linalg.eigvalsh(hessians)[:, 0]


def _climbed_to(f, sign: int) -> bool:
    """Each climbing run ended higher than its start, where the smaller Hessian eigenvalue has this sign."""
    rows = _climbs(f.cell)
    return bool((np.sign(_lowest_curvature(f)) == sign).all()
                and (f.cell.runs.final_value[rows] > f.cell.runs.values[rows, 0]).all())


def _climb_rates(f) -> str:
    return ", ".join(num(f.cell.lrs[i]) for i in _climbs(f.cell))


@template("climbed to a saddle or maximum", lambda f: len(_climbs(f.cell)) > 0, holds=lambda f: _climbed_to(f, -1))
def _climbed(f):
    return (f"At lr = {_climb_rates(f)} it stopped on a stationary point that is not a minimum, higher than where "
            f"it started.")


@template("climbed to a local minimum", lambda f: len(_climbs(f.cell)) > 0, holds=lambda f: _climbed_to(f, 1))
def _climbed_to_minimum(f):
    return f"At lr = {_climb_rates(f)} it stopped in a local minimum higher than where it started."


def _failed(f) -> np.ndarray:
    return np.flatnonzero(is_failure(f.cell.runs.status, f.fn))


def _fails_from_first(f) -> bool:
    """Every run from the smallest failing rate up failed."""
    failed = _failed(f)
    return len(failed) > 0 and list(failed) == list(range(int(failed.min()), len(f.cell.lrs)))


@template("fails above", _fails_from_first,
          holds=lambda f: not is_failure(f.cell.runs.status[: _failed(f).min()], f.fn).any()
          and is_failure(f.cell.runs.status[_failed(f).min():], f.fn).all())
def _fails_above(f):
    failed = _failed(f)
    return f"It {_failed_words(f.cell.runs.status[failed])} for lr ≥ {num(f.cell.lrs[failed.min()])}."


@template("fails at some", lambda f: len(_failed(f)) > 0 and not _fails_from_first(f),
          holds=lambda f: not is_failure(f.cell.runs.status[: _failed(f).min()], f.fn).any())
def _fails_at_some(f):
    failed = _failed(f)
    return (f"It {_failed_words(f.cell.runs.status[failed])} at {len(failed)} of the {len(f.cell.lrs)} learning "
            f"rates, the smallest being {num(f.cell.lrs[failed.min()])}.")


@template("never fails", lambda f: _bounded(f) and not len(_failed(f)),
          holds=lambda f: not np.isin(f.cell.runs.status, (DIVERGED, ESCAPED)).any())
def _never_fails(f):
    return f"No learning rate {_span(f.cell)} diverged or left the domain."


def _jumped(f) -> np.ndarray:
    runs = f.cell.runs
    return np.flatnonzero((runs.status == ESCAPED) & overshoot(before_exit(runs), runs.final_value))


@template("overshoots", lambda f: not _bounded(f) and len(_jumped(f)) > 0,
          holds=lambda f: not escapes(f.cell.runs)[_jumped(f)].any())
def _overshoots(f):
    lrs = ", ".join(num(f.cell.lrs[i]) for i in _jumped(f))
    return f"At lr = {lrs} it leaves by overshooting across the saddle, which does not count as an escape."


PAIR_SENTENCES = ("no lr qualifies", "best escapes", "best stays", "best converges", "best ends short",
                  "climbed to a saddle or maximum", "climbed to a local minimum", "fails above", "fails at some",
                  "never fails", "overshoots")


def pair_facts(cell, fn, tolerance: float) -> str:
    """Sentences about one (optimizer, function) cell, written from its numbers."""
    return say(Facts(fn, cell, tolerance), PAIR_SENTENCES)


def no_cell(opt) -> str:
    """Why an optimizer has no cell on a function: it needs f*, and the function has no minimum."""
    return f"no cell: {opt.title} needs f*, and this function has no minimum"


def leaderboard(cells: list, fn) -> list:
    """Rows for a function's leaderboard, best first, in the criterion's order."""
    rows = []
    for cell in cells:
        b = cell.best
        opt = optimizers.get(cell.optimizer)
        if b < 0:
            rows.append({"optimizer": opt, "lr": None, "status": f"no lr qualifies ({failures(cell, fn)})",
                         "gap": None, "steps": None, "left_at": None, "rank": (2, 0, 0), "edge": "",
                         "badges": []})
            continue
        runs = cell.runs
        status = int(runs.status[b])
        reached = int(runs.steps_to_tolerance[b])
        if fn.minimum is None:
            escaped = bool(escapes(runs)[b])
            rank = (0 if escaped else 1, runs.stop_step[b] if escaped else 0, runs.final_value[b])
            left_at = int(runs.stop_step[b]) if escaped else None
        else:
            rank = (0 if status == CONVERGED else 1, reached if reached >= 0 else math.inf, runs.gap[b])
            left_at = None
        rows.append({"optimizer": opt, "lr": float(cell.lrs[b]), "status": STATUSES[status],
                     "gap": None if fn.minimum is None else float(runs.gap[b]),
                     "steps": reached if reached >= 0 else None, "left_at": left_at, "rank": rank,
                     "edge": search_edge(cell), "badges": badges(cell)})
    return sorted(rows, key=lambda r: r["rank"])


def verdict(cell, fn) -> tuple:
    """A short label and a CSS class for a comparison-matrix cell."""
    b = cell.best
    if b < 0:
        return f"✗ {failures(cell, fn)}", "og-bad"
    runs = cell.runs
    status = int(runs.status[b])
    if fn.minimum is None:
        if escapes(runs)[b]:
            return f"escaped @{runs.stop_step[b]}", "og-good"
        return STATUSES[status], "og-meh"
    if status == CONVERGED:
        return f"✓ {plural(runs.steps_to_tolerance[b], 'step')}", "og-good"
    return f"gap {num(runs.gap[b], 2)}", "og-meh" if runs.gap[b] < 1e-2 * max(abs(fn.minimum), 1) else "og-poor"


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def entry(cell, fn) -> dict:
    """One cell as plain data: the stable interface of ``gallery-builder results``."""
    i = shown(cell)
    runs = cell.runs
    reached = int(runs.steps_to_tolerance[i])
    return {
        "optimizer": cell.optimizer,
        "function": cell.function,
        "minimum": fn.minimum,
        "lrs": [float(lr) for lr in cell.lrs],
        "best_lr": float(cell.lrs[cell.best]) if cell.best >= 0 else None,
        "shown_lr": float(cell.lrs[i]),
        "outcome": outcome(cell),
        "final_gap": None if fn.minimum is None else _finite(runs.gap[i]),
        "final_value": _finite(runs.final_value[i]),
        "steps_to_tolerance": reached if reached >= 0 else None,
        "stop_step": int(runs.stop_step[i]) if runs.stop_step[i] >= 0 else None,
        "criterion": CRITERION["bounded" if fn.minimum is not None else "unbounded"],
        "badges": [{"name": b.name, "reason": b.reason} for b in badges(cell)],
    }


# --- Controls ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """A result that rests on something besides the update rule: its name and a one-line reason from the cell."""

    name: str
    reason: str


# The short tag a badge shows where space is tight (the matrix, leaderboards); its reasons go in the tooltip.
BADGE_TAGS = {"origin pull": "origin", "lattice": "lattice", "inert setting": "inert", "knows f*": "f*"}


def badge_tags(found: list) -> list:
    """(tag, reasons) per badge name, in the order found: two reasons of one name (an inert schedule and an inert
    neighbouring lr) share one tag."""
    merged = {}
    for badge in found:
        merged.setdefault(badge.name, []).append(badge.reason)
    return [(BADGE_TAGS[name], f"{name}: " + "; ".join(reasons)) for name, reasons in merged.items()]


STEPS_FACTOR, GAP_FACTOR = 2, 10  # a control run changes the outcome: steps to tolerance ×2, or the final gap ×10


def _row_outcome(runs, i: int, fn, tolerance: float) -> tuple:
    """(qualifies, reached, measure) of run i: ``measure`` is the steps to tolerance, the gap (floored at the
    tolerance), or for a function without a minimum the escape step (inf when it did not escape)."""
    if fn.minimum is None:
        escaped = bool(escapes(runs)[i])
        return escaped, escaped, float(runs.stop_step[i]) if escaped else math.inf
    reached = int(runs.steps_to_tolerance[i]) >= 0
    ok = not is_failure(int(runs.status[i]), fn)
    return ok, reached, float(runs.steps_to_tolerance[i]) if reached else max(abs(float(runs.gap[i])), tolerance)


def _changed(a: tuple, b: tuple) -> bool:
    """Whether two outcomes of _row_outcome differ by more than the control tolerates."""
    if a[:2] != b[:2]:
        return True
    if math.inf in (a[2], b[2]):
        return a[2] != b[2]
    low, high = sorted((a[2], b[2]))
    return high > (STEPS_FACTOR if a[1] else GAP_FACTOR) * max(low, 1.0 if a[1] else 0.0)


def _ending(runs, i: int, fn, steps: int) -> str:
    status, stop = int(runs.status[i]), int(runs.stop_step[i])
    if fn.minimum is not None and runs.steps_to_tolerance[i] >= 0:
        return f"within the tolerance in {plural(int(runs.steps_to_tolerance[i]), 'step')}"
    gap = "" if fn.minimum is None or is_failure(status, fn) else f", f − f* = {num(abs(float(runs.gap[i])))}"
    return describe(status, stop, steps) + gap


def badges(cell, tolerance: float = engine.TOLERANCE) -> list:
    """The badges that apply to a cell's shown result, each with its reason: origin pull (the run changes when the
    function and start are moved off the origin), lattice (it changes when the start moves by a thousandth of the
    domain), inert setting (a schedule, or the learning rate near the chosen one, does not change the run at all),
    knows f* (the optimizer is given the minimum value)."""
    fn, opt, controls = functions.get(cell.function), optimizers.get(cell.optimizer), cell.controls
    i, steps, lr = shown(cell), horizon(cell), num(float(cell.lrs[shown(cell)]))
    mine = _row_outcome(cell.runs, i, fn, tolerance)
    here = _ending(cell.runs, i, fn, steps)
    found = []
    if _changed(mine, _row_outcome(controls.shifted, 0, fn, tolerance)):
        found.append(Badge("origin pull", f"with the function and its start moved off the origin, the run at lr = "
                           f"{lr} ends: {_ending(controls.shifted, 0, fn, steps)} (in place: {here})"))
    if _changed(mine, _row_outcome(controls.nudged, 0, fn, tolerance)):
        found.append(Badge("lattice", f"from a start moved by a thousandth of the domain, the run at lr = {lr} "
                           f"ends: {_ending(controls.nudged, 0, fn, steps)} (from the start itself: {here})"))
    if controls.inert_schedules:
        found.append(Badge("inert setting", f"the schedule{'s' if len(controls.inert_schedules) > 1 else ''} "
                           f"{', '.join(controls.inert_schedules)} leave{'' if len(controls.inert_schedules) > 1 else 's'}"
                           f" every run unchanged, bit for bit"))
    if controls.same_as_neighbour:
        found.append(Badge("inert setting", f"a neighbouring learning rate gives the same run as lr = {lr}, bit for "
                           f"bit"))
    if opt.needs_minimum:
        found.append(Badge("knows f*", f"{opt.title} is given f* = {num(fn.minimum)}, the value it must reach"))
    return found


def quadratic_theory(function: str, tolerance: float = engine.TOLERANCE, steps: int = 300) -> dict:
    """Textbook rates on a quadratic with Hessian eigenvalues λ_min ≤ λ_max and κ = λ_max/λ_min, for the numbers
    the explanations set beside measured runs: gradient descent at its best constant lr = 2/(λ_min + λ_max)
    contracts the error by (κ − 1)/(κ + 1) per step, heavy ball at lr = 4/(√λ_max + √λ_min)² and
    μ = ((√κ − 1)/(√κ + 1))² by (√κ − 1)/(√κ + 1) (asymptotically); f − f* shrinks by the square of the rate, so
    reaching the tolerance from the start takes about ln(gap₀/tolerance) / (2 ln(1/rate)) steps, and after
    ``steps`` steps gradient descent's gap is gap₀·rate^(2·steps)."""
    fn = functions.get(function)
    _, hessians = fn.hessian(np.array([fn.minimizers[0]], float))
    low, high = map(float, np.linalg.eigvalsh(hessians[0]))
    kappa, root = high / low, math.sqrt(high / low)
    gap = float(fn.values(np.array([fn.start], float))[0]) - fn.minimum
    gd_rate, hb_rate = (kappa - 1) / (kappa + 1), (root - 1) / (root + 1)
    decades = math.log(gap / tolerance) / 2  # f − f* shrinks by rate² per step
    return {"kappa": kappa, "low": low, "high": high, "gap": gap, "steps": steps,
            "gd_gap": gap * gd_rate ** (2 * steps),
            "gd_lr": 2 / (low + high), "gd_rate": gd_rate, "gd_steps": math.ceil(decades / math.log(1 / gd_rate)),
            "hb_lr": 4 / (math.sqrt(high) + math.sqrt(low)) ** 2, "hb_momentum": hb_rate ** 2, "hb_rate": hb_rate,
            "hb_steps": math.ceil(decades / math.log(1 / hb_rate))}


# --- Schedules and noise ----------------------------------------------------------------------------------------


ZERO_GAP = 1e-16  # where a figure's log axis draws an exact zero gap (relative to max(1, |f*|))


def _schedule_words(row: dict, digits: int = 3) -> str:
    if row["lr"] is None:
        return f"{row['spec']}: no lr qualifies"
    return (f"{row['spec']} at peak lr {num(row['lr'])}: " +
            (f"converged in {plural(row['steps'], 'step')}" if row["steps"] is not None
             else f"final gap {num(row['gap'], digits)}"))


def _schedule_row(spec, lrs, runs, best, fn) -> dict:
    """One schedule's best run, ranked like the leaderboard: converged first, then sooner, then the smaller gap."""
    if best < 0:
        row = {"spec": spec, "lr": None, "gap": None, "steps": None, "shown_gap": math.nan,
               "rank": (2, math.inf, math.inf)}
    else:
        gap, reached = abs(float(runs.gap[best])), int(runs.steps_to_tolerance[best])
        row = {"spec": spec, "lr": float(lrs[best]), "gap": gap, "steps": reached if reached >= 0 else None,
               "shown_gap": max(gap, ZERO_GAP * max(1.0, abs(fn.minimum))),
               "rank": (0 if reached >= 0 else 1, reached if reached >= 0 else math.inf, gap)}
    return {**row, "words": _schedule_words(row)}


def _ranks_before(row: dict, other: dict, fn) -> bool:
    """Whether ``row`` ranks before ``other``: converged first, then sooner, then a final gap smaller by more than
    the criterion's tie width (closer gaps are equal, as when the best learning rate is chosen)."""
    if row["rank"][:2] != other["rank"][:2]:
        return row["rank"][:2] < other["rank"][:2]
    return row["rank"][2] < other["rank"][2] - tie_width(fn)


def schedule_gain(cell, fn) -> dict:
    """The best constant-lr run against the best of the cell's schedules (a function with a minimum only)."""
    constant = _schedule_row("constant", cell.lrs, cell.runs, cell.best, fn)
    rows = [_schedule_row(spec, s.lrs, s.runs, s.best, fn) for spec, s in cell.schedules.items()]
    scheduled = min(rows, key=lambda r: r["rank"])
    return {"optimizer": optimizers.get(cell.optimizer), "constant": constant, "scheduled": scheduled,
            "helps": _ranks_before(scheduled, constant, fn)}


def _gain(f) -> dict:
    return schedule_gain(f.cell, f.fn)


def _schedule_digits(c: dict, s: dict, fn) -> int:
    """As many digits as it takes to show two final gaps apart when they differ by more than a tie."""
    if c["steps"] is None and s["steps"] is None and None not in (c["gap"], s["gap"]) \
            and abs(c["gap"] - s["gap"]) > tie_width(fn):
        return next(d for d in range(3, 18) if num(c["gap"], d) != num(s["gap"], d))
    return 3


def _schedule_sentence(f, verdict: str) -> str:
    c, s = _gain(f)["constant"], _gain(f)["scheduled"]
    digits = _schedule_digits(c, s, f.fn)
    tied = "" if c["steps"] is None or c["steps"] != s["steps"] else (
        f"; both first come within the tolerance at step {c['steps']}, and end at final gaps {num(s['gap'])} "
        f"against {num(c['gap'])}")
    return (f"The best schedule, {_schedule_words(s, digits)}, {verdict} the best constant rate "
            f"({_schedule_words(c, digits)}){tied}.")


def _shows_a_gain(gain: dict, fn) -> bool:
    """The words show the schedule ahead: it converged and the constant rate did not, or sooner, or (at the same
    step or neither converging) at a final gap that reads smaller."""
    c, s = gain["constant"], gain["scheduled"]
    if s["lr"] is None or (s["steps"] is None) != (c["steps"] is None) or s["steps"] != c["steps"]:
        return s["lr"] is not None and (c["steps"] is None or (s["steps"] is not None and s["steps"] < c["steps"]))
    digits = _schedule_digits(c, s, fn)
    return c["gap"] is None or float(num(s["gap"], digits)) < float(num(c["gap"], digits))


def _not_sooner(gain: dict) -> bool:
    """The schedule did not come within the tolerance sooner than the constant rate."""
    c, s = gain["constant"], gain["scheduled"]
    return s["steps"] is None or (c["steps"] is not None and s["steps"] >= c["steps"])


def _has_schedules(f):
    return _bounded(f) and bool(f.cell.schedules)


@template("schedule helps", lambda f: _has_schedules(f) and _gain(f)["helps"],
          holds=lambda f: _shows_a_gain(_gain(f), f.fn))
def _schedule_helps(f):
    return _schedule_sentence(f, "does better than")


@template("schedule does not help", lambda f: _has_schedules(f) and not _gain(f)["helps"],
          holds=lambda f: _not_sooner(_gain(f)))
def _schedule_does_not_help(f):
    return _schedule_sentence(f, "does not beat")


def schedule_facts(cell, fn) -> str:
    """A sentence on whether a schedule beat the best constant learning rate, from the cell's numbers."""
    return say(Facts(fn, cell), ("schedule helps", "schedule does not help"))


def noise_summary(cell, fn, tolerance: float) -> dict:
    """The noisy sweep's outcome at its chosen lr: median steps to tolerance, share of seeds converged, gaps."""
    noisy = cell.noisy
    i = noisy.chosen
    reached = noisy.steps_to_tolerance[i]
    converged = int((noisy.status[i] == CONVERGED).sum())
    steps = np.where(reached >= 0, reached, np.inf)
    median_steps = float(np.quantile(steps, 0.5, method="lower"))
    failed = np.isin(noisy.status[i], (DIVERGED, ESCAPED))
    gaps = np.where(failed, np.inf, np.abs(noisy.gap[i]))
    return {"sigma": noisy.sigma, "seeds": noisy.seeds, "lr": float(noisy.lrs[i]), "best": noisy.best,
            "converged": converged, "median_steps": None if math.isinf(median_steps) else int(median_steps),
            "median_gap": None if fn.minimum is None else float(np.quantile(gaps, 0.5, method="lower")),
            "quartiles": None if fn.minimum is None else [float(q) for q in np.quantile(gaps, (0.25, 0.75),
                                                                                         method="lower")]}


def noise_scaling(cell) -> dict:
    """σ multiple -> the median seed's final gap (the lower median, |f − f*|; inf for a failed run) at the noisy
    sweep's chosen lr, at σ/2, σ and 2σ: whether the noisy gap scales with σ. Empty without noise or a minimum."""
    noisy, fn = cell.noisy, functions.get(cell.function)
    if noisy is None or fn.minimum is None:
        return {}
    failed = is_failure(noisy.scaled_status, fn)
    gaps = np.where(failed, np.inf, np.abs(noisy.scaled_gap))
    medians = np.quantile(gaps, 0.5, axis=1, method="lower")
    return {scale: float(m) for scale, m in zip(NOISE_SCALES, medians)}


FLOOR_RATIO = 10  # the noise may set the floor when the exact-gradient run ends at least this much closer
FLOOR_FACTOR = 3  # ... and this optimizer's median gap is within this factor of the best under the same noise
SIGMA_GROWTH = 2  # a median gap that grows at least this much from σ/2 to 2σ grows with σ


def _noisy(f) -> dict:
    return noise_summary(f.cell, f.fn, f.tolerance)


def _noise_head(f) -> str:
    n = _noisy(f)
    return f"With gradient noise σ = {num(n['sigma'])}, over {n['seeds']} seeds"


def _noise_ok(f) -> bool:
    return f.cell.noisy is not None and f.cell.noisy.best >= 0


def _median_seeds_fail(f) -> bool:
    """At every learning rate, the median seed failed or ended above its start."""
    noisy, rows = f.cell.noisy, np.arange(len(f.cell.noisy.lrs))
    status, final = noisy.status[rows, noisy.median], noisy.final_value[rows, noisy.median]
    start = float(f.fn.values(np.array([f.cell.start], float))[0])
    return bool((is_failure(status, f.fn) | (final > start)).all())


@template("noise: no lr qualifies", lambda f: f.cell.noisy is not None and f.cell.noisy.best < 0,
          holds=_median_seeds_fail)
def _noise_no_lr(f):
    return f"{_noise_head(f)}, no learning rate qualifies for the median seed."


def _median_lr(f) -> str:
    return f"{_noise_head(f)} the best learning rate for the median seed is {num(_noisy(f)['lr'])}"


@template("noise: best lr", lambda f: _noise_ok(f) and not _bounded(f),
          holds=lambda f: f.cell.noisy.lrs[f.cell.noisy.best] == _noisy(f)["lr"])
def _noise_best_lr(f):
    return _median_lr(f) + "."


def _seeds_within(f) -> int:
    """Seeds at the chosen noisy lr whose final gap is within the tolerance, counted from their gaps."""
    noisy = f.cell.noisy
    return int((np.abs(noisy.gap[noisy.chosen]) <= f.tolerance).sum())


@template("noise: outcome", lambda f: _noise_ok(f) and _bounded(f),
          holds=lambda f: _seeds_within(f) == _noisy(f)["converged"])
def _noise_outcome(f):
    n = _noisy(f)
    return (f"{_median_lr(f)}: {n['converged']} of {n['seeds']} seeds come within {num(f.tolerance)}"
            + (f" (median {plural(n['median_steps'], 'step')})" if n["median_steps"] is not None else "")
            + f", and the median final gap is {num(n['median_gap'])} (quartiles {num(n['quartiles'][0])}–"
            f"{num(n['quartiles'][1])}).")


def _exact_gap(f) -> float:
    return abs(float(f.cell.runs.gap[f.cell.best]))


def _noise_costs(f) -> bool:
    """The exact-gradient run ends FLOOR_RATIO times closer than the noisy median seed."""
    return _noise_ok(f) and _bounded(f) and f.cell.best >= 0 and _exact_gap(f) * FLOOR_RATIO < _noisy(f)["median_gap"]


def side_minimum(fn, point, tolerance: float = engine.TOLERANCE) -> float | None:
    """f − f* at the local minimum Newton's iteration reaches from ``point`` when that is a minimum other than a
    global one, close to ``point``; None otherwise (a global minimum, a saddle, no convergence)."""
    x = np.asarray(point, float)[None]
    with np.errstate(all="ignore"):
        for _ in range(60):
            grad, hess = fn.hessian(x)
            if not np.isfinite(hess).all() or abs(np.linalg.det(hess[0])) < 1e-300:
                return None
            x = x - np.linalg.solve(hess, grad[..., None])[..., 0]
        grad, hess = fn.hessian(x)
    height = float(fn.values(x)[0]) - fn.minimum
    near = np.hypot(*(x[0] - point)) <= 0.05 * fn.width
    if not (np.isfinite(height) and near and np.abs(grad).max() <= 1e-8 and (np.linalg.eigvalsh(hess[0]) > 0).all()):
        return None
    return height if height > tolerance else None


def _median_end(cell) -> np.ndarray:
    """Where the median seed at the chosen noisy lr ended (its last finite point)."""
    noisy = cell.noisy
    path = noisy.best_points[noisy.median[noisy.chosen]]
    return path[np.flatnonzero(np.isfinite(path).all(axis=1))[-1]]


BASIN_MATCH = 0.2  # a median gap within this fraction of a side minimum's height is that minimum's, not a floor


def _basin(f) -> float | None:
    """The height of the side minimum the median noisy seed sits in, when its gap is about that height."""
    height = side_minimum(f.fn, _median_end(f.cell), f.tolerance)
    return height if height is not None and abs(_noisy(f)["median_gap"] - height) <= BASIN_MATCH * height else None


def _best_peer(f) -> tuple:
    """(gap, cell) of the optimizer whose median seed ends closest under the same noise, among those not given f*
    (Polyak's step knows f*, so it is no yardstick)."""
    rows = [(_noisy(Facts(f.fn, p, f.tolerance))["median_gap"], p.optimizer) for p in f.peers
            if p.noisy is not None and p.noisy.best >= 0 and not optimizers.get(p.optimizer).needs_minimum]
    return min(rows, default=(None, None))


def _grows_with_sigma(f) -> bool:
    """The median gap grows with σ: larger at each of σ/2, σ and 2σ, and at least SIGMA_GROWTH times larger at 2σ
    than at σ/2 (False where the sweep has no runs at σ/2 and 2σ)."""
    if f.scaling is None:
        return False
    half, gap, double = f.scaling
    return half < gap < double and double >= SIGMA_GROWTH * max(half, f.tolerance)


def _near_the_best(f) -> bool:
    """No optimizer without f* ends more than FLOOR_FACTOR times closer under the same noise."""
    best, _ = _best_peer(f)
    return best is not None and _noisy(f)["median_gap"] <= FLOOR_FACTOR * max(best, f.tolerance)


def _without_noise(f) -> str:
    return f"Without noise {optimizers.get(f.cell.optimizer).title} ends at {num(_exact_gap(f))}"


def _closer_peer(f) -> str:
    best, name = _best_peer(f)
    ratio = _noisy(f)["median_gap"] / max(best, f.tolerance)
    return f"under the same noise {optimizers.get(name).title}'s median seed ends {times(ratio)} closer ({num(best)})"


@template("noise: sets the floor", _noise_costs, holds=lambda f: _basin(f) is None and _near_the_best(f))
def _noise_floor(f):
    return f"{_without_noise(f)}: the noise, not the optimizer, sets the floor."


@template("noise: grows with σ", _noise_costs,
          holds=lambda f: _basin(f) is None and not _near_the_best(f) and _grows_with_sigma(f))
def _noise_grows(f):
    half, gap, double = f.scaling
    return (f"{_without_noise(f)}; under noise its median gap grows with σ ({num(half)} at σ/2, {num(gap)} at σ, "
            f"{num(double)} at 2σ), so the noise sets this floor, but {_closer_peer(f)}.")


@template("noise: changes the basin", _noise_costs, holds=lambda f: _basin(f) is not None)
def _noise_basin(f):
    return (f"{_without_noise(f)}; under noise the median seed ends in a local minimum of height "
            f"f − f* = {num(_basin(f))}: a change of basin, not a floor.")


@template("noise: others do better", _noise_costs,
          holds=lambda f: _basin(f) is None and not _near_the_best(f) and not _grows_with_sigma(f)
          and _best_peer(f)[0] is not None)
def _noise_behind(f):
    return f"{_without_noise(f)}, and {_closer_peer(f)}: the noise alone does not set this floor."


NOISE_SENTENCES = ("noise: no lr qualifies", "noise: best lr", "noise: outcome", "noise: sets the floor",
                   "noise: grows with σ", "noise: changes the basin", "noise: others do better")


def cell_facts(cell, fn, tolerance: float, peers=()) -> Facts:
    """What a cell's sentences may read, its noisy gaps at σ/2, σ and 2σ included."""
    scaling = noise_scaling(cell)
    return Facts(fn, cell, tolerance, tuple(peers), tuple(scaling[k] for k in NOISE_SCALES) if scaling else None)


def noise_facts(cell, fn, tolerance: float, peers=()) -> str:
    """Sentences about a cell under gradient noise, written from its numbers and, for comparisons, from the
    other cells on the function (``peers``)."""
    return say(cell_facts(cell, fn, tolerance, peers), NOISE_SENTENCES)


EQUALLY_FAR = 1.25  # two root mean square distances within this factor are "about equally far"


def _family(f) -> bool:
    return f.measured is not None


def _distance_ratio(f) -> float:
    n = f.measured
    return n["sgd_distance"] / n["momentum_distance"]


def _momentum_setting(n) -> str:
    return (f"at the same effective learning rate (SGD at lr/(1 − β) = {num(n['lr'] / (1 - n['beta']))}, momentum "
            f"with β = {num(n['beta'])} at lr = {num(n['lr'])})")


@template("family: momentum jitters less", _family,
          holds=lambda f: 1 / EQUALLY_FAR <= _distance_ratio(f) <= EQUALLY_FAR and f.measured["momentum_ratio"] > 1)
def _family_momentum(f):
    n = f.measured
    return (f"Momentum does not hold it closer {_momentum_setting(n)}: both stay about equally far from the "
            f"minimizer (root mean square distance {num(n['sgd_distance'])} against {num(n['momentum_distance'])}); "
            f"only the jitter differs, SGD's steps being {times(n['momentum_ratio'])} longer (root mean square "
            f"step {num(n['sgd'])} against {num(n['momentum'])}; √((1 + β)/(1 − β)) = "
            f"{num(n['momentum_expected'])} for pure noise).")


@template("family: momentum ends elsewhere", _family,
          holds=lambda f: not 1 / EQUALLY_FAR <= _distance_ratio(f) <= EQUALLY_FAR)
def _family_momentum_apart(f):
    n, ratio = f.measured, _distance_ratio(f)
    closer = "momentum" if ratio > 1 else "SGD"
    return (f"{_momentum_setting(n)[0].upper()}{_momentum_setting(n)[1:]}, {closer} stays "
            f"{times(max(ratio, 1 / ratio))} closer to the minimizer (root mean square distance "
            f"{num(n['sgd_distance'])} for SGD, {num(n['momentum_distance'])} for momentum).")


@template("family: Adam barely shrinks", _family,
          holds=lambda f: f.measured["adam_shrink"] * 10 < f.measured["sgd_shrink"])
def _family_adam(f):
    n = f.measured
    return (f"Adam's normalization keeps it moving near a minimum: with σ a thousand times smaller, SGD's steps "
            f"shrink {times(n['sgd_shrink'])} but Adam's (lr = {num(n['adam_lr'])}) only {times(n['adam_shrink'])}: "
            f"it divides by √v̂, the size of the noise, which shrinks with it, so most of the shrink cancels.")


@template("family: Lion's steps are lr·√2", _family, holds=lambda f: f.measured["lion_spread"] <= 1e-9)
def _family_lion(f):
    n = f.measured
    return (f"Lion's sign caps it: without weight decay every Lion step (lr = {num(n['lion_lr'])}) is lr·√2 long to "
            f"within {num(n['lion_spread'])} relative, at σ and at 100σ alike; the noise turns only its direction.")


FAMILY_SENTENCES = ("family: momentum jitters less", "family: momentum ends elsewhere", "family: Adam barely shrinks",
                    "family: Lion's steps are lr·√2")


def noise_families(numbers: dict | None) -> dict | None:
    """What noise alone does to SGD, momentum, Adam and Lion at a global minimizer: the sweep's measurements
    (``extras.family_numbers``, None for a function without a minimum) and the sentences whose predicates they
    satisfy."""
    if numbers is None:
        return None
    facts = Facts(None, measured=numbers)
    sentences = [TEMPLATES[n].words(facts) for n, ok in judge(facts, FAMILY_SENTENCES).items() if ok]
    return {"numbers": numbers, "sentences": sentences, "where": numbers["where"], "steps": numbers["steps"],
            "seeds": numbers["seeds"], "smooth": numbers["smooth"]}


def _gains(f) -> list:
    return [schedule_gain(c, f.fn) for c in f.peers if c.schedules]


def _helped(f) -> list:
    return [g for g in _gains(f) if g["helps"]]


@template("schedules: none helps", lambda f: _bounded(f) and _gains(f) and not _helped(f),
          holds=lambda f: all(_not_sooner(g) for g in _gains(f)))
def _schedules_none(f):
    return f"No schedule beats the best constant learning rate for any of the {len(_gains(f))} optimizers."


@template("schedules: some help", lambda f: _bounded(f) and bool(_helped(f)),
          holds=lambda f: all(_shows_a_gain(g, f.fn) for g in _helped(f)))
def _schedules_some(f):
    specs = [g["scheduled"]["spec"] for g in _helped(f)]
    top = max(dict.fromkeys(specs), key=specs.count)
    return (f"A schedule beats the best constant learning rate for {len(specs)} of the {len(_gains(f))} optimizers; "
            f"{top} wins most often ({specs.count(top)}).")


def schedule_summary(cells: list, fn) -> str:
    """How many optimizers a schedule helps on ``fn``, and which schedule wins most often."""
    return say(Facts(fn, peers=tuple(cells)), ("schedules: none helps", "schedules: some help"))


CELL_SENTENCES = PAIR_SENTENCES + ("schedule helps", "schedule does not help") + NOISE_SENTENCES


def verdicts(cells: dict, functions_: list, tolerance: float, families: dict) -> list:
    """(template, optimizer or None, function, written) for every template the pages want on ``cells`` (keyed by
    (optimizer, function)) and ``families`` (function -> extras.family_numbers), over ``functions_``: what the pages
    write, and what the predicates turned away."""
    out = []
    for fn in functions_:
        peers = tuple(c for (_, name), c in cells.items() if name == fn.name)
        for cell in peers:
            out += [(n, cell.optimizer, fn.name, ok) for n, ok in
                    judge(cell_facts(cell, fn, tolerance, peers), CELL_SENTENCES).items()]
        out += [(n, None, fn.name, ok) for n, ok in
                judge(Facts(fn, peers=peers), ("schedules: none helps", "schedules: some help")).items()]
        if families.get(fn.name) and any(c.noisy for c in peers):
            out += [(n, None, fn.name, ok) for n, ok in
                    judge(Facts(fn, measured=families[fn.name]), FAMILY_SENTENCES).items()]
    return out
