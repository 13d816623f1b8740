"""The optimizer catalogue: first steps against hand arithmetic, per-run hyperparameters, states, code, defaults,
hyperparameter checks.

Every reference below is written out in plain Python floats from the documented pseudo-code (torch.optim's, or
optax's for Lion and AdaBelief), coordinate by coordinate, without calling the optimizer code under test.
The objective is the quadratic f = x² + 10 y², whose gradient is (2x, 20y) and Hessian diag(2, 20).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from gallery_builder import fingerprints, optimizers
from gallery_builder.engine import CONVERGED, DIVERGED, STALLED, run_batch
from gallery_builder.errors import UserError
from gallery_builder.functions import CATALOGUE as FUNCTIONS
from gallery_builder.optimizers import RANGES
from gallery_builder.functions import TestFunction


def _quadratic(x, y):
    return x**2 + 10 * y**2


QUADRATIC = TestFunction(
    name="quadratic", title="x² + 10y²", formula=_quadratic, latex="x^2 + 10 y^2",
    domain=((-5.0, 5.0), (-5.0, 5.0)), minimizers=((0.0, 0.0),), minimum=0.0, start=(1.5, -0.5),
    bounded_below=True, hard="",
)
START = (1.5, -0.5)
ORDER = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "amsgrad", "adamw", "adamax",
         "nadam", "radam", "lion", "adabelief", "newton"]
ALL = set(ORDER)


def grad(x, y):
    return [2.0 * x, 20.0 * y]


def ours(name, steps, **overrides):
    opt = optimizers.get(name)
    runs = run_batch(opt, QUADRATIC, [START], steps, opt.hyperparameters(overrides))
    return runs.points[0]


def check(name, expected, rtol=1e-13, **overrides):
    expected = np.array([START] + [list(p) for p in expected])
    got = ours(name, len(expected) - 1, **overrides)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-15)


# --- Hand references, one per optimizer --------------------------------------------------------------------------


def hand_momentum(steps, lr, momentum, nesterov):
    x = list(START)
    buffer = [0.0, 0.0]
    path = []
    for t in range(1, steps + 1):
        g = grad(*x)
        for i in range(2):
            buffer[i] = g[i] if t == 1 else momentum * buffer[i] + g[i]  # torch: b_1 = g_1
            direction = g[i] + momentum * buffer[i] if nesterov else buffer[i]
            x[i] = x[i] - lr * direction
        path.append(tuple(x))
    return path


def hand_adagrad(steps, lr, eps):
    x, s, path = list(START), [0.0, 0.0], []
    for _ in range(steps):
        g = grad(*x)
        for i in range(2):
            s[i] = s[i] + g[i] * g[i]
            x[i] = x[i] - lr * g[i] / (math.sqrt(s[i]) + eps)
        path.append(tuple(x))
    return path


def hand_rmsprop(steps, lr, alpha, eps, momentum):
    x, v, b, path = list(START), [0.0, 0.0], [0.0, 0.0], []
    for _ in range(steps):
        g = grad(*x)
        for i in range(2):
            v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i]
            b[i] = momentum * b[i] + g[i] / (math.sqrt(v[i]) + eps)  # eps after the square root
            x[i] = x[i] - lr * b[i]
        path.append(tuple(x))
    return path


def hand_adadelta(steps, lr, rho, eps):
    x, v, u, path = list(START), [0.0, 0.0], [0.0, 0.0], []
    for _ in range(steps):
        g = grad(*x)
        for i in range(2):
            v[i] = rho * v[i] + (1 - rho) * g[i] * g[i]
            delta = math.sqrt(u[i] + eps) / math.sqrt(v[i] + eps) * g[i]
            u[i] = rho * u[i] + (1 - rho) * delta * delta
            x[i] = x[i] - lr * delta
        path.append(tuple(x))
    return path


def hand_adam(steps, lr, beta1, beta2, eps, weight_decay=0.0, amsgrad=False):
    x, m, v, v_max, path = list(START), [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], []
    for t in range(1, steps + 1):
        g = grad(*x)
        for i in range(2):
            x[i] = x[i] - lr * weight_decay * x[i]  # AdamW: decoupled, on θ_{t-1}
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            v_max[i] = max(v_max[i], v[i])
            m_hat = m[i] / (1 - beta1**t)  # local: never written back into m
            v_hat = (v_max[i] if amsgrad else v[i]) / (1 - beta2**t)
            x[i] = x[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
        path.append(tuple(x))
    return path


def hand_adamax(steps, lr, beta1, beta2, eps):
    x, m, u, path = list(START), [0.0, 0.0], [0.0, 0.0], []
    for t in range(1, steps + 1):
        g = grad(*x)
        for i in range(2):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            u[i] = max(beta2 * u[i], abs(g[i]) + eps)
            x[i] = x[i] - lr / (1 - beta1**t) * m[i] / u[i]
        path.append(tuple(x))
    return path


def hand_nadam(steps, lr, beta1, beta2, eps, momentum_decay):
    x, m, v, path = list(START), [0.0, 0.0], [0.0, 0.0], []
    product = 1.0
    for t in range(1, steps + 1):
        g = grad(*x)
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        product = product * mu_t
        for i in range(2):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            m_hat = mu_next * m[i] / (1 - product * mu_next) + (1 - mu_t) * g[i] / (1 - product)
            v_hat = v[i] / (1 - beta2**t)
            x[i] = x[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
        path.append(tuple(x))
    return path


def hand_radam(steps, lr, beta1, beta2, eps):
    x, m, v, path, rectified = list(START), [0.0, 0.0], [0.0, 0.0], [], []
    rho_inf = 2 / (1 - beta2) - 1
    for t in range(1, steps + 1):
        g = grad(*x)
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        rectified.append(rho_t > 5)
        for i in range(2):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            m_hat = m[i] / (1 - beta1**t)
            if rho_t > 5:
                r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                x[i] = x[i] - lr * m_hat * r * math.sqrt(1 - beta2**t) / (math.sqrt(v[i]) + eps)
            else:
                x[i] = x[i] - lr * m_hat
        path.append(tuple(x))
    return path, rectified


def sign(value):
    return (value > 0) - (value < 0)


def hand_lion(steps, lr, beta1, beta2, weight_decay):
    x, m, path = list(START), [0.0, 0.0], []
    for _ in range(steps):
        g = grad(*x)
        for i in range(2):
            c = (1 - beta1) * g[i] + beta1 * m[i]
            x[i] = x[i] - lr * (sign(c) + weight_decay * x[i])  # decay added, then × lr (optax)
            m[i] = beta2 * m[i] + (1 - beta2) * g[i]
        path.append(tuple(x))
    return path


def hand_adabelief(steps, lr, beta1, beta2, eps, eps_root):
    x, m, s, path = list(START), [0.0, 0.0], [0.0, 0.0], []
    for t in range(1, steps + 1):
        g = grad(*x)
        for i in range(2):
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            error = g[i] - m[i]  # the UPDATED m (optax)
            s[i] = beta2 * s[i] + (1 - beta2) * error * error + eps_root  # eps_root stored every step
            m_hat = m[i] / (1 - beta1**t)
            s_hat = s[i] / (1 - beta2**t)
            x[i] = x[i] - lr * m_hat / (math.sqrt(s_hat) + eps)
        path.append(tuple(x))
    return path


# --- First steps ------------------------------------------------------------------------------------------------


def test_catalogue_is_complete():
    # these, in this order (families added later may add more)
    assert [n for n in optimizers.CATALOGUE if n in ALL] == ORDER
    for name, opt in optimizers.CATALOGUE.items():
        assert opt.name == name and optimizers.get(name) is opt
    assert [n for n in ORDER if optimizers.get(n).uses_hessian] == ["newton"]


def test_sgd_by_hand():
    # g = (2x, 20y); θ ← θ − 0.01·g from (1.5, −0.5)
    # step 1: g = (3, −10)         → (1.5 − 0.03, −0.5 + 0.1)       = (1.47, −0.4)
    # step 2: g = (2.94, −8)       → (1.47 − 0.0294, −0.4 + 0.08)   = (1.4406, −0.32)
    # step 3: g = (2.8812, −6.4)   → (1.4406 − 0.028812, −0.32 + 0.064) = (1.411788, −0.256)
    check("sgd", [(1.47, -0.4), (1.4406, -0.32), (1.411788, -0.256)], lr=0.01)


def test_sgd_default_lr_by_hand():
    check("sgd", [(1.5 - 0.003, -0.5 + 0.01)])  # lr = 1e-3


def test_momentum_by_hand():
    # b1 = g1 = (3, −10)                         → θ1 = (1.47, −0.4)
    # g2 = (2.94, −8),  b2 = 0.9·b1 + g2 = (5.64, −17)    → θ2 = (1.4136, −0.23)
    # g3 = (2.8272, −4.6), b3 = 0.9·b2 + g3 = (7.9032, −19.9) → θ3 = (1.334568, −0.031)
    check("momentum", [(1.47, -0.4), (1.4136, -0.23), (1.334568, -0.031)], lr=0.01, momentum=0.9)
    check("momentum", hand_momentum(3, 0.01, 0.9, nesterov=False), lr=0.01)


def test_nesterov_by_hand():
    # step 1: b1 = g1 = (3, −10); θ1 = θ0 − 0.01·(g1 + 0.9·b1) = (1.5 − 0.057, −0.5 + 0.19) = (1.443, −0.31)
    expected = hand_momentum(3, 0.01, 0.9, nesterov=True)
    assert expected[0] == pytest.approx((1.443, -0.31), rel=1e-15)
    check("nesterov", expected, lr=0.01, momentum=0.9)
    # the look-ahead correction makes it differ from plain momentum from step 1 on
    assert not np.allclose(ours("nesterov", 1, lr=0.01)[1], ours("momentum", 1, lr=0.01)[1])


def test_adagrad_by_hand():
    # step 1: s = g², so each coordinate moves by lr·g/(|g| + 1e-10) ≈ lr
    expected = hand_adagrad(3, lr=0.1, eps=1e-10)
    assert expected[0] == pytest.approx((1.4, -0.4), rel=1e-9)
    check("adagrad", expected, lr=0.1)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_by_hand(momentum):
    expected = hand_rmsprop(3, lr=0.01, alpha=0.99, eps=1e-8, momentum=momentum)
    # step 1: v = 0.01·g², step = lr·g/(0.1·|g| + eps) ≈ 10·lr per coordinate
    assert expected[0] == pytest.approx((1.4, -0.4), rel=1e-7)
    check("rmsprop", expected, lr=0.01, momentum=momentum)


def test_rmsprop_eps_is_after_the_square_root():
    # with a huge eps the two placements differ a lot: after the root the step is lr·g/(√v + eps)
    eps = 1.0
    expected = hand_rmsprop(1, lr=0.01, alpha=0.99, eps=eps, momentum=0.0)
    # by hand: x: 3/(0.3 + 1) = 2.3077, y: −10/(1 + 1) = −5
    assert expected[0] == pytest.approx((1.5 - 0.01 * 3 / 1.3, -0.5 + 0.01 * 10 / 2.0), rel=1e-14)
    check("rmsprop", expected, lr=0.01, eps=eps)


def test_adadelta_by_hand():
    expected = hand_adadelta(3, lr=1.0, rho=0.9, eps=1e-6)
    # step 1: v = 0.1 g², delta = √(1e-6)/√(0.1g² + 1e-6)·g ≈ 1e-3·√10 ≈ 3.16e-3 per coordinate
    assert expected[0][0] == pytest.approx(1.5 - math.sqrt(1e-6) / math.sqrt(0.9 + 1e-6) * 3.0, rel=1e-15)
    check("adadelta", expected)


def test_adam_by_hand():
    expected = hand_adam(3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    # step 1: m̂ = g, v̂ = g², so θ1 = θ0 − lr·g/(|g| + eps) ≈ θ0 − 0.01·sign(g)
    assert expected[0] == pytest.approx((1.49, -0.49), rel=1e-8)
    check("adam", expected, lr=0.01)


def test_adam_does_not_write_the_bias_correction_into_its_state():
    # the buggy variant stores m̂ and v̂ back into m and v; it separates from torch's Adam at step 2
    def buggy(steps, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        x, m, v, path = list(START), [0.0, 0.0], [0.0, 0.0], []
        for t in range(1, steps + 1):
            g = grad(*x)
            for i in range(2):
                m[i] = (beta1 * m[i] + (1 - beta1) * g[i]) / (1 - beta1**t)
                v[i] = (beta2 * v[i] + (1 - beta2) * g[i] * g[i]) / (1 - beta2**t)
                x[i] = x[i] - lr * m[i] / (math.sqrt(v[i]) + eps)
            path.append(tuple(x))
        return path

    got = ours("adam", 3, lr=0.01)[1:]
    np.testing.assert_allclose(got, hand_adam(3, 0.01, 0.9, 0.999, 1e-8), rtol=1e-13)
    assert np.abs(got[1:] - np.array(buggy(3)[1:])).max() > 1e-4


def test_amsgrad_by_hand():
    # with a short memory (β2 = 0.1) v falls as the gradient shrinks, so the running maximum matters from step 2:
    # y: g1 = −10, v1 = 0.9·100 = 90; g2 ≈ −8, v2 ≈ 0.1·90 + 0.9·64 = 66.6 < 90
    expected = hand_adam(3, lr=0.1, beta1=0.9, beta2=0.1, eps=1e-8, amsgrad=True)
    check("amsgrad", expected, lr=0.1, beta2=0.1)
    plain = hand_adam(3, lr=0.1, beta1=0.9, beta2=0.1, eps=1e-8)
    assert not np.allclose(expected, plain)


def test_amsgrad_default_equals_adam_while_v_grows():
    check("amsgrad", hand_adam(2, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=True), lr=0.01)


def test_adamw_by_hand():
    expected = hand_adam(3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.5)
    # step 1: θ ← θ(1 − 0.01·0.5) then the Adam step ≈ −0.01·sign(g)
    assert expected[0] == pytest.approx((1.5 * 0.995 - 0.01, -0.5 * 0.995 + 0.01), rel=1e-8)
    check("adamw", expected, lr=0.01, weight_decay=0.5)
    check("adamw", hand_adam(3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2), lr=0.01)


def test_adamax_by_hand():
    expected = hand_adamax(3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    check("adamax", expected, lr=0.01)


@pytest.mark.parametrize("momentum_decay", [4e-3, 0.5])
def test_nadam_by_hand(momentum_decay):
    expected = hand_nadam(3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=momentum_decay)
    check("nadam", expected, lr=0.01, momentum_decay=momentum_decay)


def test_nadam_momentum_schedule_by_hand():
    # t = 1, ψ = 4e-3: μ1 = 0.9·(1 − 0.5·0.96^0.004), μ2 = 0.9·(1 − 0.5·0.96^0.008)
    mu1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96**0.008)
    assert mu1 == pytest.approx(0.450073, abs=1e-6)
    # first step: m = 0.1 g, v̂ = g², m̂ = μ2·0.1g/(1 − μ1μ2) + (1 − μ1)g/(1 − μ1)
    g = 3.0
    m_hat = mu2 * 0.1 * g / (1 - mu1 * mu2) + (1 - mu1) * g / (1 - mu1)
    x1 = 1.5 - 0.01 * m_hat / (math.sqrt(0.001 * g * g / 0.001) + 1e-8)
    assert ours("nadam", 1, lr=0.01)[1, 0] == pytest.approx(x1, rel=1e-14)


def test_radam_by_hand():
    expected, rectified = hand_radam(8, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    # ρ∞ = 1999; ρ1 = 1999 − 2·0.999/0.001 = 1: the first five steps are plain momentum steps θ ← θ − lr·m̂
    assert rectified == [False] * 5 + [True] * 3
    assert expected[0] == pytest.approx((1.5 - 0.01 * 3.0, -0.5 + 0.01 * 10.0), rel=1e-14)
    check("radam", expected, rtol=1e-12, lr=0.01)


def test_lion_by_hand():
    expected = hand_lion(3, lr=0.01, beta1=0.9, beta2=0.99, weight_decay=0.1)
    # step 1: m = 0 so c = 0.1 g: θ1 = θ0 − 0.01·(sign(g) + 0.1·θ0)
    assert expected[0] == pytest.approx((1.5 - 0.01 * (1 + 0.15), -0.5 - 0.01 * (-1 - 0.05)), rel=1e-15)
    check("lion", expected, lr=0.01, weight_decay=0.1)


def test_lion_interpolates_with_b1_and_stores_with_b2():
    # on the x axis a sign flip of g after an overshoot: c uses β1, the stored momentum β2
    expected = hand_lion(6, lr=0.6, beta1=0.5, beta2=0.99, weight_decay=0.0)
    check("lion", expected, lr=0.6, beta1=0.5, weight_decay=0.0)
    swapped = hand_lion(6, lr=0.6, beta1=0.99, beta2=0.5, weight_decay=0.0)
    assert not np.allclose(expected, swapped)


@pytest.mark.parametrize("eps_root", [1e-16, 1e-2])
def test_adabelief_by_hand(eps_root):
    expected = hand_adabelief(3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-16, eps_root=eps_root)
    check("adabelief", expected, lr=0.01, eps_root=eps_root)


def test_adabelief_uses_the_updated_momentum():
    # step 1: m = 0.1g, g − m = 0.9g, ŝ = 0.81g² (+ eps_root/0.001): the step is lr/0.9 per coordinate,
    # where the old m (0) would give exactly lr
    got = ours("adabelief", 1, lr=0.01)[1]
    np.testing.assert_allclose(got, (1.5 - 0.01 / 0.9, -0.5 + 0.01 / 0.9), rtol=1e-12)


def test_newton_lands_on_the_minimum_of_a_quadratic():
    # H = diag(2, 20): H⁻¹g = (2x/2, 20y/20) = (x, y), so one full step lands on (0, 0)
    path = ours("newton", 2)
    np.testing.assert_allclose(path[1], [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(path[2], [0.0, 0.0], atol=1e-15)
    # lr = 0.5 goes half way
    np.testing.assert_allclose(ours("newton", 1, lr=0.5)[1], [0.75, -0.25], rtol=1e-15)
    # damping λ: (H + λI)⁻¹g = (2x/(2 + λ), 20y/(20 + λ))
    np.testing.assert_allclose(ours("newton", 1, damping=2.0)[1], [1.5 - 3.0 / 4.0, -0.5 + 10.0 / 22.0],
                               rtol=1e-14)


def test_newton_on_booth_and_ill_conditioned_converges_in_one_step():
    opt = optimizers.get("newton")
    for name in ("booth", "ill_conditioned"):
        fn = FUNCTIONS[name]
        runs = run_batch(opt, fn, [fn.start], 3, opt.defaults)
        np.testing.assert_allclose(runs.points[0, 1], fn.minimizers[0], atol=1e-12)
        assert runs.status[0] == CONVERGED and runs.steps_to_tolerance[0] == 1


def test_newton_lands_on_the_saddle():
    opt = optimizers.get("newton")
    fn = FUNCTIONS["saddle"]  # x² − y²: H = diag(2, −2), H⁻¹g = (x, y)
    runs = run_batch(opt, fn, [fn.start], 3, opt.defaults)
    np.testing.assert_allclose(runs.points[0, 1], [0.0, 0.0], atol=1e-15)
    assert runs.status[0] == STALLED


def test_newton_singular_hessian_is_recorded_as_divergence():
    def tilted_parabola(x, y):
        return x**2 + y  # H = [[2, 0], [0, 0]] everywhere: singular

    fn = TestFunction(name="tilted_parabola", title="", formula=tilted_parabola, latex="",
                      domain=((-2.0, 2.0), (-2.0, 2.0)), minimizers=(), minimum=None, start=(1.0, 1.0),
                      bounded_below=False, hard="")
    opt = optimizers.get("newton")
    runs = run_batch(opt, fn, [(1.0, 1.0), (0.5, -0.5)], 4, opt.defaults)  # must not raise
    assert list(runs.status) == [DIVERGED, DIVERGED]
    assert list(runs.stop_step) == [1, 1]
    assert list(runs.last) == [0, 0]
    assert np.isnan(runs.points[:, 1:]).all()
    # damping makes H + λI invertible: (2x/(2 + 1), 1/1)
    damped = run_batch(opt, fn, [(1.0, 1.0)], 1, {"lr": 1.0, "damping": 1.0})
    np.testing.assert_allclose(damped.points[0, 1], [1.0 - 2.0 / 3.0, 0.0], atol=1e-15)

    monkey = FUNCTIONS["monkey_saddle"]  # gradient and Hessian both vanish at the origin: 0/0
    runs = run_batch(opt, monkey, [(0.0, 0.0)], 3, opt.defaults)
    assert runs.status[0] == DIVERGED and runs.stop_step[0] == 1


# --- Defaults and hyperparameter checks -------------------------------------------------------------------------

DEFAULTS = {
    "sgd": {"lr": 1e-3},
    "momentum": {"lr": 1e-3, "momentum": 0.9},
    "nesterov": {"lr": 1e-3, "momentum": 0.9},
    "adagrad": {"lr": 1e-2, "eps": 1e-10, "initial_accumulator_value": 0.0},
    "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "amsgrad": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
    "adamax": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "nadam": {"lr": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 4e-3},
    "radam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "lion": {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 1e-3},
    "adabelief": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-16, "eps_root": 1e-16},
    "newton": {"lr": 1.0, "damping": 0.0},
}


def test_defaults_table():
    assert set(DEFAULTS) == ALL
    for name, expected in DEFAULTS.items():
        opt = optimizers.get(name)
        assert opt.defaults == expected, name
        assert opt.hyperparameters() == expected, name
        assert opt.hyperparameters({}) == expected, name


def test_hyperparameters_merges_and_converts():
    opt = optimizers.get("adam")
    assert opt.hyperparameters({"lr": "0.5", "beta1": 0}) == {"lr": 0.5, "beta1": 0.0, "beta2": 0.999, "eps": 1e-8}
    assert opt.defaults["lr"] == 1e-3  # the defaults are not mutated


@pytest.mark.parametrize("name, overrides, match", [
    ("adam", {"lrr": 0.1}, "lrr"),
    ("sgd", {"momentum": 0.9}, "momentum"),
    ("adam", {"lr": 0}, "lr"),
    ("adam", {"lr": -1}, "lr"),
    ("adam", {"lr": float("nan")}, "lr"),
    ("adam", {"lr": float("inf")}, "lr"),
    ("adam", {"lr": "nan"}, "lr"),
    ("adam", {"lr": "fast"}, "lr"),
    ("adam", {"lr": None}, "lr"),
    ("adam", {"beta1": 1.0}, "beta1"),
    ("adam", {"beta1": 1.5}, "beta1"),
    ("adam", {"beta1": -0.1}, "beta1"),
    ("adam", {"beta2": 1.0}, "beta2"),
    ("momentum", {"momentum": 1.0}, "momentum"),
    ("rmsprop", {"alpha": 2}, "alpha"),
    ("adadelta", {"rho": 1.0}, "rho"),
    ("adam", {"eps": -1e-8}, "eps"),
    ("adam", {"eps": float("inf")}, "eps"),
    ("adamw", {"weight_decay": -0.1}, "weight_decay"),
    ("newton", {"damping": float("nan")}, "damping"),
    ("schedule_free_adamw", {"beta1": 0.0}, "beta1"),  # eval() divides by β1
    ("prodigy", {"eps": 0.0}, "eps"),  # prodigyopt refuses eps ≤ 0 and d0 ≤ 0
    ("prodigy", {"d0": 0.0}, "d0"),
])
def test_hyperparameters_rejects_bad_input(name, overrides, match):
    with pytest.raises(UserError, match=match):
        optimizers.get(name).hyperparameters(overrides)


def test_boolean_hyperparameter_is_rejected():
    try:
        accepted = optimizers.get("adam").hyperparameters({"lr": True})
    except UserError:
        accepted = None
    assert accepted is None, accepted


def test_check_hyperparameter_boundaries():
    assert optimizers.check_hyperparameter("beta1", 0.0) == 0.0
    assert optimizers.check_hyperparameter("lr", 1e-300) == 1e-300
    assert optimizers.check_hyperparameter("eps", 0) == 0.0
    with pytest.raises(UserError):
        optimizers.check_hyperparameter("lr", 0.0)
    with pytest.raises(UserError):
        optimizers.check_hyperparameter("beta2", 1.0)


def test_unknown_optimizer_names_a_close_match():
    with pytest.raises(UserError, match="adam"):
        optimizers.get("adm")


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_optimizer_decreases_the_quadratic(name):
    """A sanity check beyond the first steps: from (1.5, −0.5), 200 steps at a sensible lr lower f."""
    lr = {"sgd": 0.02, "momentum": 0.01, "nesterov": 0.01, "adadelta": 1.0, "newton": 1.0, "lion": 0.01}.get(name, 0.05)
    path = ours(name, 200, lr=lr)
    values = QUADRATIC.values(path)
    assert np.isfinite(values).all()
    assert values[-1] < 0.2 * values[0], (name, values[-1])


# --- Every hyperparameter may vary per run ----------------------------------------------------------------------

RUNS = 6


def per_run_values(name: str, default: float) -> list:
    """RUNS valid values of one hyperparameter. Those in [0, 1) (β1, β2, momentum, ...) include values on both
    sides of torch's lerp switch, which happens at weight 1 − β = 0.5."""
    if RANGES.get(name, (0.0, math.inf))[1] == 1.0:
        return [0.3, 0.5, 0.9, 0.0, 0.6, 0.99]
    if default:
        return [default * f for f in (0.5, 1.0, 2.0, 0.25, 4.0, 1.5)]
    return [0.0, 0.1, 1.0, 0.5, 2.0, 0.01]


