"""Step-for-step equality with the authors' packages: prodigyopt's Prodigy and schedulefree's AdamWScheduleFree.

Both are test-only references built on torch: these tests run wherever the packages import and are required in CI
(REQUIRE_REFERENCES=1, set by .ci/run, which installs them). The packages run in float64 on the same test functions
written with torch ops; every position (and, for schedule-free, the gradient point y) must agree to 1e-12 relative.
"""

import math
import os
import sys

import numpy as np
import pytest

from gallery_builder import functions, optimizers
from gallery_builder.engine import Member, run_many

if os.environ.get("REQUIRE_REFERENCES"):
    import prodigyopt
    import schedulefree
    import torch
else:
    torch = pytest.importorskip("torch")
    prodigyopt = pytest.importorskip("prodigyopt")
    schedulefree = pytest.importorskip("schedulefree")

STEPS = 60
FUNCTIONS = ["rosenbrock", "beale", "himmelblau"]
SECOND_START = {"rosenbrock": (0.5, 2.0), "beale": (-1.0, 1.5), "himmelblau": (-1.0, -3.0)}
torch.set_default_dtype(torch.float64)


def torch_objective(name):
    return {
        "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        "beale": lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
    }[name]


def prodigy_kwargs(h):
    return dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), beta3=h["beta3"], eps=h["eps"],
                weight_decay=h["weight_decay"], decouple=bool(h["decouple"]),
                use_bias_correction=bool(h["use_bias_correction"]), safeguard_warmup=bool(h["safeguard_warmup"]),
                d0=h["d0"], d_coef=h["d_coef"],
                growth_rate=math.inf if h["growth_rate"] == sys.float_info.max else h["growth_rate"])


def schedule_free_kwargs(h):
    return dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"],
                warmup_steps=h["warmup_steps"], r=h["r"], weight_lr_power=h["weight_lr_power"])


def prodigy_run(fn_name, start, hyper):
    """Positions (STEPS + 1, 2) and d after each step."""
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = prodigyopt.Prodigy([param], **prodigy_kwargs(hyper))
    f = torch_objective(fn_name)
    path, ds = [param.detach().clone().numpy()], [opt.param_groups[0]["d"]]
    for _ in range(STEPS):
        opt.zero_grad()
        f(param[0], param[1]).backward()
        opt.step()
        path.append(param.detach().clone().numpy())
        ds.append(opt.param_groups[0]["d"])
    return np.array(path), np.array(ds)


def schedule_free_run(fn_name, start, hyper):
    """x (what eval() gives), y (the parameters in train mode) and z, each (STEPS + 1, 2)."""
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = schedulefree.AdamWScheduleFree([param], **schedule_free_kwargs(hyper))
    f = torch_objective(fn_name)
    opt.train()
    xs, ys, zs = [param.detach().clone().numpy()], [param.detach().clone().numpy()], [param.detach().clone().numpy()]
    for _ in range(STEPS):
        opt.zero_grad()
        f(param[0], param[1]).backward()
        opt.step()
        ys.append(param.detach().clone().numpy())
        zs.append(opt.state[param]["z"].detach().clone().numpy())
        opt.eval()
        xs.append(param.detach().clone().numpy())
        opt.train()
    return np.array(xs), np.array(ys), np.array(zs)


def ours(name, fn_name, start, hyper):
    opt, fn = optimizers.get(name), functions.get(fn_name)
    return run_many(fn, [Member(opt, np.array([start], float), hyper, record_state=True)], STEPS)[0]


def relative_error(got, expected):
    return float(np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))))


def assert_close(got, expected, what):
    assert np.isfinite(got).all(), what
    error = relative_error(got, expected)
    assert error <= 1e-12, (what, error)


# Defaults, and variants that take every branch of each package's update.
PRODIGY = [
    {},
    {"beta1": 0.0, "weight_decay": 0.1},
    {"decouple": 0, "weight_decay": 0.1, "use_bias_correction": 1},
    {"safeguard_warmup": 1, "growth_rate": 1.05, "d_coef": 0.5, "d0": 1e-4},
]
SCHEDULE_FREE = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "warmup_steps": 10.0, "r": 1.0, "weight_decay": 0.1},
    {"lr": 0.02, "beta1": 0.5, "weight_lr_power": 0.0},
]


