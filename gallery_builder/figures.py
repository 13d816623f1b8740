"""Plotly figures as plain dicts, built from the sweep's arrays.

Numeric arrays go out as Plotly typed-array specs (``{"dtype", "bdata"}``, base64 little-endian), never as decimal
lists, and never with NaN or infinity: a stopped run is cut at its last finite point. Animation is described by an
``animate`` entry (which traces grow with the step slider) that the shared ``embed.js`` plays by slicing the full
arrays, so the trail keeps every step while the slider has only tens of positions.
"""

from __future__ import annotations

import base64
import functools
import math

import numpy as np

from . import carried, functions, narrow, optimizers, schedules
from .criteria import left_downhill
from .model import DIVERGED, ESCAPED, STALLED, Cell, describe, is_failure
from .narrow import SQUARE, ColourBar, Legend, Note, Plot, Scene, Slider
from .optimizers.views import Arrow, Panel, Path

CATEGORY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")
OUTCOME_COLOURS = {"elsewhere": "#BBBBBB", "stalled": "#777777", "diverged": "#D55E00", "escaped": "#332288"}
# What a figure of every optimizer opens on when it has more than READABLE of them: one of each family (plain
# gradient, momentum, per-coordinate scaling, Adam, sign, Newton, quasi-Newton, learning-rate-free); the others
# are in its legend, a click away.
FEATURED = ("sgd", "momentum", "rmsprop", "adam", "lion", "newton", "lbfgs", "prodigy")
READABLE = 10
SENSITIVITY_FLOOR = 1e-16  # relative to max(1, |f*|): where the sensitivity plot draws smaller gaps
FRAMES = 21  # positions of the step slider; playback moves through every step in between
CONTOUR_GRID = 80
SURFACE_GRID = 48
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def typed(values, dtype: str = "f4") -> dict:
    """A Plotly typed-array spec; refuses non-finite values so that none reaches a figure.

    Floats go out as float32 unless some value is beyond float32's range (a run on its way to divergence).
    """
    values = np.asarray(values)
    if dtype == "f4":
        magnitude = np.abs(values)
        if not magnitude.max(initial=0) <= 1e38:  # beyond float32, or not finite (NaN compares false)
            if not np.isfinite(values).all():
                raise ValueError("non-finite value in figure data")
            dtype = "f8"
        elif ((magnitude > 0) & (magnitude < FLOAT32_TINY)).any():  # would round to 0 and vanish on log axes
            dtype = "f8"
    array = np.ascontiguousarray(values, dtype={"f4": "<f4", "f8": "<f8", "u1": "u1", "i2": "<i2"}[dtype])
    spec = {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    if array.ndim == 2:
        spec["shape"] = f"{array.shape[0]}, {array.shape[1]}"
    return spec


def step_axis(steps) -> dict:
    """The x of a series over steps: x0 and dx when the steps are consecutive (a third of the bytes saved), else the
    step numbers."""
    steps = np.asarray(steps)
    if len(steps) and np.array_equal(steps, np.arange(steps[0], steps[0] + len(steps))):
        return {"x0": int(steps[0]), "dx": 1}
    return {"x": typed(steps, "i2")}


def style(name: str) -> dict:
    """An optimizer's colour, dash pattern and marker symbol, as Plotly names them: its registered look, or a
    fallback fixed by its name (``optimizers.look``)."""
    colour, dash, symbol = optimizers.look(name)
    return {"color": colour, "dash": dash, "symbol": symbol}


def shown_first(names) -> set:
    """The optimizers a figure of all of ``names`` draws before the reader picks others: all of them when they are
    few (or the build has fewer than two featured ones), else the featured ones."""
    featured = {name for name in names if name in FEATURED}
    return set(names) if len(names) <= READABLE or len(featured) < 2 else featured


def _opening(name: str, shown: set):
    """A trace's ``visible`` as the figure opens: drawn, or listed in the legend only."""
    return True if name in shown else "legendonly"


def fmt(value: float) -> str:
    return f"{value:.3g}"


@functools.lru_cache(maxsize=None)  # every figure of a function draws the same landscape
def _mesh(fn, n: int):
    (x0, x1), (y0, y1) = fn.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    arrays = xs, ys, fn.values(np.stack(np.meshgrid(xs, ys), axis=-1))
    for array in arrays:
        array.flags.writeable = False  # shared by every caller
    return arrays


@functools.lru_cache(maxsize=None)
def value_scale(fn):
    """How figures colour and lift f: log-spaced when f spans more than three decades over the domain."""
    _, _, z = _mesh(fn, CONTOUR_GRID)
    low, high = float(z.min()), float(z.max())
    shift = float(np.percentile(z - low, 5)) or (high - low) * 1e-6 or 1.0
    if (high - low) / shift > 1e3:
        return (lambda v: np.log10(np.maximum(v - low, 0) + shift)), f"log₁₀(f − {fmt(low)} + {fmt(shift)})"
    return (lambda v: v), "f"


def landscape(fn, n: int = CONTOUR_GRID):
    """Grid axes, the transformed values on the grid, and the label of the transform."""
    xs, ys, z = _mesh(fn, n)
    transform, label = value_scale(fn)
    return xs, ys, transform(z), label


def _contour(fn, showscale=False):
    xs, ys, z, label = landscape(fn)
    return {"type": "contour", "x": typed(xs), "y": typed(ys), "z": typed(z), "colorscale": "Viridis",
            # Filled bands, not a heatmap under the lines: Plotly paints a heatmap into a PNG at the plot's size on
            # every draw, about a quarter of a figure's first draw.
            "ncontours": 30, "contours": {"coloring": "fill", "showlines": True}, "line": {"width": 0.5},
            "showscale": showscale, "colorbar": {"title": {"text": label}}, "name": label,
            "hovertemplate": "x=%{x:.3g}, y=%{y:.3g}<br>" + label + "=%{z:.3g}<extra></extra>"}


def _markers(fn, start) -> list:
    traces = [{"type": "scatter", "x": [start[0]], "y": [start[1]], "mode": "markers", "name": "start",
               "marker": {"symbol": "circle", "size": 10, "color": "#FFFFFF", "line": {"width": 2, "color": "#000000"}},
               "hovertemplate": "start (%{x:.4g}, %{y:.4g})<extra></extra>"}]
    if fn.minimizers:
        points = np.asarray(fn.minimizers)
        traces.append({"type": "scatter", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "mode": "markers",
                       "name": "global minimum", "marker": {"symbol": "star", "size": 14, "color": "#FFFFFF",
                                                            "line": {"width": 1.5, "color": "#000000"}},
                       "hovertemplate": "global minimum (%{x:.6g}, %{y:.6g})<extra></extra>"})
    return traces


def clip_segments(p0, p1, low, high):
    """The parts of the segments p0[k]→p1[k] inside the box [low, high] (Liang-Barsky): their ends, and which
    segments touch the box at all."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    t0, t1 = np.zeros(len(d)), np.ones(len(d))
    hit = np.ones(len(d), bool)
    for axis in range(2):
        for p, q in ((-d[:, axis], p0[:, axis] - low[axis]), (d[:, axis], high[axis] - p0[:, axis])):
            with np.errstate(divide="ignore", invalid="ignore"):
                r = q / p
            hit &= (p != 0) | (q >= 0)
            t0 = np.where((p < 0) & (r > t0), r, t0)  # as max(t0, r) and min(t1, r) keep t on a tie
            t1 = np.where((p > 0) & (r < t1), r, t1)
    return p0 + t0[:, None] * d, p0 + t1[:, None] * d, hit & (t0 <= t1)


def exit_point(fn, points, inside):
    """Where a path last leaves the plotted domain (its end when it ends inside); ``inside``: fn.contains(points)."""
    if inside[-1]:
        return points[-1]
    k = int(np.flatnonzero(inside)[-1])  # the start is always inside
    return clip_segments(points[k: k + 1], points[k + 1: k + 2], *fn.box())[1][0]


def _path(cell: Cell, i: int):
    """The finite part of run ``i``: (points, values)."""
    last = int(cell.runs.last[i])
    return cell.runs.points[i, : last + 1], cell.runs.values[i, : last + 1]


def _end_marker(cell: Cell, i: int, colour: str, visible=True, xaxis="x", yaxis="y") -> dict:
    """The end of run ``i``; a run that left the domain is marked where it crossed the domain's edge."""
    fn = functions.get(cell.function)
    points, _ = _path(cell, i)
    status = int(cell.runs.status[i])
    symbol = {DIVERGED: "x", ESCAPED: "triangle-up", STALLED: "square"}.get(status, "diamond")
    text = describe(status, int(cell.runs.stop_step[i]), cell.runs.points.shape[1] - 1)
    inside = fn.contains(points)
    end = exit_point(fn, points, inside)
    if not inside[-1]:
        text += f", last seen at ({points[-1, 0]:.4g}, {points[-1, 1]:.4g})"
    return {"type": "scatter", "x": [float(end[0])], "y": [float(end[1])], "mode": "markers",
            "name": "end", "showlegend": False, "visible": visible, "xaxis": xaxis, "yaxis": yaxis,
            "marker": {"symbol": symbol, "size": 12, "color": colour, "line": {"width": 1.5, "color": "#000000"}},
            "hovertemplate": f"{text}<extra></extra>"}


def _steps_slider(steps: int, name: str = "step", y: float = -0.17) -> dict:
    marks = sorted({round(steps * k / (FRAMES - 1)) for k in range(FRAMES)})
    return {"name": name, "active": len(marks) - 1, "y": y, "len": 0.9, "x": 0.05, "pad": {"t": 0},
            "currentvalue": {"prefix": "step "}, "font": {"size": 10},
            "steps": [{"label": str(m), "method": "skip", "args": [], "value": str(m)} for m in marks]}


def _play_buttons(y: float = -0.17) -> dict:
    return {"type": "buttons", "direction": "left", "showactive": False, "x": 0.0, "y": y, "xanchor": "right",
            "yanchor": "top", "pad": {"t": 0, "r": 8},
            "buttons": [{"label": "▶", "method": "skip", "args": [], "name": "play"},
                        {"label": "❚❚", "method": "skip", "args": [], "name": "pause"}]}


def _axes(fn) -> dict:
    (x0, x1), (y0, y1) = fn.domain
    return {"xaxis": {"range": [x0, x1], "title": {"text": "x"}, "domain": [0, 0.6]},
            "yaxis": {"range": [y0, y1], "title": {"text": "y"}}}


def _side_panels(bounded: bool, lower: str) -> dict:
    """Axes of the two panels right of the map: the gap (f itself without a minimum) above, ``lower`` below, both
    against the step."""
    return {
        "xaxis2": {"domain": [0.7, 1.0], "anchor": "y2", "showticklabels": False},
        "yaxis2": {"type": "log" if bounded else "linear", "title": {"text": "f − f*" if bounded else "f"},
                   "anchor": "x2", "exponentformat": "power", "domain": [0.54, 1.0]},
        "xaxis3": {"domain": [0.7, 1.0], "title": {"text": "step"}, "anchor": "y3", "matches": "x2"},
        "yaxis3": {"type": "log", "title": {"text": lower}, "anchor": "x3", "exponentformat": "power",
                   "domain": [0.0, 0.46]},
    }


def playground(cell: Cell, **where) -> dict | None:
    """What a figure's way into the playground opens (embed.js makes the URL, assets/playground-ui.js reads it):
    the cell's function, optimizer, second hyperparameter and horizon, and ``where`` (lr or lrs, a start). None where
    the playground would not run the cell's own runs: it takes lr and the second hyperparameter only, the others at
    their defaults (f* from the function)."""
    opt = optimizers.get(cell.optimizer)
    second = opt.second_axis[0] if opt.second_axis else None
    fixed = {**opt.defaults, **opt.for_function(functions.get(cell.function))}
    if any(value != fixed[key] for key, value in cell.hyperparameters.items() if key not in ("lr", second)):
        return None
    h2 = {"h2": float(cell.hyperparameters[second])} if second else {}
    return {"f": cell.function, "o": cell.optimizer, **h2, "n": cell.runs.points.shape[1] - 1, **where}


def pair(cell: Cell) -> dict:
    """One optimizer on one function: contour with the run at every swept learning rate (slider), and the gap."""
    fn, opt = functions.get(cell.function), optimizers.get(cell.optimizer)
    colour = style(opt.name)["color"]
    chosen = cell.chosen
    bounded = fn.minimum is not None
    data = [_contour(fn), *_markers(fn, cell.start)]
    fixed = len(data)
    groups, animated = [], []
    for i, lr in enumerate(cell.lrs):
        points, values = _path(cell, i)
        visible = i == chosen
        steps = np.arange(len(values))
        label = f"lr = {fmt(lr)}"
        first = len(data)
        data.append({"type": "scatter", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "mode": "lines+markers",
                     "name": label, "visible": visible, "showlegend": False,
                     "line": {"color": colour, "width": 2}, "marker": {"size": 4, "color": colour},
                     "hovertemplate": "step %{pointNumber}<br>(%{x:.5g}, %{y:.5g})<extra>" + label + "</extra>"})
        data.append(_end_marker(cell, i, colour, visible))
        if bounded:
            gap = values - fn.minimum
            keep = gap > 0  # a log axis cannot show a zero gap; those steps are left out, not altered
            series_x, series_y, what = steps[keep], gap[keep], "f − f*"
        else:
            series_x, series_y, what = steps, values, "f"
        data.append({"type": "scatter", **step_axis(series_x), "y": typed(series_y), "mode": "lines",
                     "name": what, "visible": visible, "showlegend": False, "xaxis": "x2", "yaxis": "y2",
                     "line": {"color": colour, "width": 2},
                     "hovertemplate": "step %{x}<br>" + what + " = %{y:.3g}<extra>" + label + "</extra>"})
        # How far each step moved: the optimizer's effective step size, which no single formula shows as plainly.
        lengths = np.hypot(*np.diff(points, axis=0).T)
        moved = lengths > 0
        data.append({"type": "scatter", **step_axis(steps[1:][moved]), "y": typed(lengths[moved]),
                     "mode": "lines", "name": "step length", "visible": visible, "showlegend": False,
                     "xaxis": "x3", "yaxis": "y3", "line": {"color": colour, "width": 1.5},
                     "hovertemplate": "step %{x}<br>|θₜ − θₜ₋₁| = %{y:.3g}<extra>" + label + "</extra>"})
        groups.append([first, first + 1, first + 2, first + 3])
        animated += [first, first + 2, first + 3]

    def title(i):
        status = describe(int(cell.runs.status[i]), int(cell.runs.stop_step[i]), cell.runs.points.shape[1] - 1)
        best = " (best)" if i == cell.best else ""
        return f"{opt.title} on {fn.title}: lr = {fmt(cell.lrs[i])}{best}, {status}"

    lr_steps = []
    for i, lr in enumerate(cell.lrs):
        visible = [True] * fixed + [False] * (len(data) - fixed)
        for index in groups[i]:
            visible[index] = True
        lr_steps.append({"label": fmt(lr) + ("★" if i == cell.best else ""), "method": "update",
                         "args": [{"visible": visible}, {"title.text": title(i)}]})
    layout = {
        "title": {"text": title(chosen), "x": 0.01, "font": {"size": 14}},
        **_axes(fn),
        **_side_panels(bounded, "step length"),
        "margin": {"l": 50, "r": 20, "t": 40, "b": 190},
        "showlegend": False,
        "sliders": [
            {"name": "lr", "active": chosen, "y": -0.42, "len": 0.9, "x": 0.05, "pad": {"t": 0}, "font": {"size": 10},
             "currentvalue": {"prefix": "learning rate "}, "steps": lr_steps},
            _steps_slider(cell.runs.points.shape[1] - 1),
        ],
        "updatemenus": [_play_buttons()],
    }
    # On a phone the sliders follow the map, so that the map and what moves it fit one screen.
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), SQUARE, below=48), Slider(0, 64),
                         Slider(1, 64, buttons=0), Plot(("xaxis2", "yaxis2"), 120, below=16, nticks=4),
                         Plot(("xaxis3", "yaxis3"), 120, below=48, nticks=4))
    return {"data": data, "layout": layout, "animate": {"traces": animated, "slider": "step"}, "narrow": phone,
            "playground": playground(cell, lrs=[float(lr) for lr in cell.lrs], x=float(cell.start[0]),
                                     y=float(cell.start[1]))}