def per_run_hyperparameters(opt) -> list:
    """One dict of scalar hyperparameters per run; every hyperparameter varies, each in its own rotation."""
    columns = [(key, per_run_values(key, default)) for key, default in opt.defaults.items()]
    return [{key: values[(run + j) % RUNS] for j, (key, values) in enumerate(columns)} for run in range(RUNS)]


def assert_same_state(batch, alone, run):
    assert type(batch) is type(alone)
    for field, ours_, theirs in zip(getattr(batch, "_fields", range(len(batch))), batch, alone):
        if isinstance(ours_, tuple):  # a state within the state (L-BFGS's memory), or a tuple of arrays
            assert_same_state(ours_, theirs, run)
        elif np.ndim(ours_) == 0:
            assert ours_ == theirs, field
        else:  # the batch axis is where the shapes differ (L-BFGS's links have it last), else the first
            axis = next((k for k, (a, b) in enumerate(zip(np.shape(ours_), np.shape(theirs))) if a != b), 0)
            mine = np.take(ours_, run, axis=axis)
            np.testing.assert_array_equal(mine, np.reshape(theirs, mine.shape), err_msg=field)


# Rosenbrock unless the rotation about the defaults mostly diverges there: ASGD's default lr = 1e-2 is an SGD step,
# which Rosenbrock's curvature at its start does not allow.
PER_RUN_FUNCTION = {"asgd": "himmelblau"}


