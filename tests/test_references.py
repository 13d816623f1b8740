"""Step-for-step equality with each optimizer's reference implementation, in float64: torch.optim 2.13, optax 0.2.8,
prodigyopt 1.1.2 and schedulefree 1.4.1.

The references are test-only installs: a test skips where its reference is missing, unless CI requires it
(REQUIRE_TORCH=1 for torch, REQUIRE_REFERENCES=1 for every one; .ci/run installs them). One table, REFERENCES, says
for each optimizer how its reference is built from our hyperparameters, where it is compared, which state and
defaults it shares; one runner per kind of reference (a torch optimizer stepped with a closure, an optax
transformation called op by op) and one comparison serve them all. Every compared position agrees to 1e-12 relative.
"""

import importlib
import inspect
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

from gallery_builder import functions, optimizers
from gallery_builder.engine import Member, run_batch, run_many
from gallery_builder.optimizers.second_order import HISTORY_SIZE

STEPS = 60
TOLERANCE = 1e-12  # |ours − theirs| / max(1, |theirs|), per coordinate and step


def package(name: str):
    """The reference package ``name``: imported where CI requires it, else the calling test skips without it."""
    required = os.environ.get("REQUIRE_REFERENCES") or (name == "torch" and os.environ.get("REQUIRE_TORCH"))
    module = importlib.import_module(name) if required else pytest.importorskip(name)
    if name == "torch":  # torch keeps scalar state such as NAdam's momentum product in the default dtype
        module.set_default_dtype(module.float64)
    if name == "optax":
        importlib.import_module("jax").config.update("jax_enable_x64", True)  # before any array is made
    return module


@dataclass(frozen=True)
class Reference:
    """How an optimizer's reference is built, and what of it is compared."""

    package: str  # the module it comes from
    # (module, hyperparameters, [param]) -> a torch optimizer; for optax, (optax, hyperparameters, None) -> a
    # transformation
    build: Callable
    cases: tuple  # (function, hyperparameter overrides, starts; None for the function's): paths compared
    traces: dict = field(default_factory=dict)  # our recorded state field -> (opt, param) -> its value, each step
    shown: Callable | None = None  # (opt, param) -> the point it reports, when not param (schedule-free's x)
    check: Callable | None = None  # its traces -> whether the case shows what it is there for
    moves: float = 1e-3  # how far each compared run must move, in some coordinate: it really moved
    state: tuple | None = None  # (function, overrides): the final state, compared field by field
    ours_only: frozenset = frozenset()  # our state fields it lacks
    signature: Callable | None = None  # module -> the class whose defaults are ours
    # our hyperparameter -> its argument there (a name, or (name, index)), or a check (its parameters, ours) -> bool
    defaults: dict = field(default_factory=dict)


def torch_objective(name):
    """The test function written with torch ops (a second, independent transcription)."""
    return {
        "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        "beale": lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        "saddle": lambda x, y: x**2 - y**2,
    }[name]


def _numpy(value) -> np.ndarray:
    return value.detach().numpy().copy() if hasattr(value, "detach") else np.asarray(value, float)


def torch_run(ref: Reference, fn_name, start, hyper, steps=STEPS) -> tuple:
    """``steps`` calls of ``step(closure)``, the closure evaluated once per call: the reported points and each
    trace, (steps + 1, ...), and the final state (torch's dict)."""
    torch = package("torch")
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = ref.build(package(ref.package), hyper, [param])
    f = torch_objective(fn_name)

    def closure():
        opt.zero_grad()
        loss = f(param[0], param[1])
        loss.backward()
        return loss

    rows = {key: [] for key in ("points", *ref.traces)}

    def record():  # the traces first: schedule-free's eval() and train() move the parameter
        for key, read in ref.traces.items():
            rows[key].append(_numpy(read(opt, param)))
        rows["points"].append(_numpy(param if ref.shown is None else ref.shown(opt, param)))

    record()
    for _ in range(steps):
        opt.step(closure)
        record()
    return {key: np.array(values) for key, values in rows.items()}, opt.state[param]


