"""Step-for-step equality with torch.optim (and the optax formulas where torch has none).

torch is a test-only reference: these tests run wherever torch is importable and are required in CI
(REQUIRE_TORCH=1, set by .ci/run, which installs the CPU wheel).
"""

import os

import numpy as np
import pytest

from gallery_builder import functions, optimizers
from gallery_builder.engine import run_batch

if os.environ.get("REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")

STEPS = 60
# torch keeps scalar state such as NAdam's running momentum product in the default dtype: make it float64 too.
torch.set_default_dtype(torch.float64)

# (our name, torch class, torch kwargs built from our hyperparameters)
TORCH = {
    "sgd": (lambda h: torch.optim.SGD, lambda h: dict(lr=h["lr"])),
    "momentum": (lambda h: torch.optim.SGD, lambda h: dict(lr=h["lr"], momentum=h["momentum"])),
    "nesterov": (lambda h: torch.optim.SGD, lambda h: dict(lr=h["lr"], momentum=h["momentum"], nesterov=True)),
    "adagrad": (lambda h: torch.optim.Adagrad,
                lambda h: dict(lr=h["lr"], eps=h["eps"], initial_accumulator_value=h["initial_accumulator_value"])),
    "rmsprop": (lambda h: torch.optim.RMSprop,
                lambda h: dict(lr=h["lr"], alpha=h["alpha"], eps=h["eps"], momentum=h["momentum"])),
    "adadelta": (lambda h: torch.optim.Adadelta, lambda h: dict(lr=h["lr"], rho=h["rho"], eps=h["eps"])),
    "adam": (lambda h: torch.optim.Adam, lambda h: dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"])),
    "amsgrad": (lambda h: torch.optim.Adam,
                lambda h: dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], amsgrad=True)),
    "adamw": (lambda h: torch.optim.AdamW, lambda h: dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                                        weight_decay=h["weight_decay"])),
    "adamax": (lambda h: torch.optim.Adamax,
               lambda h: dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"])),
    "nadam": (lambda h: torch.optim.NAdam, lambda h: dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                                        momentum_decay=h["momentum_decay"])),
    "radam": (lambda h: torch.optim.RAdam, lambda h: dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"])),
}


def torch_objective(name):
    """The same test function written with torch ops (a second, independent transcription)."""
    return {
        "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        "beale": lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        "saddle": lambda x, y: x**2 - y**2,
    }[name]


def torch_path(opt, param, fn_name, steps=STEPS):
    """``steps`` calls of ``opt.step(closure)`` on the test function: the path (steps + 1, 2). The closure is
    evaluated once per call by every optimizer but L-BFGS with max_iter > 1."""
    f = torch_objective(fn_name)

    def closure():
        opt.zero_grad()
        loss = f(param[0], param[1])
        loss.backward()
        return loss

    path = [param.detach().clone().numpy()]
    for _ in range(steps):
        opt.step(closure)
        path.append(param.detach().clone().numpy())
    return np.array(path)


def torch_run(name, fn_name, start, hyper):
    """The path (STEPS + 1, 2) and torch's final state for the parameter."""
    cls, kwargs = TORCH[name]
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = cls(hyper)([param], foreach=False, **kwargs(hyper))
    return torch_path(opt, param, fn_name), opt.state[param]


@pytest.mark.parametrize("fn_name", ["rosenbrock", "himmelblau", "beale"])
@pytest.mark.parametrize("name", sorted(TORCH))
def test_matches_torch_step_for_step(name, fn_name):
    opt, fn = optimizers.get(name), functions.get(fn_name)
    hyper = opt.defaults
    hyper["lr"] = hyper["lr"] * 10  # a learning rate that moves visibly in 60 steps
    if name in ("sgd", "momentum", "nesterov"):
        hyper["lr"] = 1e-4 if fn_name != "himmelblau" else 1e-3
    if name == "radam":
        hyper["lr"] = opt.defaults["lr"]  # its first five steps are un-normalized: lr·m̂ is already large
    ours = run_batch(opt, fn, [fn.start], STEPS, hyper).points[0]
    theirs, _ = torch_run(name, fn_name, fn.start, hyper)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-3  # the runs really moved


@pytest.mark.parametrize("name", sorted(TORCH))
def test_state_is_torch_state(name, drive):
    """Our state fields are torch's state keys (plus our step counter) and hold the same numbers."""
    opt, fn = optimizers.get(name), functions.get("rosenbrock")
    hyper = opt.defaults
    if "momentum" in hyper:
        hyper["momentum"] = 0.5  # torch keeps a momentum buffer only when momentum is non-zero
    _, theirs = torch_run(name, "rosenbrock", fn.start, hyper)
    _, ours = drive(opt, fn, [fn.start], STEPS, hyper)
    assert set(theirs) <= set(ours._fields) and set(ours._fields) - set(theirs) <= {"step"}
    for key, value in theirs.items():
        expected = value.detach().numpy() if torch.is_tensor(value) else value
        np.testing.assert_allclose(np.reshape(getattr(ours, key), np.shape(expected)), expected, rtol=1e-10,
                                   atol=1e-300, err_msg=key)