def race(cells: list, fn) -> dict:
    """Every optimizer on one function at its chosen learning rate, animated together."""
    data = [_contour(fn), *_markers(fn, cells[0].start)]
    animated = []
    shown = shown_first([c.optimizer for c in cells])
    for cell in cells:
        opt = optimizers.get(cell.optimizer)
        i = cell.chosen
        points, _ = _path(cell, i)
        look = style(opt.name)
        label = f"{opt.title} (lr {fmt(cell.lrs[i])}{'' if cell.best >= 0 else ', default: no lr qualified'})"
        animated.append(len(data))
        # Lines without a marker per step: 28 paths of up to 1,000 steps made 28,000 SVG markers, which took most
        # of the figure's first draw; each optimizer's own figures mark every step.
        data.append({"type": "scatter", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "mode": "lines",
                     "name": label, "legendgroup": opt.name, "visible": _opening(opt.name, shown),
                     "line": {"color": look["color"], "dash": look["dash"], "width": 2},
                     "hovertemplate": "step %{pointNumber}<br>(%{x:.4g}, %{y:.4g})<extra>" + opt.title + "</extra>"})
        end = _end_marker(cell, i, look["color"], visible=_opening(opt.name, shown))
        end["legendgroup"] = opt.name
        data.append(end)
    layout = {"title": {"text": f"{fn.title}: every optimizer at its best learning rate", "x": 0.01,
                        "font": {"size": 14}},
              **_axes(fn), "margin": {"l": 50, "r": 10, "t": 40, "b": 90},
              "legend": {"x": 0.63, "y": 1.0, "font": {"size": 11}, "itemsizing": "constant", "tracegroupgap": 0},
              "sliders": [_steps_slider(cells[0].runs.points.shape[1] - 1, y=-0.12)],
              "updatemenus": [_play_buttons(y=-0.12)]}
    layout["xaxis"]["domain"] = [0, 0.6]
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), SQUARE, below=48), Slider(0, 64, buttons=0), Legend())
    return {"data": data, "layout": layout, "animate": {"traces": animated, "slider": "step"}, "narrow": phone}


