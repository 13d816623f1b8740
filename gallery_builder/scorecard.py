"""The results stage's summary across functions: "which optimizer when", one row per optimizer, from the cells alone.

Every column but memory is a statement about the functions with a minimum (on the saddles "best" means the fastest
escape, which does not add up with gaps). A column that summarizes one number per function gives the lower median,
which is one function's own number, so that the page can link it to the figure it was read from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import functions, optimizers
from .model import CONVERGED, is_failure
from .results import ZERO_GAP, noise_summary, num, schedule_gain

WINDOW_FACTOR = 10  # a learning rate is "in the window" when it converges or ends within this factor of the best gap


@dataclass(frozen=True)
class Score:
    """One number of the table: its text, the value it sorts by, where it comes from and how it was found."""

    text: str
    value: float  # sort key; NaN when there is nothing to measure
    figure: tuple | None = None  # (kind, *names) of the figure it was read from
    page: tuple | None = None  # ("optimizer" | "function", name, anchor) when it sums up a whole page instead
    detail: str = ""  # every function's number, for the tooltip


@dataclass(frozen=True)
class Row:
    optimizer: object
    scores: dict = field(default_factory=dict)  # column name -> Score


COLUMNS = {  # name -> (heading, which way is better: 1 higher, -1 lower)
    "solved": ("functions solved", 1),
    "steps": ("median steps to tolerance", -1),
    "window": ("lr window (decades)", 1),
    "starts": ("starts that reach a minimizer", 1),
    "noise": ("noisy gap vs best", -1),
    "schedule": ("a schedule helps on", 1),
    "memory": ("memory (parameter copies)", -1),  # carried.memory, a figures-stage measure: the page adds it
}

def lr_window(cell, fn) -> float:
    """Decades of learning rate, around the best one, whose runs reach the tolerance or end within WINDOW_FACTOR
    of the best final gap: the contiguous stretch of the searched grid (every rate of the search, where the cell
    keeps it, else its shown window) that holds the best rate, one grid step per rate."""
    if cell.best < 0:
        return 0.0
    runs = cell.search if cell.search is not None else cell.runs
    lrs = cell.search.lrs if cell.search is not None else cell.lrs
    best = int(np.flatnonzero(lrs == cell.lrs[cell.best])[0])
    gap = np.abs(runs.gap)
    floor = ZERO_GAP * max(1.0, abs(fn.minimum))
    good = ~is_failure(runs.status, fn) & ((runs.status == CONVERGED)
                                           | (gap <= WINDOW_FACTOR * max(gap[best], floor)))
    low = high = best
    while low > 0 and good[low - 1]:
        low -= 1
    while high < len(good) - 1 and good[high + 1]:
        high += 1
    spacing = float(np.log10(lrs[1] / lrs[0])) if len(lrs) > 1 else 1.0
    return (high - low + 1) * spacing


def start_share(cell) -> float:
    """The share of the basin grid that ends at a global minimizer."""
    return float(np.mean(cell.basin.minimizer >= 0))


def _median(values: dict, kind: str, optimizer: str, fmt) -> Score:
    """The lower median of {function: value}, linked to that function's figure of ``kind``."""
    if not values:
        return Score("–", math.nan)
    ordered = sorted(values, key=lambda f: (values[f], f))
    at = ordered[(len(ordered) - 1) // 2]
    names = (kind, optimizer, at) if kind in ("pair", "basins") else (kind, at)
    detail = ", ".join(f"{functions.get(f).title} {fmt(values[f])}" for f in ordered)
    return Score(fmt(values[at]), float(values[at]), figure=names,
                 detail=f"median of {len(values)}, from {functions.get(at).title}; {detail}")


def _noise_ratios(row_cells: dict) -> dict:
    """{(optimizer, function): median noisy gap / the best median noisy gap on that function}, same noise."""
    ratios = {}
    for name, cells in row_cells.items():
        fn = functions.get(name)
        gaps = {c.optimizer: noise_summary(c, fn, 0)["median_gap"] for c in cells if c.noisy is not None}
        if not gaps:
            continue
        floor = ZERO_GAP * max(1.0, abs(fn.minimum))
        best = max(min(gaps.values()), floor)
        for optimizer, gap in gaps.items():
            ratios[(optimizer, name)] = max(gap, floor) / best
    return ratios


def _times(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"×{value:.2g}" if value < 10 else f"×{value:,.0f}"


def scorecard(cells: dict, optimizer_names, function_names) -> list:
    """One Row per optimizer of the build, over the build's functions that have a minimum (every column but
    memory, which the page adds from ``carried.memory``)."""
    bounded = [f for f in function_names if functions.get(f).minimum is not None]
    by_function = {f: [cells[(o, f)] for o in optimizer_names if (o, f) in cells] for f in bounded}
    noise = _noise_ratios(by_function)
    rows = []
    for name in optimizer_names:
        opt = optimizers.get(name)
        mine = {f: cells[(name, f)] for f in bounded if (name, f) in cells}
        solved = {f: int(c.runs.steps_to_tolerance[c.best]) for f, c in mine.items()
                  if c.best >= 0 and c.runs.status[c.best] == CONVERGED}
        windows = {f: lr_window(c, functions.get(f)) for f, c in mine.items()}
        shares = {f: start_share(c) for f, c in mine.items()}
        scheduled = {f: schedule_gain(c, functions.get(f))["helps"] for f, c in mine.items() if c.schedules}
        titles = lambda fs: ", ".join(functions.get(f).title for f in fs) or "none"  # noqa: E731
        scores = {
            "solved": Score(f"{len(solved)} of {len(mine)}", len(solved) / len(mine) if mine else math.nan,
                            page=("optimizer", name, "on-each-test-function"), detail=f"solved: {titles(solved)}"),
            "steps": _median(solved, "pair", name, str),
            "window": _median(windows, "sensitivity", name, lambda v: num(v, 3)),
            "starts": _median(shares, "basins", name, lambda v: f"{round(100 * v)} %"),
            "noise": _median({f: r for (o, f), r in noise.items() if o == name}, "noise_sensitivity", name, _times),
            "schedule": Score(f"{sum(scheduled.values())} of {len(scheduled)}" if scheduled else "–",
                              sum(scheduled.values()) / len(scheduled) if scheduled else math.nan,
                              page=("optimizer", name, "on-each-test-function"),
                              detail=f"helps on: {titles(f for f, h in scheduled.items() if h)}"),
        }
        rows.append(Row(opt, scores))
    return rows
