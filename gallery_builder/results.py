"""The results stage: what each cell of the sweep amounts to, defined once for the figures, the pages and the
``gallery-builder results`` command (outcome, verdict, leaderboard, the sentences about a pair)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import engine, functions, optimizers
from .criteria import CRITERION, before_exit, ended_above_start, escapes, overshoot
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
    """Where the best learning rate sits at an end of the searched range, in words ("" when it is bracketed).

    The search extends past an end where the best rate sits until it reaches its limit, so a best rate still at an
    end sits at the limit: a rate beyond it might do better."""
    b, lrs = cell.best, cell.lrs
    if b < 0 or len(lrs) < 2 or 0 < b < len(lrs) - 1:
        return ""
    decades = num(abs(float(np.log10(lrs[b] / cell.hyperparameters["lr"]))))
    side = "above" if b == len(lrs) - 1 else "below"
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
    }


@dataclass(frozen=True)
class Measured:
    """One run from a function's start, for the numbers written into the explanations at build time."""

    status: str
    stop_step: int  # step at which it left the domain or diverged, -1 otherwise
    steps_to_tolerance: int  # -1 if never
    gap: float | None
    final_value: float
    steps: int

    @property
    def left_at(self):
        return self.stop_step if self.status == "escaped" else None

    @property
    def leaves(self) -> str:
        """"leaves at step 55", or "does not leave within 300 steps"."""
        if self.status == "escaped":
            return f"leaves at step {self.stop_step}"
        if self.status == "diverged":
            return f"diverges at step {self.stop_step}"
        return f"does not leave within {self.steps} steps"

    @property
    def ends(self) -> str:
        """How the run ends, as a verb phrase: "reaches the minimum in 5 steps", "leaves the domain at step 9"."""
        if self.status == "converged":
            return f"reaches the minimum in {plural(self.steps_to_tolerance, 'step')}"
        if self.status in ("escaped", "diverged"):
            return f"{'leaves the domain' if self.status == 'escaped' else 'diverges'} at step {self.stop_step}"
        gap = "" if self.gap is None else f" with f − f* = {num(self.gap)}"
        return f"{'stalls' if self.status == 'stalled' else f'is still moving after {self.steps} steps'}{gap}"


@functools.lru_cache(maxsize=None)
def _measure(optimizer, function, steps, hyper):
    run = engine.trajectory(optimizer, function, steps=steps, **dict(hyper))
    last = int(np.flatnonzero(np.isfinite(run.values))[-1])
    fn = functions.get(function)
    value = float(run.values[last])
    return Measured(run.status, run.stop_step, run.steps_to_tolerance,
                    None if fn.minimum is None else value - fn.minimum, value, steps)


def measure(optimizer: str, function: str, lr: float, steps: int = 300, **hyperparameters) -> Measured:
    """The outcome of ``optimizer`` on ``function`` from its start at ``lr`` (other hyperparameters at their
    defaults unless given; f* from the function for an optimizer that needs it)."""
    filled = optimizers.get(optimizer).for_function(functions.get(function))
    return _measure(optimizer, function, steps, tuple(sorted({**filled, **hyperparameters, "lr": lr}.items())))