def outcome_categories(fn) -> list:
    """Labels of the basin-map colours: one per global minimizer, then the other outcomes."""
    labels = [f"minimum ({x:.3g}, {y:.3g})" for x, y in fn.minimizers]
    return labels + ["elsewhere or still moving", "stalled (local min. or saddle)", "diverged", "left the domain"]


def outcome_codes(cell: Cell, fn) -> np.ndarray:
    m = len(fn.minimizers)
    status, minimizer = cell.basin.status, cell.basin.minimizer
    codes = np.where(minimizer >= 0, minimizer, m)
    codes = np.where((minimizer < 0) & (status == STALLED), m + 1, codes)
    codes = np.where(status == DIVERGED, m + 2, codes)
    return np.where(status == ESCAPED, m + 3, codes)


def basins(cell: Cell) -> dict:
    """Where each start of a grid ends at the chosen learning rate."""
    fn, opt = functions.get(cell.function), optimizers.get(cell.optimizer)
    labels = outcome_categories(fn)
    colours = [CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i in range(len(fn.minimizers))]
    colours += list(OUTCOME_COLOURS.values())
    xs, ys = cell.basin_axes
    codes = outcome_codes(cell, fn).reshape(len(ys), len(xs))
    n = len(labels)
    scale = []
    for k, colour in enumerate(colours):  # a stepped colour scale: code k fills [k, k+1) / n
        scale += [[k / n, colour], [(k + 1) / n, colour]]
    text = [[labels[c] for c in row] for row in codes]
    contour = _contour(fn)
    contour.update({"contours": {"coloring": "none"}, "line": {"width": 0.6, "color": "rgba(0,0,0,0.35)"},
                    "hoverinfo": "skip"})
    del contour["hovertemplate"]
    heatmap = {"type": "heatmap", "x": typed(xs), "y": typed(ys), "z": typed(codes, "u1"), "zmin": 0, "zmax": n,
               "colorscale": scale, "text": text,
               "hovertemplate": "start (%{x:.3g}, %{y:.3g})<br>%{text}<br>click: run it in the playground"
                                "<extra></extra>",
               "colorbar": {"tickvals": [k + 0.5 for k in range(n)], "ticktext": labels, "len": 1.0}}
    counts = np.bincount(codes.ravel(), minlength=n)
    parts = [f"{labels[k]}: {counts[k]}" for k in range(n) if counts[k]]
    lines = []
    for part in parts:  # Plotly does not wrap annotations: lines of at most about 80 characters
        if lines and len(lines[-1]) + len(part) < 80:
            lines[-1] += ", " + part
        else:
            lines.append(part)
    summary = ",<br>".join(lines)
    layout = {"title": {"text": f"{opt.title} on {fn.title}: basins at lr = {fmt(cell.basin_lr)}", "x": 0.01,
                        "font": {"size": 14}},
              "xaxis": {"title": {"text": "start x"}, "domain": [0, 0.72]}, "yaxis": {"title": {"text": "start y"}},
              "margin": {"l": 50, "r": 10, "t": 40, "b": 110}, "showlegend": False,
              "annotations": [{"text": summary, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0,
                               "y": 0, "yshift": -58, "align": "left", "xanchor": "left", "yanchor": "top",
                               "font": {"size": 10}}]}
    data = [heatmap, contour, *_markers(fn, cell.start)[1:]]
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), SQUARE, below=48),
                         ColourBar(0, 18 * n, {"lenmode": "pixels", "len": 18 * n, "thickness": 14}), Note(0))
    return {"data": data, "layout": layout, "narrow": phone, "playground": playground(cell, lr=float(cell.basin_lr))}