@pytest.mark.parametrize("name", list(optimizers.CATALOGUE))
def test_per_run_hyperparameters_equal_each_run_alone(name, drive):
    """A batch where every hyperparameter varies per run is, bit for bit, each run done alone with scalars."""
    opt, fn = optimizers.get(name), FUNCTIONS[PER_RUN_FUNCTION.get(name, "rosenbrock")]
    runs = per_run_hyperparameters(opt)
    batch_hyper = {key: np.array([[run[key]] for run in runs]) for key in opt.defaults}
    batch, batch_state = drive(opt, fn, [fn.start] * RUNS, 50, batch_hyper)
    finite = 0
    for i, hyper in enumerate(runs):
        alone, alone_state = drive(opt, fn, [fn.start], 50, hyper)
        np.testing.assert_array_equal(batch[:, i], alone[:, 0], err_msg=str(hyper))
        assert_same_state(batch_state, alone_state, i)
        finite += np.isfinite(alone[-1]).all()
    assert finite >= RUNS // 2  # the comparison is not between NaNs
    assert len({tuple(batch[-1, i]) for i in range(RUNS)}) == RUNS  # and the runs really differ


def test_radam_rectifies_per_run(drive):
    """Runs whose β2 puts ρ_t on both sides of 5 at the same step: each takes its own branch."""
    betas = [0.6, 0.9, 0.99, 0.999]  # ρ∞ = 4 for 0.6: never rectified (and (ρ∞ − 4) is 0)
    steps = 10
    references = [hand_radam(steps, lr=0.01, beta1=0.9, beta2=b, eps=1e-8) for b in betas]
    flags = np.array([rectified for _, rectified in references])  # (runs, steps)
    assert (flags.any(axis=0) & ~flags.all(axis=0)).sum() >= 3  # steps where runs disagree
    opt = optimizers.get("radam")
    hyper = {**opt.defaults, "lr": 0.01, "beta2": np.array(betas)[:, None]}
    batch, _ = drive(opt, QUADRATIC, [START] * len(betas), steps, hyper)
    for i, (expected, _) in enumerate(references):
        np.testing.assert_allclose(batch[1:, i], expected, rtol=1e-12, atol=1e-15)
        alone, _ = drive(opt, QUADRATIC, [START], steps, {**hyper, "beta2": betas[i]})
        np.testing.assert_array_equal(batch[:, i], alone[:, 0])


