"""Claims about measured behaviour in the explanations of Yogi, Adan, NovoGrad, Signum, LAMB, Polyak's step and
AdEMAMix that are not filled in from runs at build time: one test per claim, quoting the sentence."""

from __future__ import annotations

import math

import numpy as np

from gallery_builder import functions, optimizers, trajectory
from test_claims import claim


def lengths(points):
    return np.linalg.norm(np.diff(points, axis=0), axis=1)


def constant_gradient_steps(name, gradients, **hyper):
    """The updates (n, 2) the optimizer makes for a sequence of gradients (n, 2), at θ = 0."""
    opt = optimizers.get(name)
    transform = opt.transform(**{**opt.defaults, **hyper})
    params = np.zeros((1, 2))
    state, out = transform.init(params), []
    for g in gradients:
        update, state = transform.update(np.reshape(g, (1, 2)), state, params)
        out.append(update[0])
    return np.array(out), state


def test_yogi_forgets_large_gradients_slowly():
    claim("optimizers/yogi.md", "After 50 steps of gradient 10 followed by 2000 steps of gradient 0.1, Adam's step is "
                                "more than twice Yogi's.")
    gradients = np.array([[10.0, 10.0]] * 50 + [[0.1, 0.1]] * 2000)
    yogi, _ = constant_gradient_steps("yogi", gradients, lr=0.01)
    adam, _ = constant_gradient_steps("adam", gradients, lr=0.01)
    assert np.abs(adam[-1]).min() > 2 * np.abs(yogi[-1]).max()


def test_adan_first_step_is_adam_like():
    claim("optimizers/adan.md", "On the first step there is no previous gradient and the difference is zero, so that "
                                "step is Adam's: each coordinate moves by about `lr`.")
    for fn in ("rosenbrock", "booth", "himmelblau"):
        step = trajectory("adan", fn, steps=1, lr=0.01).points
        np.testing.assert_allclose(np.abs(step[1] - step[0]), 0.01, rtol=1e-6)


def test_novograd_first_step_and_steady_slope():
    claim("optimizers/novograd.md", "The first step sets the average to $\\lVert g_1 \\rVert^2$ itself, so the first "
                                    "normalized gradient is a unit vector and the first step has length `lr`.")
    claim("optimizers/novograd.md", "so on a steady slope the steps grow towards $\\mathrm{lr}/(1-\\beta_1) = "
                                    "10\\cdot\\mathrm{lr}$")
    steps, _ = constant_gradient_steps("novograd", [[3.0, -4.0]] * 200, lr=0.01)
    norms = np.linalg.norm(steps, axis=1)
    assert math.isclose(norms[0], 0.01, rel_tol=1e-6)
    assert np.all(np.diff(norms) > 0) and math.isclose(norms[-1], 0.1, rel_tol=1e-6)


