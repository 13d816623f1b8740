"""Embed benchmark: how many embeds the default gallery has, how big they are, how fast they are made, and how
they compare with a seed-style export of the same pair (a go.Figure with one frame per step, plotly.js inlined).

Run: .venv/bin/python scripts/bench_embeds.py   (uses the sweep cache; computes it first if needed)
"""

from __future__ import annotations

import statistics
import time

import plotly.graph_objects as go

from gallery_builder import config, embeds, figures, functions, pages
from gallery_builder.sweep import run_sweep

PAIR = ("adam", "rosenbrock")


def all_figures(cells: dict, settings) -> list:
    """(kind, file name, figure maker) for every embed of the gallery, in build order."""
    return [(kind.name, pages.slug(kind.name, *names), lambda k=kind, s=subject: k.figure(s))
            for kind in embeds.KINDS.values() for names, subject in embeds.subjects(kind, settings, cells)]


def seed_style_html(cell) -> str:
    """The pair as a seed-style export: validated go.Figure, a frame per step, plotly.js inlined."""
    fn = functions.get(cell.function)
    xs, ys, z, _ = figures.landscape(fn)
    i = cell.chosen
    points = cell.runs.points[i, : int(cell.runs.last[i]) + 1]
    fig = go.Figure(
        data=[go.Contour(x=xs, y=ys, z=z), go.Scatter(x=points[:1, 0], y=points[:1, 1], mode="lines+markers")],
        frames=[go.Frame(data=[go.Contour(x=xs, y=ys, z=z),
                               go.Scatter(x=points[: k + 1, 0], y=points[: k + 1, 1], mode="lines+markers")])
                for k in range(len(points))])
    return fig.to_html(include_plotlyjs=True, full_html=True)


def main() -> dict:
    settings = config.Settings()
    cells = run_sweep(settings, quiet=True).cells
    made = all_figures(cells, settings)
    started = time.perf_counter()
    sizes, per_kind = {}, {}
    for kind, name, make in made:
        title = name.replace("--", " ")
        sizes[name] = len(embeds.html(make(), title, "../assets").encode("utf-8"))
        per_kind[kind] = per_kind.get(kind, 0) + 1
    seconds = time.perf_counter() - started
    values = sorted(sizes.values())
    largest = max(sizes, key=sizes.get)
    bundles = {name: len(data) for name, data in embeds.asset_sources().items() if name in embeds.BUNDLES}
    plotly_js = bundles[embeds.bundle(figures.pair(cells[PAIR]))]  # what a pair embed loads
    print(f"embeds: {len(sizes)} ({', '.join(f'{n} {kind}' for kind, n in per_kind.items())})")
    print(f"median embed: {statistics.median(values) / 1024:.0f} KB (budget 150 KB); largest: "
          f"{sizes[largest] / 1024:.0f} KB, {largest} (budget 600 KB)")
    print(f"total: {sum(values) / 2**20:.1f} MB of embeds + plotly.js bundles, each present once: "
          + ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in bundles.items()))
    print(f"time: {seconds / len(sizes) * 1000:.1f} ms per figure ({seconds:.1f} s for all, dicts to HTML)")

    cell = cells[PAIR]
    started = time.perf_counter()
    seed = seed_style_html(cell)
    seed_seconds = time.perf_counter() - started
    ours = sizes[f"pair--{PAIR[0]}--{PAIR[1]}"]
    steps = int(cell.runs.last[cell.chosen]) + 1
    print(f"seed-style export of {PAIR[0]} on {PAIR[1]} ({steps} frames, plotly.js inlined): "
          f"{len(seed) / 2**20:.1f} MB in {seed_seconds:.1f} s; ours: {ours / 1024:.0f} KB with all "
          f"{len(cell.lrs)} learning rates → {len(seed) / ours:,.0f}× smaller, "
          f"{len(seed.encode()) / (ours + plotly_js / len(sizes)):,.0f}× counting a share of plotly.js")
    return {"embeds": len(sizes), "per_kind": per_kind, "median_kb": statistics.median(values) / 1024, "largest_kb": sizes[largest] / 1024,
            "largest": largest, "total_mb": sum(values) / 2**20, "ms_per_figure": seconds / len(sizes) * 1000,
            "seed_mb": len(seed) / 2**20, "seed_seconds": seed_seconds, "ratio": len(seed) / ours}


if __name__ == "__main__":
    main()
