"""The playground's JS engine against the Python engine, in Chromium: every optimizer on every function at three
learning rates (the sweep's best for that pair, ÷10 and ×10), with its default hyperparameters, plus schedules and
noise, all in one page. A JS path must equal the Python path to 1e-10 relative per coordinate over the whole
horizon, or up to the step where the Python path itself moves by more than 1e-10 when its start is nudged by one
ulp, and over at least 50 steps. The one exception to the 50: a run whose first bit of difference comes from the
test function itself, where a generated ``Math.sin``/``cos``/``exp`` (V8's fdlibm) or ``PG.pow`` rounds
differently from numpy (libm, or numpy's own SIMD exp/log/power) at a point both paths reached bit for bit; the
update rules do the same operations as Python and round like it (pow included), so no rule may cut a run short.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from gallery_builder import carried, engine, functions, jsgen, optimizers, schedules, sweep
from gallery_builder.config import DEFAULT_STEPS, Settings
from conftest import drive
from test_browser import CHROMIUM, FLAGS, browser  # noqa: F401  (the fixture, and the skip without Chromium)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RELATIVE = 1e-10
AT_LEAST = 50  # steps every run is compared over, chaotic or not
# Schedules and noise (σ as a multiple of the function's typical |∇f|, seed) for every optimizer.
VARIANTS = (("himmelblau", "warmup_cosine:warmup=30", 0.0, 0), ("booth", "cosine", 0.5, 7),
            ("three_hump_camel", "step_decay:step_size=50,gamma=0.5", 0.2, 15), ("beale", "wsd:warmup=20,decay=60", 0.1, 3),
            ("rosenbrock", "constant", 0.05, 0))


def best_rates() -> dict:
    """(function, optimizer) -> the learning rate the default sweep chooses for the pair (its best, or the default
    when none qualifies), by the sweep's own search over its whole grid (phase 1 of sweep.compute_many, alone)."""
    settings, searches = Settings(), {}
    for fn in functions.CATALOGUE.values():
        for opt in optimizers.CATALOGUE.values():
            if opt.applies_to(fn):
                searches[(fn.name, opt.name)] = sweep.Search(fn, opt, settings.cell_hyper(opt.name, fn.name),
                                                             settings.start(fn.name), sweep.Variant(opt.name))
    found = sweep.search_many(searches, settings)
    return {key: float(lrs[sweep._chosen(lrs, best, searches[key].default)]) for key, (lrs, _, best) in found.items()}


def cases() -> list:
    """(optimizer, function, lrs, schedule, σ, seed): a batch of the Python engine each."""
    out, best = [], best_rates()
    for opt in optimizers.CATALOGUE.values():
        lr = opt.defaults["lr"]
        for fn in functions.CATALOGUE.values():
            if opt.applies_to(fn):
                chosen = best[(fn.name, opt.name)]
                out.append((opt.name, fn.name, (chosen, chosen / 10, chosen * 10), "constant", 0.0, 0))
        for name, schedule, noise, seed in VARIANTS:
            out.append((opt.name, name, (lr,), schedule, noise * functions.get(name).typical_gradient, seed))
    return out


def python_runs(opt_name, fn_name, lrs, schedule, sigma, seed, starts=None, fn=None):
    """The Python engine's runs (what ``trajectory(...)`` gives, one batch for the learning rates)."""
    opt, fn = optimizers.get(opt_name), fn or functions.get(fn_name)
    steps = fn.steps or DEFAULT_STEPS
    hyper = {**opt.hyperparameters(), **opt.for_function(fn), "lr": np.array(lrs)}
    plan = schedules.parse(schedule)
    starts = np.array([fn.start] * len(lrs) if starts is None else starts, float)
    return engine.run_batch(opt, fn, starts, steps, hyper, noise=sigma, seed=seed,
                            schedule=None if plan.constant else plan.multipliers(steps))


def test_a_batch_row_is_the_trajectory_call():
    """The golden runs come in batches of learning rates; each row is what ``trajectory`` gives."""
    runs = python_runs("adam", "booth", (0.1, 0.01, 1.0), "cosine", 0.3, 5)
    for row, lr in enumerate((0.1, 0.01, 1.0)):
        alone = engine.trajectory("adam", "booth", steps=300, lr=lr, schedule="cosine", noise=0.3, seed=5)
        np.testing.assert_array_equal(runs.points[row], alone.points)


def first_difference(a, b) -> int:
    """The first step where paths a and b (steps+1, 2) differ by more than RELATIVE, or len(a) if none."""
    scale = np.maximum(np.abs(b), 1e-12)
    same = (np.abs(a - b) <= RELATIVE * scale) | (np.isnan(a) & np.isnan(b))
    bad = np.flatnonzero(~same.all(axis=1))
    return int(bad[0]) if bad.size else len(a)


