"""All benchmarks: the sweep engine, the embeds, the build (full, no change, one optimizer edited) and the weight and
first plot of a sample of the built site's pages.

Prints the figures and writes them to docs/benchmarks.md, the site's Benchmarks page (committed), above its
"Earlier measurements" section, which is kept. Takes a few minutes: the full build recomputes the whole default sweep in a fresh cache.

Run: make bench   (or .venv/bin/python scripts/bench.py)
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_embeds
import bench_pages
import bench_sweep

ROOT = Path(__file__).resolve().parents[1]
EARLIER = "## Earlier measurements"  # the Benchmarks page's history, kept below each new report


# The default sweep without its noisy and scheduled runs: engine v2's build-time target is set on this workload.
ENGINE_V2_WORKLOAD = "[sweep]\nschedules = []\n\n[noise]\nseeds = 0\n"
# The catalogue of engine v2's day, whose 20 s target the 28 optimizers' one scales by 28/15.
FIRST_15 = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "amsgrad", "adamw", "adamax",
            "nadam", "radam", "lion", "adabelief", "newton")


def timed_build(project: Path, *options: str, cache: str = ".cache") -> tuple:
    env = {**os.environ, "PYTHONPATH": str(project), "GALLERY_CACHE": str(project / cache),
           "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gallery_builder", "build", "--quiet", *options], cwd=project,
                            env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    computed = int(re.search(r"\((\d+) computed\)", result.stdout).group(1))
    return seconds, computed


def timed_mkdocs(project: Path) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"], cwd=project, env=env,
                   capture_output=True, check=True)
    return time.perf_counter() - started


def copy_project(project: Path) -> None:
    """The project's MkDocs sources and a copy of its code in ``project``: editing the checkout while a benchmark
    runs changes nothing there, and the copy can be edited like an author would."""
    shutil.copy(ROOT / "mkdocs.yml", project)
    shutil.copytree(ROOT / "docs", project / "docs", ignore=shutil.ignore_patterns("gallery"))
    shutil.copytree(ROOT / "gallery_builder", project / "gallery_builder", ignore=shutil.ignore_patterns("__pycache__"))


def build_benchmarks() -> dict:
    """The default gallery in a scratch copy of the project, whose package can be edited like an author would."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        copy_project(project)
        (project / "engine-v2.toml").write_text(ENGINE_V2_WORKLOAD, encoding="utf-8")
        (project / "first-15.toml").write_text(ENGINE_V2_WORKLOAD.replace(
            "[sweep]\n", f"[sweep]\noptimizers = {json.dumps(FIRST_15)}\n"), encoding="utf-8")
        lean = {}
        for name in ("first-15", "engine-v2"):
            lean[name], _ = timed_build(project, "--site", "--config", f"{name}.toml", cache=f".cache-{name}")
            print(f"make site of {name}.toml (empty cache): {lean[name]:.1f} s")
            for built in (project / "docs" / "gallery", project / "site"):  # the next build starts from nothing too
                shutil.rmtree(built)
        full, full_cells = timed_build(project, "--site")
        print(f"make site (empty cache): {full:.1f} s, {full_cells} cells computed")
        site = timed_mkdocs(project)
        print(f"mkdocs build --strict of the result: {site:.1f} s")
        print("first visits of a sample of pages:")
        weights = bench_pages.main({"default gallery": project / "site"})
        unchanged, _ = timed_build(project)
        print(f"no-change rebuild: {unchanged:.2f} s = {100 * unchanged / full:.1f} % of the full build")
        source = project / "gallery_builder" / "optimizers" / "adam.py"
        text = source.read_text()
        edited = text.replace("    return _adam(lr, beta1, beta2, eps)\n", "    return _adam(lr, beta1, beta2, eps=eps)\n", 1)
        assert edited != text
        source.write_text(edited)
        one, one_cells = timed_build(project)
        print(f"rebuild after editing adam: {one:.1f} s, {one_cells} cells recomputed "
              f"= {100 * one / full:.1f} % of the full build")
        return {"lean": lean["engine-v2"], "first_15": lean["first-15"], "full": full, "full_cells": full_cells, "mkdocs": site, "unchanged": unchanged, "one": one,
                "one_cells": one_cells, "pages": weights}


