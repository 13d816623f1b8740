"""Standalone HTML embeds: one file per figure, loading one shared local plotly.js and ``embed.js`` by relative path.

The output is deterministic: a fixed element id, no timestamps, compact JSON with sorted-free but fixed key order.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import os
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path

import numpy as np

from . import carried, figures, functions, jsgen, optimizers, results, schedules, thumbnails
from .engine import STATUSES, describe

# Partial plotly.js bundles, vendored by scripts/vendor_assets.py (see assets/vendor/manifest.json), and the trace
# types each one draws (checked in the browser by the tests). An embed loads the first bundle that draws all its
# traces: 2-D figures one built from plotly.js's sources with just scatter, heatmap and contour (1.18 MB), 3-D views
# plotly.js's gl3d bundle (1.75 MB), instead of the full 4.8 MB plotly.min.js.
VENDOR = resources.files("gallery_builder").joinpath("assets/vendor")
PLOTLY_VERSION = json.loads(VENDOR.joinpath("manifest.json").read_text())["plotly.js"]
PLOTLY_LICENCE = "plotly.js-LICENSE.txt"
BUNDLES = {
    f"plotly-2d-{PLOTLY_VERSION}.min.js": frozenset({"contour", "heatmap", "scatter"}),
    f"plotly-gl3d-{PLOTLY_VERSION}.min.js": frozenset(
        {"cone", "isosurface", "mesh3d", "scatter", "scatter3d", "streamtube", "surface", "volume"}),
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>html,body{{margin:0;height:100%;overflow:hidden;background:#fff}}html[data-theme=dark],html[data-theme=dark] body{{background:#1e2129}}#figure{{width:100%;height:100%}}</style>
</head>
<body>
<div id="figure" role="figure" tabindex="0" aria-label="{label}"></div>
<script src="{assets}/{plotly}"></script>
<script type="application/json" id="figure-data">{data}</script>
{download}{shared}<script src="{assets}/embed.js"></script>
</body>
</html>
"""


def asset_sources() -> dict:
    """The shared assets' bytes by file name: the plotly.js bundles with their licence, our embed.js, and the
    playground's scripts and data."""
    names = [*BUNDLES, PLOTLY_LICENCE]
    return {**{name: VENDOR.joinpath(name).read_bytes() for name in names},
            "embed.js": resources.files("gallery_builder").joinpath("assets/embed.js").read_bytes(), **jsgen.assets()}


def bundle(figure: dict) -> str:
    """The smallest plotly.js bundle that draws every trace of ``figure``."""
    types = {trace.get("type", "scatter") for trace in figure["data"]}
    for name, drawn in BUNDLES.items():
        if types <= drawn:
            return name
    raise ValueError(f"no vendored plotly.js bundle draws all of {sorted(types)}")


def figure_json(figure: dict) -> str:
    # "</" would end the <script> element early; JSON allows the escaped form.
    return json.dumps(figure, separators=(",", ":"), ensure_ascii=False, allow_nan=False).replace("</", "<\\/")


def html(figure: dict, title: str, assets: str, record: dict | None = None, function: str | None = None) -> str:
    """A standalone page for ``figure``; ``assets`` is the relative URL of the shared assets folder; ``record``, the
    figure's data download (made in the browser by embed.js's download button, from the numbers the page holds);
    ``function``, whose shared landscape (``landscape_file``) the figure points at instead of carrying it."""
    label = title
    if "animate" in figure:
        label += ". Keys: left and right arrows step through the run, space plays or pauses"
        if any(s.get("name") == "lr" for s in figure["layout"].get("sliders", [])):
            label += ", up and down change the learning rate"
    figure, shared = _share(figure, function)
    carried = "" if record is None else \
        f'<script type="application/json" id="figure-download">{figure_json(download(record, figure))}</script>\n'
    return _PAGE.format(title=escape(title), label=escape(label), assets=assets, plotly=bundle(figure),
                        data=figure_json(figure), download=carried,
                        shared=f'<script src="{landscape_file(function)}"></script>\n' if shared else "")