def optax_run(ref: Reference, fn_name, start, hyper, steps=STEPS) -> tuple:
    """optax's points (steps + 1, 2) and its final state, flattened to field -> value over the chain's states.

    optax gets f and ∇f from the catalogue's own autograd code, evaluated at optax's positions: some runs (Polyak's
    step on Beale) double a difference of one rounding every few steps, so a second transcription of the function,
    rounding differently, would hide what is compared here, the update rule. The functions are checked against
    hand-derived gradients in test_functions.py."""
    optax = package("optax")
    import jax.numpy as jnp

    tx, fn = ref.build(optax, hyper, None), functions.get(fn_name)
    params = jnp.asarray(start, dtype=jnp.float64)
    state = tx.init(params)
    points = [np.asarray(params)]
    for _ in range(steps):
        value, grads = fn.value_and_grad(np.asarray(params).reshape(1, 2))
        # op by op, as called: jax.jit fuses operations and may round differently
        updates, state = tx.update(jnp.asarray(grads[0]), state, params, value=jnp.asarray(value[0]))
        params = optax.apply_updates(params, updates)
        points.append(np.asarray(params))
    return {"points": np.array(points)}, _optax_fields(state)


def _optax_fields(state) -> dict:
    """Every named field of a (nested) optax state."""
    found = {}
    for key, value in zip(getattr(state, "_fields", [None] * len(state)), state):
        if isinstance(value, tuple):
            found.update(_optax_fields(value))
        elif key is not None:
            found[key] = np.asarray(value)
    return found


def reference_run(name, fn_name, start, hyper, steps=STEPS) -> tuple:
    ref = REFERENCES[name]
    return (optax_run if ref.package == "optax" else torch_run)(ref, fn_name, start, hyper, steps)


def relative_error(ours, theirs) -> float:
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


def assert_close(ours, theirs, what):
    assert np.isfinite(ours).all(), what  # no run stopped: every step is compared
    assert relative_error(ours, theirs) <= TOLERANCE, (what, relative_error(ours, theirs))


# --- The table ------------------------------------------------------------------------------------------------------


