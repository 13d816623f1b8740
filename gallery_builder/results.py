"""The results stage: what each cell of the sweep amounts to, defined once for the figures, the pages and the
``gallery-builder results`` command (outcome, verdict, leaderboard, the sentences about a pair)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import engine, functions, optimizers
from .sweep import NOISE_SCALES
from .criteria import CRITERION, before_exit, ended_above_start, escapes, overshoot, tie_width
from .engine import CONVERGED, DIVERGED, ESCAPED, STALLED, STATUSES, describe, is_failure


def num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}"


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


def _climbed(cell) -> str:
    """A sentence for runs that ended on a stationary point higher than their start (Newton on a maximum)."""
    runs = cell.runs
    up = [i for i in np.flatnonzero(ended_above_start(runs) & (runs.status == STALLED))]
    if not up:
        return ""
    lrs = ", ".join(num(cell.lrs[i]) for i in up)
    return (f"At lr = {lrs} it stopped on a stationary point that is not a minimum, higher than where it "
            f"started.")


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


def pair_facts(cell, fn, tolerance: float) -> str:
    """Sentences about one (optimizer, function) cell, written from its numbers."""
    opt = optimizers.get(cell.optimizer)
    runs, steps = cell.runs, horizon(cell)
    span = f"from {num(cell.lrs[0])} to {num(cell.lrs[-1])}"
    sentences = []
    if cell.best < 0:
        sentences.append(f"No learning rate {span} qualifies (each run {failures(cell, fn)}), so the figure "
                         f"opens at the default lr = {num(cell.hyperparameters['lr'])}.")
    else:
        b = cell.best
        status, stop = runs.status[b], runs.stop_step[b]
        if fn.minimum is None:
            if status == ESCAPED:
                outcome_text = f"leaves the domain downhill at step {stop}, the soonest of any learning rate"
            else:
                where = ("stops on a stationary point that is not a minimum" if status == STALLED else
                         f"is {describe(status, stop, steps)}")
                outcome_text = (f"never escapes downhill; this is the smallest rate at which it ends lowest "
                                f"(f = {num(runs.final_value[b])}): it {where}")
        elif status == CONVERGED:
            outcome_text = f"reaches the minimum within {num(tolerance)} in {plural(runs.steps_to_tolerance[b], 'step')}"
        else:
            outcome_text = f"ends {steps} steps with f − f* = {num(runs.gap[b])} ({describe(status, stop, steps)})"
        edge = search_edge(cell)
        where = f"lr = {num(cell.lrs[b])}" + (f", {edge}" if edge else "")
        sentences.append(f"At the best learning rate, {where}, {opt.title} {outcome_text}.")
    climbed = _climbed(cell)
    if climbed:
        sentences.append(climbed)
    failed = np.flatnonzero(is_failure(runs.status, fn))
    if len(failed):
        first = int(failed.min())
        everything_above = all(i in failed for i in range(first, len(runs.status)))
        what = _failed_words(runs.status[failed])
        sentences.append(f"It {what} for lr ≥ {num(cell.lrs[first])}." if everything_above else
                         f"It {what} at {len(failed)} of the {len(cell.lrs)} learning rates, the smallest being "
                         f"{num(cell.lrs[first])}.")
    elif fn.minimum is not None:
        sentences.append(f"No learning rate {span} diverged or left the domain.")
    if fn.minimum is None:
        jumped = np.flatnonzero((runs.status == ESCAPED) & overshoot(before_exit(runs), runs.final_value))
        if len(jumped):
            sentences.append(f"At lr = {', '.join(num(cell.lrs[i]) for i in jumped)} it leaves by overshooting "
                             f"across the saddle, which does not count as an escape.")
    return " ".join(sentences)


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
                         "gap": None, "steps": None, "left_at": None, "rank": (2, 0, 0), "edge": ""})
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
                     "edge": search_edge(cell)})
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


def schedule_facts(cell, fn) -> str:
    """A sentence on whether a schedule beat the best constant learning rate, from the cell's numbers; final gaps
    that differ by more than a tie are written with as many digits as it takes to show the difference."""
    if fn.minimum is None or not cell.schedules:
        return ""
    gain = schedule_gain(cell, fn)
    c, s = gain["constant"], gain["scheduled"]
    digits = 3
    if c["steps"] is None and s["steps"] is None and None not in (c["gap"], s["gap"]) \
            and abs(c["gap"] - s["gap"]) > tie_width(fn):
        digits = next(d for d in range(3, 18) if num(c["gap"], d) != num(s["gap"], d))
    verdict = "does better than" if gain["helps"] else "does not beat"
    return (f"The best schedule, {_schedule_words(s, digits)}, {verdict} the best constant rate "
            f"({_schedule_words(c, digits)}).")


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


FLOOR_RATIO = 10  # noise "sets the floor" when the exact-gradient run ends at least this much closer


def noise_facts(cell, fn, tolerance: float) -> str:
    """Sentences about a cell under gradient noise, written from its numbers."""
    if cell.noisy is None:
        return ""
    n = noise_summary(cell, fn, tolerance)
    opt = optimizers.get(cell.optimizer)
    head = f"With gradient noise σ = {num(n['sigma'])}, over {n['seeds']} seeds"
    if n["best"] < 0:
        return f"{head}, no learning rate qualifies for the median seed."
    text = f"{head} the best learning rate for the median seed is {num(n['lr'])}"
    if fn.minimum is None:
        return text + "."
    text += (f": {n['converged']} of {n['seeds']} seeds come within {num(tolerance)}"
             + (f" (median {plural(n['median_steps'], 'step')})" if n["median_steps"] is not None else "")
             + f", and the median final gap is {num(n['median_gap'])} (quartiles {num(n['quartiles'][0])}–"
             f"{num(n['quartiles'][1])}).")
    det = cell.runs.gap[cell.best] if cell.best >= 0 else None
    if det is not None and abs(det) * FLOOR_RATIO < n["median_gap"]:
        text += (f" Without noise {opt.title} ends at {num(abs(det))}: the noise, not the optimizer, sets the "
                 f"floor.")
    return text


def noise_families(numbers: dict | None) -> dict | None:
    """What noise alone does to SGD, momentum, Adam and Lion at a global minimizer, where ∇f = 0: the sweep's
    measurements (``extras.family_numbers``, None for a function without a minimum) and sentences written from
    them."""
    if numbers is None:
        return None
    n = numbers
    lr, beta, sgd, momentum, adam_lr, lion_lr = (n[k] for k in ("lr", "beta", "sgd", "momentum", "adam_lr",
                                                                 "lion_lr"))
    sentences = [
        f"Momentum averages it: at the same effective learning rate (SGD at lr/(1 − β) = {num(lr / (1 - beta))}, "
        f"momentum with β = {num(beta)} at lr = {num(lr)}), noise alone moves SGD {num(n['momentum_ratio'])}× "
        f"farther per step than momentum (root mean square step {num(sgd)} against {num(momentum)}); for pure noise "
        f"the ratio is √((1 + β)/(1 − β)) = {num(n['momentum_expected'])}.",
        f"Adam's normalization amplifies it near a minimum: with σ a thousand times smaller, SGD's steps shrink "
        f"{num(n['sgd_shrink'])}× but Adam's (lr = {num(adam_lr)}) only {num(n['adam_shrink'])}×, since m̂/√v̂ is "
        f"a ratio of noise to noise, of order 1 whatever σ is.",
        f"Lion's sign caps it: without weight decay every Lion step (lr = {num(lion_lr)}) is lr·√2 long to within "
        f"{num(n['lion_spread'])} relative, at σ and at 100σ alike; the noise turns only its direction.",
    ]
    return {"numbers": numbers, "sentences": sentences, "where": n["where"], "steps": n["steps"],
            "seeds": n["seeds"]}


def schedule_summary(cells: list, fn) -> str:
    """How many optimizers a schedule helps on ``fn``, and which schedule wins most often."""
    if fn.minimum is None:
        return ""
    gains = [schedule_gain(c, fn) for c in cells if c.schedules]
    if not gains:
        return ""
    helped = [g for g in gains if g["helps"]]
    if not helped:
        return f"No schedule beats the best constant learning rate for any of the {len(gains)} optimizers."
    specs = [g["scheduled"]["spec"] for g in helped]
    top = max(dict.fromkeys(specs), key=specs.count)
    return (f"A schedule beats the best constant learning rate for {len(helped)} of the {len(gains)} optimizers; "
            f"{top} wins most often ({specs.count(top)}).")
