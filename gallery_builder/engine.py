"""Run a batch of optimizer runs on one or more test functions and summarize each run.

Everything is plain numpy arrays with a leading batch axis. One autograd call per step and function gives the values
and gradients (and, for Newton, Hessians) of every run on it. A run stops advancing at the first step whose
position or value is not finite (it *diverged* there) or that lands outside the domain scaled by the function's
``escape_factor`` about its centre (it *escaped*); nothing is clipped, clamped or hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numpy as np

from . import functions, optimizers, schedules
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
    grad_norms: np.ndarray  # (B, S+1), or (B, 0) for a member run without them
    status: np.ndarray  # (B,) codes into STATUSES
    stop_step: np.ndarray  # (B,) step at which a run diverged or escaped, -1 otherwise
    last: np.ndarray  # (B,) index of the last finite row
    final_point: np.ndarray  # (B, 2)
    final_value: np.ndarray  # (B,)
    gap: np.ndarray  # (B,) final f - f* (NaN without a known minimum)
    distance: np.ndarray  # (B,) to the nearest global minimizer (NaN without one)
    steps_to_tolerance: np.ndarray  # (B,) first step with f - f* <= tolerance, -1 if never
    minimizer: np.ndarray  # (B,) index of the minimizer the run ended in, -1 for none
    # What the optimizer carried at each step, read from its own state: field -> (B, S+1, k), for members run
    # with record_state (the gradient point too, for optimizers that show another point than where they evaluate).
    state: dict = field(default_factory=dict)


ARRAYS = tuple(f.name for f in fields(Runs) if f.name != "state")  # the per-run arrays, for slicing and storing


@dataclass
class Member:
    """One optimizer's share of a batch: its runs' starts and hyperparameters.

    A hyperparameter is a scalar or one value per run. ``noise`` (σ per run) adds σ·ξ_t to every gradient an update
    sees, with ξ_t ~ N(0, I₂) drawn from ``seed`` (per run) and the step t only, so every optimizer and learning
    rate of a batch sees the same noise. ``schedule`` (steps,) or (n, steps) multiplies lr at each update, the way
    a torch scheduler stepped after every optimizer step sets the group's lr.
    """

    opt: object
    starts: np.ndarray
    hyper: dict
    keep_paths: bool = True
    noise: object = 0.0
    seed: object = 0
    schedule: np.ndarray | None = None
    record_state: bool = False  # keep the state's per-run arrays at every step (with keep_paths)
    grad_norms: bool = True  # keep |∇f| at every step too (with keep_paths); the sweep's figures never read it
    fn: object = None  # the test function of these runs, when not the batch's own


def _merged(opt, members, sizes) -> dict:
    """The members' hyperparameters as one set: a scalar that every member shares stays a scalar, anything else
    becomes one (G, 1) row per run (a member that leaves one out gets the default, as its factory would)."""
    defaults = opt.defaults
    keys = dict.fromkeys(key for m in members for key in m.hyper)
    hyper = {}
    for key in keys:
        values = [m.hyper[key] if key in m.hyper else defaults[key] for m in members]
        first = values[0]
        if all(np.ndim(v) == 0 and type(v) is type(first) and repr(v) == repr(first) for v in values):
            hyper[key] = first
        else:
            hyper[key] = _freeze(np.concatenate([np.asarray(v, float).reshape(n, 1) if np.ndim(v) else
                                                 np.full((n, 1), float(v)) for v, n in zip(values, sizes)]))
    return hyper


def _freeze(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False  # constant for the whole batch: power() may cache by identity
    return values


class _Group:
    """The members of one optimizer: one transform, one state and one update call per step for all their runs.

    A schedule multiplies lr per run (factor 1 for members without one: lr·1 == lr exactly), so the transform is
    rebuilt at each step only when some member has a schedule; the state carries over, as under a torch scheduler.
    """

    def __init__(self, members, sizes, rows: slice, steps: int):
        self.opt, self.rows = members[0].opt, rows
        self.hyper = _merged(self.opt, members, sizes)
        self.transform = self.opt.transform(**self.hyper)
        self.factors = None
        if any(m.schedule is not None for m in members):
            self.lr = np.broadcast_to(np.asarray(self.hyper["lr"], float), (rows.stop - rows.start, 1))
            self.factors = np.concatenate([np.ones((steps, n)) if m.schedule is None else
                                           np.broadcast_to(np.asarray(m.schedule, float), (n, steps)).T
                                           for m, n in zip(members, sizes)], axis=1)[:, :, None]
        self.state = None

    def keep(self, local, rows: slice) -> None:
        """Keep only the runs ``local`` (indices within the group), which are now the batch's ``rows``."""
        self.rows = rows
        self.hyper = {key: _freeze(value[local]) if np.ndim(value) else value for key, value in self.hyper.items()}
        self.transform = self.opt.transform(**self.hyper)
        if self.factors is not None:
            self.lr, self.factors = self.lr[local], self.factors[:, local]
        self.state = optimizers.take_rows(self.state, local)

    def update(self, step: int, grads, params, **extra):
        transform = self.transform
        if self.factors is not None:  # a scheduler sets lr before each update
            transform = self.opt.transform(**{**self.hyper, "lr": self.lr * self.factors[step - 1]})
        updates, self.state = transform.update(grads, self.state, params, **extra)
        return updates