def _betas(h) -> dict:
    return dict(lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"])


def _train(opt):
    opt.train()  # schedule-free steps in train mode, where the parameters are y
    return opt


def _x(opt, param):
    """schedule-free's x, the point eval() gives, which the gallery shows."""
    opt.eval()
    x = _numpy(param)
    opt.train()
    return x


ADAM_DEFAULTS = {"lr": "lr", "beta1": ("betas", 0), "beta2": ("betas", 1), "eps": "eps"}
TORCH_FUNCTIONS = ("rosenbrock", "himmelblau", "beale")


def _torch_cases(name):
    """A learning rate that moves visibly in 60 steps: ten times the default, but for SGD's family (smaller) and
    RAdam (its first five steps are un-normalized: lr·m̂ is already large)."""
    lr = optimizers.get(name).defaults["lr"]
    for fn in TORCH_FUNCTIONS:
        if name in ("sgd", "momentum", "nesterov"):
            yield fn, {"lr": 1e-4 if fn != "himmelblau" else 1e-3}, (None,)
        else:
            yield fn, {"lr": lr if name == "radam" else lr * 10}, (None,)


def torch_optim(name: str, cls: str, kwargs: Callable, defaults: dict | None = None) -> Reference:
    """A torch.optim optimizer (its single-tensor code) on TORCH_FUNCTIONS, with its state on Rosenbrock (momentum 0.5
    where it has one: torch keeps a momentum buffer only when momentum is non-zero)."""
    return Reference("torch", lambda torch, h, p: getattr(torch.optim, cls)(p, foreach=False, **kwargs(h)),
                     tuple(_torch_cases(name)),
                     state=("rosenbrock", {"momentum": 0.5} if "momentum" in optimizers.get(name).defaults else {}),
                     ours_only=frozenset({"step"}), signature=lambda torch: getattr(torch.optim, cls),
                     defaults=defaults or {})


# our name -> (torch.optim class, its arguments from our hyperparameters, the defaults it shares with ours)
TORCH_OPTIM = {
    "sgd": ("SGD", lambda h: dict(lr=h["lr"]), {"lr": "lr"}),
    "momentum": ("SGD", lambda h: dict(lr=h["lr"], momentum=h["momentum"])),
    "nesterov": ("SGD", lambda h: dict(lr=h["lr"], momentum=h["momentum"], nesterov=True)),
    "adagrad": ("Adagrad", lambda h: dict(lr=h["lr"], eps=h["eps"],
                                          initial_accumulator_value=h["initial_accumulator_value"]),
                {"lr": "lr", "eps": "eps", "initial_accumulator_value": "initial_accumulator_value"}),
    "rmsprop": ("RMSprop", lambda h: dict(lr=h["lr"], alpha=h["alpha"], eps=h["eps"], momentum=h["momentum"]),
                {"lr": "lr", "alpha": "alpha", "eps": "eps", "momentum": "momentum"}),
    "adadelta": ("Adadelta", lambda h: dict(lr=h["lr"], rho=h["rho"], eps=h["eps"]),
                 {"lr": "lr", "rho": "rho", "eps": "eps"}),
    "adam": ("Adam", _betas, ADAM_DEFAULTS),
    "amsgrad": ("Adam", lambda h: dict(_betas(h), amsgrad=True), ADAM_DEFAULTS),
    "adamw": ("AdamW", lambda h: dict(_betas(h), weight_decay=h["weight_decay"]),
              {**ADAM_DEFAULTS, "weight_decay": "weight_decay"}),
    "adamax": ("Adamax", _betas, ADAM_DEFAULTS),
    "nadam": ("NAdam", lambda h: dict(_betas(h), momentum_decay=h["momentum_decay"]),
              {**ADAM_DEFAULTS, "momentum_decay": "momentum_decay"}),
    "radam": ("RAdam", _betas, ADAM_DEFAULTS),
}

# torch's later four: a learning rate per (optimizer, function), and a second start, where the run moves visibly in
# 60 steps and is not unstable: where it is, last-bit differences (torch's kernels fuse multiply-adds, numpy does
# not) grow with the instability, e.g. L-BFGS at lr = 1 on Rosenbrock, flung to (29, 14) and back, ends 5e-8 apart.
TORCH_LATER = {
    ("rprop", "rosenbrock"): 1e-2, ("rprop", "beale"): 1e-2, ("rprop", "himmelblau"): 1e-2,
    ("rprop", "saddle"): 1e-2,
    ("asgd", "rosenbrock"): 1e-3, ("asgd", "beale"): 1e-2, ("asgd", "himmelblau"): 1e-2, ("asgd", "saddle"): 1e-2,
    ("adafactor", "rosenbrock"): 1e-1, ("adafactor", "beale"): 1e-1, ("adafactor", "himmelblau"): 1e-1,
    ("lbfgs", "rosenbrock"): 1e-1, ("lbfgs", "beale"): 1.0, ("lbfgs", "himmelblau"): 1e-1,
    ("lbfgs", "saddle"): 1e-1,
}
TORCH_LATER_START = {"rosenbrock": (0.5, -0.5), "beale": (-2.0, -1.0), "himmelblau": (1.0, 1.0),
                     "saddle": (1.5, -0.2)}


def torch_later(name: str, cls: str, build: Callable, defaults: dict, state: dict | None = None) -> Reference:
    """One of torch's later four: both starts of each case in one batch, the state on Beale."""
    cases = tuple((fn, {"lr": lr}, (None, TORCH_LATER_START[fn])) for (n, fn), lr in TORCH_LATER.items() if n == name)
    return Reference("torch", build, cases, state=None if state is None else ("beale", state),
                     moves=1e-2, signature=lambda torch: getattr(torch.optim, cls), defaults=defaults)


def lbfgs(torch, h, p):
    return torch.optim.LBFGS(p, lr=h["lr"], max_iter=1, tolerance_grad=h["tolerance_grad"],
                             tolerance_change=h["tolerance_change"], history_size=HISTORY_SIZE, line_search_fn=None)


def machine_eps(params, ours) -> bool:  # torch's eps1 = None is the dtype's machine epsilon
    return params["eps"].default[0] is None and ours["eps1"] == np.finfo(np.float64).eps


# optax's: test functions with their minimum (Polyak's step needs f*; six-hump camel's is not 0), and learning rates
# that move visibly in 60 steps without leaving the domain; θ = 0 first is LAMB's trust ratio's special case.
OPTAX_FUNCTIONS = ("rosenbrock", "himmelblau", "beale", "six_hump_camel")


def optax_reference(lr: float, build: Callable) -> Reference:
    cases = tuple((fn, {"lr": lr}, (None,)) for fn in OPTAX_FUNCTIONS) + (("rosenbrock", {"lr": lr}, ((0.0, 0.0),)),)
    return Reference("optax", build, cases, state=("himmelblau", {"lr": lr}))


# The authors' packages: defaults, and variants that take every branch of each update, from two starts.
AUTHORS_FUNCTIONS = {"rosenbrock": (0.5, 2.0), "beale": (-1.0, 1.5), "himmelblau": (-1.0, -3.0)}
PRODIGY = ({}, {"beta1": 0.0, "weight_decay": 0.1}, {"decouple": 0, "weight_decay": 0.1, "use_bias_correction": 1},
           {"safeguard_warmup": 1, "growth_rate": 1.05, "d_coef": 0.5, "d0": 1e-4})
SCHEDULE_FREE = ({}, {"lr": 0.05}, {"lr": 0.05, "warmup_steps": 10.0, "r": 1.0, "weight_decay": 0.1},
                 {"lr": 0.02, "beta1": 0.5, "weight_lr_power": 0.0})


def authors_cases(variants) -> tuple:
    return tuple((fn, variant, (start,)) for fn, second in AUTHORS_FUNCTIONS.items() for variant in variants
                 for start in (None, second))


def prodigy(module, h, p):
    return module.Prodigy(p, lr=h["lr"], betas=(h["beta1"], h["beta2"]), beta3=h["beta3"], eps=h["eps"],
                          weight_decay=h["weight_decay"], decouple=bool(h["decouple"]),
                          use_bias_correction=bool(h["use_bias_correction"]),
                          safeguard_warmup=bool(h["safeguard_warmup"]), d0=h["d0"], d_coef=h["d_coef"],
                          growth_rate=math.inf if h["growth_rate"] == sys.float_info.max else h["growth_rate"])


def schedule_free(module, h, p):
    return _train(module.AdamWScheduleFree(p, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                                           weight_decay=h["weight_decay"], warmup_steps=h["warmup_steps"], r=h["r"],
                                           weight_lr_power=h["weight_lr_power"]))


def _same_names(*names) -> dict:
    return {name: name for name in names}


REFERENCES = {name: torch_optim(name, *spec) for name, spec in TORCH_OPTIM.items()}
REFERENCES |= {
    "rprop": torch_later("rprop", "Rprop", lambda torch, h, p: torch.optim.Rprop(
        p, lr=h["lr"], etas=(h["etaminus"], h["etaplus"]), step_sizes=(h["step_size_min"], h["step_size_max"]),
        foreach=False), {"lr": "lr", "etaminus": ("etas", 0), "etaplus": ("etas", 1),
                         "step_size_min": ("step_sizes", 0), "step_size_max": ("step_sizes", 1)}, state={}),
    "asgd": torch_later("asgd", "ASGD", lambda torch, h, p: torch.optim.ASGD(
        p, lr=h["lr"], lambd=h["lambd"], alpha=h["alpha"], t0=h["t0"], weight_decay=h["weight_decay"],
        foreach=False), _same_names("lr", "lambd", "alpha", "t0", "weight_decay"),
        state={"lr": 1e-2, "t0": 20.0}),  # averaging from step 21: ax is not the iterate
    "adafactor": torch_later("adafactor", "Adafactor", lambda torch, h, p: torch.optim.Adafactor(
        p, lr=h["lr"], beta2_decay=h["beta2_decay"], eps=(h["eps1"], h["eps2"]), d=h["d"],
        weight_decay=h["weight_decay"], foreach=False),
        {**_same_names("lr", "beta2_decay", "d", "weight_decay"), "eps2": ("eps", 1), "eps1": machine_eps},
        state={"lr": 1e-1}),
    "lbfgs": torch_later("lbfgs", "LBFGS", lbfgs, _same_names("lr", "tolerance_grad", "tolerance_change")),
    "yogi": optax_reference(0.05, lambda optax, h, _: optax.yogi(h["lr"], b1=h["beta1"], b2=h["beta2"],
                                                                  eps=h["eps"])),
    "adan": optax_reference(0.01, lambda optax, h, _: optax.adan(
        h["lr"], b1=h["beta1"], b2=h["beta2"], b3=h["beta3"], eps=h["eps"], eps_root=h["eps_root"],
        weight_decay=h["weight_decay"])),
    "novograd": optax_reference(0.01, lambda optax, h, _: optax.novograd(
        h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=h["eps_root"], weight_decay=h["weight_decay"])),
    "signum": optax_reference(0.01, lambda optax, h, _: optax.signum(h["lr"], beta=h["momentum"])),
    "lamb": optax_reference(0.01, lambda optax, h, _: optax.lamb(
        h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=h["eps_root"], weight_decay=h["weight_decay"])),
    "polyak_sgd": optax_reference(1.0, lambda optax, h, _: optax.polyak_sgd(
        max_learning_rate=h["lr"], scaling=h["scaling"], f_min=h["f_min"], eps=h["eps"])),
    "ademamix": optax_reference(0.01, lambda optax, h, _: optax.contrib.ademamix(
        h["lr"], b1=h["beta1"], b2=h["beta2"], b3=h["beta3"], alpha=h["alpha_mix"], eps=h["eps"],
        eps_root=h["eps_root"], weight_decay=h["weight_decay"])),
    "prodigy": Reference(
        "prodigyopt", prodigy, authors_cases(PRODIGY), traces={"d": lambda opt, p: opt.param_groups[0]["d"]},
        check=lambda t: t["d"][-1] > 10 * t["d"][0],  # the estimate really grew
        signature=lambda module: module.Prodigy,
        defaults={**ADAM_DEFAULTS, **_same_names("weight_decay", "decouple", "use_bias_correction",
                                                 "safeguard_warmup", "d0", "d_coef"),
                  "beta3": lambda params, ours: params["beta3"].default is None
                  and ours["beta3"] == math.sqrt(ours["beta2"]),
                  "growth_rate": lambda params, ours: params["growth_rate"].default == math.inf
                  and ours["growth_rate"] == sys.float_info.max}),
    "schedule_free_adamw": Reference(
        "schedulefree", schedule_free, authors_cases(SCHEDULE_FREE), shown=_x,
        traces={"gradient_point": lambda opt, p: p, "z": lambda opt, p: opt.state[p].get("z", p)},
        # x and y really differ: the test sees which one is shown
        check=lambda t: np.abs(t["points"][1:] - t["gradient_point"][1:]).max() > 1e-6,
        signature=lambda module: module.AdamWScheduleFree,
        defaults={**ADAM_DEFAULTS, **_same_names("weight_decay", "warmup_steps", "r", "weight_lr_power")}),
}


def hyperparameters(name, fn, overrides) -> dict:
    opt = optimizers.get(name)
    return {**opt.hyperparameters(overrides), **opt.for_function(fn)}


# --- The comparisons --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, fn_name, overrides, starts", [
    pytest.param(name, *case, id=f"{name}-{case[0]}-{i}") for name, ref in REFERENCES.items()
    for i, case in enumerate(ref.cases)])