def page(kind, subject, settings, assets: str) -> str:
    """The embed of ``kind`` for ``subject``: its figure, its data download, and its function's shared landscape."""
    return html(kind.figure(subject), kind.title(subject), assets, kind.data and kind.data(subject, settings),
                kind.names(subject)[-1])


# The arrays every map of a function draws, its contour's and its 3-D surface's grids, are the same bytes in each of
# its hundreds of embeds (a third of their weight): landscape--<function>.js beside them holds them once, and each
# embed points at them ({"shared": name}), which embed.js resolves before drawing.
LANDSCAPE_GLOBAL = "OG_LANDSCAPE"


@functools.lru_cache(maxsize=None)
def landscape(function: str) -> dict:
    """The shared arrays of ``function``'s maps by name, as figures.typed writes them."""
    out = {}
    for name, n in (("contour", figures.CONTOUR_GRID), ("surface", figures.SURFACE_GRID)):
        xs, ys, z, _ = figures.landscape(functions.get(function), n)
        out.update({f"{name}.x": figures.typed(xs), f"{name}.y": figures.typed(ys), f"{name}.z": figures.typed(z)})
    return out


def landscape_file(function: str) -> str:
    return f"landscape--{function}.js"


def landscape_script(function: str) -> str:
    return f"window.{LANDSCAPE_GLOBAL} = {figure_json(landscape(function))};\n"


def _share(figure: dict, function: str | None) -> tuple:
    """``figure`` with its function's shared arrays replaced by their names, and whether any was."""
    if function is None:
        return figure, False
    names = {spec["bdata"]: name for name, spec in landscape(function).items()}
    data = [{key: {"shared": names[value["bdata"]]} if isinstance(value, dict) and value.get("bdata") in names
             else value for key, value in trace.items()} for trace in figure["data"]]
    return {**figure, "data": data}, data != figure["data"]


def relative(target: str, start_dir: str) -> str:
    """A relative URL from the folder ``start_dir`` to ``target`` (both relative to one root, '/'-separated)."""
    return Path(os.path.relpath(target, start_dir or ".")).as_posix()


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


# The figure-kind registry. A kind of figure is drawn either from one cell (scope CELL: one optimizer on one
# function) or from one function's row of cells (scope FUNCTION: a Row, every optimizer of the build on it). The
# build writes, for every subject a kind applies to, embeds/<kind>--<names>.html (carrying its data download when it
# has data, which embed.js saves as JSON; and thumbs/<kind>--<names>.png when it has a thumbnail); pages place it
# with its title. A new kind is one entry here, its builder in figures.py and, to show it on a page, one line in a
# template.
CELL, FUNCTION = "cell", "function"


@dataclass(frozen=True)
class Row:
    """The subject of a function-scope figure: a function and its cells, in the build's optimizer order (an
    optimizer without a cell on the function, Polyak's step on a function without a minimum, is left out)."""

    fn: object
    cells: list


def row(fn_name: str, optimizer_names, cells: dict) -> Row:
    return Row(functions.get(fn_name), [cells[(o, fn_name)] for o in optimizer_names if (o, fn_name) in cells])


@dataclass(frozen=True)
class Kind:
    name: str  # file name prefix, and the name templates use
    scope: str  # CELL or FUNCTION
    figure: object  # subject -> Plotly figure dict
    title: object  # subject -> the embed's title (its <title>, and the iframe's title on pages)
    data: object = None  # (subject, settings) -> record of what it shows (Numbers for arrays), for download
    thumbnail: object = None  # subject -> PNG bytes
    applies: object = None  # subject -> bool; None: every subject of its scope
    ratio: str = "4 / 3"  # width / height of the iframe where the figure is laid out side by side

    def names(self, subject) -> tuple:
        """The names in the figure's file names: (optimizer, function) or (function,)."""
        return (subject.optimizer, subject.function) if self.scope == CELL else (subject.fn.name,)

    def cells(self, subject) -> list:
        """The cells the figure is drawn from (what its cache key must cover)."""
        return [subject] if self.scope == CELL else subject.cells