ULP = 2.0**-52
# f, or the point where f is evaluated, moved by about one ulp at every step: a JS Math function that rounds
# differently from libm moves a value or gradient by as much
MOVES = (lambda f, x, y: f(x, y) * (1 + ULP), lambda f, x, y: f(x, y) * (1 - ULP / 2),
         lambda f, x, y: f(x * (1 + ULP), y), lambda f, x, y: f(x, y * (1 + ULP)))


def moved(fn, move):
    formula = fn.formula
    return dataclasses.replace(fn, formula=lambda x, y: move(formula, x, y))


def nudged(case, row, runs) -> tuple:
    """How many steps the Python path keeps within RELATIVE of itself when its start moves by one ulp (four
    nudges), when f or the point where it is evaluated moves by about one ulp at every step (MOVES), or when its
    gradients get noise of one ulp of their typical size, at the earliest; and the statuses of those runs."""
    fn = functions.get(case[1])
    x, y = fn.start
    starts = [(math.nextafter(x, math.inf), y), (math.nextafter(x, -math.inf), y),
              (x, math.nextafter(y, math.inf)), (x, math.nextafter(y, -math.inf))]
    lr = case[2][row]
    others = [python_runs(case[0], case[1], (lr,) * 4, *case[3:], starts=starts)]
    others += [python_runs(case[0], case[1], (lr,), *case[3:], fn=moved(fn, move)) for move in MOVES]
    # rounding noise: a gradient near 0 is a sum of terms that cancel, where one ulp of the terms is all there is
    seeds = np.arange(4) if case[4] == 0 else np.array([case[5]])  # a noisy run keeps its own draws
    others.append(python_runs(case[0], case[1], (lr,) * len(seeds), case[3], case[4] + ULP * fn.typical_gradient,
                              seeds))  # one batch, a seed per row
    return (min(first_difference(path, runs.points[row]) for m in others for path in m.points),
            {engine.STATUSES[s] for m in others for s in m.status})


RUN_ALL = """async ([cases, noise]) => {
  const bytes = Uint8Array.from(atob(noise), (c) => c.charCodeAt(0));
  const table = new Float64Array(bytes.buffer), per = 2 * PG_CATALOGUE.noise.steps;
  const b64 = (array) => {
    const u = new Uint8Array(array.buffer); let s = "";
    for (let i = 0; i < u.length; i += 32768) s += String.fromCharCode.apply(null, u.subarray(i, i + 32768));
    return btoa(s);
  };
  const t0 = performance.now();
  const out = cases.map((c) => {
    const [name, params] = c.schedule.split(":");
    const schedule = { name, params: Object.fromEntries((params || "").split(",").filter(Boolean)
      .map((kv) => [kv.split("=")[0], Number(kv.split("=")[1])])) };
    const r = PG.run({ fn: c.fn, opt: c.opt, steps: c.steps, start: c.start, hyper: { lr: c.lr }, schedule,
                       sigma: c.sigma, xi: table.subarray(c.seed * per, (c.seed + 1) * per) });
    return [r.status, b64(r.points)];
  });
  return [out, performance.now() - t0];
}"""


EVALUATE = """([fn, hessian, points]) => {
  const code = PG_CATALOGUE.code[fn];
  return points.map(([x, y]) => (hessian ? code.vgh : code.vg)(x, y).slice(0, 3));
}"""


def function_reason(page, case, lr, path, bit) -> str | None:
    """Why a JS run leaves Python's bits at step ``bit`` if the test function is the cause: the first point (where
    the optimizer evaluates ∇f, which both runs reached bit for bit) at which the generated JS gives another f or ∇f
    than numpy, and the Math functions it calls; None when f and ∇f agree at every point before ``bit`` (then the
    update rule, or the engine around it, is to blame)."""
    opt, fn = optimizers.get(case[0]), functions.get(case[1])
    hyper = {**opt.hyperparameters(), **opt.for_function(fn), "lr": lr}
    points = path[:bit]  # the shown path is where ∇f is evaluated, but for an optimizer that shows another point
    if opt.transform(**hyper).shown is not None:
        if case[3] != "constant" or case[4]:
            return None
        points = drive(opt, fn, [fn.start], max(bit - 1, 0), hyper)[0][:, 0]
    js = np.array(page.evaluate(EVALUATE, [fn.name, opt.uses_hessian, points.tolist()]), float)
    with np.errstate(all="ignore"):
        value, grads = fn.value_and_grad(points)
    differs = np.flatnonzero((js != np.column_stack([value, grads])).any(axis=1))
    if not differs.size:
        return None
    calls = sorted(set(re.findall(r"(Math\.\w+|PG\.pow)\(", jsgen.function_js(fn))) - {"Math.sqrt", "Math.abs"})
    return f"f or ∇f differs from numpy's by an ulp at step {differs[0]} ({', '.join(calls)})"


