"""The sweep: every (optimizer, function) cell over a learning-rate grid and a grid of start points.

For each cell: runs from the function's start at every learning rate of a log-spaced grid around the optimizer's
default, the best learning rate by a documented criterion, and a basin map (a grid of starts at that learning
rate). Cells are cached on disk under a hash of everything that can change their numbers, and computed in parallel.
"""

from __future__ import annotations

import json
import math
import os
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import criteria, engine, functions, optimizers, schedules
from .config import Settings
from .engine import Runs
from .errors import UserError
from .fingerprints import cell_key

def lr_grid(default: float, settings: Settings) -> np.ndarray:
    """Every learning rate the search runs: ``lr_per_decade`` to a decade, from ``lr_limit_below`` decades below to
    ``lr_limit_above`` above the optimizer's default, which is itself a grid point."""
    return _lrs_between(default, -settings.lr_limit_below, settings.lr_limit_above, settings.lr_per_decade)


def _lrs_between(default: float, low: float, high: float, per_decade: int) -> np.ndarray:
    exponents = np.arange(round(low * per_decade), round(high * per_decade) + 1) / per_decade
    return default * 10.0**exponents


def shown_window(count: int, centre: int, settings: Settings) -> slice:
    """The learning rates a cell keeps with full paths, of the ``count`` searched: ``lr_decades_below`` decades
    below to ``lr_decades_above`` above the ``centre`` one (the chosen rate), slid to fit inside the grid, so the
    figures and the learning rate × second-hyperparameter map stay the same size whatever the search ran."""
    below = round(settings.lr_decades_below * settings.lr_per_decade)
    width = min(count, below + round(settings.lr_decades_above * settings.lr_per_decade) + 1)
    first = min(max(centre - below, 0), count - width)
    return slice(first, first + width)


@dataclass
class AxisSweep:
    """Outcomes over learning rate × a second hyperparameter (momentum, β1, ...): arrays of shape (values, lrs)."""

    name: str
    values: np.ndarray
    status: np.ndarray
    gap: np.ndarray
    steps_to_tolerance: np.ndarray
    stop_step: np.ndarray
    final_value: np.ndarray

    FIELDS = ("values", "status", "gap", "steps_to_tolerance", "stop_step", "final_value")


@dataclass
class ScheduledSweep:
    """One schedule's learning-rate search in a cell: one run per peak learning rate, full paths."""

    spec: str
    lrs: np.ndarray
    runs: Runs
    best: int

    @property
    def chosen(self) -> int:
        return self.best if self.best >= 0 else len(self.lrs) // 2


PATH_POINTS = 41  # the steps at which a noisy sweep keeps every seed's position (evenly spaced, first and last)
QUANTILES = (0.25, 0.5, 0.75)


@dataclass
class NoisySweep:
    """The learning-rate search under gradient noise: ``seeds`` runs per learning rate, summarized per lr.

    Per learning rate, the *median seed* is the seed ranked ⌊(K−1)/2⌋ by criteria.seed_rank (the lower median):
    the best learning rate is the one whose median seed's run the choice criterion prefers.
    """

    sigma: float
    lrs: np.ndarray  # (L,)
    best: int
    median: np.ndarray  # (L,) the median seed at each lr
    status: np.ndarray  # (L, K) and below: each seed's summary
    gap: np.ndarray
    steps_to_tolerance: np.ndarray
    stop_step: np.ndarray
    final_value: np.ndarray
    quantiles: np.ndarray  # (L, 3, S+1): f − f* (f without a minimum) at QUANTILES over seeds; ±inf after a stop
    path_steps: np.ndarray  # (P,) the steps kept in paths
    paths: np.ndarray  # (L, K, P, 2) every seed's position at path_steps (NaN after a stop)
    best_points: np.ndarray  # (K, S+1, 2) every seed's full path at the chosen lr
    best_values: np.ndarray  # (K, S+1)
    # at the chosen lr, each seed's run again at NOISE_SCALES × σ: (3, K), for whether the noisy gap scales with σ
    scaled_status: np.ndarray
    scaled_gap: np.ndarray
    scaled_final_value: np.ndarray

    ARRAYS = ("lrs", "median", "status", "gap", "steps_to_tolerance", "stop_step", "final_value", "quantiles",
              "path_steps", "paths", "best_points", "best_values", "scaled_status", "scaled_gap", "scaled_final_value")

    @property
    def seeds(self) -> int:
        return self.status.shape[1]

    @property
    def chosen(self) -> int:
        return self.best if self.best >= 0 else len(self.lrs) // 2