def report(sweep: dict, embed: dict, build: dict) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    return f"""# Benchmarks

Measured by `scripts/bench.py` on {machine}. Timings vary from machine to machine; the ratios are the point.

## The sweep engine

The whole default sweep on one core: {sweep['default']['steps'] / 1e6:.1f} M trajectory-steps at
{sweep['default']['rate'] / 1e6:.2f} M steps/s, {sweep['default_vs_seed']:,.0f}× the seed style below; without its
noisy and scheduled runs (engine v2's workload), {sweep['whole']['steps'] / 1e6:.1f} M at
{sweep['whole']['rate'] / 1e6:.2f} M steps/s, {sweep['sweep_vs_seed']:,.0f}×.

Adam on Rosenbrock, {sweep['work']:,} trajectory-steps (a 41 × 41 grid of starts, 300 steps each).

| engine | trajectory-steps per second | ratio |
| --- | --- | --- |
| batched autograd engine (this project) | {sweep['batched']:,.0f} | 1 |
| seed style: one run at a time, scalar `autograd.grad` per step | {sweep['seed']:,.0f} | {sweep['vs_seed']:,.0f}× slower |
| hand-written numpy gradients, batched | {sweep['handwritten']:,.0f} | {sweep['vs_handwritten']:.1f}× faster |

The batched engine pays autograd's per-step tracing once for the whole batch; what separates it from hand-written
numpy is that tracing and the bookkeeping of stopped runs. The tracing also sets a ceiling on the ratio to the seed
style: one batched autograd call for {sweep['runs']} runs takes {sweep['call_us']:.0f} µs, about as long as one
seed-style step ({sweep['seed_step_us']:.0f} µs), so even with a free update rule and free bookkeeping the batched
engine could not be more than about {sweep['ceiling']:,.0f}× faster at this batch size.

## Embeds

| measure | value |
| --- | --- |
| embeds in the default gallery | {embed['embeds']}: {', '.join(f'{n} {kind}' for kind, n in embed['per_kind'].items())} |
| median size | {embed['median_kb']:.0f} KB |
| largest | {embed['largest_kb']:.0f} KB (`{embed['largest']}`) |
| all embeds | {embed['total_mb']:.1f} MB, plus each plotly.js bundle once |
| time per figure, dict to HTML | {embed['ms_per_figure']:.1f} ms |
| seed-style export of one pair (a frame per step, plotly.js inlined) | {embed['seed_mb']:.1f} MB, {embed['ratio']:,.0f}× our embed of the same pair with every learning rate |

## Builds

| build | seconds | share of a full build |
| --- | --- | --- |
| `make site` of the default gallery, empty cache ({build['full_cells']} cells) | {build['full']:.1f} | 100 % |
| the same without the noisy and scheduled runs (engine v2's workload) | {build['lean']:.1f} | {100 * build['lean'] / build['full']:.1f} % |
| the same for the 15 optimizers of engine v2's day | {build['first_15']:.1f} | {100 * build['first_15'] / build['full']:.1f} % |
| no-change rebuild | {build['unchanged']:.2f} | {100 * build['unchanged'] / build['full']:.1f} % |
| rebuild after editing one optimizer ({build['one_cells']} cells recomputed) | {build['one']:.1f} | {100 * build['one'] / build['full']:.1f} % |
| `mkdocs build --strict` of the generated docs | {build['mkdocs']:.1f} | |

## Pages

A first visit with an empty cache in Chromium ({bench_pages.DESKTOP['width']} × {bench_pages.DESKTOP['height']}), the
site served by a plain local server: the bytes fetched as served and gzipped (budget
{bench_pages.BUDGET['bytes'] / 1e6:.0f} MB and {bench_pages.BUDGET['gzip'] / 1e6:.0f} MB; embeds load only as they come
within a screen of the viewport). Then first visits of the link to the section of the page's first figure: the time
from navigation to that figure drawn, with the main thread's CPU time until then (medians of three visits), and what
such a visit fetches.

{bench_pages.table(build['pages'])}
"""


def main() -> None:
    print("== sweep engine")
    sweep = bench_sweep.main()
    print("== embeds")
    embed = bench_embeds.main()
    print("== builds")
    build = build_benchmarks()
    page = ROOT / "docs" / "benchmarks.md"
    earlier = page.read_text(encoding="utf-8").partition(EARLIER)[2] if page.is_file() else ""
    partial = page.with_name(page.name + ".part")
    partial.write_text(report(sweep, embed, build) + (f"\n{EARLIER}{earlier}" if earlier else ""), encoding="utf-8")
    os.replace(partial, page)
    print(f"wrote {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