class _Derivatives:
    """f, ∇f and, for the Hessian users' rows (the first ``hessian_rows``), the Hessian: one autograd call per
    function and kind per step. ``parts`` is [(fn, rows)] with each member's function and rows (a slice)."""

    def __init__(self, parts: list, hessian_rows: int):
        self.h = hessian_rows
        by_call = {}  # (fn, Hessian or not) -> its members' rows, split at the end of the Hessian rows
        for fn, rows in parts:
            for hessian, start, stop in ((True, rows.start, min(rows.stop, hessian_rows)),
                                         (False, max(rows.start, hessian_rows), rows.stop)):
                if start < stop:
                    by_call.setdefault((fn, hessian), []).append((start, stop))
        # Each call's rows as runs of consecutive rows: copying a few slices is far cheaper than fancy indexing.
        self.calls = []
        for (fn, hessian), spans in by_call.items():
            merged = []
            for start, stop in sorted(spans):
                if merged and merged[-1][1] == start:
                    merged[-1] = (merged[-1][0], stop)
                else:
                    merged.append((start, stop))
            self.calls.append((fn, hessian, [slice(a, b) for a, b in merged]))

    def __call__(self, points):
        if len(self.calls) == 1 and len(self.calls[0][2]) == 1:  # one function and kind for the whole batch
            fn, hessian, _ = self.calls[0]
            return fn.value_grad_and_hessian(points) if hessian else (*fn.value_and_grad(points), None)
        values, grads = np.empty(len(points)), np.empty_like(points)
        hess = np.empty((self.h, 2, 2)) if self.h else None  # the first h rows only
        for fn, hessian, pieces in self.calls:
            mine = points[pieces[0]] if len(pieces) == 1 else np.concatenate([points[p] for p in pieces])
            out = fn.value_grad_and_hessian(mine) if hessian else fn.value_and_grad(mine)
            at = 0
            for p in pieces:
                n = p.stop - p.start
                values[p], grads[p] = out[0][at:at + n], out[1][at:at + n]
                if hessian:
                    hess[p] = out[2][at:at + n]
                at += n
        return values, grads, hess