@dataclass
class LrSearch:
    """The constant-lr search over the whole allowed range (``lr_grid``): every rate's outcome, without paths (the
    cell keeps the paths of its shown window only)."""

    lrs: np.ndarray
    status: np.ndarray
    gap: np.ndarray
    steps_to_tolerance: np.ndarray
    stop_step: np.ndarray
    final_value: np.ndarray

    FIELDS = ("lrs", "status", "gap", "steps_to_tolerance", "stop_step", "final_value")


@dataclass
class Controls:
    """Control runs of a cell at its chosen learning rate, for results that rest on something besides the update
    rule: ``shifted`` is the run on ``functions.shifted`` (the function and start moved off the origin), ``nudged``
    the run from the start moved by NUDGE of the domain; ``inert_schedules`` the schedules whose runs equal the
    constant-lr runs bit for bit at every searched rate; ``same_as_neighbour`` whether the chosen run equals the run
    at a neighbouring rate bit for bit."""

    shifted: Runs
    nudged: Runs
    inert_schedules: tuple
    same_as_neighbour: bool


NUDGE = 1e-3  # the lattice control moves the start by this fraction of the domain's sides
NOISE_SCALES = (0.5, 1.0, 2.0)  # the noisy runs at the chosen lr are repeated at these multiples of σ


@dataclass
class Cell:
    """One (optimizer, function) cell of the sweep."""

    optimizer: str
    function: str
    hyperparameters: dict
    start: tuple
    lrs: np.ndarray  # ascending: the grid searched
    runs: Runs  # one run per learning rate, full paths
    best: int  # index into lrs, -1 when every run diverged
    basin_lr: float
    basin_axes: tuple  # (xs, ys) of the start grid
    basin: Runs  # one run per start (row-major over ys, xs); summaries only, no paths
    second: AxisSweep | None = None  # for optimizers with a momentum-like hyperparameter
    schedules: dict | None = None  # spec -> ScheduledSweep, for each schedule of the settings
    noisy: NoisySweep | None = None  # with noise_seeds > 0
    search: LrSearch | None = None  # every rate searched; lrs and runs above are its shown window
    controls: Controls | None = None

    @property
    def chosen(self) -> int:
        """The learning rate shown first: the best one, or the default when none qualifies."""
        return self.best if self.best >= 0 else int(np.argmin(np.abs(np.log(self.lrs / self.hyperparameters["lr"]))))


@dataclass(frozen=True)
class Variant:
    """What one learning-rate search runs: an optimizer, under a schedule, with ``seeds`` noisy runs per lr."""

    optimizer: str
    schedule: str = schedules.DEFAULT
    seeds: int = 0  # 0: exact gradients
    sigma: float = 0.0


def _lr_members(fn, opt, hyper, start, lrs, variant: Variant, steps: int):
    plan = schedules.parse(variant.schedule)
    factors = None if plan.constant else plan.multipliers(steps)
    if not variant.seeds:
        starts = np.repeat(np.array([start], float), len(lrs), axis=0)
        # The exact constant-lr runs also record the optimizer's state, for the state figure.
        return engine.Member(opt, starts, {**hyper, "lr": lrs}, schedule=factors, record_state=plan.constant,
                             grad_norms=False, fn=fn)
    k = variant.seeds  # lr-major: the K seeds of one lr are consecutive rows
    starts = np.repeat(np.array([start], float), len(lrs) * k, axis=0)
    return engine.Member(opt, starts, {**hyper, "lr": np.repeat(lrs, k)}, noise=variant.sigma,
                         seed=np.tile(np.arange(k), len(lrs)), schedule=factors, grad_norms=False, fn=fn)