def test_novograd_lengthens_its_steps_on_the_saddle():
    claim("optimizers/novograd.md", "whose gradient turns by 90° during the run, from along $x$ to along $y$, the "
                                    "steps lengthen from `lr` towards 10·`lr`")
    run = trajectory("novograd", "saddle", steps=300, lr=0.1)
    kept = run.points[np.isfinite(run.points).all(axis=1)]
    grads = functions.get("saddle").gradient(kept[:-1])
    assert abs(grads[0, 0]) > 100 * abs(grads[0, 1]) and abs(grads[-1, 1]) > 10 * abs(grads[-1, 0])  # x, then y
    steps = lengths(run.points)
    steps = steps[np.isfinite(steps)]
    assert math.isclose(steps[0], 0.1, rel_tol=1e-3)
    assert 0.5 < steps[-1] < 1.0 and steps[-1] > steps[len(steps) // 2] > steps[0]


def test_signum_is_lion_with_equal_betas_and_no_decay():
    claim("optimizers/signum.md", "It is [Lion](lion.md) with $\\beta_1 = \\beta_2$ and no weight decay")
    for fn in ("rosenbrock", "booth", "saddle"):
        for beta in (0.5, 0.9):
            signum = trajectory("signum", fn, steps=100, lr=0.01, momentum=beta)
            lion = trajectory("lion", fn, steps=100, lr=0.01, beta1=beta, beta2=beta, weight_decay=0.0)
            np.testing.assert_array_equal(signum.points, lion.points)


def test_ademamix_meets_a_gradient_that_turns_on_the_saddle():
    claim("optimizers/ademamix.md", "whose gradient turns by 90° during the run, from along $x$ to along $y$")
    run = trajectory("ademamix", "saddle", steps=300, lr=0.1)
    kept = run.points[np.isfinite(run.points).all(axis=1)]
    grads = functions.get("saddle").gradient(kept[:-1])
    assert abs(grads[0, 0]) > 100 * abs(grads[0, 1]) and abs(grads[-1, 1]) > 10 * abs(grads[-1, 0])


def test_signum_moves_lr_per_coordinate():
    claim("optimizers/signum.md", "in 2-D each step is a diagonal move of length $\\mathrm{lr}\\sqrt 2$")
    for fn in ("rosenbrock", "booth", "goldstein_price"):
        run = trajectory("signum", fn, steps=100, lr=0.01)
        moves = np.abs(np.diff(run.points, axis=0))
        np.testing.assert_allclose(moves, 0.01, rtol=1e-9)


def test_signum_default_covers_little():
    claim("optimizers/signum.md", "At the default `lr = 1e-4` a run covers at most 0.03 per coordinate in 300 steps")
    for fn in ("booth", "rosenbrock", "himmelblau"):
        run = trajectory("signum", fn, steps=300)
        assert np.abs(run.points[-1] - run.points[0]).max() <= 0.03 + 1e-12


def test_lamb_step_length_is_lr_times_the_distance_from_the_origin():
    claim("optimizers/lamb.md", "so that every step has length $\\mathrm{lr}\\cdot\\lVert\\theta\\rVert$")
    claim("optimizers/lamb.md", "each step removes at most the fraction `lr` of it")
    for fn, lr in (("rosenbrock", 0.01), ("matyas", 0.1), ("himmelblau", 0.05)):
        points = trajectory("lamb", fn, steps=100, lr=lr).points
        distances = np.linalg.norm(points[:-1], axis=1)
        np.testing.assert_allclose(lengths(points), lr * distances, rtol=1e-12)
        assert np.all(np.linalg.norm(points[1:], axis=1) >= (1 - lr) * distances * (1 - 1e-12))


def test_lamb_at_the_origin_takes_an_adam_step():
    claim("optimizers/lamb.md", "A run that starts at (or lands exactly on) the origin therefore takes a plain Adam "
                                "step there, moving each coordinate by about `lr`, and the next step is already "
                                "rescaled by the new, tiny $\\lVert\\theta\\rVert$.")
    booth = functions.get("booth")
    assert np.all(booth.gradient(np.zeros((1, 2))) != 0)  # both coordinates move
    points = trajectory("lamb", "booth", start=(0.0, 0.0), steps=2, lr=0.01).points
    np.testing.assert_allclose(np.abs(points[1]), 0.01, rtol=1e-6)
    assert math.isclose(lengths(points)[1], 0.01 * np.linalg.norm(points[1]), rel_tol=1e-12)


def test_polyak_with_a_wrong_minimum():
    claim("optimizers/polyak_sgd.md", "on Booth with $f^* + 1$ it ends at $f = 1$.")
    claim("optimizers/polyak_sgd.md", "on Booth with $f^* - 1$ it has not converged after 300 steps.")
    high = trajectory("polyak_sgd", "booth", steps=300, lr=1.0, f_min=1.0)
    assert math.isclose(high.values[-1], 1.0, rel_tol=1e-9)
    low = trajectory("polyak_sgd", "booth", steps=300, lr=1.0, f_min=-1.0)
    assert low.status != "converged" and low.values[-1] > 1e-6
    exact = trajectory("polyak_sgd", "booth", steps=300, lr=1.0, f_min=0.0)
    assert exact.status == "converged"  # with the true f* it does


def test_ademamix_slow_average_fills_slowly():
    claim("optimizers/ademamix.md", "after $t$ steps it holds only $1 - \\beta_3^t$ of a constant gradient, about 3 % "
                                    "after 300 steps.")
    claim("optimizers/ademamix.md", "the slow term $\\alpha\\,m^{(2)}$ catches up with the fast one only after about "
                                    "2 200 steps")
    g = np.array([0.5, -2.0])
    opt = optimizers.get("ademamix")
    transform = opt.transform(**opt.defaults)
    params = np.zeros((1, 2))
    state = transform.init(params)
    caught_up = None
    for t in range(1, 2400):
        _, state = transform.update(g[None], state, params)
        if t == 300:
            assert 0.025 < state.m2[0, 0] / g[0] < 0.035
        fast = state.m1[0] / (1 - 0.9**t)
        if caught_up is None and np.all(np.abs(opt.defaults["alpha_mix"] * state.m2[0]) >= np.abs(fast)):
            caught_up = t
    assert caught_up is not None and 2150 <= caught_up <= 2250