def test_matches_reference_step_for_step(name, fn_name, overrides, starts):
    """Every start's path, and the traces the reference keeps (Prodigy's d, schedule-free's y and z), run in one
    batch with nothing stopped (the box ×1e9), equal the reference's."""
    ref, opt, fn = REFERENCES[name], optimizers.get(name), functions.get(fn_name)
    starts = [fn.start if start is None else start for start in starts]
    hyper = hyperparameters(name, fn, overrides)
    ours = run_many(fn, [Member(opt, np.array(starts, float), hyper, record_state=True)], STEPS,
                    escape_factor=1e9)[0]
    for i, start in enumerate(starts):
        theirs, _ = reference_run(name, fn_name, start, hyper)
        assert_close(ours.points[i], theirs["points"], (start, "points"))
        for key in ref.traces:
            assert_close(np.reshape(ours.state[key][i], theirs[key].shape), theirs[key], (start, key))
        assert np.abs(theirs["points"][-1] - theirs["points"][0]).max() > ref.moves, start
        assert ref.check is None or ref.check(theirs), start


@pytest.mark.parametrize("name", [name for name, ref in REFERENCES.items() if ref.state])
def test_state_is_reference_state(name, drive):
    """Our state fields are the reference's state keys (plus our step counter, where torch has none) and hold the
    same numbers after 60 steps."""
    ref, opt = REFERENCES[name], optimizers.get(name)
    fn_name, overrides = ref.state
    fn = functions.get(fn_name)
    hyper = hyperparameters(name, fn, overrides)
    _, theirs = reference_run(name, fn_name, fn.start, hyper)
    _, ours = drive(opt, fn, [fn.start], STEPS, hyper)
    assert set(theirs) <= set(ours._fields) <= set(theirs) | ref.ours_only
    for key, value in theirs.items():
        expected = _numpy(value)
        np.testing.assert_allclose(np.reshape(getattr(ours, key), expected.shape), expected, rtol=1e-10,
                                   atol=1e-300, err_msg=key)