def _opt_fn(cell) -> str:
    return f"{optimizers.get(cell.optimizer).title} on {functions.get(cell.function).title}"


def _thumbnail(cell) -> bytes:
    shown = cell.runs.points[cell.chosen, : int(cell.runs.last[cell.chosen]) + 1]
    return thumbnails.thumbnail(functions.get(cell.function), shown, figures.style(cell.optimizer)["color"])


KINDS = {kind.name: kind for kind in (
    Kind("pair", CELL, figures.pair, _opt_fn, data=pair_data, thumbnail=_thumbnail),
    Kind("pair3d", CELL, lambda c: figures.surface(functions.get(c.function), c), lambda c: f"{_opt_fn(c)} (3-D)"),
    Kind("basins", CELL, figures.basins, lambda c: f"{optimizers.get(c.optimizer).title} basins on "
                                                  f"{functions.get(c.function).title}", data=basins_data),
    Kind("lrmap", CELL, figures.lr_map, lambda c: f"{_opt_fn(c)}: learning rate × {c.second.name}",
         data=lr_map_data, applies=lambda c: c.second is not None, ratio="16 / 11"),
    Kind("state", CELL, figures.state, lambda c: f"What {_opt_fn(c)} carries", data=state_data,
         applies=carried.applies, ratio="4 / 3"),
    Kind("race", FUNCTION, lambda r: figures.race(r.cells, r.fn), lambda r: f"Every optimizer on {r.fn.title}",
         data=lambda r, settings: race_data(r.cells, settings), applies=lambda r: bool(r.cells)),
    Kind("sensitivity", FUNCTION, lambda r: figures.sensitivity(r.cells, r.fn),
         lambda r: f"Learning-rate sensitivity on {r.fn.title}",
         data=lambda r, settings: sensitivity_data(r.cells, settings), applies=lambda r: bool(r.cells),
         ratio="16 / 10"),
    Kind("schedules", CELL, figures.schedule_paths, lambda c: f"{_opt_fn(c)}: learning-rate schedules",
         data=schedules_data, applies=lambda c: bool(c.schedules)),
    Kind("schedule_help", FUNCTION, lambda r: figures.schedule_help(
        [results.schedule_gain(c, r.fn) for c in r.cells], r.fn),
         lambda r: f"Does a schedule help on {r.fn.title}?", data=schedule_help_data,
         applies=lambda r: r.fn.minimum is not None and bool(r.cells) and bool(r.cells[0].schedules),
         ratio="16 / 10"),
    Kind("noise", CELL, figures.noise_pair, lambda c: f"{_opt_fn(c)} with noisy gradients", data=noise_data,
         applies=lambda c: c.noisy is not None),
    Kind("noise_race", FUNCTION, lambda r: figures.noise_race(r.cells, r.fn),
         lambda r: f"Every optimizer on {r.fn.title} with noisy gradients",
         applies=lambda r: bool(r.cells) and r.cells[0].noisy is not None),
    Kind("noise_sensitivity", FUNCTION, lambda r: figures.noise_sensitivity(r.cells, r.fn),
         lambda r: f"Learning-rate sensitivity on {r.fn.title} with noisy gradients", data=noise_sensitivity_data,
         applies=lambda r: r.fn.minimum is not None and bool(r.cells) and r.cells[0].noisy is not None,
         ratio="16 / 10"),
    Kind("surface", FUNCTION, lambda r: figures.surface(r.fn), lambda r: f"{r.fn.title} surface",
         thumbnail=lambda r: thumbnails.thumbnail(r.fn)),
)}


def subjects(kind: Kind, settings, cells: dict):
    """(names, subject) for every figure of ``kind`` in a build, in build order."""
    if kind.scope == CELL:
        found = ((names, cell) for names, cell in cells.items())
    else:
        found = (((f,), row(f, settings.optimizers, cells)) for f in settings.functions)
    return [(names, subject) for names, subject in found if kind.applies is None or kind.applies(subject)]
