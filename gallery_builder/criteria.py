"""The choice criterion: which learning rate of a cell is its best, defined once for the sweep, the results and
the pages (and printed on the Methodology page as CRITERION).

The runs of a cell share one start and differ only in the learning rate, given in ascending order.
"""

from __future__ import annotations

import numpy as np

from .engine import ESCAPED, is_failure

# Two gaps are equal when they differ by at most TIE_RELATIVE × max(1, |f*|): a million times coarser than the
# rounding of float64 values of that size (about 1e-16 relative), so runs stalled in the same local minimum tie,
# and far below any difference a reader could see. Gaps within the convergence tolerance count as the tolerance.
TIE_RELATIVE = 1e-9

# Both functions without a minimum (the saddle and the monkey saddle) are 0 at their saddle point, the origin:
# a step across the saddle changes the sign of f.
SADDLE_LEVEL = 0.0

CRITERION = {
    "bounded": "A run that diverged, left the domain or ended above its starting value never counts. Among the "
    "others, the one with the smallest final gap |f(x_N) − f*|, where a gap within the tolerance counts as the "
    "tolerance and two gaps that differ by at most 10⁻⁹ × max(1, |f*|) count as equal (far above rounding noise, "
    "far below anything visible): ties go to the run that first came within the tolerance, then to the smaller "
    "learning rate.",
    "unbounded": "For a function without a minimum, where escaping the saddle downhill is the goal: the run that "
    "leaves the domain downhill soonest, over every learning rate, ties going to the smaller learning rate. An "
    "escape counts only when the run leaves with f below its starting value and below the saddle's level (f = 0 at "
    "the saddle point: a run that ends above it has not left the saddle's basin downhill), and its last step did "
    "not change the sign of f: a step that flips f from one side of the saddle's level to the other is an overshoot across the "
    "saddle (Newton's θ ← −4θ on the monkey saddle), not an escape. When no run escapes, the run with the lowest "
    "final value among those that neither left the domain nor ended above their starting value; otherwise none.",
}


def tie_width(fn) -> float:
    """How far apart two final gaps on ``fn`` may be and still count as equal."""
    return TIE_RELATIVE * max(1.0, abs(fn.minimum if fn.minimum is not None else 0.0))


def overshoot(before_exit, final_value):
    """Whether the step that left the domain jumped across the saddle: f changed sign on it."""
    before, final = np.asarray(before_exit) - SADDLE_LEVEL, np.asarray(final_value) - SADDLE_LEVEL
    return np.sign(before) * np.sign(final) < 0


def left_downhill(status, start_value, before_exit, final_value):
    """The "left the domain downhill" test: escaped, below the start value and the saddle's level, and not by an
    overshoot (AdamW at lr 100 leaves the saddle's box at f = 0.0999 > 0: above the saddle, no escape).

    ``before_exit`` is f one step before the run left (the start value for a run that left on its first step).
    Works elementwise on arrays.
    """
    status, final = np.asarray(status), np.asarray(final_value)
    return ((status == ESCAPED) & (final < np.asarray(start_value)) & (final < SADDLE_LEVEL)
            & ~overshoot(before_exit, final))


def before_exit(runs) -> np.ndarray:
    """f one step before each run's last recorded step (the start value for a run that stopped at step 0 or 1)."""
    rows = np.arange(len(runs.last))
    return runs.values[rows, np.maximum(runs.last - 1, 0)]


def escapes(runs) -> np.ndarray:
    """Which runs of a batch with full paths left the domain downhill."""
    return left_downhill(runs.status, runs.values[:, 0], before_exit(runs), runs.final_value)


def ended_above_start(runs) -> np.ndarray:
    """Runs that end higher than they started: climbing, never best."""
    return runs.final_value > runs.values[:, 0]


def _first(order_keys, candidates) -> int:
    """The candidate index with the smallest key tuple; the index itself (the smaller lr) breaks the last tie."""
    return int(min(candidates, key=lambda i: (*order_keys(i), i)))


def choose_best(runs, fn, tolerance: float) -> int:
    """Index of the best run by CRITERION (runs in ascending learning rate), or -1 when no run qualifies."""
    usable = ~is_failure(runs.status, fn) & ~ended_above_start(runs)
    if fn.minimum is not None:
        candidates = np.flatnonzero(usable)
        if not len(candidates):
            return -1
        gaps = np.maximum(np.abs(runs.gap), tolerance)
        tied = [i for i in candidates if gaps[i] <= gaps[candidates].min() + tie_width(fn)]
        reached = np.where(runs.steps_to_tolerance >= 0, runs.steps_to_tolerance, np.inf)
        return _first(lambda i: (reached[i],), tied)
    escaped = np.flatnonzero(usable & escapes(runs))
    if len(escaped):
        return _first(lambda i: (runs.stop_step[i],), escaped)
    stayed = np.flatnonzero(usable & (runs.status != ESCAPED))
    if not len(stayed):
        return -1
    lowest = runs.final_value[stayed].min()
    width = TIE_RELATIVE * max(1.0, abs(lowest))
    return _first(lambda i: (), [i for i in stayed if runs.final_value[i] <= lowest + width])


def seed_rank(runs, fn, tolerance: float) -> np.ndarray:
    """(B, 2) keys ordering the noisy runs of one learning rate by the criterion, best first: on a function with a
    minimum, failures and climbs last, then the gap (within the tolerance counting as the tolerance), then the step
    it came within the tolerance; without a minimum, downhill escapes first by their step, then the others by final
    value, then failures."""
    usable = ~is_failure(runs.status, fn) & ~ended_above_start(runs)
    if fn.minimum is not None:
        gap = np.where(usable, np.maximum(np.abs(runs.gap), tolerance), np.inf)
        reached = np.where(runs.steps_to_tolerance >= 0, runs.steps_to_tolerance, np.inf)
        return np.stack([gap, reached], axis=1)
    escaped = usable & escapes(runs)
    stayed = usable & (runs.status != ESCAPED)
    first = np.where(escaped, 0.0, np.where(stayed, 1.0, 2.0))
    second = np.where(escaped, runs.stop_step, np.where(stayed, runs.final_value, 0.0))
    return np.stack([first, second.astype(float)], axis=1)
