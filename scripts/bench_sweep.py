"""Trajectory-steps per second: the whole default sweep, against a one-run-at-a-time loop and hand-written numpy.

First two whole sweeps on one core (every optimizer × function: the learning-rate search, the basin maps and the
learning rate × second-hyperparameter maps), timed per task: trajectory-steps, seconds and steps/s. One is engine
v2's workload, on which its targets are set: the default sweep without the noisy and scheduled runs that issue 10
added and budgeted on its own (a default build at most 2× this one's); the other is the whole default sweep.
Then a fixed piece of work for three engines: Adam (torch defaults, lr = 0.01) on Rosenbrock from every point of a
41 × 41 grid over its domain (1681 runs), 300 steps each.

  (a) batched engine: ``engine.run_batch`` advances all 1681 runs together (one autograd pass per step for the
      whole batch, full paths and summaries recorded).
  (b) seed style: one run at a time, one scalar ``autograd.grad`` of f(x, y) per step (f as the seed article wrote
      it) and a hand-written Python Adam update. It is far too slow to run in full, so a subset of runs is timed and the rate extrapolated
      per step (the work per step does not depend on the run).
  (c) hand-written numpy: Rosenbrock's gradient written out by hand, the same Adam update vectorized over the
      batch, positions and values recorded like the engine does.

Run with ``python scripts/bench_sweep.py`` from the repository root; it takes well under a minute.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import autograd  # noqa: E402

from gallery_builder import engine, functions, optimizers, sweep  # noqa: E402
from gallery_builder.config import Settings  # noqa: E402

GRID = 41
STEPS = 300
SEED_RUNS = 20
LR, BETA1, BETA2, EPS = 0.01, 0.9, 0.999, 1e-8
TARGET_VS_SEED = 1000.0  # for the whole sweep
TARGET_VS_HANDWRITTEN = 5.0  # for the Rosenbrock cells


def starts_grid(fn) -> np.ndarray:
    (x0, x1), (y0, y1) = fn.domain
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


def best_of(repeats, work):
    """The fastest of ``repeats`` timings of ``work()`` (seconds) and its last result."""
    best, result = math.inf, None
    for _ in range(repeats):
        begin = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - begin)
    return best, result


def batched_engine(fn, starts):
    opt = optimizers.get("adam")
    hyper = opt.hyperparameters({"lr": LR})
    return engine.run_batch(opt, fn, starts, STEPS, hyper).points[:, -1]


def seed_rosenbrock(p):
    """Rosenbrock as the seed article wrote it, with ``**``: the baseline stays the same loop when the gallery's own
    formula is rewritten (``functions.rosenbrock`` squares with np.square, which autograd differentiates faster)."""
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def seed_style(starts):
    """One run at a time: a scalar autograd gradient per step and Adam written out in Python floats."""
    gradient = autograd.grad(seed_rosenbrock)
    ends = []
    for x, y in starts:
        theta = np.array([x, y], dtype=float)
        m = [0.0, 0.0]
        v = [0.0, 0.0]
        for t in range(1, STEPS + 1):
            g = gradient(theta)
            new = []
            for i in range(2):
                gi = float(g[i])
                m[i] = BETA1 * m[i] + (1 - BETA1) * gi
                v[i] = BETA2 * v[i] + (1 - BETA2) * gi * gi
                m_hat = m[i] / (1 - BETA1**t)
                v_hat = v[i] / (1 - BETA2**t)
                new.append(float(theta[i]) - LR * m_hat / (math.sqrt(v_hat) + EPS))
            theta = np.array(new)
        ends.append(theta)
    return np.array(ends)


def handwritten_numpy(starts):
    """Rosenbrock's value and gradient by hand, Adam vectorized over the batch, paths recorded."""
    batch = len(starts)
    points = np.full((batch, STEPS + 1, 2), np.nan)
    values = np.full((batch, STEPS + 1), np.nan)
    theta = starts.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    x, y = theta[:, 0], theta[:, 1]
    points[:, 0], values[:, 0] = theta, (1 - x) ** 2 + 100 * (y - x**2) ** 2
    for t in range(1, STEPS + 1):
        x, y = theta[:, 0], theta[:, 1]
        inner = y - x**2
        g = np.empty_like(theta)
        g[:, 0] = -2 * (1 - x) - 400 * x * inner
        g[:, 1] = 200 * inner
        m = BETA1 * m + (1 - BETA1) * g
        v = BETA2 * v + (1 - BETA2) * g * g
        theta = theta - (LR / (1 - BETA1**t)) * m / (np.sqrt(v) / math.sqrt(1 - BETA2**t) + EPS)
        x, y = theta[:, 0], theta[:, 1]
        points[:, t], values[:, t] = theta, (1 - x) ** 2 + 100 * (y - x**2) ** 2
    return points[:, -1]