@pytest.mark.parametrize("name", [name for name, ref in REFERENCES.items() if ref.defaults])
def test_defaults_are_the_references(name):
    ref, ours = REFERENCES[name], optimizers.get(name).defaults
    params = inspect.signature(ref.signature(package(ref.package))).parameters
    assert set(ref.defaults) == set(ours), name
    for key, theirs in ref.defaults.items():
        if callable(theirs):
            assert theirs(params, ours), key
        else:
            default = params[theirs].default if isinstance(theirs, str) else params[theirs[0]].default[theirs[1]]
            assert default == ours[key], key


# --- What one optimizer's reference does that the table does not say ------------------------------------------------


def test_asgd_average_is_the_iterate_until_t0():
    """ASGD's average ax is the iterate until step t0 (10⁶ by default), and then a real average."""
    opt, fn = optimizers.get("asgd"), functions.get("beale")
    runs = run_batch(opt, fn, [fn.start, fn.start], STEPS, {**opt.defaults, "lr": 1e-2, "t0": np.array([1e6, 20.0])},
                     record_state=True)
    np.testing.assert_array_equal(runs.state["ax"][0, 1:], runs.points[0, 1:])
    np.testing.assert_array_equal(runs.state["ax"][1, 1:22], runs.points[1, 1:22])
    assert np.abs(runs.state["ax"][1, -1] - runs.points[1, -1]).max() > 1e-3
    assert runs.state["eta"].shape == runs.state["mu"].shape == (2, STEPS + 1, 1)