def sensitivity(cells: list, fn) -> dict:
    """Final gap (or, without a minimum, the step of leaving the domain) against learning rate, per optimizer."""
    bounded = fn.minimum is not None
    data, lrs, drawn = [], [], []
    shown = shown_first([c.optimizer for c in cells])
    # Gaps below the floor are rounding noise (Newton's reach 1e-30): drawn on it, so that they do not squeeze the
    # other optimizers' curves into a corner; the hover gives every value.
    floor = SENSITIVITY_FLOOR * max(1.0, abs(fn.minimum)) if bounded else 0.0
    for cell in cells:
        opt = optimizers.get(cell.optimizer)
        look = style(opt.name)
        status = cell.runs.status
        bad = is_failure(status, fn)
        if bounded:
            y = cell.runs.gap
            ok = ~bad & (y > 0)
            shown_y = np.maximum(y[ok], floor)
        else:
            y = np.where(status == ESCAPED, cell.runs.stop_step, np.nan)
            ok = status == ESCAPED
            shown_y = y[ok]
        lrs.append(cell.lrs)
        drawn.append(shown_y)
        data.append({"type": "scatter", "x": typed(cell.lrs[ok]), "y": typed(shown_y), "mode": "lines+markers",
                     "name": opt.title, "legendgroup": opt.name, "visible": _opening(opt.name, shown),
                     "line": {"color": look["color"], "dash": look["dash"]},
                     "marker": {"color": look["color"], "symbol": look["symbol"], "size": 7},
                     **({"customdata": typed(y[ok])} if bounded else {}),
                     "hovertemplate": "lr %{x:.3g}<br>" + ("gap %{customdata:.3g}" if bounded else "left at step %{y}")
                     + "<extra>" + opt.title + "</extra>"})
        bands = [(bad, "y2", "x", "diverged or left the domain")]
        if bounded:  # an exact zero gap has no place on a log axis: it gets a band of its own
            bands.append((~bad & (cell.runs.gap <= 0), "y3", "circle", "f − f* = 0 exactly"))
        for mask, axis, symbol, what in bands:
            if mask.any():
                data.append({"type": "scatter", "x": typed(cell.lrs[mask]), "y": [1.0] * int(mask.sum()),
                             "yaxis": axis, "mode": "markers", "name": f"{opt.title}: {what}",
                             "legendgroup": opt.name, "showlegend": False, "visible": _opening(opt.name, shown),
                             "marker": {"symbol": symbol, "size": 9, "color": look["color"]},
                             "hovertemplate": "lr %{x:.3g}: " + what + "<extra>" + opt.title + "</extra>"})
    layout = {"title": {"text": f"{fn.title}: sensitivity to the learning rate", "x": 0.01, "font": {"size": 14}},
              # Drawn under the "0" strip, so that its labels and title do not sit in that strip.
              "xaxis": {"type": "log", "title": {"text": "learning rate"}, "exponentformat": "power", "anchor": "y3",
                        **log_ticks(np.concatenate(lrs) if lrs else [])},
              "yaxis": {"type": "log" if bounded else "linear", "domain": [0.1, 0.86], "exponentformat": "power",
                        **(log_ticks(np.concatenate(drawn)) if bounded and drawn else {}),
                        "title": {"text": f"final gap (below {fmt(floor)} drawn at it)" if bounded
                                  else "step it left the domain"}},
              "yaxis2": {"domain": [0.9, 1.0], "range": [0, 2], "showticklabels": False, "showgrid": False,
                         "title": {"text": "✗", "font": {"size": 10}}},
              "yaxis3": {"domain": [0, 0.06], "range": [0, 2], "showticklabels": False, "showgrid": False,
                         "title": {"text": "0", "font": {"size": 10}}},
              "margin": {"l": 60, "r": 10, "t": 40, "b": 50}, "legend": {"font": {"size": 11}, "tracegroupgap": 0},
              "annotations": [{"text": "✗ row: diverged or left the domain" if bounded else "✗ row: diverged",
                               "showarrow": False, "xref": "paper", "yref": "paper", "x": 1, "y": 1.0,
                               "xanchor": "right", "yanchor": "bottom", "font": {"size": 10}}]}
    phone = narrow.stack(layout, data, Note(0), Plot(
        ("xaxis", "yaxis", "yaxis2", "yaxis3"), 300, below=40,
        parts={name: layout[name]["domain"] for name in ("yaxis", "yaxis2", "yaxis3")}), Legend())
    return {"data": data, "layout": layout, "narrow": phone}