def test_lerp_switches_formula_per_element():
    # torch: weight < 0.5 → start + w·(end − start); otherwise end − (end − start)·(1 − w); the two round differently
    start, end = np.full((3, 1), 0.1), np.full((3, 1), 0.7)
    weight = np.array([[0.3], [0.5], [0.9]])
    expected = [0.1 + 0.3 * (0.7 - 0.1), 0.7 - (0.7 - 0.1) * (1 - 0.5), 0.7 - (0.7 - 0.1) * (1 - 0.9)]
    assert expected[0] != 0.7 - (0.7 - 0.1) * (1 - 0.3)  # the other formula would round differently here
    np.testing.assert_array_equal(optimizers.lerp(start, end, weight)[:, 0], expected)
    assert optimizers.lerp(0.1, 0.7, 0.3) == expected[0]


def test_power_is_python_pow_per_element():
    # numpy's vectorized power can differ from C's pow (which torch's scalar code uses) in the last bit
    base = np.linspace(0.01, 0.99, 400)[:, None]
    expected = np.array([[b ** 37.0] for b in base[:, 0].tolist()])
    np.testing.assert_array_equal(optimizers.power(base, 37), expected)
    exponents = np.linspace(0.0, 2.0, 400)[:, None]
    np.testing.assert_array_equal(optimizers.power(0.96, exponents), [[0.96**e] for e in exponents[:, 0].tolist()])
    assert optimizers.power(0.9, 3) == 0.9**3 and isinstance(optimizers.power(0.9, 3), float)


