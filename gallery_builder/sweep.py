"""The sweep: every (optimizer, function) cell over a learning-rate grid and a grid of start points.

For each cell: runs from the function's start at every learning rate of a log-spaced grid around the optimizer's
default, the best learning rate by a documented criterion, and a basin map (a grid of starts at that learning
rate). Cells are cached on disk under a hash of everything that can change their numbers, and computed in parallel.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import os
import platform
import sys
import types
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields
from pathlib import Path

from autograd.core import primitive_vjps
import numpy as np

from . import __version__, engine, functions, optimizers
from .config import Settings
from .engine import ESCAPED, Runs, is_failure

CRITERION = {
    "bounded": "Among the runs that neither diverged nor left the domain, the one with the smallest final gap "
    "|f(x_N) − f*|, where every gap within the tolerance counts as equal; ties go to the run that first came "
    "within the tolerance, then to the smaller learning rate.",
    "unbounded": "For a function without a minimum, where escaping the saddle downhill is the goal: the smallest "
    "learning rate whose run leaves the domain with f below its starting value, which shows the approach and the "
    "escape rather than a single jump; when no run does, the run with the lowest final value (an overshoot that "
    "leaves the domain uphill does not count as an escape). Diverged runs are excluded.",
}


def lr_grid(default: float, settings: Settings) -> np.ndarray:
    """Log-spaced learning rates from ``decades_below`` below to ``decades_above`` above the default; a
    one-point grid is the default itself."""
    if settings.lr_points == 1:
        return np.array([default])
    exponents = np.linspace(-settings.lr_decades_below, settings.lr_decades_above, settings.lr_points)
    return default * 10.0**exponents


def choose_best(runs: Runs, fn, tolerance: float) -> int:
    """Index of the best run by CRITERION, or -1 when no run qualifies."""
    candidates = []
    for i, status in enumerate(runs.status):
        if is_failure(status, fn):
            continue
        if fn.minimum is not None:
            reached = runs.steps_to_tolerance[i]
            key = (max(abs(runs.gap[i]), tolerance), reached if reached >= 0 else np.inf, i)
        else:
            downhill = status == ESCAPED and runs.final_value[i] < runs.values[i, 0]
            key = (0, i, i) if downhill else (1, runs.final_value[i], i)
        candidates.append(key)
    return int(min(candidates)[-1]) if candidates else -1


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
class Cell:
    """One (optimizer, function) cell of the sweep."""

    optimizer: str
    function: str
    hyperparameters: dict
    start: tuple
    lrs: np.ndarray
    runs: Runs  # one run per learning rate, full paths
    best: int  # index into lrs, -1 when every run diverged
    basin_lr: float
    basin_axes: tuple  # (xs, ys) of the start grid
    basin: Runs  # one run per start (row-major over ys, xs); summaries only, no paths
    second: AxisSweep | None = None  # for optimizers with a momentum-like hyperparameter

    @property
    def chosen(self) -> int:
        """The learning rate shown first: the best one, or the default when none qualifies."""
        return self.best if self.best >= 0 else int(np.argmin(np.abs(np.log(self.lrs / self.hyperparameters["lr"]))))


def compute_cell(opt_name: str, fn_name: str, settings: Settings) -> Cell:
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    hyper = settings.hyper(opt_name)
    start = settings.start(fn_name)
    lrs = lr_grid(hyper["lr"], settings)
    starts = np.repeat(np.array([start], float), len(lrs), axis=0)
    runs = engine.run_batch(opt, fn, starts, settings.steps, {**hyper, "lr": lrs}, settings.tolerance)
    best = choose_best(runs, fn, settings.tolerance)
    basin_lr = float(lrs[best]) if best >= 0 else hyper["lr"]

    (x0, x1), (y0, y1) = fn.domain
    xs = np.linspace(x0, x1, settings.basin_grid)
    ys = np.linspace(y0, y1, settings.basin_grid)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    basin = engine.run_batch(opt, fn, grid, settings.steps, {**hyper, "lr": basin_lr}, settings.tolerance,
                             keep_paths=False)

    second = None
    if opt.second_axis is not None:
        name, values = opt.second_axis
        rows = [engine.run_batch(opt, fn, starts, settings.steps, {**hyper, name: value, "lr": lrs},
                                 settings.tolerance, keep_paths=False) for value in values]
        second = AxisSweep(name, np.array(values, float),
                           *(np.stack([getattr(r, f) for r in rows]) for f in AxisSweep.FIELDS[1:]))
    return Cell(opt_name, fn_name, hyper, tuple(start), lrs, runs, best, basin_lr, (xs, ys), basin, second)


# --- Cache ------------------------------------------------------------------------------------------------------


def _gradient_rules(primitive, module) -> list:
    """The functions of ``module`` registered with ``defvjp`` for an autograd primitive."""
    found, stack, visited = [], [primitive_vjps.get(primitive)], set()
    while stack:
        item = stack.pop()
        if id(item) in visited:
            continue
        visited.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif inspect.isfunction(item):
            if item.__module__ == module.__name__:
                found.append(item)
            stack.extend(cell.cell_contents for cell in item.__closure__ or ())
    return found


def source_closure(obj, module, seen) -> list:
    """Source of ``obj`` and of every function or class of ``module`` it refers to, transitively."""
    original, obj = obj, getattr(obj, "fun", obj)  # autograd primitives wrap the Python function
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    parts = [inspect.getsource(obj)]
    # An autograd primitive's gradient rules, and functions captured by closures, are code too.
    related = _gradient_rules(original, module)
    related += [c.cell_contents for c in getattr(obj, "__closure__", None) or () if inspect.isfunction(c.cell_contents)]
    for function in related:
        parts += source_closure(function, module, seen)
    codes = [obj.__code__] if hasattr(obj, "__code__") else []
    names = set()
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    for name in sorted(names):
        ref = getattr(module, name, None)
        ref_fun = getattr(ref, "fun", ref)
        if (inspect.isfunction(ref_fun) or inspect.isclass(ref_fun)) and ref_fun.__module__ == module.__name__:
            parts += source_closure(ref, module, seen)
        elif isinstance(ref, (int, float, str, tuple)):
            parts.append(f"{name}={ref!r}")
    return parts


@functools.lru_cache(maxsize=None)
def fingerprint(obj) -> str:
    """A hash of an optimizer factory's or a formula's source closure (cached: getsource is slow)."""
    module = sys.modules[getattr(obj, "fun", obj).__module__]
    return hashlib.sha256("\n".join(source_closure(obj, module, set())).encode()).hexdigest()


def library_versions() -> dict:
    """Versions of what computes the numbers (autograd has no __version__: ask the installed metadata)."""
    return {"gallery-builder": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "autograd": importlib.metadata.version("autograd")}


@functools.lru_cache(maxsize=None)
def _code_fingerprint() -> str:
    code = [inspect.getsource(engine), *source_closure(compute_cell, sys.modules[__name__], set()),
            inspect.getsource(functions.TestFunction), json.dumps(library_versions(), sort_keys=True)]
    return hashlib.sha256("\n".join(code).encode()).hexdigest()


def cell_key(opt_name: str, fn_name: str, settings: Settings) -> str:
    """A hash of everything that can change a cell's numbers, and nothing else."""
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    payload = {
        "optimizer": [opt_name, opt.uses_hessian, fingerprint(opt.factory)],
        "hyperparameters": settings.hyper(opt_name),
        "function": [fn_name, fingerprint(fn.formula), fn.domain, fn.minimizers, fn.minimum, fn.escape_factor],
        "start": list(settings.start(fn_name)),
        "settings": [settings.steps, settings.lr_points, settings.lr_decades_below, settings.lr_decades_above,
                     settings.basin_grid, settings.tolerance],
        "code": _code_fingerprint(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()[:24]


def _runs_arrays(runs: Runs, prefix: str) -> dict:
    return {prefix + f.name: getattr(runs, f.name) for f in fields(Runs)}


def _runs_from(data, prefix: str) -> Runs:
    return Runs(**{f.name: data[prefix + f.name] for f in fields(Runs)})


def save_cell(cell: Cell, path: Path) -> None:
    meta = {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": cell.start, "best": cell.best, "basin_lr": cell.basin_lr,
            "second": cell.second.name if cell.second else None}
    arrays = {**_runs_arrays(cell.runs, "lr_"), **_runs_arrays(cell.basin, "basin_")}
    if cell.second:
        arrays.update({f"axis_{f}": getattr(cell.second, f) for f in AxisSweep.FIELDS})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    with open(partial, "wb") as handle:
        np.savez(handle, meta=json.dumps(meta), lrs=cell.lrs, basin_xs=cell.basin_axes[0],
                 basin_ys=cell.basin_axes[1], **arrays)
    os.replace(partial, path)  # atomic: a reader never sees half a file


def load_cell(path: Path) -> Cell:
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        second = None
        if meta["second"]:
            second = AxisSweep(meta["second"], *(data[f"axis_{f}"] for f in AxisSweep.FIELDS))
        return Cell(meta["optimizer"], meta["function"], meta["hyperparameters"], tuple(meta["start"]),
                    data["lrs"], _runs_from(data, "lr_"), meta["best"], meta["basin_lr"],
                    (data["basin_xs"], data["basin_ys"]), _runs_from(data, "basin_"), second)


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


def _compute_and_save(opt_name, fn_name, settings, path):
    save_cell(compute_cell(opt_name, fn_name, settings), path)
    return path


def run_sweep(settings: Settings, jobs: int | None = None, cache_dir: Path | None = None,
              quiet: bool = False) -> SweepReport:
    """Every cell of ``settings``, from the cache where its key is unchanged; the rest on ``jobs`` processes."""
    cache_dir = Path(cache_dir or default_cache_dir())
    pairs = [(o, f) for o in settings.optimizers for f in settings.functions]
    keys = {pair: cell_key(*pair, settings) for pair in pairs}
    paths = {pair: cache_dir / f"{pair[0]}--{pair[1]}--{keys[pair]}.npz" for pair in pairs}
    missing = [pair for pair in pairs if not paths[pair].exists()]
    progress = Progress(len(pairs), "sweep", quiet)
    for _ in range(len(pairs) - len(missing)):
        progress.advance(cached=True)

    jobs = jobs or os.cpu_count() or 1
    if jobs > 1 and len(missing) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(missing))) as pool:
            futures = [pool.submit(_compute_and_save, *pair, settings, paths[pair]) for pair in missing]
            for future in as_completed(futures):
                future.result()
                progress.advance()
    else:
        for pair in missing:
            _compute_and_save(*pair, settings, paths[pair])
            progress.advance()

    cells = {pair: load_cell(paths[pair]) for pair in pairs}
    return SweepReport(cells, keys, computed=len(missing), cached=len(pairs) - len(missing))