class _Noise:
    """σ·ξ_t per run, ξ_t from each run's seed: the draw depends on (seed, t) only."""

    CHUNK = 32  # steps of σ·ξ drawn up at a time: 32 × (noisy runs) × 2 numbers

    def __init__(self, members, sizes, steps):
        sigma = np.concatenate([np.broadcast_to(np.asarray(m.noise, float), (n,)) for m, n in zip(members, sizes)])
        seeds = np.concatenate([np.broadcast_to(np.asarray(m.seed, np.int64), (n,)) for m, n in zip(members, sizes)])
        rows = np.flatnonzero(sigma > 0)  # only these see noise
        # the noisy rows as a few stretches of consecutive rows: slices are far cheaper than indexing by row
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        self.stretches = [(int(run[0]), int(run[-1]) + 1) for run in np.split(rows, breaks) if run.size]
        if rows.size:
            unique, index = np.unique(seeds[rows], return_inverse=True)
            self.table = np.stack([np.random.default_rng(int(s)).standard_normal((max(steps, 1), 2)) for s in unique])
            self.index, self.sigma = index, sigma[rows, None]

    def __call__(self, grads, i):
        if not self.stretches:
            return grads
        if i % self.CHUNK == 0:  # step-major, so that each step's draws are one contiguous block
            self.draws = np.multiply(self.sigma, self.table[self.index, i:i + self.CHUNK].transpose(1, 0, 2), order="C")
        draws, at, seen = self.draws[i % self.CHUNK], 0, grads.copy()
        for start, stop in self.stretches:
            seen[start:stop] += draws[at:at + stop - start]
            at += stop - start
        return seen


class _StateRecorder:
    """The per-run arrays of a member's rows ``rows`` of its group's state at every step (step-major while
    running)."""

    def __init__(self, steps: int, rows: slice, group_size: int):
        self.steps, self.n, self.mine, self.group_size = steps, rows.stop - rows.start, rows, group_size
        self.recorded = {}  # field -> (steps + 1, n, k)

    def add(self, step: int, state, params) -> None:
        items = [*zip(state._fields, state), ("gradient_point", params)]
        for name, value in items:
            # Per-run numbers and per-coordinate vectors only: a memory of many pairs (L-BFGS) is no picture.
            if (isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] == self.group_size
                    and value.shape[1] <= 2):
                if name not in self.recorded:
                    self.recorded[name] = np.full((self.steps + 1, self.n, value.shape[1]), np.nan)
                self.recorded[name][step] = value[self.mine]

    def arrays(self, last, with_gradient_point: bool) -> dict:
        """Batch-major arrays, NaN after each run's last recorded step (its state after a stop means nothing)."""
        out = {}
        after = np.arange(self.steps + 1)[None, :] > last[:, None]
        for name, step_major in self.recorded.items():
            if name == "gradient_point" and not with_gradient_point:
                continue
            values = _batch_major(step_major)
            values[after] = np.nan
            out[name] = values
        return out


def _batch_major(step_major):
    """(steps, runs, k) as a contiguous (runs, steps, k), k ≤ 2. Each run's k numbers move as one item (a complex128
    for k = 2): numpy transposes such a 2-D array about 4× faster than the 3-D one with its short last axis."""
    steps, runs, k = step_major.shape
    items = step_major.view(np.complex128 if k == 2 else np.float64)[..., 0]
    return items.T.copy().view(np.float64).reshape(runs, steps, k)


def _norms(grads):
    """Row-wise |∇f| of (B, 2) gradients, computed only for the rows that need it (hypot is slow)."""
    return np.hypot(grads[:, 0], grads[:, 1])


def _both(mask):
    """Row-wise ``all`` of a (B, 2) mask (numpy's reduction along so short an axis is slow)."""
    return mask[:, 0] & mask[:, 1]


# Dropping stopped runs costs less than a step of the whole batch (a quarter to a half, measured on the default
# sweep's basins): it is done once it saves DROP_AFTER steps' worth.
DROP_AFTER = 4


@dataclass
class _Layout:
    """Where each member's runs sit in the batch: an optimizer's members are consecutive rows (its group), the
    Hessian users' groups first."""

    fns: list  # each member's test function
    sizes: list  # each member's number of runs
    order: list  # the members in row order
    groups: list  # each group's members, in row order
    rows: dict  # member -> its rows (a slice)
    size: int  # rows in the whole batch


