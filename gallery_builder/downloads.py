"""The data downloads: what each kind of figure offers for download, as records whose arrays are Numbers, and how an
embed carries a record (``download``: columns pointing into the figure's own arrays where it draws the same bytes,
typed arrays elsewhere; ``embed.js`` writes the JSON in the browser)."""

from __future__ import annotations

import base64
import math

import numpy as np

from . import carried, figures, optimizers, results, schedules
from .model import STATUSES, describe


class Numbers:
    """Numbers of a data download: ``values``, a 1-D array (a list in the download, kept exact as float64) or a 2-D
    one (a list of rows; float32 where the figure draws at that precision, unless ``exact``), or ``columns`` of mixed
    rows (float columns as float32, int and string columns as they are). Not finite: null."""

    def __init__(self, values=None, columns=(), exact: bool = False):
        if values is not None:
            values = np.asarray(values, float)
            self.flat = values.ndim == 1
            self.count, self.columns = len(values), [values] if self.flat else list(values.T)
        else:
            self.flat, self.count, self.columns = False, len(columns[0]), list(columns)
        self.exact = exact or self.flat

    def plain(self) -> list:
        """The numbers as JSON-ready Python lists at full precision (what a download approximates)."""
        columns = [[None if isinstance(v, float) and not math.isfinite(v) else v for v in np.asarray(c).tolist()]
                   for c in self.columns]
        return columns[0] if self.flat else [list(row) for row in zip(*columns)]