def test_power_of_a_read_only_array_is_the_same_at_every_step():
    """A read-only array (the engine's per-run hyperparameters) has its stretches of equal values cached by
    identity; each call still takes every element's own pow, for any exponent, and equal arrays that are not
    the same object are not confused."""
    base = np.repeat([0.9, 0.99, 0.9, 0.999], 50)[:, None]
    base.flags.writeable = False
    other = np.repeat([0.5, 0.7], 100)[:, None]
    other.flags.writeable = False
    for t in (1, 2, 37, 1000):
        np.testing.assert_array_equal(optimizers.power(base, t), [[b ** float(t)] for b in base[:, 0].tolist()])
        np.testing.assert_array_equal(optimizers.power(other, t), [[b ** float(t)] for b in other[:, 0].tolist()])
        np.testing.assert_array_equal(optimizers.power(float(t), base), [[float(t) ** b] for b in base[:, 0].tolist()])
        assert optimizers.power(base, t).shape == base.shape
        steps = np.full((7, 1), t)  # per-run step counts that moved together: one stretch
        np.testing.assert_array_equal(optimizers.power(0.999, steps), np.full((7, 1), 0.999 ** float(t)))


def test_run_batch_takes_per_run_hyperparameters():
    opt, fn = optimizers.get("nadam"), FUNCTIONS["rosenbrock"]
    beta1 = np.array([0.3, 0.6, 0.9])
    runs = run_batch(opt, fn, [fn.start] * 3, 40, {**opt.defaults, "lr": 0.01, "beta1": beta1})
    for i, value in enumerate(beta1):
        alone = run_batch(opt, fn, [fn.start], 40, {**opt.defaults, "lr": 0.01, "beta1": value})
        np.testing.assert_array_equal(runs.points[i], alone.points[0])