def steps_before_a_stop(cell, horizon: int) -> int:
    """A cell's trajectory-steps up to each run's stop (a run that left the domain or diverged takes no more)."""
    stops = [cell.runs.stop_step, cell.basin.stop_step, *(s.runs.stop_step for s in (cell.schedules or {}).values())]
    stops += [part.stop_step for part in (cell.second, cell.noisy) if part is not None]
    return int(sum(np.where(stop >= 0, stop, horizon).sum() for stop in stops))


def engine_v2_workload() -> Settings:
    """The default sweep without the noisy and scheduled runs: the workload engine v2's targets are set on. Issue 10,
    which added those axes, budgets them on their own (a default build at most 2× this one's)."""
    return dataclasses.replace(Settings(), noise_seeds=0, schedules=())


def whole_sweep(settings: Settings) -> dict:
    """A whole sweep computed in this process (one core), in the sweep's own tasks (a few functions of one horizon
    per batch), nothing cached."""
    pairs = sweep.cell_pairs(settings)  # not Polyak's step where there is no f*
    stale = {name: [o for o, f in pairs if f == name] for name in settings.functions}
    per_task, total_steps, total_taken, total_time = {}, 0, 0, 0.0
    for task in sweep._tasks(stale, settings):
        begin = time.perf_counter()
        cells = sweep.compute_many(task, settings)
        seconds = time.perf_counter() - begin
        # Every run: the learning-rate search, each schedule's, every noisy seed, the basins, the second axis.
        steps = sum(settings.steps_for(name) * sum(
            len(c.lrs) + len(c.basin.status) + (c.second.status.size if c.second else 0)
            + sum(len(s.lrs) for s in (c.schedules or {}).values())
            + (c.noisy.status.size if c.noisy is not None else 0) for c in cells[name].values()) for name in task)
        taken = sum(steps_before_a_stop(c, settings.steps_for(name)) for name in task for c in cells[name].values())
        names = ", ".join(task)
        per_task[names] = (steps, seconds)
        total_steps += steps
        total_taken += taken
        total_time += seconds
        print(f"  {names:<62} {steps / 1e6:6.1f} M steps  {seconds:6.2f} s  {steps / seconds / 1e6:5.2f} M steps/s")
    print(f"whole sweep: {len(pairs)} cells of {len(settings.optimizers)} optimizers x "
          f"{len(settings.functions)} functions, "
          f"{total_steps / 1e6:.1f} M trajectory-steps in {total_time:.1f} s on one core = "
          f"{total_steps / total_time / 1e6:.2f} M steps/s")
    print(f"  (runs x horizon, as the seed loop counts them; {total_taken / 1e6:.1f} M of them come before a run "
          f"stopped, and the maps skip the rest: {total_taken / total_time / 1e6:.2f} M such steps/s)")
    return {"steps": total_steps, "seconds": total_time, "rate": total_steps / total_time,
            "taken_rate": total_taken / total_time,
            "rosenbrock_rate": per_task["rosenbrock"][0] / per_task["rosenbrock"][1]
            if "rosenbrock" in per_task else math.nan,
            "cells": len(pairs)}