def lbfgs_state(state, drive_state, row=0):
    """torch's L-BFGS state (lists of pairs) next to ours (a count, the newest pair and the closed form's numbers)."""
    used = int(drive_state.num_old[row, 0])
    assert len(state.get("old_dirs", [])) == used
    memory = drive_state.memory
    pairs = {
        "func_evals": (drive_state.func_evals, state["func_evals"]),
        "n_iter": (drive_state.n_iter[row, 0], state["n_iter"]),
    }
    if used:  # the newest pair is torch's last one
        pairs["old_dirs"] = memory.y[row], _numpy(state["old_dirs"][-1])
        pairs["old_stps"] = memory.s[row], _numpy(state["old_stps"][-1])
        pairs["ro"] = memory.ro[row, 0], float(state["ro"][-1])
    for key in ("d", "t", "H_diag", "prev_flat_grad"):
        if key in state:  # a run that never iterated has none of them
            expected = _numpy(state[key])
            pairs[key] = np.reshape(getattr(drive_state, key)[row], expected.shape), expected
    return pairs


def assert_close_to_scale(mine, theirs, key, rel=1e-8):
    """Equal up to ``rel`` times the array's largest entry. Near a minimum the gradient is a small difference of
    large terms, so its relative rounding grows (|g| ~ 1e-7 leaves it about 9 correct digits, in torch's autograd
    and ours alike); the memory holds differences of such gradients (y = g − g_prev) and coefficients computed
    from them. The positions themselves are compared to 1e-12."""
    mine, theirs = np.asarray(mine, float), np.asarray(theirs, float)
    assert mine.shape == theirs.shape, key
    assert np.abs(mine - theirs).max(initial=0) <= rel * np.abs(theirs).max(initial=0), key


