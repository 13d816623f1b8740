"""More optimizers from optax 0.2.8: Yogi, Adan, NovoGrad, Signum, LAMB, SGD with Polyak's step, AdEMAMix.

Each follows optax's chain of transforms in its order of operations, and rounds as optax does where XLA rewrites
an operation (an array divided by a scalar is multiplied by the reciprocal), so trajectories agree with optax in
float64. One rounding is left: XLA may fuse the sum of squares in a norm into a fused multiply-add, depending on the
CPU, which moves NovoGrad's and LAMB's norms by an ulp.
Hyperparameters keep this catalogue's names (beta1 for optax's b1, ...); states keep optax's field names.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, optimizer, power

YOGI_INITIAL_ACCUMULATOR = 1e-6  # scale_by_yogi's initial_accumulator_value, which optax.yogi does not expose
MACHINE_EPS = float(np.finfo(float).eps)  # scale_by_polyak's jnp.finfo(float).eps


class YogiState(NamedTuple):  # optax's ScaleByAdamState, as scale_by_yogi returns it
    count: int
    mu: np.ndarray
    nu: np.ndarray


class AdanState(NamedTuple):  # optax's ScaleByAdanState
    m: np.ndarray
    v: np.ndarray
    n: np.ndarray
    g: np.ndarray
    t: int


class NovogradState(NamedTuple):  # optax's ScaleByNovogradState; nu is one number per run (per leaf in optax)
    count: int
    mu: np.ndarray
    nu: np.ndarray


class SignumState(NamedTuple):  # optax's EmaState
    count: int
    ema: np.ndarray


class LambState(NamedTuple):  # optax's ScaleByAdamState; the trust ratio keeps no state
    count: int
    mu: np.ndarray
    nu: np.ndarray


class PolyakState(NamedTuple):  # optax's EmptyState: the step reads only the gradient and the value
    pass


class AdemamixState(NamedTuple):  # optax.contrib's ScaleByAdemamixState
    count: int
    count_m2: int
    m1: np.ndarray
    m2: np.ndarray
    nu: np.ndarray


def update_moment(grads, moment, decay):
    """optax.tree.update_moment: ``(1 − decay)·g + decay·moment``, in that order."""
    return (1 - decay) * grads + decay * moment


def scale_by_inverse(x, scalar):
    """``x / scalar`` as optax gets it for an array divided by a scalar: XLA multiplies by the reciprocal."""
    return x * (1 / scalar)


def bias_correction(moment, decay, count):
    """optax.tree.bias_correction: ``moment / (1 − decay^count)``, rounded as optax rounds it."""
    return scale_by_inverse(moment, 1 - power(decay, count))


def norm(x):
    """The Euclidean norm of each run's 2-vector, (B, 1): jnp.linalg.norm of the one parameter leaf."""
    return np.sqrt(x[:, :1] * x[:, :1] + x[:, 1:] * x[:, 1:])  # the sum of two squares, as np.sum adds them


