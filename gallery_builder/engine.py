"""Run a batch of optimizer runs on one test function and summarize each run.

Everything is plain numpy arrays with a leading batch axis. One autograd call per step gives the values and
gradients (and, for Newton, Hessians) of every run in the batch. A run stops advancing at the first step whose
position or value is not finite (it *diverged* there) or that lands outside the domain scaled by the function's
``escape_factor`` about its centre (it *escaped*); nothing is clipped, clamped or hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import functions, optimizers
from .errors import UserError

# Run outcomes, in the order of their integer codes.
STATUSES = ("converged", "stalled", "moving", "diverged", "escaped")
CONVERGED, STALLED, MOVING, DIVERGED, ESCAPED = range(len(STATUSES))

# A run "converges" once |f - f*| <= TOLERANCE; it "stalled" when it ends with |grad f| <= STALL_GRADIENT elsewhere.
TOLERANCE = 1e-6
STALL_GRADIENT = 1e-6
CAPTURE_FRACTION = 0.01  # a run "ended in" a minimizer when it stops within 1 % of the domain's width of it
MAX_STEPS = 100_000


@dataclass
class Runs:
    """A batch of runs: full paths and per-run summaries."""

    points: np.ndarray  # (B, S+1, 2); NaN after a run stopped
    values: np.ndarray  # (B, S+1)
    grad_norms: np.ndarray  # (B, S+1)
    status: np.ndarray  # (B,) codes into STATUSES
    stop_step: np.ndarray  # (B,) step at which a run diverged or escaped, -1 otherwise
    last: np.ndarray  # (B,) index of the last finite row
    final_point: np.ndarray  # (B, 2)
    final_value: np.ndarray  # (B,)
    gap: np.ndarray  # (B,) final f - f* (NaN without a known minimum)
    distance: np.ndarray  # (B,) to the nearest global minimizer (NaN without one)
    steps_to_tolerance: np.ndarray  # (B,) first step with f - f* <= tolerance, -1 if never
    minimizer: np.ndarray  # (B,) index of the minimizer the run ended in, -1 for none


def _derivatives(fn, points, hessian):
    if hessian:
        grads, hess = fn.hessian(points)
        return fn.values(points), grads, hess
    values, grads = fn.value_and_grad(points)
    return values, grads, None


def run_batch(opt, fn, starts, steps: int, hyper: dict, tolerance=TOLERANCE, escape_factor=None,
              keep_paths: bool = True) -> Runs:
    """Advance every start in ``starts`` (B, 2) for ``steps`` steps.

    Every hyperparameter may be a scalar or a (B,) array (one value per run). Without ``keep_paths`` only the
    summaries are kept, so memory does not grow with the number of steps (basin maps need no paths).
    """
    starts = np.array(starts, dtype=float).reshape(-1, 2)
    batch = len(starts)
    hyper = {k: (np.asarray(v, float).reshape(batch, 1) if np.ndim(v) else v) for k, v in hyper.items()}
    transform = opt.transform(**hyper)
    escape_factor = fn.escape_factor if escape_factor is None else escape_factor
    low, high = fn.box(escape_factor)

    # Step-major while running, so that each step writes one contiguous row; batch-major in the result.
    rows = steps + 1 if keep_paths else 0
    points, values, grad_norms = np.full((rows, batch, 2), np.nan), np.full((rows, batch), np.nan), np.full(
        (rows, batch), np.nan)
    stop_step = np.full(batch, -1)
    stopped_as = np.full(batch, MOVING)
    last = np.zeros(batch, dtype=int)
    first_within = np.full(batch, -1)

    def within(value):
        return np.abs(value - fn.minimum) <= tolerance if fn.minimum is not None else np.zeros(batch, bool)

    with np.errstate(all="ignore"):
        position = starts
        value, grads, hess = _derivatives(fn, position, opt.uses_hessian)
        state = transform.init(position)
        final_point, final_value, final_grad = position, value, np.hypot(grads[:, 0], grads[:, 1])
        if keep_paths:
            points[0], values[0], grad_norms[0] = final_point, final_value, final_grad
        active = np.isfinite(position).all(axis=1) & np.isfinite(value)
        stop_step[~active], stopped_as[~active] = 0, DIVERGED
        first_within[active & within(value)] = 0
        for step in range(1, steps + 1):
            if not active.any():
                break
            updates, state = transform.update(grads, state, position, hessian=hess)
            candidate = position + updates
            new_value, new_grads, new_hess = _derivatives(fn, candidate, opt.uses_hessian)
            record = active & np.isfinite(new_value) & np.isfinite(candidate).all(axis=1)
            inside = ((candidate >= low) & (candidate <= high)).all(axis=1)
            norms = np.hypot(new_grads[:, 0], new_grads[:, 1])
            first_within[record & (first_within < 0) & within(new_value)] = step
            everyone = record.all()
            if everyone:  # the common case needs no masking
                final_point, final_value, final_grad, last = candidate, new_value, norms, np.full(batch, step)
                if keep_paths:
                    points[step], values[step], grad_norms[step] = candidate, new_value, norms
            else:
                keep = record[:, None]
                final_point = np.where(keep, candidate, final_point)
                final_value = np.where(record, new_value, final_value)
                final_grad = np.where(record, norms, final_grad)
                last = np.where(record, step, last)
                if keep_paths:
                    points[step] = np.where(keep, candidate, np.nan)
                    values[step] = np.where(record, new_value, np.nan)
                    grad_norms[step] = np.where(record, norms, np.nan)
                diverged = active & ~record
                stop_step[diverged], stopped_as[diverged] = step, DIVERGED
            escaped = record & ~inside
            if escaped.any():
                stop_step[escaped], stopped_as[escaped] = step, ESCAPED
            active = record & inside
            if everyone and not escaped.any():
                position, value, grads, hess = candidate, new_value, new_grads, new_hess
                continue
            keep = active[:, None]
            position = np.where(keep, candidate, position)
            value = np.where(active, new_value, value)
            grads = np.where(keep, new_grads, grads)
            if hess is not None:
                hess = np.where(keep[:, :, None], new_hess, hess)

    paths = points.transpose(1, 0, 2).copy(), values.T.copy(), grad_norms.T.copy()
    return _summary(fn, paths, final_point, final_value, final_grad, last, first_within, stop_step, stopped_as,
                    tolerance)


def summarize(fn, points, values, grad_norms, stop_step, stopped_as, tolerance=TOLERANCE) -> Runs:
    """Summaries of runs given as full (B, S+1) arrays, NaN after a stop."""
    batch, rows = values.shape
    finite_rows = np.isfinite(values)
    last = np.where(finite_rows.any(axis=1), rows - 1 - np.argmax(finite_rows[:, ::-1], axis=1), 0)
    pick = np.arange(batch)
    if fn.minimum is None:
        first_within = np.full(batch, -1)
    else:
        hits = finite_rows & (np.abs(values - fn.minimum) <= tolerance)
        first_within = np.where(hits.any(axis=1), np.argmax(hits, axis=1), -1)
    return _summary(fn, (points, values, grad_norms), points[pick, last], values[pick, last],
                    grad_norms[pick, last], last, first_within, stop_step, stopped_as, tolerance)


def _summary(fn, paths, final_point, final_value, final_grad, last, first_within, stop_step, stopped_as,
             tolerance) -> Runs:
    batch = len(final_value)
    gap = np.full(batch, np.nan) if fn.minimum is None else final_value - fn.minimum
    if fn.minimizers:
        targets = np.asarray(fn.minimizers, dtype=float)
        offsets = final_point[:, None, :] - targets[None, :, :]
        dists = np.hypot(offsets[..., 0], offsets[..., 1])
        nearest = np.argmin(dists, axis=1)
        distance = dists[np.arange(batch), nearest]
        minimizer = np.where(distance <= CAPTURE_FRACTION * fn.width, nearest, -1)
    else:
        distance = np.full(batch, np.nan)
        minimizer = np.full(batch, -1)

    status = stopped_as.copy()
    running = stop_step < 0
    # |gap|: a function unbounded below outside its box (McCormick) can be left far below its box minimum.
    at_minimum = np.abs(gap) <= tolerance
    status[running & at_minimum] = CONVERGED
    # Stalled means a vanished gradient away from every global minimizer: a local minimum or a saddle.
    away = ~at_minimum & (minimizer < 0)
    status[running & away & (final_grad <= STALL_GRADIENT)] = STALLED
    return Runs(*paths, status, stop_step, last, final_point, final_value, gap, distance, first_within, minimizer)


def is_failure(status, fn):
    """Which runs failed: the diverged ones, and on a function with a minimum also those that left the domain
    (on a saddle, leaving is the goal)."""
    status = np.asarray(status)
    return (status == DIVERGED) | ((status == ESCAPED) & (fn.minimum is not None))


def describe(status: int, stop_step: int, steps: int) -> str:
    """The status of one run in words."""
    return {
        CONVERGED: "converged",
        STALLED: "stalled at a stationary point that is not a global minimum",
        MOVING: f"still moving after {steps} steps",
        DIVERGED: f"diverged at step {stop_step}",
        ESCAPED: f"left the domain at step {stop_step}",
    }[int(status)]


@dataclass
class Trajectory:
    """One run: ``points`` is (steps+1) × 2 (row k is the position after k steps), NaN after a divergence."""

    optimizer: str
    function: str
    hyperparameters: dict
    points: np.ndarray
    values: np.ndarray
    grad_norms: np.ndarray
    status: str
    stop_step: int
    steps_to_tolerance: int
    description: str

    @property
    def steps(self) -> int:
        return len(self.points) - 1


def check_start(fn, start) -> tuple:
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise UserError(f"start must be two numbers, got {start!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise UserError(f"start must be finite, got ({x!r}, {y!r})")
    if not fn.contains(np.array([x, y])):
        (x0, x1), (y0, y1) = fn.domain
        raise UserError(f"start ({x:g}, {y:g}) is outside the domain of {fn.name}: [{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]")
    return x, y


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise UserError(f"steps must be a whole number, got {steps!r}")
    if not 0 <= steps <= MAX_STEPS:
        raise UserError(f"steps must be between 0 and {MAX_STEPS}, got {steps}")
    return int(steps)


def trajectory(optimizer: str, function: str, start=None, steps: int = 300, **hyperparameters) -> Trajectory:
    """Run one optimizer from one start; e.g. ``trajectory("adam", "rosenbrock", steps=200, lr=0.03)``."""
    opt, fn = optimizers.get(optimizer), functions.get(function)
    hyper = opt.hyperparameters(hyperparameters)
    start = check_start(fn, fn.start if start is None else start)
    steps = check_steps(steps)
    runs = run_batch(opt, fn, [start], steps, hyper)
    status, stop = int(runs.status[0]), int(runs.stop_step[0])
    return Trajectory(opt.name, fn.name, hyper, runs.points[0], runs.values[0], runs.grad_norms[0], STATUSES[status],
                      stop, int(runs.steps_to_tolerance[0]), describe(status, stop, steps))