def main() -> dict:
    """Prints the figures and returns them for scripts/bench.py."""
    print("the engine-v2 workload (the default sweep without noisy and scheduled runs), one core:")
    whole = whole_sweep(engine_v2_workload())
    print("the whole default sweep, with the noisy and scheduled runs, one core:")
    default = whole_sweep(Settings())
    fn = functions.get("rosenbrock")
    starts = starts_grid(fn)
    work = len(starts) * STEPS
    print(f"work: adam (lr={LR:g}) on rosenbrock, {len(starts)} starts ({GRID}x{GRID} grid) x {STEPS} steps "
          f"= {work} trajectory-steps")

    batched_time, batched_ends = best_of(3, lambda: batched_engine(fn, starts))
    batched_rate = work / batched_time
    print(f"batched engine: {batched_rate:,.0f} steps/s ({batched_time:.3f} s for all {work} steps, best of 3)")

    index = np.arange(0, len(starts), len(starts) // SEED_RUNS)[:SEED_RUNS]
    subset = starts[index]
    seed_time, seed_ends = best_of(3, lambda: seed_style(subset))
    seed_work = len(subset) * STEPS
    seed_rate = seed_work / seed_time
    print(f"seed style: {seed_rate:,.0f} steps/s (best of 3: {len(subset)} runs x {STEPS} steps = {seed_work} steps in "
          f"{seed_time:.3f} s; extrapolated per step: the full {work} steps would take about "
          f"{work / seed_rate:,.0f} s)")

    hand_time, hand_ends = best_of(3, lambda: handwritten_numpy(starts))
    hand_rate = work / hand_time
    print(f"hand-written numpy: {hand_rate:,.0f} steps/s ({hand_time:.3f} s for all {work} steps, best of 3)")

    # The three compute the same trajectories (up to rounding and to runs that the engine stops on escaping).
    kept = np.isfinite(batched_ends).all(axis=1)
    seed_gap = np.nanmax(np.abs(seed_ends - batched_ends[index])[kept[index]], initial=0.0)
    hand_gap = np.nanmax(np.abs(hand_ends - batched_ends)[kept], initial=0.0)
    print(f"check: max |end point difference| vs batched engine: seed style {seed_gap:.1e}, "
          f"hand-written numpy {hand_gap:.1e} ({kept.sum()} of {len(kept)} runs finished inside the domain)")

    vs_seed = batched_rate / seed_rate
    vs_hand = hand_rate / batched_rate
    # The ceiling: one batched autograd call alone costs about what a whole seed-style step costs.
    call_time, _ = best_of(3, lambda: [fn.value_and_grad(starts) for _ in range(100)])
    call_us, seed_step_us = call_time / 100 * 1e6, 1e6 / seed_rate
    ceiling = len(starts) * seed_step_us / call_us
    print(f"one batched autograd call ({len(starts)} runs): {call_us:.0f} us; one seed-style step: "
          f"{seed_step_us:.0f} us; so even with free update and bookkeeping the ratio could not pass "
          f"{ceiling:,.0f}x at this batch size")
    sweep_vs_seed = whole["rate"] / seed_rate
    rosenbrock_vs_hand = hand_rate / whole["rosenbrock_rate"]
    print(f"ratio batched/seed on the one batch: {vs_seed:,.0f}x; handwritten/batched: {vs_hand:.2f}x")
    print(f"ratio engine-v2 workload/seed: {sweep_vs_seed:,.0f}x (target >= {TARGET_VS_SEED:g}x: "
          f"{'met' if sweep_vs_seed >= TARGET_VS_SEED else 'NOT met'}); counting only the steps before a stop: "
          f"{whole['taken_rate'] / seed_rate:,.0f}x")
    print(f"ratio whole default sweep/seed: {default['rate'] / seed_rate:,.0f}x; counting only the steps before a "
          f"stop: {default['taken_rate'] / seed_rate:,.0f}x")
    print(f"ratio handwritten numpy/Rosenbrock cells: {rosenbrock_vs_hand:.2f}x (target <= {TARGET_VS_HANDWRITTEN:g}x: "
          f"{'met' if rosenbrock_vs_hand <= TARGET_VS_HANDWRITTEN else 'NOT met'})")
    return {"whole": whole, "default": default, "sweep_vs_seed": sweep_vs_seed,
            "default_vs_seed": default["rate"] / seed_rate, "rosenbrock_vs_hand": rosenbrock_vs_hand, "work": work,
            "batched": batched_rate, "seed": seed_rate, "handwritten": hand_rate,
            "vs_seed": vs_seed, "vs_handwritten": vs_hand, "call_us": call_us, "seed_step_us": seed_step_us,
            "ceiling": ceiling, "runs": len(starts)}


if __name__ == "__main__":
    main()