def _layout(fn, members: list) -> _Layout:
    grouped = {}
    for k, m in enumerate(members):
        grouped.setdefault(m.opt.name, []).append(k)
    groups = sorted(grouped.values(), key=lambda ks: not members[ks[0]].opt.uses_hessian)
    order = [k for ks in groups for k in ks]
    sizes = [len(m.starts) for m in members]
    rows, offset = {}, 0
    for k in order:
        rows[k], offset = slice(offset, offset + sizes[k]), offset + sizes[k]
    return _Layout([m.fn or fn for m in members], sizes, order, groups, rows, offset)


def _take(parts, keep):
    """The rows ``keep`` of each per-run array (or of each part with its own ``take``) of a structure of arrays."""
    return type(parts)(*(getattr(parts, f.name)[keep] if isinstance(getattr(parts, f.name), np.ndarray)
                         else getattr(parts, f.name).take(keep) for f in fields(parts)))


@dataclass
class _Ends:
    """What each run ends with: the point it last reported, f and |∇f| there, and that step (set as a run stops,
    and for the others at the end); the first step within tolerance of f*, and how and when it stopped, if it did."""

    point: np.ndarray  # (B, 2)
    value: np.ndarray  # (B,)
    grad: np.ndarray  # (B,)
    last: np.ndarray  # (B,)
    steps_to_tolerance: np.ndarray  # (B,), -1 until within tolerance
    stop_step: np.ndarray  # (B,), -1 for a run that did not stop
    stopped_as: np.ndarray  # (B,) DIVERGED, ESCAPED, or MOVING for a run that did not stop

    take = _take

    @classmethod
    def empty(cls, like: _Ends, size: int) -> _Ends:
        """Room for ``size`` runs' ends, of ``like``'s types."""
        arrays = (getattr(like, f.name) for f in fields(cls))
        return cls(*(np.empty((size, *a.shape[1:]), a.dtype) for a in arrays))

    def put(self, rows, other: _Ends) -> None:
        """Write ``other``'s runs into the rows ``rows``."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(other, f.name)


@dataclass
class _Live:
    """Each run's numbers while the batch advances, one row per run (a structure of arrays); ``take`` keeps some
    rows, as a batch that drops its stopped runs does."""

    row: np.ndarray  # (B,) the run's row in the whole batch
    position: np.ndarray  # (B, 2) the optimizer's point
    value: np.ndarray  # (B,) f there
    grads: np.ndarray  # (B, 2) ∇f there
    shown: np.ndarray  # (B, 2) the point the run reports at its latest step (schedule-free's x; else position)
    shown_value: np.ndarray  # (B,) f there
    active: np.ndarray  # (B,) still advancing
    low: np.ndarray  # (B, 2) the box it must stay in
    high: np.ndarray  # (B, 2)
    minimum: np.ndarray  # (B,) f*, NaN without one
    ends: _Ends

    take = _take

    def within(self, value, tolerance) -> np.ndarray:  # never for a function without f* (NaN)
        return np.abs(value - self.minimum) <= tolerance


def _start(layout: _Layout, position, value, grads, escape_factor, tolerance) -> _Live:
    """The runs at their starts; one that starts at a non-finite point or value diverged at step 0."""
    low, high, minimum = np.empty((layout.size, 2)), np.empty((layout.size, 2)), np.full(layout.size, np.nan)
    for k in layout.order:
        f, rows = layout.fns[k], layout.rows[k]
        low[rows], high[rows] = f.box(f.escape_factor if escape_factor is None else escape_factor)
        minimum[rows] = np.nan if f.minimum is None else f.minimum
    active = _both(np.isfinite(position)) & np.isfinite(value)
    ends = _Ends(position.copy(), value.copy(), _norms(grads), np.zeros(layout.size, dtype=int),
                 np.full(layout.size, -1), np.full(layout.size, -1), np.full(layout.size, MOVING))
    live = _Live(np.arange(layout.size), position, value, grads, position, value, active, low, high, minimum, ends)
    ends.stop_step[~active], ends.stopped_as[~active] = 0, DIVERGED
    ends.steps_to_tolerance[active & live.within(value, tolerance)] = 0
    return live


class _Step(NamedTuple):
    """Where one step took every run: the optimizer's point, f and ∇f there, and the point reported with its f."""

    position: np.ndarray
    value: np.ndarray
    grads: np.ndarray
    shown: np.ndarray
    shown_value: np.ndarray