def surface(fn, cell: Cell | None = None) -> dict:
    """The function as a 3-D surface (WebGL), with its minimizers and optionally one run lifted onto it."""
    xs, ys, z, label = landscape(fn, SURFACE_GRID)
    data = [{"type": "surface", "x": typed(xs), "y": typed(ys), "z": typed(z), "colorscale": "Viridis",
             "showscale": False, "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
             "hovertemplate": "x=%{x:.3g}, y=%{y:.3g}<br>" + label + "=%{z:.3g}<extra></extra>"}]
    transform, _ = value_scale(fn)

    def lift(points):
        return transform(fn.values(points))

    if fn.minimizers:
        points = np.asarray(fn.minimizers)
        data.append({"type": "scatter3d", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "z": typed(lift(points)),
                     "mode": "markers", "name": "global minimum", "marker": {"symbol": "diamond", "size": 5,
                                                                             "color": "#FFFFFF"}})
    title = f"{fn.title}: surface ({label})"
    if cell is not None:
        points, _ = _path(cell, cell.chosen)
        inside = fn.contains(points)
        points = points[: int(np.argmin(inside)) if not inside.all() else len(points)]
        opt = optimizers.get(cell.optimizer)
        data.append({"type": "scatter3d", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "z": typed(lift(points)),
                     "mode": "lines", "name": opt.title, "line": {"color": style(opt.name)["color"], "width": 6}})
        title = f"{opt.title} on {fn.title} at lr = {fmt(cell.lrs[cell.chosen])} (3-D, inside the domain)"
    layout = {"title": {"text": title, "x": 0.01, "font": {"size": 14}}, "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
              "scene": {"xaxis": {"title": {"text": "x"}}, "yaxis": {"title": {"text": "y"}},
                        "zaxis": {"title": {"text": label}}, "aspectmode": "manual",
                        "aspectratio": {"x": 1, "y": 1, "z": 0.6}},
              "showlegend": False}
    return {"data": data, "layout": layout, "narrow": narrow.stack(layout, data, Scene("scene"))}


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade(gap: float) -> str:
    """A gap as its power of ten, "10⁻³": short enough for a map's square (the hover gives the value)."""
    return "0" if gap == 0 else "10" + str(math.floor(math.log10(gap))).translate(_SUPERSCRIPTS)


def log_ticks(values) -> dict:
    """Tick settings for a log axis over ``values``: a label per decade once they span a decade and a half (over
    fewer decades plotly.js labels 2 and 5, or every digit, between them, and the labels crowd)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values) & (values > 0)]
    span = float(np.ptp(np.log10(values))) if len(values) else 0.0
    return {"dtick": 1} if span >= 1.5 else {"dtick": "D2"}


def lr_map(cell: Cell) -> dict:
    """Outcome over learning rate × the optimizer's momentum-like hyperparameter, one run per square."""
    fn, opt = functions.get(cell.function), optimizers.get(cell.optimizer)
    axis = cell.second
    bounded = fn.minimum is not None
    start_value = float(fn.values(np.asarray(cell.start)))
    xs, ys = [fmt(lr) for lr in cell.lrs], [f"{v:g}" for v in axis.values]
    z, text, hover = [], [], []
    for row in range(len(axis.values)):
        z_row, text_row, hover_row = [], [], []
        for col in range(len(cell.lrs)):
            status, stop = int(axis.status[row, col]), int(axis.stop_step[row, col])
            words = describe(status, stop, cell.runs.points.shape[1] - 1)
            gap, reached = float(axis.gap[row, col]), int(axis.steps_to_tolerance[row, col])
            if is_failure(status, fn):
                z_row.append(None)
                text_row.append("✗")
            elif bounded:
                z_row.append(math.log10(max(abs(gap), 1e-300)))  # colour only; the text and hover give the value
                text_row.append(f"✓{reached}" if reached >= 0 and abs(gap) <= 1e-6 else _decade(abs(gap)))
                words += f", f − f* = {gap:.3g}"
            else:
                # The axis sweep keeps no paths: f before the exit is known only for a run that left at step 1.
                before = start_value if stop == 1 else math.nan
                downhill = bool(left_downhill(status, start_value, before, axis.final_value[row, col]))
                z_row.append(stop if downhill else None)
                text_row.append(f"↘{stop}" if downhill else "·")
            hover_row.append(words)
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    data = [{"type": "heatmap", "x": xs, "y": ys, "z": z, "text": text, "customdata": hover,
             "texttemplate": "%{text}", "textfont": {"size": 9}, "colorscale": "Viridis", "xgap": 1, "ygap": 1,
             "hoverongaps": False,
             "colorbar": {"title": {"text": "log₁₀|f − f*|" if bounded else "step of escape"}},
             "hovertemplate": "lr %{x}, " + axis.name + " %{y}<br>%{customdata}<extra></extra>"}]
    default = optimizers.get(cell.optimizer).defaults[axis.name]
    if cell.best >= 0 and default in list(axis.values):
        data.append({"type": "scatter", "x": [xs[cell.best]], "y": [f"{default:g}"], "mode": "markers",
                     "marker": {"symbol": "star-open", "size": 22, "color": "#D55E00", "line": {"width": 2}},
                     "hovertemplate": "the pair figure's run: best lr at the default " + axis.name + "<extra></extra>"})
    layout = {"title": {"text": f"{opt.title} on {fn.title}: learning rate × {axis.name}", "x": 0.01,
                        "font": {"size": 14}},
              "xaxis": {"title": {"text": "learning rate"}, "type": "category", "tickangle": -45},
              "yaxis": {"title": {"text": axis.name}, "type": "category"},
              "margin": {"l": 60, "r": 10, "t": 40, "b": 80}, "showlegend": False}
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), 26 * len(ys), below=64, tickangle=-90),
                         ColourBar(0, 44, {"orientation": "h", "x": 0, "len": 1, "thickness": 10,
                                           "title": {"side": "top"}}))
    return {"data": data, "layout": layout, "narrow": phone}


ARROW_COLOURS = ("#1A98D0", "#D27730")  # a panel's two columns, and the directions they belong to
# Extra point sequences on the contour (ASGD's average, schedule-free's z and y): each its own colour and dash.
PATH_LOOKS = (("#FFFFFF", "dot"), ("#F0E442", "dash"))


