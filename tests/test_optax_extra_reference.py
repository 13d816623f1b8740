"""Step-for-step equality with optax 0.2.8 for the optimizers after optax (Yogi, Adan, NovoGrad, Signum, LAMB, Polyak's
step, AdEMAMix), in float64.

jax and optax are test-only references: these tests skip where they are missing, unless REQUIRE_REFERENCES=1
(set in CI by .ci/run, which installs them).
"""

import os

import numpy as np
import pytest

from gallery_builder import functions, optimizers
from gallery_builder.engine import run_batch

if os.environ.get("REQUIRE_REFERENCES"):
    import jax
    import optax
else:
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")

jax.config.update("jax_enable_x64", True)  # before any array is made
import jax.numpy as jnp  # noqa: E402

STEPS = 60
NAMES = ("yogi", "adan", "novograd", "signum", "lamb", "polyak_sgd", "ademamix")

# our name -> optax transformation built from our hyperparameters
OPTAX = {
    "yogi": lambda h: optax.yogi(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"]),
    "adan": lambda h: optax.adan(h["lr"], b1=h["beta1"], b2=h["beta2"], b3=h["beta3"], eps=h["eps"],
                                 eps_root=h["eps_root"], weight_decay=h["weight_decay"]),
    "novograd": lambda h: optax.novograd(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"],
                                         eps_root=h["eps_root"], weight_decay=h["weight_decay"]),
    "signum": lambda h: optax.signum(h["lr"], beta=h["momentum"]),
    "lamb": lambda h: optax.lamb(h["lr"], b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=h["eps_root"],
                                 weight_decay=h["weight_decay"]),
    "polyak_sgd": lambda h: optax.polyak_sgd(max_learning_rate=h["lr"], scaling=h["scaling"], f_min=h["f_min"],
                                             eps=h["eps"]),
    "ademamix": lambda h: optax.contrib.ademamix(h["lr"], b1=h["beta1"], b2=h["beta2"], b3=h["beta3"],
                                                 alpha=h["alpha_mix"], eps=h["eps"], eps_root=h["eps_root"],
                                                 weight_decay=h["weight_decay"]),
}

# Test functions with their minimum: Polyak's step needs f* (six-hump camel's is not 0).
FUNCTIONS = ("rosenbrock", "himmelblau", "beale", "six_hump_camel")

# Learning rates that move visibly in 60 steps without leaving the domain.
LR = {"yogi": 0.05, "adan": 0.01, "novograd": 0.01, "signum": 0.01, "lamb": 0.01, "polyak_sgd": 1.0,
      "ademamix": 0.01}

CASES = [(fn, None) for fn in FUNCTIONS] + [("rosenbrock", (0.0, 0.0))]  # θ = 0 first: LAMB's trust ratio


def hyper_for(name, fn):
    opt = optimizers.get(name)
    return {**opt.defaults, **opt.for_function(fn), "lr": LR[name]}


def optax_run(name, fn_name, start, hyper):
    """optax's path (STEPS + 1, 2) and its final state, flattened to field -> value over the chain's states.

    optax gets f and ∇f from the catalogue's own autograd code, evaluated at optax's positions: some runs (Polyak's
    step on Beale) double a difference of one rounding every few steps, so a second transcription of the function,
    rounding differently, would hide what is compared here, the update rule. The functions are checked against
    hand-derived gradients in test_functions.py.
    """
    tx = OPTAX[name](hyper)
    fn = functions.get(fn_name)
    update = tx.update  # op by op, as called: jax.jit fuses operations and may round differently
    params = jnp.asarray(start, dtype=jnp.float64)
    state = tx.init(params)
    path = [np.asarray(params)]
    for _ in range(STEPS):
        value, grads = fn.value_and_grad(np.asarray(params).reshape(1, 2))
        extra = {"value": jnp.asarray(value[0])} if name == "polyak_sgd" else {}
        updates, state = update(jnp.asarray(grads[0]), state, params, **extra)
        params = optax.apply_updates(params, updates)
        path.append(np.asarray(params))
    return np.array(path), _fields(state)


def _fields(state) -> dict:
    """Every named field of the (nested) optax state."""
    found = {}
    if hasattr(state, "_fields"):
        for key in state._fields:
            value = getattr(state, key)
            if isinstance(value, tuple):
                found.update(_fields(value))
            else:
                found[key] = np.asarray(value)
    elif isinstance(state, tuple):
        for part in state:
            found.update(_fields(part))
    return found


def relative_error(ours, theirs):
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


@pytest.mark.parametrize("fn_name, start", CASES)
@pytest.mark.parametrize("name", NAMES)
def test_matches_optax_step_for_step(name, fn_name, start):
    opt, fn = optimizers.get(name), functions.get(fn_name)
    start = fn.start if start is None else start
    hyper = hyper_for(name, fn)
    ours = run_batch(opt, fn, [start], STEPS, hyper).points[0]
    theirs, _ = optax_run(name, fn_name, start, hyper)
    assert np.isfinite(ours).all()  # no run stopped: every step is compared
    assert relative_error(ours, theirs) <= 1e-12
    assert np.abs(ours[-1] - ours[0]).max() > 1e-3  # the runs really moved


@pytest.mark.parametrize("name", NAMES)
def test_state_is_optax_state(name, drive):
    """Our state fields are optax's state fields, holding the same numbers."""
    fn = functions.get("himmelblau")
    opt = optimizers.get(name)
    hyper = hyper_for(name, fn)
    _, theirs = optax_run(name, "himmelblau", fn.start, hyper)
    _, ours = drive(opt, fn, [fn.start], STEPS, hyper)
    assert set(ours._fields) == set(theirs)
    for key, expected in theirs.items():
        np.testing.assert_allclose(np.reshape(getattr(ours, key), np.shape(expected)), expected, rtol=1e-10,
                                   atol=1e-300, err_msg=key)


def test_lamb_trust_ratio_is_one_at_the_origin():
    """At θ = 0 optax sets the trust ratio to 1: the first step from the origin is Adam's, lr·m̂/(√v̂ + ε)."""
    fn = functions.get("rosenbrock")
    hyper = hyper_for("lamb", fn)
    ours = run_batch(optimizers.get("lamb"), fn, [(0.0, 0.0)], 1, hyper).points[0]
    theirs, _ = optax_run("lamb", "rosenbrock", (0.0, 0.0), hyper)
    g = fn.gradient(np.zeros((1, 2)))[0]
    adam_step = -hyper["lr"] * g / (np.abs(g) + hyper["eps"])  # m̂ = g, v̂ = g² at the first step
    np.testing.assert_allclose(ours[1], adam_step, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(theirs[1], adam_step, rtol=1e-15, atol=1e-300)