def test_lbfgs_state_is_torch_state(drive):
    opt, fn = optimizers.get("lbfgs"), functions.get("beale")
    hyper = {**opt.defaults, "lr": 1.0}
    _, theirs = reference_run("lbfgs", "beale", fn.start, hyper)
    _, ours = drive(opt, fn, [fn.start], STEPS, hyper)
    # torch's keys but prev_loss, which only a check that max_iter = 1 never reaches reads, and al, the two-loop's
    # scratch coefficients; num_old is len(old_dirs), and memory holds old_dirs, old_stps and ro in closed form
    assert set(ours._fields) == set(theirs) - {"prev_loss", "al", "old_dirs", "old_stps", "ro"} | {"num_old", "memory"}
    assert 2 <= ours.num_old[0, 0] < STEPS  # pairs were kept, and some were skipped (yᵀs ≤ 1e-10)
    for key, (mine, torch_value) in lbfgs_state(theirs, ours).items():
        assert_close_to_scale(mine, torch_value, key)


def test_lbfgs_takes_each_branch_per_run(drive):
    """One batch whose runs take torch's branches at different steps (the early return at tolerance_grad, the
    skipped memory update, the first step's min(1, 1/‖g‖₁)), each equal to torch alone, state included."""
    opt, fn = optimizers.get("lbfgs"), functions.get("himmelblau")
    starts = [(3.0 + 1e-3, 2.0 - 1e-3), (0.0, 0.0), (-0.27, -0.9), (3.0, 2.0), (-2.8, 3.1)]
    lrs = np.array([[1.0], [0.1], [1.0], [1.0], [0.5]])
    hyper = {**opt.defaults, "lr": lrs, "tolerance_grad": np.array([[1e-4], [1e-7], [1e-7], [1e-7], [1e-7]])}
    points, state = drive(opt, fn, starts, STEPS, hyper)
    for i, start in enumerate(starts):
        alone = {key: (value[i, 0] if np.ndim(value) else value) for key, value in hyper.items()}
        theirs, torch_state = reference_run("lbfgs", "himmelblau", start, alone)
        assert relative_error(points[:, i], theirs["points"]) <= TOLERANCE, start
        for key, (mine, torch_value) in lbfgs_state(torch_state, state, i).items():
            assert_close_to_scale(mine, torch_value, (start, key))
    iterations = state.n_iter[:, 0]
    assert iterations[3] == 0  # started at the minimizer, where g = 0: every step returned early
    assert 0 < iterations[0] < STEPS  # reached max|g| ≤ 1e-4, then returned early
    assert iterations[2] == STEPS
    moved = (np.diff(points, axis=0) != 0).any(axis=2).sum(axis=0)
    assert moved[2] < iterations[2]  # iterations whose gᵀd > −tolerance_change: d and t kept, no move
    assert (state.num_old[:, 0] < np.maximum(iterations - 1, 0)).any()  # a pair was skipped