def state(cell: Cell) -> dict:
    """What the optimizer carries along its run at the chosen learning rate, from its recorded state: arrows from
    the current point, extra point sequences on the contour and per-coordinate panels, all on the step slider and
    each toggled by its legend entry."""
    fn, opt = functions.get(cell.function), optimizers.get(cell.optimizer)
    colour = style(opt.name)["color"]
    i = cell.chosen
    points, _ = _path(cell, i)
    label = f"lr = {fmt(cell.lrs[i])}"
    data = [_contour(fn), *_markers(fn, cell.start)]
    for marker in data[1:]:
        marker["showlegend"] = False
    animated, window, full = [len(data)], {}, {}
    data.append({"type": "scatter", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "mode": "lines+markers",
                 "name": "path", "line": {"color": colour, "width": 2}, "marker": {"size": 3, "color": colour},
                 "hovertemplate": "step %{pointNumber}<br>(%{x:.5g}, %{y:.5g})<extra>" + label + "</extra>"})
    views = carried.carried(cell, i)
    panels = [(view, values) for view, values in views if isinstance(view, Panel)]
    paths = [view for view, _ in views if isinstance(view, Path)]
    for view, values in views:
        if isinstance(view, Path):
            keep = np.isfinite(values).all(axis=1)
            animated.append(len(data))
            line_colour, dash = PATH_LOOKS[paths.index(view) % len(PATH_LOOKS)]
            data.append({"type": "scatter", "x": typed(values[keep, 0]), "y": typed(values[keep, 1]),
                         "mode": "lines", "name": view.name, "line": {"color": line_colour, "width": 2, "dash": dash},
                         "hovertemplate": "(%{x:.5g}, %{y:.5g})<extra>" + view.name + "</extra>"})
        elif isinstance(view, Arrow):
            d = np.where(np.isfinite(values), values, 0.0)  # undefined (before the first step): no arrow
            tail = points - d if view.through else points
            segments = np.stack([tail, points + d], axis=1).reshape(-1, 2)
            index = len(data)
            animated.append(index)
            window[index], full[index] = 2, {"x": typed(segments[:, 0]), "y": typed(segments[:, 1])}
            # A direction (a segment through the point) has no head; each takes the colour of its panel column.
            look = ARROW_COLOURS[len(window) - 1] if view.through else "#CC79A7"
            data.append({"type": "scatter", "x": typed(segments[-2:, 0]), "y": typed(segments[-2:, 1]),
                         "mode": "lines" if view.through else "lines+markers", "name": view.name,
                         "line": {"color": look, "width": 3},
                         **({} if view.through else {"marker": {"symbol": ["circle", "arrow"], "size": [0, 13],
                                                                "angleref": "previous", "color": look}}),
                         "hovertemplate": "(%{x:.5g}, %{y:.5g})<extra>" + view.name + "</extra>"})
    gap = 0.06
    height = (1 - gap * (len(panels) - 1)) / max(len(panels), 1)
    layout = {"title": {"text": f"{opt.title} on {fn.title}: what it carries at {label}", "x": 0.01,
                        "font": {"size": 14}},
              **_axes(fn), "margin": {"l": 50, "r": 20, "t": 40, "b": 170},
              "legend": {"orientation": "h", "x": 0, "y": -0.19, "yanchor": "top", "font": {"size": 11}},
              "sliders": [_steps_slider(cell.runs.points.shape[1] - 1, y=-0.33)],
              "updatemenus": [_play_buttons(y=-0.33)]}
    bands = [Plot(("xaxis", "yaxis"), SQUARE, below=48), Slider(0, 64, buttons=0)]
    steps = np.arange(len(points))
    for n, (view, values) in enumerate(panels, start=2):
        top = 1 - (n - 2) * (height + gap)
        last = n == len(panels) + 1
        layout[f"xaxis{n}"] = {"domain": [0.7, 1.0], "anchor": f"y{n}", "showticklabels": last,
                               **({"matches": "x2"} if n > 2 else {}), **({"title": {"text": "step"}} if last else {})}
        layout[f"yaxis{n}"] = {"type": "log" if view.log else "linear", "anchor": f"x{n}", "exponentformat": "power",
                               "domain": [max(top - height, 0), top], "nticks": 4,
                               "title": {"text": view.name, "font": {"size": 11}},
                               **(log_ticks(values) if view.log else {})}
        bands.append(Plot((f"xaxis{n}", f"yaxis{n}"), 110, below=48 if last else 4, nticks=4))
        looks = zip(view.coordinates, ARROW_COLOURS, ("solid", "dot")) if values.shape[1] == 2 else \
            [(f"[{k}]" if values.shape[1] > 1 else "", colour, "solid") for k in range(values.shape[1])]
        for k, (coordinate, line, dash) in enumerate(looks):
            series = values[:, k]
            keep = np.isfinite(series) & ((series > 0) if view.log else True)
            name = view.name + coordinate
            animated.append(len(data))
            data.append({"type": "scatter", "x": typed(steps[keep], "i2"), "y": typed(series[keep]), "mode": "lines",
                         "name": name, "legendgroup": view.name, "xaxis": f"x{n}", "yaxis": f"y{n}",
                         "line": {"color": line, "width": 1.5, "dash": dash},
                         "hovertemplate": "step %{x}<br>" + name + " = %{y:.3g}<extra></extra>"})
    return {"data": data, "layout": layout, "narrow": narrow.stack(layout, data, *bands, Legend()),
            "animate": {"traces": animated, "slider": "step", "window": window, "full": full}}


# --- Schedules and noise ----------------------------------------------------------------------------------------

SCHEDULE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
BAND_POINTS = 201  # steps at which a noisy gap band is drawn (evenly spaced)


def _gap_series(fn, steps, values):
    """(steps, y) of a gap curve a log axis can show: f − f* > 0 (f itself without a minimum), finite."""
    y = values - fn.minimum if fn.minimum is not None else values
    keep = np.isfinite(y) & ((y > 0) if fn.minimum is not None else True)
    return steps[keep], y[keep]


def schedule_paths(cell: Cell) -> dict:
    """The run under each schedule at its own best peak lr: paths, the gap, and lr(t) beside it."""
    fn, opt = functions.get(cell.function), optimizers.get(cell.optimizer)
    colour = style(opt.name)["color"]
    data = [_contour(fn), *_markers(fn, cell.start)]
    plans = [("constant", cell.lrs, cell.runs, cell.chosen, cell.best)]
    plans += [(spec, s.lrs, s.runs, s.chosen, s.best) for spec, s in cell.schedules.items()]
    steps = cell.runs.points.shape[1] - 1
    for k, (spec, lrs, runs, i, best) in enumerate(plans):
        dash = SCHEDULE_DASHES[k % len(SCHEDULE_DASHES)]
        last = int(runs.last[i])
        points, values = runs.points[i, : last + 1], runs.values[i, : last + 1]
        label = f"{spec} (peak lr {fmt(lrs[i])}{'' if best >= 0 else ', none qualified'})"
        line = {"color": colour, "dash": dash, "width": 2}
        data.append({"type": "scatter", "x": typed(points[:, 0]), "y": typed(points[:, 1]), "mode": "lines",
                     "name": label, "legendgroup": spec, "line": line,
                     "hovertemplate": "step %{pointNumber}<br>(%{x:.4g}, %{y:.4g})<extra>" + spec + "</extra>"})
        xs, ys = _gap_series(fn, np.arange(last + 1), values)
        data.append({"type": "scatter", "x": typed(xs, "i2"), "y": typed(ys), "mode": "lines", "name": label,
                     "legendgroup": spec, "showlegend": False, "xaxis": "x2", "yaxis": "y2", "line": line,
                     "hovertemplate": "step %{x}: %{y:.3g}<extra>" + spec + "</extra>"})
        rates = lrs[i] * schedules.parse(spec).multipliers(steps)
        data.append({"type": "scatter", "x": typed(np.arange(steps), "i2"), "y": typed(rates), "mode": "lines",
                     "name": label, "legendgroup": spec, "showlegend": False, "xaxis": "x3", "yaxis": "y3",
                     "line": line, "hovertemplate": "update %{x}: lr %{y:.3g}<extra>" + spec + "</extra>"})
    bounded = fn.minimum is not None
    layout = {"title": {"text": f"{opt.title} on {fn.title}: each schedule at its best peak learning rate", "x": 0.01,
                        "font": {"size": 14}},
              **_axes(fn),
              **_side_panels(bounded, "learning rate"),
              "margin": {"l": 50, "r": 20, "t": 40, "b": 110},
              "legend": {"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top", "font": {"size": 11}}}
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), SQUARE, below=48),
                         Plot(("xaxis2", "yaxis2"), 120, below=4, nticks=4),
                         Plot(("xaxis3", "yaxis3"), 120, below=48, nticks=4), Legend())
    return {"data": data, "layout": layout, "narrow": phone}