BETA1_AXIS = ("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99))
_NO_LR = "optax has no default learning rate; "


@optimizer(
    "yogi",
    title="Yogi",
    summary="Adam whose second moment moves additively, by at most (1 − β2)·g² per step, in the direction of g² "
    "(Adam's moves multiplicatively towards it). When gradients suddenly shrink, v forgets them slowly, so the "
    "effective step does not jump up.",
    latex=r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"v_t &= v_{t-1} - (1 - \beta_2)\, \operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} "
    r"\end{aligned}",
    pseudocode="g = grad f(theta)\nm = (1 - beta1) * g + beta1 * m\n"
    "v = v - (1 - beta2) * sign(v - g**2) * g**2\n"
    "theta = theta - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)",
    paper=Paper("Zaheer, Reddi, Sachan, Kale, Kumar", "Adaptive methods for nonconvex optimization", 2018,
                "https://papers.nips.cc/paper/8186-adaptive-methods-for-nonconvex-optimization"),
    equivalent="optax.yogi(learning_rate=1e-2, b1=0.9, b2=0.999, eps=1e-3)",
    notes=(
        "torch.optim has no Yogi; this follows optax. Both moments start at 1e-6 (scale_by_yogi's "
        "initial_accumulator_value), not at 0, and both are bias-corrected as in Adam.",
        _NO_LR + "1e-2 is the paper's recommended default, with its eps = 1e-3.",
    ),
    second_axis=BETA1_AXIS,
)
def yogi(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-3):
    def init(params):
        start = np.full_like(params, YOGI_INITIAL_ACCUMULATOR)
        return YogiState(0, start, start)

    def update(grads, state, params, **extra):
        count = state.count + 1
        mu = update_moment(grads, state.mu, beta1)
        square = grads * grads
        nu = state.nu - (1 - beta2) * np.sign(state.nu - square) * square
        step = bias_correction(mu, beta1, count) / (np.sqrt(bias_correction(nu, beta2, count)) + eps)
        return -lr * step, YogiState(count, mu, nu)

    return Transform(init, update)


@optimizer(
    "adan",
    title="Adan",
    summary="Adaptive Nesterov momentum without a look-ahead gradient: besides the moving average of gradients it "
    "keeps one of gradient differences g_t − g_{t−1}, which extrapolates where the gradient is heading, and "
    "normalizes by the moving average of the squared extrapolated gradient.",
    latex=r"\begin{aligned} d_t &= g_t - g_{t-1} \quad (d_1 = 0)\\ "
    r"m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, d_t\\ "
    r"n_t &= \beta_3 n_{t-1} + (1 - \beta_3)\,\big(g_t + (1 - \beta_2)\, d_t\big)^2\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\left(\frac{\hat m_t + (1 - \beta_2)\, \hat v_t}"
    r"{\sqrt{\hat n_t + \epsilon_{\text{root}}} + \epsilon} + \lambda\,\theta_{t-1}\right) \end{aligned}",
    pseudocode="g = grad f(theta)\nd = 0 if t == 1 else g - g_previous\n"
    "m = (1 - beta1) * g + beta1 * m\nv = (1 - beta2) * d + beta2 * v\n"
    "n = (1 - beta3) * (g + (1 - beta2) * d)**2 + beta3 * n\n"
    "m_hat, v_hat, n_hat = m / (1 - beta1**t), v / (1 - beta2**t), n / (1 - beta3**t)\n"
    "u = (m_hat + (1 - beta2) * v_hat) / (sqrt(n_hat + eps_root) + eps)\n"
    "theta = theta - lr * (u + weight_decay * theta)\ng_previous = g",
    paper=Paper("Xie, Zhou, Li, Lin, Yan",
                "Adan: adaptive Nesterov momentum algorithm for faster optimizing deep models", 2022,
                "https://arxiv.org/abs/2208.06677"),
    equivalent="optax.adan(learning_rate=1e-3, b1=0.98, b2=0.92, b3=0.99, eps=1e-8, eps_root=1e-8, "
    "weight_decay=0.0)",
    notes=(
        "torch.optim has no Adan; this follows optax, whose b1, b2, b3 are the weights kept on the old averages "
        "(the paper's β's are 1 − these: its β1 = 0.02 is b1 = 0.98).",
        "The first step has no previous gradient: the difference is 0 there.",
        "optax adds the weight decay to the update (as AdamW does) instead of the paper's proximal division by "
        "1 + λγ; with the default weight_decay = 0 the two agree.",
        _NO_LR + "1e-3 is the default of the authors' PyTorch implementation; the paper tunes it per task.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.98, 0.99)),
)
def adan(lr=1e-3, beta1=0.98, beta2=0.92, beta3=0.99, eps=1e-8, eps_root=1e-8, weight_decay=0.0):
    def init(params):
        zeros = np.zeros_like(params)
        return AdanState(zeros, zeros, zeros, zeros, 0)

    def update(grads, state, params, **extra):
        diff = np.zeros_like(grads) if state.t == 0 else grads - state.g
        m = update_moment(grads, state.m, beta1)
        v = update_moment(diff, state.v, beta2)
        extrapolated = grads + (1 - beta2) * diff
        n = update_moment(extrapolated * extrapolated, state.n, beta3)
        t = state.t + 1
        direction = bias_correction(m, beta1, t) + (1 - beta2) * bias_correction(v, beta2, t)
        step = direction / (np.sqrt(bias_correction(n, beta3, t) + eps_root) + eps) + weight_decay * params
        return -lr * step, AdanState(m, v, n, grads, t)

    return Transform(init, update)


@optimizer(
    "novograd",
    title="NovoGrad",
    summary="Momentum on normalized gradients: each gradient is divided by the square root of a moving average of "
    "its squared norm (one number per layer, here per run), then accumulated with momentum. The step length "
    "barely depends on how steep the function is.",
    latex=r"\begin{aligned} v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, \lVert g_t \rVert^2 \quad "
    r"(v_1 = \lVert g_1 \rVert^2)\\ "
    r"m_t &= \beta_1 m_{t-1} + \frac{g_t}{\sqrt{v_t + \epsilon_{\text{root}}} + \epsilon} + \lambda\,\theta_{t-1} "
    r"\quad (m_0 = 0)\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, m_t \end{aligned}",
    pseudocode="g = grad f(theta)\nv = |g|**2 if t == 1 else (1 - beta2) * |g|**2 + beta2 * v\n"
    "u = g / (sqrt(v + eps_root) + eps) + weight_decay * theta\n"
    "m = u if t == 1 else beta1 * m + u\ntheta = theta - lr * m",
    paper=Paper("Ginsburg, Castonguay, Hrinchuk, Kuchaiev, Lavrukhin, Leary, Li, Nguyen, Zhang, Cohen",
                "Stochastic gradient methods with layer-wise adaptive moments for training of deep networks", 2019,
                "https://arxiv.org/abs/1905.11286"),
    equivalent="optax.novograd(learning_rate=1e-2, b1=0.9, b2=0.25, eps=1e-6, eps_root=0.0, weight_decay=0.0)",
    notes=(
        "torch.optim has no NovoGrad; this follows optax. The second moment is one number per parameter leaf: "
        "here the whole 2-vector, so both coordinates share one scale.",
        "The first step sets v to |g|² itself (no average), and m has no (1 − β1) factor, so on a steady slope "
        "it grows towards 1 / (1 − β1) times the normalized gradient.",
        _NO_LR + "1e-2 is our choice: the paper tunes the learning rate per task and gives no default.",
    ),
    second_axis=BETA1_AXIS,
)
def novograd(lr=1e-2, beta1=0.9, beta2=0.25, eps=1e-6, eps_root=0.0, weight_decay=0.0):
    def init(params):
        return NovogradState(0, np.zeros_like(params), np.zeros((len(params), 1)))

    def update(grads, state, params, **extra):
        count = state.count + 1
        squared_norm = norm(grads) ** 2  # optax squares jnp.linalg.norm, rounding included
        nu = squared_norm if count == 1 else update_moment(squared_norm, state.nu, beta2)
        normalized = scale_by_inverse(grads, np.sqrt(nu + eps_root) + eps) + weight_decay * params
        mu = normalized if count == 1 else beta1 * state.mu + normalized
        return -lr * mu, NovogradState(count, mu, nu)

    return Transform(init, update)


@optimizer(
    "signum",
    title="Signum",
    summary="Sign momentum: step every coordinate by exactly lr in the direction of the sign of a moving average of "
    "gradients. Like Lion without the interpolation and weight decay, it ignores gradient magnitude entirely.",
    latex=r"\begin{aligned} m_t &= \beta\, m_{t-1} + (1 - \beta)\, g_t\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \operatorname{sign}(m_t) \end{aligned}",
    pseudocode="g = grad f(theta)\nm = (1 - momentum) * g + momentum * m\ntheta = theta - lr * sign(m)",
    paper=Paper("Bernstein, Wang, Azizzadenesheli, Anandkumar",
                "signSGD: compressed optimisation for non-convex problems", 2018, "https://arxiv.org/abs/1802.04434"),
    equivalent="optax.signum(learning_rate=1e-4, beta=0.9)",
    notes=(
        "torch.optim has no Signum; this follows optax, whose moving average is not bias-corrected (the sign "
        "does not change). optax's beta is called momentum here, as in the paper.",
        _NO_LR + "1e-4 is the learning rate the paper uses for Signum on ImageNet.",
        "Since |sign(m)| = 1, every coordinate moves by exactly lr per step: Signum cannot settle closer than "
        "about lr to a minimum.",
    ),
    second_axis=("momentum", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
)
def signum(lr=1e-4, momentum=0.9):
    def init(params):
        return SignumState(0, np.zeros_like(params))

    def update(grads, state, params, **extra):
        ema = update_moment(grads, state.ema, momentum)
        return -lr * np.sign(ema), SignumState(state.count + 1, ema)

    return Transform(init, update)


@optimizer(
    "lamb",
    title="LAMB",
    summary="Adam with a per-layer trust ratio: the Adam update (plus weight decay) is rescaled so that its length "
    "is |θ|, so lr sets the step relative to the size of the weights. Here the one layer is the 2-vector, so "
    "each step moves lr·|θ|.",
    latex=r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2\\ "
    r"u_t &= \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t) + \epsilon_{\text{root}}} + \epsilon} "
    r"+ \lambda\,\theta_{t-1}\\ "
    r"r_t &= \begin{cases} \lVert \theta_{t-1} \rVert / \lVert u_t \rVert & \text{if both are non-zero}\\ "
    r"1 & \text{otherwise} \end{cases}\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, r_t\, u_t \end{aligned}",
    pseudocode="g = grad f(theta)\nm = (1 - beta1) * g + beta1 * m\nv = (1 - beta2) * g**2 + beta2 * v\n"
    "u = (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t) + eps_root) + eps) + weight_decay * theta\n"
    "r = |theta| / |u| if |theta| != 0 and |u| != 0 else 1\ntheta = theta - lr * r * u",
    paper=Paper("You, Li, Reddi, Hseu, Kumar, Bhojanapalli, Song, Demmel, Keutzer, Hsieh",
                "Large batch optimization for deep learning: training BERT in 76 minutes", 2020,
                "https://arxiv.org/abs/1904.00962"),
    equivalent="optax.lamb(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0)",
    notes=(
        "torch.optim has no LAMB; this follows optax: scale_by_adam, add_decayed_weights, scale_by_trust_ratio "
        "(no minimum norm, trust coefficient 1), then the learning rate. The whole 2-vector is one layer.",
        "At θ = 0 (or a zero update) the trust ratio is set to 1, so the step is a plain Adam step of about lr "
        "per coordinate; anywhere else its length is exactly lr·|θ|.",
        _NO_LR + "1e-3 is our choice, Adam's default: the paper tunes LAMB's rate per batch size.",
    ),
    second_axis=BETA1_AXIS,
)
def lamb(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, eps_root=0.0, weight_decay=0.0):
    def init(params):
        zeros = np.zeros_like(params)
        return LambState(0, zeros, zeros)

    def update(grads, state, params, **extra):
        count = state.count + 1
        mu = update_moment(grads, state.mu, beta1)
        nu = update_moment(grads * grads, state.nu, beta2)
        adam = bias_correction(mu, beta1, count) / (np.sqrt(bias_correction(nu, beta2, count) + eps_root) + eps)
        step = adam + weight_decay * params
        param_norm, step_norm = norm(params), norm(step)
        zero = (param_norm == 0) | (step_norm == 0)
        ratio = np.where(zero, 1.0, param_norm / np.where(zero, 1.0, step_norm))
        return -lr * (step * ratio), LambState(count, mu, nu)

    return Transform(init, update)


@optimizer(
    "polyak_sgd",
    title="SGD with Polyak's step",
    summary="Gradient descent whose step size is computed, not tuned: (f(θ) − f*) / |∇f|², the step that would "
    "reach the minimum value if f were linear, capped at lr. It needs the minimum value f*, so it only runs on "
    "functions whose minimum is known.",
    latex=r"\begin{aligned} \eta_t &= \begin{cases} 0 & \text{if } s^2 \lVert g_t \rVert^2 + \epsilon "
    r"\le \epsilon_{\text{mach}}\\ "
    r"\min\!\left(\dfrac{f(\theta_{t-1}) - f^*}{s^2 \lVert g_t \rVert^2 + \epsilon},\ \gamma\right) "
    r"& \text{otherwise} \end{cases}\\ "
    r"\theta_t &= \theta_{t-1} - \eta_t\, s\, g_t \end{aligned}",
    pseudocode="g = grad f(theta)\nu = scaling * g\nsq = |u|**2\n"
    "step = 0 if sq + eps <= machine_eps else min((f(theta) - f_min) / (sq + eps), lr)\n"
    "theta = theta - step * u",
    paper=Paper("Loizou, Vaswani, Laradji, Lacoste-Julien",
                "Stochastic Polyak step-size for SGD: an adaptive learning rate for fast convergence", 2021,
                "https://arxiv.org/abs/2002.10542"),
    equivalent="optax.polyak_sgd(max_learning_rate=1.0, scaling=1.0, f_min=f_star, eps=0.0)",
    notes=(
        "torch.optim has no Polyak step; this follows optax (variant 'sps'). The step size is Polyak's (1987) "
        "for the deterministic gradient; Loizou et al. cap it at a maximum learning rate, which is lr here.",
        "f_min is set to the function's own minimum f*: this is the information the method needs and other "
        "optimizers do not get. On a function without a minimum (the saddles) it has no cell.",
        "optax applies the scaling before computing the norm, so the step size is divided by scaling²; with the "
        "default scaling = 1 this does not matter.",
        "lr = 1.0 is optax's default max_learning_rate.",
    ),
    needs_minimum=True,
)
def polyak_sgd(lr=1.0, scaling=1.0, f_min=0.0, eps=0.0):
    def init(params):
        return PolyakState()

    def update(grads, state, params, value, **extra):
        direction = -scaling * grads  # optax's sgd(learning_rate=scaling) comes first in the chain
        squared_norm = direction[:, :1] * direction[:, :1] + direction[:, 1:] * direction[:, 1:]
        gap = np.reshape(value, (-1, 1)) - f_min
        with np.errstate(divide="ignore", invalid="ignore"):  # the discarded branch where |g| = 0
            polyak = np.minimum(gap / (squared_norm + eps), lr)
        step = np.where(squared_norm + eps <= MACHINE_EPS, 0.0, polyak)
        return step * direction, state

    return Transform(init, update)


@optimizer(
    "ademamix",
    title="AdEMAMix",
    summary="Adam with a second, much slower moving average of gradients added to the fast one: the slow average "
    "(β3 = 0.9999, a memory of about 10 000 steps) carries old gradients along, weighted by α, while the fast one "
    "reacts. The slow one is not bias-corrected, so it fades in over thousands of steps.",
    latex=r"\begin{aligned} m^{(1)}_t &= \beta_1 m^{(1)}_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"m^{(2)}_t &= \beta_3 m^{(2)}_{t-1} + (1 - \beta_3)\, g_t\\ "
    r"v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\left(\frac{m^{(1)}_t / (1 - \beta_1^t) + \alpha\, m^{(2)}_t}"
    r"{\sqrt{v_t / (1 - \beta_2^t) + \epsilon_{\text{root}}} + \epsilon} + \lambda\,\theta_{t-1}\right) "
    r"\end{aligned}",
    pseudocode="g = grad f(theta)\nm1 = (1 - beta1) * g + beta1 * m1\nm2 = (1 - beta3) * g + beta3 * m2\n"
    "v = (1 - beta2) * g**2 + beta2 * v\n"
    "u = (m1 / (1 - beta1**t) + alpha_mix * m2) / (sqrt(v / (1 - beta2**t) + eps_root) + eps)\n"
    "theta = theta - lr * (u + weight_decay * theta)",
    paper=Paper("Pagliardini, Ablin, Grangier", "The AdEMAMix optimizer: better, faster, older", 2024,
                "https://arxiv.org/abs/2409.03872"),
    equivalent="optax.contrib.ademamix(learning_rate=1e-3, b1=0.9, b2=0.999, b3=0.9999, alpha=5.0, eps=1e-8, "
    "eps_root=0.0, weight_decay=0.0)",
    notes=(
        "torch.optim has no AdEMAMix; this follows optax.contrib with constant α and β3: the paper's warm-up "
        "schedulers for both (and optax's support for them) are left out.",
        "optax's alpha is called alpha_mix here, because this catalogue's alpha is RMSprop's smoothing "
        "constant, which must lie in [0, 1).",
        _NO_LR + "1e-3 is our choice, Adam's default: the paper runs AdEMAMix at the learning rates of its "
        "AdamW baselines.",
    ),
    second_axis=BETA1_AXIS,
)
def ademamix(lr=1e-3, beta1=0.9, beta2=0.999, beta3=0.9999, alpha_mix=5.0, eps=1e-8, eps_root=0.0,
             weight_decay=0.0):
    def init(params):
        zeros = np.zeros_like(params)
        return AdemamixState(0, 0, zeros, zeros, zeros)

    def update(grads, state, params, **extra):
        m1 = update_moment(grads, state.m1, beta1)
        m2 = update_moment(grads, state.m2, beta3)
        nu = update_moment(grads * grads, state.nu, beta2)
        count = state.count + 1
        mixed = bias_correction(m1, beta1, count) + alpha_mix * m2
        step = mixed / (np.sqrt(bias_correction(nu, beta2, count) + eps_root) + eps) + weight_decay * params
        return -lr * step, AdemamixState(count, state.count_m2 + 1, m1, m2, nu)

    return Transform(init, update)