# --- State and code ---------------------------------------------------------------------------------------------


def test_adam_state_holds_torch_moments(drive):
    g = np.array(grad(*START))
    _, state = drive(optimizers.get("adam"), QUADRATIC, [START], 1, {"lr": 0.01, "beta1": 0.9, "beta2": 0.999,
                                                                       "eps": 1e-8})
    assert type(state).__name__ == "AdamState" and state._fields == ("step", "exp_avg", "exp_avg_sq")
    assert state.step == 1
    np.testing.assert_array_equal(state.exp_avg[0], (1 - 0.9) * g)  # m = (1 − β1)·g, never the corrected m̂ = g
    np.testing.assert_allclose(state.exp_avg_sq[0], (1 - 0.999) * g * g, rtol=1e-15)


@pytest.mark.parametrize("name, fields", [
    ("amsgrad", ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    ("adamax", ("step", "exp_avg", "exp_inf")),
    ("nadam", ("step", "mu_product", "exp_avg", "exp_avg_sq")),
    ("lion", ("count", "mu")),  # optax's ScaleByLionState
    ("adabelief", ("count", "mu", "nu")),  # optax's ScaleByBeliefState
    ("yogi", ("count", "mu", "nu")),  # optax's ScaleByAdamState, as scale_by_yogi returns it
    ("adan", ("m", "v", "n", "g", "t")),  # ScaleByAdanState
    ("novograd", ("count", "mu", "nu")),  # ScaleByNovogradState
    ("signum", ("count", "ema")),  # EmaState
    ("lamb", ("count", "mu", "nu")),  # ScaleByAdamState; the trust ratio keeps none
    ("polyak_sgd", ()),  # EmptyState
    ("ademamix", ("count", "count_m2", "m1", "m2", "nu")),  # optax.contrib's ScaleByAdemamixState
])
def test_state_fields_are_named_after_the_reference(name, fields):
    assert optimizers.get(name).transform(**optimizers.get(name).defaults).init(np.zeros((1, 2)))._fields == fields


def _leaves(state, path=""):
    """(name, value) of every array or number in a state, through the tuples it holds."""
    for key, value in zip(getattr(state, "_fields", range(len(state))), state):
        if isinstance(value, tuple):
            yield from _leaves(value, f"{path}{key}.")
        else:
            yield f"{path}{key}", value


@pytest.mark.parametrize("name", list(optimizers.CATALOGUE))
def test_update_leaves_its_input_state_untouched(name, drive):
    """A state is a value: ``update`` returns new arrays and never writes to those it was given, over enough steps
    to fill L-BFGS's memory of 100 pairs and start its third block of links, with a run at a minimizer that stops
    changing its state."""
    opt, fn = optimizers.get(name), FUNCTIONS["himmelblau"]

    def checked(transform):
        def update(grads, state, params, **extra):
            before = [(key, value, np.copy(value)) for key, value in _leaves(state)]
            result = transform.update(grads, state, params, **extra)
            for key, value, copy in before:
                np.testing.assert_array_equal(value, copy, err_msg=key)
            return result

        return transform._replace(update=update)

    watched = SimpleNamespace(transform=lambda **hyper: checked(opt.transform(**hyper)), uses_hessian=opt.uses_hessian)
    drive(watched, fn, [fn.start, (3.0, 2.0), (-0.27, -0.9)], 210, {**opt.hyperparameters(), **opt.for_function(fn)})


@pytest.mark.parametrize("name", list(optimizers.CATALOGUE))
def test_code_is_the_definition_without_the_card(name):
    opt = optimizers.get(name)
    shown, helpers = fingerprints.listing(opt), fingerprints.helpers(opt)
    assert shown.startswith(f"def {opt.factory.__name__}(")
    assert "@optimizer" not in shown and opt.summary not in shown
    assert all(note not in shown for note in opt.notes)
    for helper_name, helper in helpers.items():
        assert f"{helper_name}" in shown
        assert callable(helper) or f"\n{helper_name} =" in shown or f"\n{helper_name}:" in shown  # as assigned
    state = opt.transform(**opt.defaults).init(np.zeros((1, 2)))
    assert type(state).__name__ in helpers  # the state type is shown with the code


def test_implementation_lists_the_shared_helpers():
    opt = optimizers.get("adam")
    helpers = fingerprints.helpers(opt)
    assert list(helpers)[:1] == ["_adam"]
    assert {"AdamState", "lerp", "square_average", "power"} <= set(helpers)
    assert "def lerp(start, end, weight):" in fingerprints.listing(opt)
    assert "Transform" not in helpers  # the registry's plumbing is not part of an optimizer
    # The listing shows the code that the cell key hashes: one walker decides both.
    hashed = fingerprints.source_closure(opt.factory)
    assert all(fingerprints.code_of(h) in hashed for h in helpers.values() if callable(h))
    assert opt.module_path == "gallery_builder/optimizers/adam.py"