class _Batch:
    """The calls that advance a batch: each optimizer's group, the derivatives, the noise and the state recorders.
    It follows the runs as stopped ones are dropped (``keep``)."""

    def __init__(self, layout: _Layout, members: list, steps: int):
        self.layout = layout
        self.groups = [_Group([members[k] for k in ks], [layout.sizes[k] for k in ks],
                              slice(layout.rows[ks[0]].start, layout.rows[ks[-1]].stop), steps) for ks in layout.groups]
        self.group_of = {k: g for g, ks in zip(self.groups, layout.groups) for k in ks}
        self.member_rows = dict(layout.rows)
        self.hessian_rows = sum(g.rows.stop - g.rows.start for g in self.groups if g.opt.uses_hessian)
        self.derivatives = _Derivatives([(layout.fns[k], layout.rows[k]) for k in layout.order], self.hessian_rows)
        self.noise = _Noise([members[k] for k in layout.order], [layout.sizes[k] for k in layout.order], steps)
        self.recorders = {}
        for k, m in enumerate(members):
            if m.record_state and m.keep_paths:
                g = self.group_of[k]
                mine = slice(layout.rows[k].start - g.rows.start, layout.rows[k].stop - g.rows.start)
                self.recorders[k] = _StateRecorder(steps, mine, g.rows.stop - g.rows.start)
        # The groups whose optimizer reports another point than its own (schedule-free's x), and their members.
        self.showing_groups = [g for g in self.groups if g.transform.shown is not None]
        self.showing_members = [k for k in layout.order if self.group_of[k].transform.shown is not None]
        self.updates = np.empty((layout.size, 2))

    def start(self, position) -> tuple:
        """f and ∇f at the starts (the Hessians kept for the first update); each group's state initialized."""
        value, grads, self.hess = self.derivatives(position)
        for g in self.groups:
            g.state = g.transform.init(position[g.rows])
        self._record(0, position)
        return value, grads

    def _record(self, step: int, params) -> None:
        for k, recorder in self.recorders.items():
            recorder.add(step, self.group_of[k].state, params[self.group_of[k].rows])

    def advance(self, step: int, live: _Live) -> _Step:
        """Every run's update (stopped runs' too: every operation is elementwise, so they touch no other run)."""
        seen = self.noise(live.grads, step - 1)
        for g in self.groups:
            sl = g.rows
            extra = {"value": live.value[sl]}
            if g.opt.uses_hessian:  # the Hessian users' rows come first, so hess has the same rows
                extra["hessian"] = self.hess[sl]
            self.updates[sl] = g.update(step, seen[sl], live.position[sl], **extra)
        position = live.position + self.updates
        value, grads, self.hess = self.derivatives(position)
        self._record(step, position)
        # What a run reports: its position, or the point its optimizer shows (schedule-free's x) and the true f.
        shown, shown_value = position, value
        if self.showing_groups:
            shown, shown_value = position.copy(), value.copy()
            for g in self.showing_groups:
                shown[g.rows] = g.transform.shown(g.state, position[g.rows])
            for k in self.showing_members:
                shown_value[self.member_rows[k]] = self.layout.fns[k].values(shown[self.member_rows[k]])
        return _Step(position, value, grads, shown, shown_value)

    def keep(self, keep) -> None:
        """Keep the rows ``keep`` only. They stay in order, so a member's or group's rows are still consecutive: row
        keep[i] is now row i."""
        self.hessian_rows = int(np.searchsorted(keep, self.hessian_rows))
        self.hess = None if self.hess is None else self.hess[keep[:self.hessian_rows]]
        self.member_rows = {k: slice(*np.searchsorted(keep, (sl.start, sl.stop)).tolist())
                            for k, sl in self.member_rows.items()}
        for g in self.groups:
            start, stop = np.searchsorted(keep, (g.rows.start, g.rows.stop)).tolist()
            g.keep(keep[start:stop] - g.rows.start, slice(start, stop))
        self.groups = [g for g in self.groups if g.rows.stop > g.rows.start]
        self.showing_groups = [g for g in self.showing_groups if g.rows.stop > g.rows.start]
        self.derivatives = _Derivatives([(self.layout.fns[k], self.member_rows[k]) for k in self.layout.order],
                                        self.hessian_rows)
        self.updates = np.empty((len(keep), 2))