SCHEDULE_ROW = 22  # px per optimizer in "does a schedule help?": an 11 px name and room around it


def schedule_help(rows: list, fn) -> dict:
    """Per optimizer: the final gap at the best constant lr against the best schedule's (results.schedule_gain).
    A row per optimizer, its name upright on the left: at a phone's width a column per optimizer leaves too little
    room for 28 names side by side, and the embed hid every second one."""
    names = [r["optimizer"].title for r in rows]
    data = []
    for key, label, symbol in (("constant", "best constant lr", "circle"), ("scheduled", "best schedule", "diamond")):
        gaps = [r[key]["shown_gap"] for r in rows]  # None: no learning rate qualified, nothing to draw
        gaps = [float(f"{g:.6g}") if math.isfinite(g) else None for g in gaps]
        text = [r[key]["words"] for r in rows]
        data.append({"type": "scatter", "x": gaps, "y": names, "mode": "markers", "name": label,
                     "text": text, "marker": {"symbol": symbol, "size": 11,
                                              "color": "#0072B2" if key == "constant" else "#D55E00"},
                     "hovertemplate": "%{y}<br>%{text}<extra>" + label + "</extra>"})
    rows_height = SCHEDULE_ROW * len(names)
    layout = {"title": {"text": f"{fn.title}: does a schedule help?", "x": 0.01, "font": {"size": 14}},
              # Wide, the figure is at least this tall (embed.js): a row per optimizer, whatever the frame's ratio.
              "height": rows_height + 130,
              "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": names, "dtick": 1,
                        "range": [len(names) - 0.5, -0.5], "automargin": True, "tickfont": {"size": 11}},
              # Upright decades, which the embed thins where they would touch (slanted ones ran into the title).
              "xaxis": {"type": "log", "title": {"text": "final |f − f*| (0 drawn at 1e-16)"},
                        "exponentformat": "power", "tickangle": 0,
                        **log_ticks([r[key]["shown_gap"] for r in rows for key in ("constant", "scheduled")])},
              "margin": {"l": 60, "r": 10, "t": 70, "b": 60},
              "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                         "font": {"size": 11}}}
    phone = narrow.stack(layout, data, Legend(), Plot(("xaxis", "yaxis"), rows_height, below=48))
    return {"data": data, "layout": layout, "narrow": phone}


def _thin(count: int, points: int) -> np.ndarray:
    return np.unique(np.linspace(0, count - 1, points).round().astype(int))


def _seed_lines(paths) -> tuple:
    """Every seed's path up to its first non-finite point, in one trace: plain lists, None between seeds (a gap in
    the line), at 3 significant digits (a thousandth of the plot's width)."""
    finite = np.isfinite(paths).all(axis=2)
    lengths = np.where(finite.all(axis=1), finite.shape[1], np.argmin(finite, axis=1))
    kept = np.arange(finite.shape[1]) < lengths[:, None]
    lines = []
    for axis in range(2):
        values, line, at = _three_digits(paths[:, :, axis][kept]), [], 0
        for n in lengths.tolist():
            line += values[at: at + n] + [None]
            at += n
        lines.append(line)
    return tuple(lines)


def _three_digits(values) -> list:
    """float(f"{v:.3g}") of every value: the value scaled by an exact power of ten to [100, 1000), rounded, and
    scaled back (one correctly rounded operation each way); Python's formatting where that could differ (near a
    tie, or beyond the exact powers)."""
    v = np.asarray(values, float)
    with np.errstate(all="ignore"):
        k = 2 - np.floor(np.log10(np.abs(v)))
        y = np.where(k >= 0, v * 10.0 ** k, v / 10.0 ** -k)
        out = np.where(k >= 0, np.rint(y) / 10.0 ** k, np.rint(y) * 10.0 ** -k)
        exact = (np.abs(k) <= 22) & (np.abs(y) >= 100) & (np.abs(y) < 1000)
        exact &= np.abs(np.abs(y - np.trunc(y)) - 0.5) > 1e-9  # the scaled value is within 1e-13 of the exact one
    for i in np.flatnonzero(~exact):
        out[i] = float(f"{v[i]:.3g}")
    return out.tolist()


def noise_lrs(noisy) -> np.ndarray:
    """The learning rates a noisy pair figure shows: a decade either side of the chosen one."""
    i = noisy.chosen
    return np.flatnonzero(np.abs(np.log10(noisy.lrs / noisy.lrs[i])) <= 1 + 1e-9)


def noise_pair(cell: Cell) -> dict:
    """Every seed's path faintly with the median seed's, and the gap's median with its interquartile band."""
    fn, opt = functions.get(cell.function), optimizers.get(cell.optimizer)
    noisy = cell.noisy
    colour = style(opt.name)["color"]
    bounded = fn.minimum is not None
    data = [_contour(fn), *_markers(fn, cell.start)]
    fixed = len(data)
    shown = noise_lrs(noisy)
    steps = noisy.quantiles.shape[2] - 1
    band_steps = _thin(steps + 1, BAND_POINTS)
    groups = []
    for i in map(int, shown):
        visible = bool(i == noisy.chosen)
        label = f"lr = {fmt(noisy.lrs[i])}"
        first = len(data)
        xs, ys = _seed_lines(noisy.paths[i])
        data.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": "every seed", "visible": visible,
                     "line": {"color": colour, "width": 1}, "opacity": 0.35, "hoverinfo": "skip",
                     "showlegend": False})
        median = noisy.paths[i, noisy.median[i]]
        median = median[np.isfinite(median).all(axis=1)]
        data.append({"type": "scatter", "x": typed(median[:, 0]), "y": typed(median[:, 1]), "mode": "lines",
                     "name": "median seed", "visible": visible, "showlegend": False,
                     "line": {"color": "#000000", "width": 2.5},
                     "hovertemplate": "(%{x:.4g}, %{y:.4g})<extra>median seed, " + label + "</extra>"})
        low, mid, high = noisy.quantiles[i][:, band_steps]
        usable = np.isfinite(low) & np.isfinite(high) & ((low > 0) if bounded else True)
        cut = int(np.argmin(usable)) if not usable.all() else len(usable)
        at = band_steps[:cut]
        for values, name, extra in ((high[:cut], "75 %", {}),
                                    (low[:cut], "25 %", {"fill": "tonexty", "fillcolor": "rgba(120,120,120,0.3)"}),
                                    (mid[:cut], "median", {})):
            data.append({"type": "scatter", "x": typed(at, "i2"), "y": typed(values), "mode": "lines",
                         "name": name, "visible": visible, "showlegend": False, "xaxis": "x2", "yaxis": "y2",
                         "line": {"color": colour if name == "median" else "rgba(120,120,120,0.6)",
                                  "width": 2 if name == "median" else 0.5}, **extra,
                         "hovertemplate": "step %{x}: %{y:.3g}<extra>" + name + " of seeds, " + label + "</extra>"})
        groups.append(list(range(first, len(data))))

    def title(i):
        gaps = noisy.gap[i]
        converged = int((noisy.status[i] == 0).sum())
        best = " (best)" if i == noisy.best else ""
        what = f"median gap {float(np.median(gaps)):.3g}, " if bounded else ""
        return (f"{opt.title}, σ = {fmt(noisy.sigma)}, lr = {fmt(noisy.lrs[i])}{best}: {what}"
                f"{converged}/{noisy.seeds} converged")

    slider_steps = []
    for k, i in enumerate(shown):
        visible = [True] * fixed + [False] * (len(data) - fixed)
        for index in groups[k]:
            visible[index] = True
        slider_steps.append({"label": fmt(noisy.lrs[i]) + ("★" if i == noisy.best else ""), "method": "update",
                             "args": [{"visible": visible}, {"title.text": title(i)}]})
    layout = {"title": {"text": title(noisy.chosen), "x": 0.01, "font": {"size": 13}}, **_axes(fn),
              "xaxis2": {"domain": [0.7, 1.0], "title": {"text": "step"}, "anchor": "y2"},
              "yaxis2": {"type": "log" if bounded else "linear", "anchor": "x2", "exponentformat": "power",
                         "title": {"text": ("f − f*" if bounded else "f") + ": median, 25–75 %"}},
              "margin": {"l": 50, "r": 20, "t": 40, "b": 110}, "showlegend": False,
              "sliders": [{"name": "lr", "active": int(np.flatnonzero(shown == noisy.chosen)[0]), "y": -0.14,
                           "len": 0.9, "x": 0.05, "pad": {"t": 0}, "font": {"size": 10},
                           "currentvalue": {"prefix": "learning rate "}, "steps": slider_steps}]}
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), SQUARE, below=48), Slider(0, 64),
                         Plot(("xaxis2", "yaxis2"), 160, below=48, nticks=4))
    return {"data": data, "layout": layout, "narrow": phone}


