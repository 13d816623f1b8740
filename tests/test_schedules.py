"""Learning-rate schedules: spec strings, and each schedule against torch's scheduler stepped after every step."""

import math
import os

import numpy as np
import pytest
from conftest import main_cli

from gallery_builder import schedules, trajectory
from gallery_builder.errors import UserError

STEPS = 80


def torch_scheduler(torch, spec, opt, steps):
    """The torch scheduler a spec stands for, built from torch's own classes (LambdaLR from the issue's formulas)."""
    plan = schedules.parse(spec)
    p = dict(plan.parameters)
    lr_sched = torch.optim.lr_scheduler
    if plan.name == "constant":
        return lr_sched.LambdaLR(opt, lambda i: 1.0)
    if plan.name == "cosine":
        return lr_sched.CosineAnnealingLR(opt, T_max=steps)
    if plan.name == "step_decay":
        return lr_sched.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"])
    w = p["warmup"]
    if plan.name == "warmup_cosine":
        return lr_sched.LambdaLR(opt, lambda i: (i + 1) / w if i < w else
                                 (1 + math.cos(math.pi * (i - w) / (steps - w))) / 2)
    d = p["decay"]
    return lr_sched.LambdaLR(opt, lambda i: (i + 1) / w if i < w else 1.0 if i < steps - d else (steps - i) / d)


SPECS = ["constant", "cosine", "step_decay:step_size=20,gamma=0.5", "warmup_cosine:warmup=30",
         "wsd:warmup=10,decay=30"]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name, lr", [("sgd", 1e-3), ("adam", 0.05)])
def test_a_schedule_is_torchs_scheduler_stepped_after_every_step(name, lr, spec):
    torch = pytest.importorskip("torch") if not os.environ.get("REQUIRE_TORCH") else __import__("torch")
    torch.set_default_dtype(torch.float64)
    run = trajectory(name, "rosenbrock", steps=STEPS, lr=lr, schedule=spec)

    param = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    cls = torch.optim.SGD if name == "sgd" else torch.optim.Adam
    opt = cls([param], lr=lr, foreach=False)
    scheduler = torch_scheduler(torch, spec, opt, STEPS)
    path, lrs = [param.detach().clone().numpy()], []
    for _ in range(STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        x, y = param[0], param[1]
        ((1 - x) ** 2 + 100 * (y - x**2) ** 2).backward()
        opt.step()
        scheduler.step()
        path.append(param.detach().clone().numpy())
    assert run.lr.shape == (STEPS,)
    np.testing.assert_allclose(run.lr, lrs, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(run.points, np.array(path), rtol=1e-12, atol=1e-14)
    assert np.abs(run.points[-1] - run.points[0]).max() > 1e-2  # it moved
    if spec != "constant":
        assert run.lr.min() < 0.9 * lr  # the schedule really changed the learning rate


def test_the_multipliers_follow_the_definitions():
    t = 100
    assert schedules.parse("constant").multipliers(t).tolist() == [1.0] * t
    cos = schedules.parse("cosine").multipliers(t)
    assert cos[0] == 1 and cos[50] == pytest.approx(0.5) and cos[-1] == pytest.approx((1 + math.cos(math.pi * 0.99)) / 2)
    step = schedules.parse("step_decay:step_size=30,gamma=0.1").multipliers(t)
    assert step[29] == 1 and step[30] == pytest.approx(0.1) and step[99] == pytest.approx(1e-3)
    warm = schedules.parse("warmup_cosine:warmup=10").multipliers(t)
    assert warm[0] == pytest.approx(0.1) and warm[9] == 1 and warm[10] == 1 and warm[-1] < 1e-3
    wsd = schedules.parse("wsd:warmup=10,decay=20").multipliers(t)
    assert wsd[9] == 1 and (wsd[10:80] == 1).all() and wsd[80] == 1 and wsd[99] == pytest.approx(0.05)


def test_specs_print_canonically():
    assert schedules.parse(" wsd:decay=20, warmup=10 ").spec == "wsd:warmup=10,decay=20"
    assert schedules.parse("step_decay:step_size=5,gamma=0.50").spec == "step_decay:step_size=5,gamma=0.5"


@pytest.mark.parametrize("spec, words", [
    ("cosin", "did you mean cosine"),
    ("step_decay:step_size=5", "missing gamma"),
    ("step_decay:step_size=0,gamma=0.5", "whole number"),
    ("step_decay:step_size=2.5,gamma=0.5", "whole number"),
    ("step_decay:step_size=5,gamma=-1", "number > 0"),
    ("step_decay:step_size=5,gamma=nan", "number > 0"),
    ("warmup_cosine:warmup=10,decay=3", "unknown parameter"),
    ("warmup_cosine:warmup=10,warmup=3", "given twice"),
    ("cosine:warmup", "unknown parameter"),
    (3, "a string"),
])
def test_bad_specs_are_one_line_errors(spec, words):
    with pytest.raises(UserError, match=words) as error:
        schedules.parse(spec)
    assert "\n" not in str(error.value)


def test_a_warmup_longer_than_the_run_is_an_error():
    with pytest.raises(UserError, match="must fit"):
        trajectory("adam", "booth", steps=20, schedule="warmup_cosine:warmup=20")
    with pytest.raises(UserError, match="must fit"):
        trajectory("adam", "booth", steps=20, schedule="wsd:warmup=10,decay=11")


def test_cli_run_takes_a_schedule_and_rejects_a_bad_one(tmp_path):
    ok = main_cli("run", "--optimizer", "adam", "--function", "booth", "--steps", "40", "--schedule", "cosine",
                  "--format", "json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert '"schedule": "cosine"' in ok.stdout
    bad = main_cli("run", "--optimizer", "adam", "--function", "booth", "--schedule", "wsd:warmup=x", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "warmup" in bad.stderr