def _stop(live: _Live, step: int, new: _Step, checks_position: bool) -> tuple:
    """The stopping rules: a run whose reported point or value is not finite diverged, and ended at its previous
    step; one whose reported point leaves its box escaped, and ended here (``checks_position``: the optimizer's own
    point must stay finite too). Records what the stopped runs ended with; returns which runs record this step,
    and whether any stopped."""
    flat = new.shown.reshape(-1)
    # Compared flat, (2B,): comparing (B, 2) with (2,) broadcasts slowly.
    inside = _both(((flat >= live.low.reshape(-1)) & (flat <= live.high.reshape(-1))).reshape(-1, 2))
    going_on = inside & np.isfinite(new.shown_value)  # in the box, so finite
    if checks_position:
        going_on &= np.isfinite(new.value) & _both(np.isfinite(new.position))
    if not (live.active & ~going_on).any():
        return live.active, False
    record = live.active & np.isfinite(new.shown_value) & _both(np.isfinite(new.shown))
    if checks_position:
        record &= np.isfinite(new.value) & _both(np.isfinite(new.position))
    diverged, escaped, ends = live.active & ~record, record & ~inside, live.ends
    ends.point[diverged], ends.value[diverged] = live.shown[diverged], live.shown_value[diverged]
    ends.grad[diverged], ends.last[diverged] = _norms(live.grads[diverged]), step - 1
    ends.point[escaped], ends.value[escaped] = new.shown[escaped], new.shown_value[escaped]
    ends.grad[escaped], ends.last[escaped] = _norms(new.grads[escaped]), step
    ends.stop_step[diverged], ends.stopped_as[diverged] = step, DIVERGED
    ends.stop_step[escaped], ends.stopped_as[escaped] = step, ESCAPED
    live.active = record & inside
    return record, True


def _finish(live: _Live, reached: int, dropped: _Ends | None) -> _Ends:
    """What every run of the whole batch ended with: a running run with its latest step."""
    gone, ends = ~live.active, live.ends
    ends = _Ends(np.where(gone[:, None], ends.point, live.shown), np.where(gone, ends.value, live.shown_value),
                 np.where(gone, ends.grad, _norms(live.grads)),  # a running run's grads are its last step's
                 np.where(gone, ends.last, reached), ends.steps_to_tolerance, ends.stop_step, ends.stopped_as)
    if dropped is None:
        return ends
    dropped.put(live.row, ends)  # every run back in its place in the whole batch
    return dropped


