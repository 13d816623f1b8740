"""The claims about measured behaviour in the explanations of Rprop, ASGD, Adafactor and L-BFGS that are not filled
in from a run at build time: one test per claim, naming the file and quoting the sentence (see test_claims)."""

from __future__ import annotations

import numpy as np
import pytest

from gallery_builder import functions, optimizers
from gallery_builder.engine import run_batch
from gallery_builder.optimizers.second_order import HISTORY_SIZE
from test_claims import claim, first_step, run


def drive_state(name, fn_name, steps, **hyper):
    """The points (steps + 1, 2) and the state after ``steps`` steps of one run from the function's start."""
    opt, fn = optimizers.get(name), functions.get(fn_name)
    transform = opt.transform(**{**opt.defaults, **hyper})
    position = np.array([fn.start], float)
    state, points = transform.init(position), [position[0]]
    for _ in range(steps):
        updates, state = transform.update(fn.gradient(position), state, position)
        position = position + updates
        points.append(position[0])
    return np.array(points), state


# --- optimizers/rprop.md -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn_name", ["rosenbrock", "himmelblau", "saddle", "goldstein_price"])
@pytest.mark.parametrize("lr", [1e-3, 0.05])
def test_rprop_first_step_is_lr_per_coordinate(fn_name, lr):
    claim("optimizers/rprop.md", "The first step has no previous gradient ($p_0 = 0$), so it moves each coordinate "
                                 "by its initial step size, `lr` clamped to [`step_size_min`, `step_size_max`]")
    opt, fn = optimizers.get("rprop"), functions.get(fn_name)
    transform, start = opt.transform(**{**opt.defaults, "lr": lr}), np.array([fn.start], float)
    updates, _ = transform.update(fn.gradient(start), transform.init(start), start)
    np.testing.assert_array_equal(updates[0], -np.sign(fn.gradient(start)[0]) * lr)  # the update itself: exactly
    np.testing.assert_allclose(np.abs(first_step("rprop", fn_name, lr)), [lr, lr], rtol=1e-12)  # the path: rounded


@pytest.mark.parametrize("lr, clamped", [(1e-7, 1e-6), (1e-9, 1e-6), (100.0, 50.0)])
def test_rprop_clamps_its_first_step(lr, clamped):
    claim("optimizers/rprop.md", "every `lr` below 10⁻⁶ moves like 10⁻⁶, and one above 50 like 50")
    np.testing.assert_allclose(np.abs(first_step("rprop", "himmelblau", lr)), [clamped, clamped], rtol=1e-9)


def test_rprop_a_hundredfold_lr_matters_little():
    claim("optimizers/rprop.md", "because `lr` is only the first step, a hundredfold change matters little")
    slow, fast = run("rprop", "saddle", 0.001), run("rprop", "saddle", 0.1)
    assert slow.status == fast.status == "escaped" and slow.stop_step <= 3 * fast.stop_step
    for fn_name in ("himmelblau", "beale", "booth"):
        slow, fast = run("rprop", fn_name, 0.001), run("rprop", fn_name, 0.1)
        assert slow.status == fast.status == "converged", fn_name
        assert max(slow.steps_to_tolerance, fast.steps_to_tolerance) <= 3 * min(slow.steps_to_tolerance,
                                                                               fast.steps_to_tolerance), fn_name


# --- optimizers/asgd.md --------------------------------------------------------------------------------------------


def test_asgd_average_is_a_copy_of_the_iterate_within_any_horizon():
    claim("optimizers/asgd.md", "Averaging starts only after step `t0` = 10⁶, so within any horizon shown here the "
                                "average is a copy of the iterate.")
    points, state = drive_state("asgd", "booth", 10_000)  # the longest horizon gallery.toml accepts
    np.testing.assert_array_equal(state.ax[0], points[-1])
    assert state.mu[0, 0] == 1.0
    opt, fn = optimizers.get("asgd"), functions.get("himmelblau")
    runs = run_batch(opt, fn, [fn.start], 300, opt.defaults, record_state=True)
    np.testing.assert_array_equal(runs.state["ax"][0, 1:], runs.points[0, 1:])


def test_asgd_average_trails_the_iterate_when_t0_is_lowered():
    claim("optimizers/asgd.md", "With `t0` lowered (say to 10), the average separates from the iterate and trails "
                                "behind it along the path")
    opt, fn = optimizers.get("asgd"), functions.get("himmelblau")
    runs = run_batch(opt, fn, [fn.start], 300, {**opt.defaults, "t0": 10.0}, record_state=True)
    ax, points = runs.state["ax"][0, 13:], runs.points[0, 13:]  # μ < 1 from step 12, so ax moves from step 13
    assert (np.abs(ax - points).max(axis=1) > 1e-6).all()
    assert (fn.values(ax) > fn.values(points)).all()  # higher up: behind on the way down