def test_js_engine_equals_the_python_engine(browser):  # noqa: F811
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_script_tag(content=jsgen.catalogue_js())
    page.add_script_tag(content=jsgen.assets()["playground.js"].decode())
    batches = cases()
    flat = []
    for case in batches:
        fn = functions.get(case[1])
        for lr in case[2]:
            flat.append({"opt": case[0], "fn": case[1], "lr": lr, "schedule": case[3], "sigma": case[4],
                         "seed": case[5], "steps": fn.steps or DEFAULT_STEPS, "start": list(fn.start)})
    noise = base64.b64encode(jsgen.noise_table()).decode()
    results, elapsed = page.evaluate(RUN_ALL, [flat, noise])
    assert errors == []
    problems, shortened, unstable, short = [], [], [], []
    at = 0
    for case in batches:
        runs = python_runs(*case)
        for row, lr in enumerate(case[2]):
            status, encoded = results[at]
            at += 1
            js = np.frombuffer(base64.b64decode(encoded), "<f8").reshape(-1, 2)
            py = runs.points[row]
            python_status = engine.STATUSES[runs.status[row]]
            agree = first_difference(js, py)
            label = f"{case[0]} on {case[1]} at lr {lr:.4g} ({case[3]}, σ {case[4]:.3g}, seed {case[5]})"
            if agree == len(py) and status == python_status:
                continue
            horizon, statuses = nudged(case, row, runs)
            if agree < min(len(py), horizon):
                problems.append(f"{label}: differs at step {agree}; one ulp moves Python's path at step {horizon}")
            elif agree < len(py):
                shortened.append((label, agree, horizon))
                if agree < AT_LEAST:
                    same = (js == py) | (np.isnan(js) & np.isnan(py))
                    bit = int(np.flatnonzero(~same.all(axis=1))[0])
                    reason = function_reason(page, case, lr, py, bit)
                    if reason is None:
                        problems.append(f"{label}: agrees over {agree} < {AT_LEAST} steps, and its bits part at "
                                        f"step {bit} with f and ∇f equal to numpy's before it")
                    else:
                        short.append(f"{label}: {agree} steps (one ulp moves Python at {horizon}); bits part at "
                                     f"step {bit}: {reason}")
            if status != python_status:
                if len(statuses | {python_status}) > 1 and status in statuses:
                    unstable.append((label, status, python_status))
                else:
                    problems.append(f"{label}: status {status}, Python {python_status} (nudged: {statuses})")
    print(f"\n{len(flat)} runs in {elapsed:.0f} ms of JS; {len(shortened)} agree up to the step where one ulp "
          f"moves Python's own path; {len(short)} of them over fewer than {AT_LEAST} steps:\n  " + "\n  ".join(short)
          + f"\n{len(unstable)} statuses that one ulp changes: {unstable}")
    assert problems == [], "\n".join(problems)


DRAWN = """([fn, opt, lr, steps]) => {
  const r = PG.run({ fn, opt, steps, start: PG_CATALOGUE.functions[fn].start, hyper: { lr }, record_state: true });
  return r.states.map((_, j) => PG.drawn(r, opt, fn, j));
}"""


def test_the_state_drawn_on_the_map_is_what_carried_draws(browser):  # noqa: F811
    """Each arrow and path of carried.views that the playground draws on its map equals, at every step, the
    value the precomputed state figure draws from the Python engine's recorded state (to 1e-9), and every such view
    of the catalogue has a JS drawing."""
    page = browser.new_page()
    page.add_script_tag(content=jsgen.catalogue_js())
    page.add_script_tag(content=jsgen.assets()["playground.js"].decode())
    checked = []
    for opt in optimizers.CATALOGUE.values():
        views = {v["name"] for v in jsgen.drawn_views(opt)}
        if not views:
            continue
        fn, steps, lr = functions.get("himmelblau"), 40, opt.defaults["lr"]
        js = page.evaluate(DRAWN, [fn.name, opt.name, lr, steps])
        assert all(set(values) == views for values in js), (opt.name, views, js[0])
        member = engine.Member(opt, np.array([fn.start], float), {**opt.hyperparameters(), "lr": lr},
                               record_state=True)
        runs = engine.run_many(fn, [member], steps, engine.TOLERANCE)[0]
        cell = SimpleNamespace(optimizer=opt.name, function=fn.name, hyperparameters=opt.hyperparameters(),
                               lrs=np.array([lr]), runs=runs)  # what carried.carried reads of a cell
        for view, values in carried.carried(cell, 0):
            if view.name in views:
                ours = np.array([step[view.name] for step in js[: len(values)]], float)
                np.testing.assert_allclose(ours[1:], values[1:], rtol=1e-9, atol=1e-12,
                                           err_msg=f"{opt.name}: {view.name}")
                checked.append(f"{opt.name}: {view.name}")
    assert len(checked) == sum(len(jsgen.drawn_views(o)) for o in optimizers.CATALOGUE.values()), checked