class _Paths:
    """The points, values and |∇f| of the runs that keep paths, at every step: step-major while running, so that
    each step writes one contiguous row; every row up to a run's last step is written, the rows after it are set to
    NaN at the end."""

    def __init__(self, layout: _Layout, members: list, steps: int):
        kept = np.concatenate([np.full(layout.sizes[k], members[k].keep_paths) for k in layout.order])
        self.kept = slice(None) if kept.all() else np.flatnonzero(kept)
        self.length = steps + 1 if kept.any() else 0  # rows: 0 when no run keeps its path
        self.norms = any(m.keep_paths and m.grad_norms for m in members)  # hypot is slow: only when some member asks
        width = int(kept.sum())
        self.points, self.values = np.empty((self.length, width, 2)), np.empty((self.length, width))
        self.grad_norms = np.empty((self.length * self.norms, width))
        self.columns, at = {}, 0  # member -> its columns
        for k in layout.order:
            if members[k].keep_paths:
                self.columns[k], at = slice(at, at + layout.sizes[k]), at + layout.sizes[k]

    def add(self, step: int, shown, shown_value, grads) -> None:
        if self.length:
            self.points[step], self.values[step] = shown[self.kept], shown_value[self.kept]
            if self.norms:
                self.grad_norms[step] = _norms(grads[self.kept])

    def end(self, last) -> None:
        """NaN after each run's last recorded step (recorded steps are a prefix: a stop is final)."""
        if self.length:
            after = np.arange(self.length)[:, None] > last[self.kept][None, :]
            self.points[after], self.values[after] = np.nan, np.nan
            if self.norms:
                self.grad_norms[after] = np.nan

    def of(self, k: int, member: Member, n: int) -> tuple:
        """Member ``k``'s paths, batch-major; empty without keep_paths."""
        if k not in self.columns:
            return np.full((n, 0, 2), np.nan), np.full((n, 0), np.nan), np.full((n, 0), np.nan)
        mine = self.columns[k]
        norms = self.grad_norms[:, mine].T.copy() if self.norms and member.grad_norms else np.full((n, 0), np.nan)
        return _batch_major(self.points[:, mine]), self.values[:, mine].T.copy(), norms


def _worth_dropping(active, steps_left: int) -> bool:
    """Whether dropping the stopped runs saves DROP_AFTER steps of the whole batch (some run must go on)."""
    running = np.count_nonzero(active)
    return bool(running) and (active.size - running) * steps_left >= DROP_AFTER * active.size


def run_many(fn, members: list, steps: int, tolerance=TOLERANCE, escape_factor=None) -> list:
    """Advance every run of every member together: one autograd call per step and function serves all the runs on
    it (``fn``, or a member's own), and one update call per optimizer serves all its runs, whatever their function
    (its members' runs are consecutive rows, the Hessian users' first).

    Returns one ``Runs`` per member, each equal bit for bit to running that member alone (every operation is
    elementwise over runs). Without ``keep_paths`` a member keeps only its summaries, so memory does not grow with
    the number of steps (basin maps need no paths).
    """
    layout = _layout(fn, members)
    batch, paths = _Batch(layout, members, steps), _Paths(layout, members, steps)
    # A stopped run's rows go on being computed (cheaper than holding them), and nothing reads them: its path after
    # its last step is set to NaN at the end. A batch with no paths, recorded state or noise (the basin and
    # second-axis maps) drops them instead, once that saves DROP_AFTER steps of the whole batch (11 % of the default
    # sweep's row-steps came after a stop, 94 % on the saddles); ``dropped`` keeps what the dropped runs ended with.
    droppable, dropped, reached = not paths.length and not batch.recorders and not batch.noise.stretches, None, 0
    with np.errstate(all="ignore"):
        position = np.concatenate([np.asarray(members[k].starts, float).reshape(-1, 2) for k in layout.order])
        value, grads = batch.start(position)
        paths.add(0, position, value, grads)
        live = _start(layout, position, value, grads, escape_factor, tolerance)
        for step in range(1, steps + 1):
            if not live.active.any():
                break
            new = batch.advance(step, live)
            record, stopped = _stop(live, step, new, bool(batch.showing_groups))
            ends = live.ends
            reaches = record & (ends.steps_to_tolerance < 0) & live.within(new.shown_value, tolerance)
            ends.steps_to_tolerance[reaches] = step
            paths.add(step, new.shown, new.shown_value, new.grads)
            live.position, live.value, live.grads, live.shown, live.shown_value = new
            reached = step
            if stopped and droppable and _worth_dropping(live.active, steps - step):
                keep, gone = np.flatnonzero(live.active), np.flatnonzero(~live.active)
                if dropped is None:
                    dropped = _Ends.empty(ends, layout.size)
                dropped.put(live.row[gone], ends.take(gone))
                live = live.take(keep)
                batch.keep(keep)
        ends = _finish(live, reached, dropped)
    return _split(layout, members, batch, paths, ends, tolerance)