@pytest.mark.parametrize("lrs", [(0.01, 0.03, 0.3), (0.01, 0.3, 1.0)])
def test_lbfgs_full_memory_drops_its_oldest_pair_per_run(drive, lrs):
    """Past HISTORY_SIZE pairs a run drops its oldest pair, whatever the other runs' memories hold: batches where
    most runs' memories are full and where few are, each run equal to torch alone, memory included."""
    opt, fn = optimizers.get("lbfgs"), functions.get("himmelblau")
    steps = HISTORY_SIZE + 40
    hyper = {**opt.defaults, "lr": np.array(lrs)[:, None]}
    points, state = drive(opt, fn, [fn.start] * len(lrs), steps, hyper)
    full = state.num_old[:, 0] == HISTORY_SIZE
    assert full.any() and not full.all()
    for i, lr in enumerate(lrs):
        theirs, torch_state = reference_run("lbfgs", "himmelblau", fn.start, {**opt.defaults, "lr": lr}, steps)
        assert relative_error(points[:, i], theirs["points"]) <= TOLERANCE, lr
        for key, (mine, torch_value) in lbfgs_state(torch_state, state, i).items():
            assert_close_to_scale(mine, torch_value, (lr, key))


@pytest.mark.parametrize("start", [(-0.27, -0.9), (3.0, 2.0)])
def test_lbfgs_evaluates_once_per_step(start):
    """With max_iter = 1 torch evaluates the closure once per step() call, moving or returning early (at
    Himmelblau's minimizer (3, 2)); our func_evals counts the same, one per engine step. Its memory is torch's
    default history."""
    torch = package("torch")
    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = lbfgs(torch, optimizers.get("lbfgs").defaults, [param])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = torch_objective("himmelblau")(param[0], param[1])
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)
    assert len(calls) == 10 == opt.state[param]["func_evals"]
    assert opt.state[param]["n_iter"] == (0 if start == (3.0, 2.0) else 10)
    params = inspect.signature(torch.optim.LBFGS).parameters
    assert params["history_size"].default == HISTORY_SIZE and params["max_iter"].default == 20


def test_lamb_trust_ratio_is_one_at_the_origin():
    """At θ = 0 optax sets the trust ratio to 1: the first step from the origin is Adam's, lr·m̂/(√v̂ + ε)."""
    fn = functions.get("rosenbrock")
    hyper = hyperparameters("lamb", fn, {"lr": 0.01})
    ours = run_batch(optimizers.get("lamb"), fn, [(0.0, 0.0)], 1, hyper).points[0]
    theirs, _ = reference_run("lamb", "rosenbrock", (0.0, 0.0), hyper, steps=1)
    g = fn.gradient(np.zeros((1, 2)))[0]
    adam_step = -hyper["lr"] * g / (np.abs(g) + hyper["eps"])  # m̂ = g, v̂ = g² at the first step
    np.testing.assert_allclose(ours[1], adam_step, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(theirs["points"][1], adam_step, rtol=1e-15, atol=1e-300)


def test_prodigy_at_a_stationary_start_waits_as_prodigyopt_does():
    """At Himmelblau's minimizer (3, 2) the gradient is exactly 0: prodigyopt returns before every step, leaving
    θ, d and k alone. A run beside it in the same batch is not held back."""
    opt, fn = optimizers.get("prodigy"), functions.get("himmelblau")
    runs = run_many(fn, [Member(opt, np.array([(3.0, 2.0), fn.start]), opt.defaults, record_state=True)], 5)[0]
    theirs, _ = reference_run("prodigy", "himmelblau", (3.0, 2.0), opt.defaults, steps=5)
    assert theirs["d"][-1] == opt.defaults["d0"]
    np.testing.assert_array_equal(runs.points[0, -1], theirs["points"][-1])
    assert runs.state["k"][0, -1, 0] == 0 and runs.state["d"][0, -1, 0] == theirs["d"][-1]
    assert runs.state["k"][1, -1, 0] == 5 and runs.state["d"][1, -1, 0] > theirs["d"][-1]