def _float_array(values, dtype: str) -> dict:
    """A typed-array spec as figures.typed writes it, NaN allowed: float64 where float32 would lose a value."""
    finite = np.abs(values[np.isfinite(values)])
    if dtype == "f4" and (finite.max(initial=0) > 1e38 or ((finite > 0) & (finite < figures.FLOAT32_TINY)).any()):
        dtype = "f8"
    array = np.ascontiguousarray(values, dtype={"f4": "<f4", "f8": "<f8"}[dtype])
    return {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def _column(values, drawn: dict, dtype: str):
    """One column of a download as the embed carries it: consecutive step numbers as the first one; a grid's
    coordinate as the axis it tiles or repeats; strings as indices into the names they take; the figure's own
    array where it holds the same bytes; else a typed array (floats) or a plain list."""
    values = np.asarray(values)
    n = len(values)
    if values.dtype.kind in "iuf" and n and np.array_equal(values, values[0] + np.arange(n)) \
            and float(values[0]).is_integer():
        return {"from": int(values[0])}
    if values.dtype.kind == "U":
        names, codes = np.unique(values, return_inverse=True)
        return {"names": names.tolist(), "codes": codes.tolist()}
    if values.dtype.kind != "f":
        return values.tolist()
    period = np.flatnonzero(values[1:] == values[0])[:1] + 1  # where a tiled axis starts again
    if period.size and n % period[0] == 0 and np.array_equal(values, np.tile(values[: period[0]], n // period[0])):
        return {"tile": _column(values[: period[0]], drawn, dtype), "times": n // int(period[0])}
    run = int(np.argmax(values != values[0])) if n else 0  # how long each value of a repeated axis lasts
    if run > 1 and n % run == 0 and np.array_equal(values, np.repeat(values[::run], run)):
        return {"repeat": _column(values[::run], drawn, dtype), "times": run}
    spec = _float_array(values, dtype)
    return {"ref": drawn[spec["bdata"]]} if spec["bdata"] in drawn else spec


def download(record: dict, figure: dict) -> dict:
    """``record`` as the embed carries it for its download button (``embed.js`` writes the JSON): every Numbers a
    node {"og": count, "flat": bool, "columns": [...]}, whose columns point into ``figure`` where it draws them."""
    drawn = {value["bdata"]: [t, key] for t, trace in enumerate(figure["data"]) for key, value in trace.items()
             if isinstance(value, dict) and isinstance(value.get("bdata"), str)}

    def encode(value):
        if isinstance(value, Numbers):
            dtype = "f8" if value.exact else "f4"
            return {"og": value.count, "flat": value.flat, "columns": [_column(c, drawn, dtype) for c in value.columns]}
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    return encode(record)


def plain(record):
    """``record`` with its Numbers as lists at full precision: the numbers a download approximates (tests)."""
    if isinstance(record, Numbers):
        return record.plain()
    if isinstance(record, dict):
        return {k: plain(v) for k, v in record.items()}
    if isinstance(record, list):
        return [plain(v) for v in record]
    return record


def _run_record(cell, i: int) -> dict:
    runs = cell.runs
    last = int(runs.last[i])
    rows = Numbers(np.column_stack([np.arange(last + 1), runs.points[i, : last + 1], runs.values[i, : last + 1]]))
    gap = float(runs.gap[i])
    return {"lr": float(cell.lrs[i]), "status": STATUSES[int(runs.status[i])],
            "description": describe(int(runs.status[i]), int(runs.stop_step[i]), runs.points.shape[1] - 1),
            "stop_step": int(runs.stop_step[i]), "steps_to_tolerance": int(runs.steps_to_tolerance[i]),
            "final_gap": None if gap != gap else gap,
            "distance_to_nearest_minimizer": None if runs.distance[i] != runs.distance[i] else float(runs.distance[i]),
            "columns": ["step", "x", "y", "f"], "rows": rows}


def _settings_record(settings) -> dict:
    return {"steps": {f: settings.steps_for(f) for f in settings.functions}, "tolerance": settings.tolerance, "lr_per_decade": settings.lr_per_decade,
            "lr_decades_below": settings.lr_decades_below, "lr_decades_above": settings.lr_decades_above,
            "lr_limit_below": settings.lr_limit_below, "lr_limit_above": settings.lr_limit_above}


def reproduce_command(cell, steps: int) -> str:
    """The gallery-builder run command for one of the cell's runs, with LR for its learning rate."""
    defaults = optimizers.get(cell.optimizer).defaults
    overrides = "".join(f" --set {k}={v!r}" for k, v in cell.hyperparameters.items()
                        if k != "lr" and v != defaults[k])
    return (f"gallery-builder run --optimizer {cell.optimizer} --function {cell.function} "
            f"--start {cell.start[0]!r} {cell.start[1]!r} --steps {steps}{overrides} --set lr=LR")


def pair_data(cell, settings) -> dict:
    """Every run a pair figure shows, with the settings that made them."""
    return {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": list(cell.start), "settings": _settings_record(settings),
            "best_lr": float(cell.lrs[cell.best]) if cell.best >= 0 else None,
            "reproduce": reproduce_command(cell, settings.steps_for(cell.function)),
            "runs": [_run_record(cell, i) for i in range(len(cell.lrs))]}


def basins_data(cell, settings) -> dict:
    """Where every start of the basin grid ended, at the learning rate the basin map uses."""
    runs = cell.basin
    xs, ys = cell.basin_axes
    return {"optimizer": cell.optimizer, "function": cell.function,
            "hyperparameters": {**cell.hyperparameters, "lr": cell.basin_lr}, "settings": _settings_record(settings),
            "columns": ["start_x", "start_y", "status", "stop_step", "steps_to_tolerance", "minimizer", "end_x",
                        "end_y"],
            "rows": Numbers(columns=[
                np.tile(xs, len(ys)), np.repeat(ys, len(xs)), np.array(STATUSES)[runs.status],
                runs.stop_step, runs.steps_to_tolerance, runs.minimizer,
                runs.final_point[:, 0], runs.final_point[:, 1]])}


def sensitivity_data(cells: list, settings) -> dict:
    """The outcome of every learning rate of every optimizer on one function."""
    return {"function": cells[0].function, "settings": _settings_record(settings),
            "optimizers": [{"optimizer": c.optimizer, "lrs": Numbers(c.lrs),
                            "status": [STATUSES[int(s)] for s in c.runs.status],
                            "final_gap": [None if g != g else float(g) for g in c.runs.gap],
                            "stop_step": [int(s) for s in c.runs.stop_step]} for c in cells]}


def lr_map_data(cell, settings) -> dict:
    """The learning rate × second hyperparameter sweep: one summary per (value, learning rate)."""
    axis = cell.second
    return {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": list(cell.start), "settings": _settings_record(settings), "axis": axis.name,
            "values": [float(v) for v in axis.values], "lrs": Numbers(cell.lrs),
            "status": [[STATUSES[int(s)] for s in row] for row in axis.status],
            "final_gap": [[None if g != g else float(g) for g in row] for row in axis.gap],
            "steps_to_tolerance": axis.steps_to_tolerance.tolist(), "stop_step": axis.stop_step.tolist()}


def race_data(cells: list, settings) -> dict:
    return {"function": cells[0].function, "start": list(cells[0].start), "settings": _settings_record(settings),
            "runs": [{"optimizer": c.optimizer, "hyperparameters": {**c.hyperparameters, "lr": float(c.lrs[c.chosen])},
                      **_run_record(c, c.chosen)} for c in cells]}


def state_data(cell, settings) -> dict:
    """The run the state figure shows, with its recorded state fields and every drawn quantity derived from them."""
    i = cell.chosen
    views = carried.carried(cell, i)
    return {"optimizer": cell.optimizer, "function": cell.function,
            "hyperparameters": {**cell.hyperparameters, "lr": float(cell.lrs[i])}, "start": list(cell.start),
            "settings": _settings_record(settings),
            "index": "row t is the state after t updates (its step count is t); the path's row t is where it "
                     "stood then",
            "path": _run_record(cell, i),
            # A state value that is not finite (undefined before the first step, or NaN after a stop) is null.
            "state": {name: Numbers(values[i, : int(cell.runs.last[i]) + 1])
                      for name, values in cell.runs.state.items()},
            "drawn": [{"name": view.name, "as": type(view).__name__.lower(), "meaning": view.meaning,
                       "reads": list(view.fields), "rows": Numbers(values)} for view, values in views]}


def _summaries(lrs, runs) -> dict:
    return {"lrs": Numbers(lrs), "status": [STATUSES[int(s)] for s in runs.status],
            "final_gap": [None if g != g else float(g) for g in runs.gap],
            "steps_to_tolerance": [int(s) for s in runs.steps_to_tolerance]}


def schedules_data(cell, settings) -> dict:
    """Each schedule's peak-lr search, and its best run with the learning rate of every update."""
    steps = settings.steps_for(cell.function)
    plans = [("constant", cell.lrs, cell.runs, cell.chosen, cell.best)]
    plans += [(spec, s.lrs, s.runs, s.chosen, s.best) for spec, s in cell.schedules.items()]
    out = []
    for spec, lrs, runs, i, best in plans:
        last = int(runs.last[i])
        rates = lrs[i] * schedules.parse(spec).multipliers(steps)
        out.append({"schedule": spec, **_summaries(lrs, runs), "best_lr": float(lrs[best]) if best >= 0 else None,
                    "shown": {"peak_lr": float(lrs[i]), "columns": ["step", "x", "y", "f", "lr of the next update"],
                              "rows": Numbers(np.column_stack([np.arange(last + 1), runs.points[i, : last + 1],
                                                               runs.values[i, : last + 1],
                                                               np.append(rates, 0.0)[: last + 1]]))}})
    return {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": list(cell.start), "settings": _settings_record(settings), "schedules": out}


def schedule_help_data(row, settings) -> dict:
    gains = [results.schedule_gain(c, row.fn) for c in row.cells]
    keep = ("spec", "lr", "gap", "steps")
    return {"function": row.fn.name, "settings": _settings_record(settings),
            "optimizers": [{"optimizer": g["optimizer"].name, "helps": g["helps"],
                            "constant": {k: g["constant"][k] for k in keep},
                            "scheduled": {k: g["scheduled"][k] for k in keep}} for g in gains]}


def _noise_record(cell, settings) -> dict:
    noisy = cell.noisy
    return {"sigma": noisy.sigma, "seeds": noisy.seeds, "lrs": Numbers(noisy.lrs),
            "best_lr": float(noisy.lrs[noisy.best]) if noisy.best >= 0 else None,
            "median_seed": [int(m) for m in noisy.median],
            "status": Numbers(columns=list(np.array(STATUSES)[noisy.status].T)),
            "final_gap": Numbers(noisy.gap, exact=True), "steps_to_tolerance": noisy.steps_to_tolerance.tolist()}


def noise_data(cell, settings) -> dict:
    """Every seed's outcome at every lr, and every seed's full path at the chosen lr."""
    noisy = cell.noisy
    paths = []
    for seed in range(noisy.seeds):
        finite = np.flatnonzero(np.isfinite(noisy.best_values[seed]))
        paths.append({"seed": seed, "rows": Numbers(np.column_stack([finite, noisy.best_points[seed, finite],
                                                                     noisy.best_values[seed, finite]]))})
    return {"optimizer": cell.optimizer, "function": cell.function, "hyperparameters": cell.hyperparameters,
            "start": list(cell.start), "settings": _settings_record(settings), **_noise_record(cell, settings),
            "noise": "every update sees ∇f + σ·ξ_t, ξ_t = numpy.random.default_rng(seed).standard_normal((steps, 2))[t]",
            "reproduce": reproduce_command(cell, settings.steps_for(cell.function)) + f" --noise {noisy.sigma!r} --seed SEED",
            "paths_at_chosen_lr": {"lr": float(noisy.lrs[noisy.chosen]), "columns": ["step", "x", "y", "f"],
                                   "seeds": paths}}


def noise_sensitivity_data(row, settings) -> dict:
    return {"function": row.fn.name, "settings": _settings_record(settings),
            "optimizers": [{"optimizer": c.optimizer, **_noise_record(c, settings)} for c in row.cells]}