def _split(layout: _Layout, members: list, batch: _Batch, paths: _Paths, ends: _Ends, tolerance) -> list:
    """The batch's outcome as one ``Runs`` per member."""
    paths.end(ends.last)
    results = []
    for k, m in enumerate(members):
        runs = _summary(layout.fns[k], paths.of(k, m, layout.sizes[k]), ends.take(layout.rows[k]), tolerance)
        if k in batch.recorders:
            runs.state = batch.recorders[k].arrays(runs.last, batch.group_of[k].transform.shown is not None)
        results.append(runs)
    return results


def run_batch(opt, fn, starts, steps: int, hyper: dict, tolerance=TOLERANCE, escape_factor=None,
              keep_paths: bool = True, **options) -> Runs:
    """Advance every start in ``starts`` (B, 2) for ``steps`` steps with one optimizer; any hyperparameter may be
    a (B,) array. ``options`` are ``Member``'s noise, seed and schedule."""
    starts = np.array(starts, dtype=float).reshape(-1, 2)
    return run_many(fn, [Member(opt, starts, hyper, keep_paths, **options)], steps, tolerance, escape_factor)[0]


def _summary(fn, paths, ends: _Ends, tolerance) -> Runs:
    batch, final_point = len(ends.value), ends.point
    gap = np.full(batch, np.nan) if fn.minimum is None else ends.value - fn.minimum
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

    status = ends.stopped_as.copy()
    running = ends.stop_step < 0
    # |gap|: a function unbounded below outside its box (McCormick) can be left far below its box minimum.
    at_minimum = np.abs(gap) <= tolerance
    status[running & at_minimum] = CONVERGED
    # Stalled means a vanished gradient away from every global minimizer: a local minimum or a saddle.
    away = ~at_minimum & (minimizer < 0)
    status[running & away & (ends.grad <= STALL_GRADIENT)] = STALLED
    return Runs(*paths, status, ends.stop_step, ends.last, final_point, ends.value, gap, distance,
                ends.steps_to_tolerance, minimizer)


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
    lr: np.ndarray  # (steps,) the learning rate of each update: lr·λ(i) under a schedule

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


def check_noise(noise, seed) -> tuple:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not (math.isfinite(noise) and noise >= 0):
        raise UserError(f"noise must be a finite number ≥ 0, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserError(f"seed must be a whole number ≥ 0, got {seed!r}")
    return float(noise), int(seed)


def trajectory(optimizer: str, function: str, start=None, steps: int = 300, noise=0.0, seed=0, schedule="constant",
               **hyperparameters) -> Trajectory:
    """Run one optimizer from one start; e.g. ``trajectory("adam", "rosenbrock", steps=200, lr=0.03)``. ``noise``
    σ adds σ·ξ_t (ξ_t from ``seed``) to every gradient; ``schedule`` is a spec string of schedules.py. An optimizer
    that reads f* (Polyak's step) gets the function's, as in the sweep, unless ``f_min`` is given."""
    opt, fn = optimizers.get(optimizer), functions.get(function)
    hyper = opt.hyperparameters({**opt.for_function(fn), **hyperparameters})
    start = check_start(fn, fn.start if start is None else start)
    steps = check_steps(steps)
    noise, seed = check_noise(noise, seed)
    plan = schedules.parse(schedule)
    factors = plan.multipliers(steps)
    runs = run_batch(opt, fn, [start], steps, hyper, noise=noise, seed=seed,
                     schedule=None if plan.constant else factors)
    status, stop = int(runs.status[0]), int(runs.stop_step[0])
    return Trajectory(opt.name, fn.name, hyper, runs.points[0], runs.values[0], runs.grad_norms[0], STATUSES[status],
                      stop, int(runs.steps_to_tolerance[0]), describe(status, stop, steps), hyper["lr"] * factors)
