"""Standalone HTML embeds: one file per figure, loading one shared local plotly.js and ``embed.js`` by relative path.

The output is deterministic: a fixed element id, no timestamps, compact JSON with sorted-free but fixed key order.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import zlib
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path

import numpy as np

from . import carried, figures, functions, jsgen, optimizers, results, thumbnails
from .downloads import (basins_data, download, lr_map_data, noise_data, noise_sensitivity_data, pair_data, race_data,
                        schedule_help_data, schedules_data, sensitivity_data, state_data)

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
<style>html,body{{margin:0;height:100%;overflow:hidden;background:#fff}}html[data-theme=dark],html[data-theme=dark] body{{background:#1e2129}}#figure{{width:100%;height:100%}}.og-playground-link{{color:#1a5fb4}}html[data-theme=dark] .og-playground-link{{color:#8ab4f8}}</style>
</head>
<body>
<div id="figure" role="figure" tabindex="0" aria-label="{label}"{into}></div>
<script src="{assets}/{plotly}"></script>
<script type="application/octet-stream" id="figure-data">{data}</script>
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


WIDTHS = {"f4": 4, "f8": 8, "i2": 2, "u1": 1}  # bytes per value of a typed array's dtype


def packed(value) -> str:
    """``value``'s JSON as an embed carries it: each typed array's bytes moved out of the JSON to follow it, after a
    NUL, byte-shuffled (every value's first bytes, then its second bytes...: smooth floats share their high bytes),
    a typed array's "bdata" becoming "bin": [offset, length]; the whole deflated (zlib, level 9) and base64-encoded.
    About half the bytes of the JSON; embed.js restores it (with the browser's DecompressionStream)."""
    blobs, offset = [], 0

    def pull(node):
        nonlocal offset
        if isinstance(node, dict):
            if isinstance(node.get("bdata"), str):
                raw = np.frombuffer(base64.b64decode(node["bdata"]), np.uint8)
                blobs.append(raw.reshape(-1, WIDTHS[node["dtype"]]).T.tobytes())
                offset += len(raw)
                return {("bin" if k == "bdata" else k): [offset - len(raw), len(raw)] if k == "bdata" else v
                        for k, v in node.items()}
            return {k: pull(v) for k, v in node.items()}
        return [pull(v) for v in node] if isinstance(node, list) else node

    head = figure_json(pull(value)).encode("utf-8")  # JSON escapes control characters: no NUL inside
    return base64.b64encode(zlib.compress(head + b"\0" + b"".join(blobs), 9)).decode("ascii")


def unpacked(text: str) -> str:
    """The JSON text ``packed`` was given (tests and tools read embeds through it)."""
    head, _, blob = zlib.decompress(base64.b64decode(text)).partition(b"\0")

    def push(node):
        if isinstance(node, dict):
            if "bin" in node:
                at, n = node["bin"]
                width = WIDTHS[node["dtype"]]
                raw = np.frombuffer(blob[at: at + n], np.uint8).reshape(width, -1).T.tobytes()
                return {("bdata" if k == "bin" else k): base64.b64encode(raw).decode("ascii") if k == "bin" else v
                        for k, v in node.items()}
            return {k: push(v) for k, v in node.items()}
        return [push(v) for v in node] if isinstance(node, list) else node

    return figure_json(push(json.loads(head.decode("utf-8"))))


def html(figure: dict, title: str, assets: str, record: dict | None = None, function: str | None = None,
         playground: str | None = None) -> str:
    """A standalone page for ``figure``; ``assets`` is the relative URL of the shared assets folder; ``record``, the
    figure's data download (made in the browser by embed.js's download button, from the numbers the page holds);
    ``function``, whose shared landscape (``landscape_file``) the figure points at instead of carrying it;
    ``playground``, the playground page's relative URL, where a figure with a "playground" entry links to."""
    label = title
    if "animate" in figure:
        label += ". Keys: left and right arrows step through the run, space plays or pauses"
        if any(s.get("name") == "lr" for s in figure["layout"].get("sliders", [])):
            label += ", up and down change the learning rate"
    figure, shared = _share(figure, function)
    carried = "" if record is None else \
        f'<script type="application/octet-stream" id="figure-download">{packed(download(record, figure))}</script>\n'
    into = f' data-playground="{escape(playground)}"' if playground and figure.get("playground") else ""
    return _PAGE.format(title=escape(title), label=escape(label), assets=assets, plotly=bundle(figure), into=into,
                        data=packed(figure), download=carried,
                        shared=f'<script src="{landscape_file(function)}"></script>\n' if shared else "")


def page(kind, subject, settings, assets: str, playground: str | None = None) -> str:
    """The embed of ``kind`` for ``subject``: its figure, its data download, its function's shared landscape, and
    its link into the playground (at ``playground``, relative) if it has one."""
    return html(kind.figure(subject), kind.title(subject), assets, kind.data and kind.data(subject, settings),
                kind.names(subject)[-1], playground)


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