@dataclass(frozen=True)
class Search:
    """One learning-rate search: a variant of an optimizer on a function, from a start."""

    fn: object
    opt: object
    hyper: dict
    start: tuple
    variant: Variant

    @property
    def default(self) -> float:
        return self.hyper["lr"]


def _run_by_horizon(members: list, settings: Settings) -> list:
    """engine.run_many over members of several functions: one batch per horizon (runs of a batch share it)."""
    out = [None] * len(members)
    horizons = {}
    for i, m in enumerate(members):
        horizons.setdefault(settings.steps_for(m.fn.name), []).append(i)
    for steps, indices in horizons.items():
        for i, runs in zip(indices, engine.run_many(None, [members[i] for i in indices], steps, settings.tolerance)):
            out[i] = runs
    return out


def median_seeds(runs: Runs, seeds: int, fn, tolerance: float) -> np.ndarray:
    """Row of the median seed of each lr in runs of ``seeds`` consecutive rows per lr."""
    rank = criteria.seed_rank(runs, fn, tolerance).reshape(-1, seeds, 2)
    order = np.lexsort((rank[..., 1], rank[..., 0]), axis=-1)
    return np.arange(len(order)) * seeds + order[:, (seeds - 1) // 2]


def _rows(runs: Runs, rows, state: bool = False) -> Runs:
    """Some rows of ``runs`` (and of their recorded states, with ``state``)."""
    return Runs(**{name: getattr(runs, name)[rows] for name in engine.ARRAYS},
                state={name: values[rows] for name, values in runs.state.items()} if state else {})


def search_learning_rates(fn, opts: dict, hypers: dict, start, settings: Settings, variants: dict | None = None) -> dict:
    """Phase 1 on one function: every optimizer's learning-rate search (see ``search_many``) from ``start``, for
    each key of ``variants`` (key -> Variant; default: each optimizer as it is). Returns key -> (lrs, runs, best)."""
    variants = variants or {name: Variant(name) for name in opts}
    return search_many({key: Search(fn, opts[v.optimizer], hypers[v.optimizer], start, v)
                        for key, v in variants.items()}, settings)


def search_many(searches: dict, settings: Settings) -> dict:
    """Phase 1: every learning rate of the allowed range (``lr_grid``) for each key of ``searches`` (key -> Search),
    all in one batch per horizon, so the best rate is the best within the limits, not a local one. Returns key ->
    (lrs, runs, best). A noisy variant's runs hold its seeds lr-major, and its best lr is the one whose median seed
    the criterion prefers."""
    keys = list(searches)
    grids = [lr_grid(searches[k].default, settings) for k in keys]
    members = [_lr_members(s.fn, s.opt, s.hyper, s.start, lrs, s.variant, settings.steps_for(s.fn.name))
               for s, lrs in zip((searches[k] for k in keys), grids)]
    found = {}
    for key, lrs, runs in zip(keys, grids, _run_by_horizon(members, settings)):
        fn, seeds = searches[key].fn, searches[key].variant.seeds
        judged = _rows(runs, median_seeds(runs, seeds, fn, settings.tolerance)) if seeds else runs
        found[key] = (lrs, runs, criteria.choose_best(judged, fn, settings.tolerance))
    return found


def noisy_sweep(fn, lrs, runs: Runs, best: int, seeds: int, sigma: float, tolerance: float,
                scaled: Runs) -> NoisySweep:
    """The summaries a noisy search keeps: per-seed outcomes, gap quantiles, thinned paths, full paths at the best,
    and the outcomes of ``scaled``, the runs at the chosen lr at NOISE_SCALES × σ (scale-major)."""
    n, steps = len(lrs), runs.points.shape[1] - 1
    median = median_seeds(runs, seeds, fn, tolerance)
    curve = runs.values - (fn.minimum if fn.minimum is not None else 0.0)
    stopped = np.arange(steps + 1)[None, :] > runs.last[:, None]
    good_exit = criteria.escapes(runs) if fn.minimum is None else np.zeros(len(runs.last), bool)
    curve = np.where(stopped, np.where(good_exit, -np.inf, np.inf)[:, None], curve)
    quantiles = np.quantile(curve.reshape(n, seeds, steps + 1), QUANTILES, axis=1, method="lower").transpose(1, 0, 2)
    path_steps = np.unique(np.linspace(0, steps, PATH_POINTS).round().astype(int))
    shown = best if best >= 0 else n // 2
    block = slice(shown * seeds, (shown + 1) * seeds)
    per_seed = {name: getattr(runs, name).reshape(n, seeds) for name in
                ("status", "gap", "steps_to_tolerance", "stop_step", "final_value")}
    return NoisySweep(sigma, np.asarray(lrs), best, median - np.arange(n) * seeds, **per_seed, quantiles=quantiles,
                      path_steps=path_steps,
                      paths=runs.points[:, path_steps].reshape(n, seeds, len(path_steps), 2).astype(np.float32),
                      best_points=runs.points[block], best_values=runs.values[block],
                      **{f"scaled_{name}": getattr(scaled, name).reshape(len(NOISE_SCALES), seeds)
                         for name in ("status", "gap", "final_value")})


def basin_grid(fn, settings: Settings):
    (x0, x1), (y0, y1) = fn.domain
    xs = np.linspace(x0, x1, settings.basin_grid)
    ys = np.linspace(y0, y1, settings.basin_grid)
    return xs, ys, np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


def compute_cells(fn_name: str, opt_names, settings: Settings) -> dict:
    """The cells of one function for the given optimizers (see ``compute_many``)."""
    return compute_many({fn_name: opt_names}, settings)[fn_name]


def _searches(work: dict, settings: Settings) -> dict:
    """(function, key) -> Search for every variant of every optimizer of ``work``: the constant-lr search (key: the
    optimizer's name), each schedule's ((name, spec)) and the noisy one ((name, "noise"))."""
    searches = {}
    for fn_name, opt_names in work.items():
        fn, start = functions.get(fn_name), settings.start(fn_name)
        for name in opt_names:
            variants = {name: Variant(name), **{(name, spec): Variant(name, spec) for spec in settings.schedules}}
            if settings.noise_seeds:
                variants[(name, "noise")] = Variant(name, seeds=settings.noise_seeds, sigma=settings.sigma_for(fn_name))
            hyper = settings.cell_hyper(name, fn_name)
            searches.update({(fn_name, key): Search(fn, optimizers.get(name), hyper, start, v)
                             for key, v in variants.items()})
    return searches


def _chosen(lrs, best: int, default: float) -> int:
    """The rate shown first: the best, or the default when none qualifies."""
    return best if best >= 0 else int(np.argmin(np.abs(np.log(lrs / default))))


def _second_phase(search: Search, searched: dict, key, grid, settings: Settings) -> dict:
    """Phase 2 of one cell, part -> Member: the basin map at the chosen rate, the learning rate × second
    hyperparameter map over the shown window, the control runs, and the noisy runs at NOISE_SCALES × σ."""
    lrs, _, best = searched[key]
    lr = float(lrs[_chosen(lrs, best, search.default)])
    at = {**search.hyper, "lr": lr}
    fn, opt = search.fn, search.opt
    shifted = functions.shifted(fn.name)
    sides = np.array([hi - lo for lo, hi in fn.domain])
    parts = {"basin": engine.Member(opt, grid, at, keep_paths=False, fn=fn),
             "shifted": engine.Member(opt, [shifted.start], at, grad_norms=False, fn=shifted),
             "nudged": engine.Member(opt, [np.asarray(search.start, float) + NUDGE * sides], at, grad_norms=False,
                                     fn=fn)}
    if opt.second_axis is not None:
        axis, values = opt.second_axis
        window = lrs[shown_window(len(lrs), _chosen(lrs, best, search.default), settings)]
        pairs = np.array([(v, r) for v in values for r in window], float).reshape(-1, 2)
        starts = np.repeat(np.array([search.start], float), len(pairs), axis=0)
        parts["second"] = engine.Member(opt, starts, {**search.hyper, axis: pairs[:, 0], "lr": pairs[:, 1]},
                                        keep_paths=False, fn=fn)
    if settings.noise_seeds:
        noisy_lrs, _, noisy_best = searched[(key[0], (key[1], "noise"))]
        k, sigma = settings.noise_seeds, settings.sigma_for(fn.name)
        noisy_lr = float(noisy_lrs[noisy_best if noisy_best >= 0 else len(noisy_lrs) // 2])
        parts["scaled"] = engine.Member(opt, np.repeat(np.array([search.start], float), 3 * k, axis=0),
                                        {**search.hyper, "lr": noisy_lr},
                                        noise=np.repeat(np.array(NOISE_SCALES) * sigma, k),
                                        seed=np.tile(np.arange(k), 3), keep_paths=False, fn=fn)
    return parts


def _identical(a: Runs, b: Runs) -> np.ndarray:
    """Which rows of two batches of runs followed the same path, bit for bit."""
    return np.array([np.array_equal(p, q, equal_nan=True) for p, q in zip(a.points, b.points)], bool)


def _controls(key, searched: dict, outputs: dict, settings: Settings, default: float) -> Controls:
    lrs, runs, best = searched[key]
    chosen = _chosen(lrs, best, default)
    inert = tuple(spec for spec in settings.schedules if _identical(runs, searched[(key[0], (key[1], spec))][1]).all())
    neighbours = [i for i in (chosen - 1, chosen + 1) if 0 <= i < len(lrs)]
    same = bool(_identical(_rows(runs, [chosen] * len(neighbours)), _rows(runs, neighbours)).any())
    return Controls(outputs[(*key, "shifted")], outputs[(*key, "nudged")], inert, same)


def _windowed(lrs, runs: Runs, best: int, default: float, settings: Settings, state: bool = False) -> tuple:
    """A search's shown window: (lrs, runs, best) with best counted from the window's first rate (-1 for none)."""
    window = shown_window(len(lrs), _chosen(lrs, best, default), settings)
    return lrs[window], _rows(runs, window, state=state), best - window.start if best >= 0 else -1


def _cell(key, search: Search, searched: dict, outputs: dict, grid, settings: Settings) -> Cell:
    fn_name, name = key
    lrs, runs, best = searched[key]
    shown_lrs, shown_runs, shown_best = _windowed(lrs, runs, best, search.default, settings, state=True)
    second = None
    if search.opt.second_axis is not None:
        axis, values = search.opt.second_axis
        shape = (len(values), len(shown_lrs))
        second = AxisSweep(axis, np.array(values, float),
                           *(getattr(outputs[(*key, "second")], f).reshape(shape) for f in AxisSweep.FIELDS[1:]))
    scheduled = {spec: ScheduledSweep(spec, *_windowed(*searched[(fn_name, (name, spec))], search.default, settings))
                 for spec in settings.schedules}
    noisy = None
    if settings.noise_seeds:
        noisy = noisy_sweep(search.fn, *searched[(fn_name, (name, "noise"))], settings.noise_seeds,
                            settings.sigma_for(fn_name), settings.tolerance, outputs[(*key, "scaled")])
    summary = LrSearch(lrs, *(getattr(runs, f) for f in LrSearch.FIELDS[1:]))
    return Cell(name, fn_name, search.hyper, tuple(search.start), shown_lrs, shown_runs, shown_best,
                float(lrs[_chosen(lrs, best, search.default)]), grid[:2], outputs[(*key, "basin")], second,
                scheduled, noisy, summary, _controls(key, searched, outputs, settings, search.default))


def compute_many(work: dict, settings: Settings) -> dict:
    """The cells of several functions (function name -> optimizer names), all advancing together, one batch per
    horizon: phase 1 runs every variant's learning-rate search over the whole allowed range from each function's
    start; phase 2 the basin maps, the control runs and the noisy runs at other σ at the chosen rates, and the
    learning rate × second hyperparameter maps over the shown window. Returns function name -> optimizer name ->
    Cell; each cell equals the cell computed alone, bit for bit."""
    searches = _searches(work, settings)
    searched = search_many(searches, settings)
    grids = {fn_name: basin_grid(functions.get(fn_name), settings) for fn_name in work}
    members, owners = [], []
    for fn_name, opt_names in work.items():
        for name in opt_names:
            parts = _second_phase(searches[(fn_name, name)], searched, (fn_name, name), grids[fn_name][2], settings)
            owners += [(fn_name, name, part) for part in parts]
            members += parts.values()
    outputs = dict(zip(owners, _run_by_horizon(members, settings)))
    return {fn_name: {name: _cell((fn_name, name), searches[(fn_name, name)], searched, outputs, grids[fn_name],
                                  settings) for name in opt_names} for fn_name, opt_names in work.items()}


def compute_cell(opt_name: str, fn_name: str, settings: Settings) -> Cell:
    """One cell computed alone."""
    return compute_cells(fn_name, [opt_name], settings)[opt_name]


# --- Cache ------------------------------------------------------------------------------------------------------


def _runs_arrays(runs: Runs, prefix: str) -> dict:
    arrays = {prefix + name: getattr(runs, name) for name in engine.ARRAYS}
    arrays.update({f"{prefix}state__{name}": values for name, values in runs.state.items()})
    return arrays


def _runs_from(data: dict, prefix: str) -> Runs:
    state = {key[len(prefix) + 7:]: data[key] for key in data if key.startswith(prefix + "state__")}
    return Runs(**{name: data[prefix + name] for name in engine.ARRAYS}, state=state)


# A cached cell is one file: MAGIC, the length of a JSON header (8 bytes, little-endian), the header (the cell's
# metadata and, per array, its name, dtype, shape and offset), then every array's bytes, each aligned to ALIGN. Read
# back as views of one buffer, a cell costs one read instead of a zip member and a parsed header per array (np.load
# of an .npz spent 4 of the 5.6 s of a fully cached sweep in that).
MAGIC, ALIGN = b"GBCELL1\n", 64


def _aligned(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


def save_cell(cell: Cell, path: Path) -> None:
    meta = {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": cell.start, "best": cell.best, "basin_lr": cell.basin_lr,
            "second": cell.second.name if cell.second else None,
            "schedules": {spec: sweep.best for spec, sweep in (cell.schedules or {}).items()},
            "noise": None if cell.noisy is None else {"sigma": cell.noisy.sigma, "best": cell.noisy.best},
            "controls": {"inert_schedules": list(cell.controls.inert_schedules),
                         "same_as_neighbour": cell.controls.same_as_neighbour}}
    arrays = {"lrs": cell.lrs, "basin_xs": cell.basin_axes[0], "basin_ys": cell.basin_axes[1],
              **_runs_arrays(cell.runs, "lr_"), **_runs_arrays(cell.basin, "basin_")}
    for k, sweep in enumerate((cell.schedules or {}).values()):
        arrays.update({**_runs_arrays(sweep.runs, f"sched{k}_"), f"sched{k}_lrs": sweep.lrs})
    if cell.noisy is not None:
        arrays.update({f"noise_{name}": getattr(cell.noisy, name) for name in NoisySweep.ARRAYS})
    if cell.second:
        arrays.update({f"axis_{f}": getattr(cell.second, f) for f in AxisSweep.FIELDS})
    arrays.update({f"search_{f}": getattr(cell.search, f) for f in LrSearch.FIELDS})
    arrays.update({**_runs_arrays(cell.controls.shifted, "shifted_"), **_runs_arrays(cell.controls.nudged, "nudged_")})
    arrays = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    table, offset = [], 0
    for name, value in arrays.items():
        table.append((name, value.dtype.str, value.shape, offset))
        offset += _aligned(value.nbytes)
    header = json.dumps({"meta": meta, "arrays": table}).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    with open(partial, "wb") as handle:
        handle.write(MAGIC + len(header).to_bytes(8, "little") + header)
        for (_, _, _, at), value in zip(table, arrays.values()):
            handle.seek(start + at)
            handle.write(value.data)
        handle.truncate(start + offset)
    os.replace(partial, path)  # atomic: a reader never sees half a file


def load_cell(path: Path) -> Cell:
    with open(path, "rb") as handle:
        buffer = bytearray(os.fstat(handle.fileno()).st_size)  # writable, so the arrays are too (as np.load's)
        handle.readinto(buffer)
    if buffer[:len(MAGIC)] != MAGIC:
        raise ValueError(f"{path}: not a cached cell")
    size = int.from_bytes(buffer[len(MAGIC):len(MAGIC) + 8], "little")
    header = json.loads(buffer[len(MAGIC) + 8:len(MAGIC) + 8 + size])
    start = _aligned(len(MAGIC) + 8 + size)
    data = {name: np.frombuffer(buffer, dtype, math.prod(shape), start + at).reshape(shape)
            for name, dtype, shape, at in header["arrays"]}
    meta = header["meta"]
    second = None
    if meta["second"]:
        second = AxisSweep(meta["second"], *(data[f"axis_{f}"] for f in AxisSweep.FIELDS))
    scheduled = {spec: ScheduledSweep(spec, data[f"sched{k}_lrs"], _runs_from(data, f"sched{k}_"), best)
                 for k, (spec, best) in enumerate(meta["schedules"].items())}
    noisy = None
    if meta["noise"] is not None:
        noisy = NoisySweep(meta["noise"]["sigma"], best=meta["noise"]["best"],
                           **{name: data[f"noise_{name}"] for name in NoisySweep.ARRAYS})
    controls = Controls(_runs_from(data, "shifted_"), _runs_from(data, "nudged_"),
                        tuple(meta["controls"]["inert_schedules"]), meta["controls"]["same_as_neighbour"])
    return Cell(meta["optimizer"], meta["function"], meta["hyperparameters"], tuple(meta["start"]),
                data["lrs"], _runs_from(data, "lr_"), meta["best"], meta["basin_lr"],
                (data["basin_xs"], data["basin_ys"]), _runs_from(data, "basin_"), second, scheduled, noisy,
                LrSearch(*(data[f"search_{f}"] for f in LrSearch.FIELDS)), controls)


def default_cache_dir() -> Path:
    return Path(os.environ.get("GALLERY_CACHE", ".cache/gallery-builder"))


# --- Running the sweep ------------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr, silent when stderr is not a terminal or when quiet."""

    def __init__(self, total: int, label: str, quiet: bool = False):
        self.total, self.label, self.done, self.cached = total, label, 0, 0
        self.enabled = not quiet and sys.stderr.isatty()

    def advance(self, cached: bool = False) -> None:
        self.done += 1
        self.cached += cached
        if self.enabled:
            filled = int(30 * self.done / max(self.total, 1))
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                             f"({self.cached} from cache)")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


@dataclass
class SweepReport:
    cells: dict  # (optimizer, function) -> Cell
    keys: dict  # (optimizer, function) -> cache key
    computed: int
    cached: int


def make_executor(jobs: int, address: str | None = None) -> Executor:
    """Processes on this machine, or an existing Dask cluster for ``dask://HOST:PORT``."""
    if not address:
        return ProcessPoolExecutor(max_workers=jobs)
    scheme, _, where = address.partition("://")
    if scheme != "dask" or not where:
        raise UserError(f"--executor must look like dask://HOST:PORT, got {address!r}")
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--executor dask://… needs the dask extra: pip install 'gallery-builder[dask]'") from None
    try:
        client = Client(f"tcp://{where}", timeout="10s")
    except OSError as error:
        raise UserError(f"cannot reach the Dask scheduler at {where}: {error}") from None
    return client.get_executor()


def cell_pairs(settings: Settings) -> list:
    """Every (optimizer, function) pair of the settings that has a cell: not those of an optimizer that needs f*
    on a function without a minimum."""
    return [(o, f) for o in settings.optimizers for f in settings.functions
            if optimizers.get(o).applies_to(functions.get(f))]


FUNCTIONS_PER_TASK = 3  # a task's functions advance in one batch: per-call costs are shared, memory grows (~250 MB each)


def _tasks(stale: dict, settings: Settings) -> list:
    """The stale cells (function -> optimizers) as tasks of up to FUNCTIONS_PER_TASK functions of one horizon,
    the longest first (steps × cells), so that no long one starts last while the other workers idle."""
    def cost(f):
        return settings.steps_for(f) * len(stale[f])

    by_horizon = {}
    for f in sorted(stale, key=lambda f: -cost(f)):
        by_horizon.setdefault(settings.steps_for(f), []).append(f)
    tasks = [{f: stale[f] for f in names[i:i + FUNCTIONS_PER_TASK]}
             for names in by_horizon.values() for i in range(0, len(names), FUNCTIONS_PER_TASK)]
    return sorted(tasks, key=lambda task: -sum(map(cost, task)))


def _store(cells: dict, paths: dict) -> int:
    """Writes cells (function -> optimizer -> Cell) to their cache paths; returns how many."""
    for fn_name, row in cells.items():
        for o, cell in row.items():
            save_cell(cell, paths[(o, fn_name)])
    return sum(map(len, cells.values()))


def compute_and_save(task: dict, settings: Settings, paths: dict) -> int:
    """compute_many, each cell written to its cache path; returns the number of cells."""
    return _store(compute_many(task, settings), paths)


def run_sweep(settings: Settings, jobs: int | None = None, cache_dir: Path | None = None,
              quiet: bool = False, executor: Executor | None = None) -> SweepReport:
    """Every cell of ``settings``, from the cache where its key is unchanged. The stale cells are computed in tasks
    of a few functions each (see ``_tasks``) on ``executor`` (default: ``jobs`` processes; inline for one)."""
    cache_dir = Path(cache_dir or default_cache_dir())
    pairs = cell_pairs(settings)
    keys = {pair: cell_key(*pair, settings) for pair in pairs}
    paths = {pair: cache_dir / f"{pair[0]}--{pair[1]}--{keys[pair]}.cell" for pair in pairs}
    stale = {}
    for o, f in pairs:
        if not paths[(o, f)].exists():
            stale.setdefault(f, []).append(o)
    tasks = _tasks(stale, settings)
    progress = Progress(len(pairs), "sweep", quiet)
    for _ in range(len(pairs) - sum(map(len, stale.values()))):
        progress.advance(cached=True)

    def advance(count: int) -> None:
        for _ in range(count):
            progress.advance()

    jobs = jobs or os.cpu_count() or 1
    if executor is None and (jobs == 1 or len(tasks) <= 1):
        for task in tasks:
            advance(compute_and_save(task, settings, paths))
    elif executor is None:  # local processes write the cache themselves: no cell goes back through a pipe
        with make_executor(min(jobs, len(tasks))) as pool:
            for future in as_completed([pool.submit(compute_and_save, task, settings, paths) for task in tasks]):
                advance(future.result())
    else:  # a Dask cluster's workers may not see this disk: they return the cells
        for future in as_completed([executor.submit(compute_many, task, settings) for task in tasks]):
            advance(_store(future.result(), paths))

    cells = {pair: load_cell(paths[pair]) for pair in pairs}
    computed = sum(map(len, stale.values()))
    return SweepReport(cells, keys, computed=computed, cached=len(pairs) - computed)