def noise_sensitivity(cells: list, fn) -> dict:
    """Median final gap over seeds against learning rate, with the interquartile range, per optimizer."""
    data, drawn = [], []
    shown = shown_first([c.optimizer for c in cells])
    for cell in cells:
        opt, noisy = optimizers.get(cell.optimizer), cell.noisy
        look = style(opt.name)
        gaps = np.where(np.isin(noisy.status, (DIVERGED, ESCAPED)), np.inf, np.abs(noisy.gap))
        low, mid, high = np.quantile(gaps, (0.25, 0.5, 0.75), axis=1, method="lower")
        ok = np.isfinite(mid) & (mid > 0)
        plus = np.where(np.isfinite(high[ok]), high[ok] - mid[ok], 0)  # a failed upper quartile: no bar up
        minus = mid[ok] - low[ok]
        drawn += [mid[ok], low[ok], high[ok][np.isfinite(high[ok])]]
        data.append({"type": "scatter", "x": typed(noisy.lrs[ok]), "y": typed(mid[ok]), "mode": "lines+markers",
                     "name": opt.title, "legendgroup": opt.name, "visible": _opening(opt.name, shown),
                     "error_y": {"type": "data", "array": typed(plus), "arrayminus": typed(minus),
                                 "color": look["color"], "thickness": 1, "width": 3},
                     "line": {"color": look["color"], "dash": look["dash"]},
                     "marker": {"color": look["color"], "symbol": look["symbol"], "size": 7},
                     "hovertemplate": "lr %{x:.3g}<br>median gap %{y:.3g}<extra>" + opt.title + "</extra>"})
    sigma = cells[0].noisy.sigma
    drawn = np.concatenate(drawn) if drawn else np.zeros(0)
    drawn = drawn[drawn > 0]  # a zero lower quartile has no place on the log axis
    layout = {"title": {"text": f"{fn.title} with noise σ = {fmt(sigma)}: median final gap over "
                                f"{cells[0].noisy.seeds} seeds (bars: 25–75 %)", "x": 0.01, "font": {"size": 13}},
              "xaxis": {"type": "log", "title": {"text": "learning rate"}, "exponentformat": "power"},
              "yaxis": {"type": "log", "title": {"text": "final gap f − f*"}, "exponentformat": "power",
                        **log_ticks(drawn)},
              "margin": {"l": 60, "r": 10, "t": 40, "b": 50}, "legend": {"font": {"size": 11}}}
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), 300, below=40), Legend())
    return {"data": data, "layout": layout, "narrow": phone}


def noise_race(cells: list, fn) -> dict:
    """Every optimizer's median seed at its best noisy learning rate, with the spread of its seeds' ends."""
    data = [_contour(fn), *_markers(fn, cells[0].start)]
    shown = shown_first([c.optimizer for c in cells])
    for cell in cells:
        opt, noisy = optimizers.get(cell.optimizer), cell.noisy
        look = style(opt.name)
        i = noisy.chosen
        path = noisy.paths[i, noisy.median[i]]
        path = path[np.isfinite(path).all(axis=1)]
        label = f"{opt.title} (lr {fmt(noisy.lrs[i])}{'' if noisy.best >= 0 else ', none qualified'})"
        data.append({"type": "scatter", "x": typed(path[:, 0]), "y": typed(path[:, 1]), "mode": "lines",
                     "name": label, "legendgroup": opt.name, "visible": _opening(opt.name, shown),
                     "line": {"color": look["color"], "dash": look["dash"], "width": 2},
                     "hovertemplate": "(%{x:.4g}, %{y:.4g})<extra>" + opt.title + ", median seed</extra>"})
        ends = noisy.paths[i, :, -1]
        ends = ends[np.isfinite(ends).all(axis=1) & fn.contains(ends)]
        data.append({"type": "scatter", "x": typed(ends[:, 0]), "y": typed(ends[:, 1]), "mode": "markers",
                     "name": f"{opt.title}: every seed's end", "legendgroup": opt.name, "showlegend": False,
                     "visible": _opening(opt.name, shown),
                     "marker": {"color": look["color"], "symbol": look["symbol"], "size": 6,
                                "line": {"width": 0.5, "color": "#000000"}},
                     "hovertemplate": "end (%{x:.4g}, %{y:.4g})<extra>" + opt.title + "</extra>"})
    layout = {"title": {"text": f"{fn.title} with noise σ = {fmt(cells[0].noisy.sigma)}: median seeds and every "
                                f"seed's end", "x": 0.01, "font": {"size": 13}},
              **_axes(fn), "margin": {"l": 50, "r": 10, "t": 40, "b": 50},
              "legend": {"x": 0.63, "y": 1.0, "font": {"size": 11}, "itemsizing": "constant"}}
    phone = narrow.stack(layout, data, Plot(("xaxis", "yaxis"), SQUARE, below=48), Legend())
    return {"data": data, "layout": layout, "narrow": phone}