@pytest.mark.parametrize("start_kind", ["start", "second"])
@pytest.mark.parametrize("variant", range(len(PRODIGY)))
@pytest.mark.parametrize("fn_name", FUNCTIONS)
def test_prodigy_matches_prodigyopt(fn_name, variant, start_kind):
    fn, opt = functions.get(fn_name), optimizers.get("prodigy")
    start = fn.start if start_kind == "start" else SECOND_START[fn_name]
    hyper = opt.hyperparameters(PRODIGY[variant])
    runs = ours("prodigy", fn_name, start, hyper)
    path, ds = prodigy_run(fn_name, start, hyper)
    assert_close(runs.points[0], path, "positions")
    assert_close(runs.state["d"][0, :, 0], ds, "d")
    assert ds[-1] > 10 * ds[0]  # the estimate really grew
    assert np.abs(path[-1] - path[0]).max() > 1e-3  # and the run really moved


@pytest.mark.parametrize("start_kind", ["start", "second"])
@pytest.mark.parametrize("variant", range(len(SCHEDULE_FREE)))
@pytest.mark.parametrize("fn_name", FUNCTIONS)
def test_schedule_free_matches_schedulefree(fn_name, variant, start_kind):
    fn, opt = functions.get(fn_name), optimizers.get("schedule_free_adamw")
    start = fn.start if start_kind == "start" else SECOND_START[fn_name]
    hyper = opt.hyperparameters(SCHEDULE_FREE[variant])
    runs = ours("schedule_free_adamw", fn_name, start, hyper)
    xs, ys, zs = schedule_free_run(fn_name, start, hyper)
    assert_close(runs.points[0], xs, "x")
    assert_close(runs.state["gradient_point"][0], ys, "y")
    assert_close(runs.state["z"][0], zs, "z")
    assert np.abs(xs[-1] - xs[0]).max() > 1e-3
    assert np.abs(xs[1:] - ys[1:]).max() > 1e-6  # x and y really differ: the test sees which one is shown


def test_defaults_are_the_packages():
    import inspect

    prodigy = inspect.signature(prodigyopt.Prodigy).parameters
    ours_ = optimizers.get("prodigy").defaults
    assert tuple(prodigy["betas"].default) == (ours_["beta1"], ours_["beta2"])
    assert prodigy["beta3"].default is None and ours_["beta3"] == math.sqrt(ours_["beta2"])
    assert prodigy["growth_rate"].default == math.inf and ours_["growth_rate"] == sys.float_info.max
    for key in ("lr", "eps", "weight_decay", "decouple", "use_bias_correction", "safeguard_warmup", "d0", "d_coef"):
        assert prodigy[key].default == ours_[key], key
    free = inspect.signature(schedulefree.AdamWScheduleFree).parameters
    ours_ = optimizers.get("schedule_free_adamw").defaults
    assert tuple(free["betas"].default) == (ours_["beta1"], ours_["beta2"])
    for key in ("lr", "eps", "weight_decay", "warmup_steps", "r", "weight_lr_power"):
        assert free[key].default == ours_[key], key


def test_prodigy_at_a_stationary_start_waits_as_prodigyopt_does():
    """At Himmelblau's minimizer (3, 2) the gradient is exactly 0: prodigyopt returns before every step, leaving
    θ, d and k alone. A run beside it in the same batch is not held back."""
    opt, fn = optimizers.get("prodigy"), functions.get("himmelblau")
    runs = run_many(fn, [Member(opt, np.array([(3.0, 2.0), fn.start]), opt.defaults, record_state=True)], 5)[0]
    param = torch.tensor((3.0, 2.0), requires_grad=True)
    theirs = prodigyopt.Prodigy([param])
    for _ in range(5):
        theirs.zero_grad()
        torch_objective("himmelblau")(param[0], param[1]).backward()
        theirs.step()
    group = theirs.param_groups[0]
    assert group["k"] == 0 and group["d"] == opt.defaults["d0"]
    np.testing.assert_array_equal(runs.points[0, -1], param.detach().numpy())
    assert runs.state["k"][0, -1, 0] == group["k"] and runs.state["d"][0, -1, 0] == group["d"]
    assert runs.state["k"][1, -1, 0] == 5 and runs.state["d"][1, -1, 0] > group["d"]