# --- optimizers/adafactor.md ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn_name", ["himmelblau", "matyas", "booth", "rosenbrock", "saddle"])
@pytest.mark.parametrize("lr", [0.01, 1.0])
def test_adafactor_step_is_capped_by_the_relative_step(fn_name, lr):
    claim("optimizers/adafactor.md", "so with $d = 1$ its RMS is at most 1 and each step's RMS is at most "
                                     "$\\alpha_t$.")
    claim("optimizers/adafactor.md", "At the default `lr = 0.01` a step is at most a hundredth of the distance to "
                                     "the origin")
    points, _ = drive_state("adafactor", fn_name, 300, lr=lr)
    steps = np.arange(1, len(points))
    rho = np.minimum(lr, 1 / np.sqrt(steps))
    alpha = np.maximum(1e-3, np.linalg.norm(points[:-1], axis=1) / np.sqrt(2)) * rho
    step_rms = np.linalg.norm(np.diff(points, axis=0), axis=1) / np.sqrt(2)
    assert (step_rms <= alpha * (1 + 1e-12)).all()
    assert (step_rms >= 0.5 * alpha).any()  # the cap is reached, not a loose bound
    if lr == 0.01:
        far = np.linalg.norm(points[:-1], axis=1) / np.sqrt(2) > 1e-3
        assert (np.linalg.norm(np.diff(points, axis=0), axis=1)[far]
                <= 0.01 * np.linalg.norm(points[:-1], axis=1)[far] * (1 + 1e-12)).all()


# --- optimizers/lbfgs.md -------------------------------------------------------------------------------------------


def test_lbfgs_skips_negative_curvature_pairs_on_the_saddle():
    claim("optimizers/lbfgs.md", "the curvature along $y$ is negative: pairs that see it are not stored")
    _, state = drive_state("lbfgs", "saddle", 15, lr=1.0)
    iterations, stored = int(state.n_iter[0, 0]), int(state.num_old[0, 0])
    assert iterations == 15 and stored < iterations - 1  # every iteration after the first offers a pair


# Beale: the 16th direction has gᵀd > −tolerance_change; torch stops there without evaluating again (and our 16th
# step does not move either).
@pytest.mark.parametrize("fn_name, lr, iterations", [("rosenbrock", 0.1, 20), ("beale", 1.0, 16)])
def test_lbfgs_one_torch_step_is_up_to_20_of_ours(fn_name, lr, iterations):
    claim("optimizers/lbfgs.md", "one `step()` call then runs up to 20 iterations and evaluates the closure up to 20 "
                                 "times, so one torch step is up to 20 of the steps drawn here (it stops early when "
                                 "it stops making progress).")
    torch = pytest.importorskip("torch")
    from test_references import torch_objective

    fn, f = functions.get(fn_name), torch_objective(fn_name)
    param = torch.tensor(fn.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([param], lr=lr)  # torch's defaults: max_iter = 20
    evaluations = []

    def closure():
        evaluations.append(1)
        opt.zero_grad()
        loss = f(param[0], param[1])
        loss.backward()
        return loss

    opt.step(closure)
    assert opt.state[param]["n_iter"] == iterations and len(evaluations) == iterations
    ours, _ = drive_state("lbfgs", fn_name, iterations, lr=lr)
    np.testing.assert_allclose(ours[-1], param.detach().numpy(), rtol=1e-12)


def _two_loop(grad, pairs, H_diag):
    """−H·g by torch's two-loop recursion over (s, y, ρ) pairs, oldest first, in Python floats."""
    q, coefficients = [-grad[0], -grad[1]], []
    for s, y, ro in reversed(pairs):
        a = ro * (s[0] * q[0] + s[1] * q[1])
        coefficients.append(a)
        q = [q[0] - a * y[0], q[1] - a * y[1]]
    r = [q[0] * H_diag, q[1] * H_diag]
    for (s, y, ro), a in zip(pairs, reversed(coefficients)):
        b = ro * (y[0] * r[0] + y[1] * r[1])
        r = [r[0] + (a - b) * s[0], r[1] + (a - b) * s[1]]
    return r


def test_lbfgs_direction_is_the_two_loop_recursion_over_the_last_100_pairs():
    """L-BFGS's closed form of H·g in 2-D against the two-loop recursion over each run's own memory, through
    several blocks of links: noisy gradients of a quadratic with a moving minimum make the runs
    skip pairs (yᵀs ≤ 1e-10) at different steps, so their memories fill, drop pairs and start blocks out of step with each other."""
    claim("optimizers/lbfgs.md", "a test checks it against the two-loop recursion to 10⁻¹² through memories that "
                                 "fill, drop pairs and skip them")
    runs, steps = 6, 3 * HISTORY_SIZE + 50
    transform = optimizers.get("lbfgs").transform(lr=0.1, tolerance_grad=1e-7, tolerance_change=1e-9)
    rng = np.random.default_rng(7)
    params = rng.standard_normal((runs, 2))
    state = transform.init(params)
    memories, worst = [[] for _ in range(runs)], 0.0
    for step in range(steps):
        centre = 3 * np.array([np.cos(0.05 * step), np.sin(0.07 * step)])  # a moving minimum: no run settles
        grads = (params - centre) * [1.0, 10.0] + rng.standard_normal((runs, 2)) * np.linspace(0, 0.3, runs)[:, None]
        before = state.memory.pushes.copy()
        updates, state = transform.update(grads, state, params)
        for i in range(runs):
            if state.memory.pushes[i] > before[i]:
                memories[i] = (memories[i] + [(state.memory.s[i], state.memory.y[i], state.memory.ro[i, 0])])[
                    -HISTORY_SIZE:]
            if memories[i] and state.n_iter[i, 0] > 1:
                expected = _two_loop(grads[i], memories[i], state.H_diag[i, 0])
                worst = max(worst, np.abs(state.d[i] - expected).max() / np.abs(expected).max())
                assert state.num_old[i, 0] == len(memories[i])
        params = params + updates
    pushes = state.memory.pushes
    assert (pushes > HISTORY_SIZE + 80).all() and (pushes > 2 * HISTORY_SIZE).any()  # two or three blocks
    assert len(set(pushes.tolist())) == runs and (pushes < steps - 1).all()  # out of step: every run skipped pairs
    assert worst <= 1e-12, worst
