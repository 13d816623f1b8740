"""Adam and its relatives, which scale a first moment of the gradient by a second: Adam, AMSGrad, AdamW, Adamax,
NAdam and RAdam after torch.optim; AdaBelief, Yogi, Adan, NovoGrad, LAMB and AdEMAMix after optax 0.2.8.

The optax ones follow optax's chain of transforms in its order of operations, and round as optax does where XLA
rewrites an operation (an array divided by a scalar is multiplied by the reciprocal), so trajectories agree with
optax in float64. One rounding is left: XLA may fuse the sum of squares in a norm into a fused multiply-add,
depending on the CPU, which moves NovoGrad's and LAMB's norms by an ulp. Their hyperparameters keep this
catalogue's names (beta1 for optax's b1, ...); their states keep optax's field names.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import OPTAX_NO_LR, Paper, Transform, lerp, optimizer, power, square_average, update_moment
from .looks import Look
from .views import Panel, adam_step, adam_views, corrected, momentum_arrow_of, previous, root_corrected, row_norm


class AdamState(NamedTuple):
    """torch's Adam, AdamW and RAdam state."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


class AMSGradState(NamedTuple):
    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray


class AdamaxState(NamedTuple):
    step: int
    exp_avg: np.ndarray
    exp_inf: np.ndarray


class NAdamState(NamedTuple):
    step: int
    mu_product: float | np.ndarray  # per run: the momentum schedule depends on beta1 and momentum_decay
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


class AdaBeliefState(NamedTuple):
    count: int
    mu: np.ndarray
    nu: np.ndarray


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


class LambState(NamedTuple):  # optax's ScaleByAdamState; the trust ratio keeps no state
    count: int
    mu: np.ndarray
    nu: np.ndarray


class AdemamixState(NamedTuple):  # optax.contrib's ScaleByAdemamixState
    count: int
    count_m2: int
    m1: np.ndarray
    m2: np.ndarray
    nu: np.ndarray


ADAM_PAPER = Paper("Kingma, Ba", "Adam: a method for stochastic optimization", 2015, "https://arxiv.org/abs/1412.6980")

_ADAM_EPS = (
    "eps is added after the bias-corrected square root, as in torch. TF/Keras' epsilon is the paper's "
    "'epsilon hat', added before the bias correction, which is equivalent to a larger eps during the first steps."
)

_ADAM_LATEX = (
    r"m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2\\ "
    r"\hat m_t &= \frac{m_t}{1 - \beta_1^t},\quad \hat v_t = \frac{v_t}{1 - \beta_2^t}\\ "
)


def _adam(lr, beta1, beta2, eps, weight_decay=None, amsgrad=False):
    def init(params):
        zeros = np.zeros_like(params)
        return AMSGradState(0, zeros, zeros, zeros) if amsgrad else AdamState(0, zeros, zeros)

    def update(grads, state, params, **extra):
        t = state.step + 1
        exp_avg = lerp(state.exp_avg, grads, 1 - beta1)
        exp_avg_sq = square_average(state.exp_avg_sq, grads, beta2)
        if amsgrad:
            second = np.maximum(state.max_exp_avg_sq, exp_avg_sq)
            new_state = AMSGradState(t, exp_avg, exp_avg_sq, second)
        else:
            second, new_state = exp_avg_sq, AdamState(t, exp_avg, exp_avg_sq)
        # The corrections divide the step, never the stored moments.
        step_size = lr / (1 - power(beta1, t))
        denominator = np.sqrt(second) / np.sqrt(1 - power(beta2, t)) + eps
        updates = -step_size * (exp_avg / denominator)
        if weight_decay is not None:
            updates = updates - lr * weight_decay * params  # decoupled: shrink θ itself, as torch's AdamW
        return updates, new_state

    return Transform(init, update)


@optimizer(
    "adam",
    title="Adam",
    summary="Momentum and RMSProp together: step along a moving average of gradients, divided per coordinate by "
    "the root of a moving average of squared gradients, with both averages corrected for starting at zero. "
    "Each coordinate's step is roughly lr regardless of the gradient's scale.",
    latex=r"\begin{aligned} " + _ADAM_LATEX + r"\theta_t &= \theta_{t-1} - \gamma\, \frac{\hat m_t}"
    r"{\sqrt{\hat v_t} + \epsilon} \end{aligned}",
    pseudocode="g = grad f(theta)\nm = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g * g\n"
    "m_hat = m / (1 - beta1 ** t)\nv_hat = v / (1 - beta2 ** t)\ntheta = theta - lr * m_hat / (sqrt(v_hat) + eps)",
    paper=ADAM_PAPER,
    equivalent="torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)",
    notes=(
        _ADAM_EPS,
        "Bias correction scales the step; the stored moments m and v stay uncorrected. Writing the corrected "
        "values back into the state compounds the correction, a bug seen in several public visualizations.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#436BCE", "solid", "hexagon"),
    views=adam_views(),
)
def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(lr, beta1, beta2, eps)


@optimizer(
    "amsgrad",
    title="AMSGrad",
    summary="Adam that never lets the denominator shrink: it divides by the running maximum of the second-moment "
    "average, which fixes Adam's non-convergence counterexample at the cost of permanently small steps after "
    "one large gradient.",
    latex=r"\begin{aligned} " + _ADAM_LATEX + r"v^{\max}_t &= \max(v^{\max}_{t-1}, v_t)\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \frac{\hat m_t}{\sqrt{v^{\max}_t / (1 - \beta_2^t)} + \epsilon} \end{aligned}",
    pseudocode="g = grad f(theta)\nm = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g * g\n"
    "v_max = max(v_max, v)\nm_hat = m / (1 - beta1 ** t)\nv_hat = v_max / (1 - beta2 ** t)\n"
    "theta = theta - lr * m_hat / (sqrt(v_hat) + eps)",
    paper=Paper("Reddi, Kale, Kumar", "On the convergence of Adam and beyond", 2018,
                "https://openreview.net/forum?id=ryQu7f-RZ"),
    equivalent="torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, amsgrad=True)",
    notes=("torch keeps the maximum of the uncorrected v and bias-corrects the maximum, as here.", _ADAM_EPS),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#A379E6", "solid", "star"),
    views=(*adam_views()[:2],
           Panel("√v̂ max", "the running maximum of v, bias-corrected: AMSGrad divides by it instead of v, so a "
                 "coordinate's step per unit of m̂ never grows back", root_corrected("max_exp_avg_sq", "beta2"),
                 log=True, fields=("max_exp_avg_sq",)),
           adam_views("max_exp_avg_sq", note=" (with the running maximum)")[2]),
)
def amsgrad(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _adam(lr, beta1, beta2, eps, amsgrad=True)


@optimizer(
    "adamw",
    title="AdamW",
    summary="Adam with decoupled weight decay: parameters shrink towards zero by lr·λ each step, separately from "
    "the adaptive gradient step. On a 2-D function this pulls the end point slightly towards the origin.",
    latex=r"\begin{aligned} " + _ADAM_LATEX + r"\theta_t &= \theta_{t-1} - \gamma\lambda\,\theta_{t-1} - "
    r"\gamma\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} \end{aligned}",
    pseudocode="g = grad f(theta)\ntheta = theta - lr * weight_decay * theta\nm = beta1 * m + (1 - beta1) * g\n"
    "v = beta2 * v + (1 - beta2) * g * g\nm_hat = m / (1 - beta1 ** t)\nv_hat = v / (1 - beta2 ** t)\n"
    "theta = theta - lr * m_hat / (sqrt(v_hat) + eps)",
    paper=Paper("Loshchilov, Hutter", "Decoupled weight decay regularization", 2019,
                "https://arxiv.org/abs/1711.05101"),
    equivalent="torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)",
    notes=(
        "The decay is multiplied by lr, as in torch (the paper's schedule multiplier is 1). Because of it the "
        "fixed point is not exactly the minimizer of f: the gap column shows the bias.",
        _ADAM_EPS,
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#1A98D0", "solid", "cross"),
    views=adam_views(note="; the decay shrinks θ by lr·λ·θ besides"),
)
def adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return _adam(lr, beta1, beta2, eps, weight_decay=weight_decay)


@optimizer(
    "adamax",
    title="Adamax",
    summary="Adam with the infinity norm: the denominator is an exponentially decaying maximum of |g| instead of "
    "a root mean square. Each coordinate's step is bounded by about lr (Kingma and Ba: |Δ| ≤ α); since u keeps "
    "the largest recent |g|, a single large gradient shrinks the steps that follow it for a while.",
    latex=r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon)\\ "
    r"\theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\, \frac{m_t}{u_t} \end{aligned}",
    pseudocode="g = grad f(theta)\nm = beta1 * m + (1 - beta1) * g\nu = max(beta2 * u, abs(g) + eps)\n"
    "theta = theta - lr / (1 - beta1 ** t) * m / u",
    paper=ADAM_PAPER,
    equivalent="torch.optim.Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8)",
    notes=("torch adds eps to |g| inside the maximum, as here; the paper has no eps.",),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#018E8F", "solid", "x"),
    views=(
        adam_views()[0],
        Panel("u", "the decayed maximum of |g| (+ ε) per coordinate: the size of the gradient Adamax divides by",
              lambda c: c.state["exp_inf"], log=True, fields=("exp_inf",)),
        Panel("lr/u", "lr / u: the step per unit of m̂ in each coordinate",
              lambda c: c.hyper["lr"] / c.state["exp_inf"], log=True, fields=("exp_inf",), first=1),
    ),
)
def adamax(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    def init(params):
        return AdamaxState(0, np.zeros_like(params), np.zeros_like(params))

    def update(grads, state, params, **extra):
        t = state.step + 1
        exp_avg = lerp(state.exp_avg, grads, 1 - beta1)
        exp_inf = np.maximum(state.exp_inf * beta2, np.abs(grads) + eps)
        return -(lr / (1 - power(beta1, t))) * (exp_avg / exp_inf), AdamaxState(t, exp_avg, exp_inf)

    return Transform(init, update)


@optimizer(
    "nadam",
    title="NAdam",
    summary="Adam with Nesterov momentum: the step mixes the momentum average (weighted by the next step's "
    "momentum coefficient) with the current gradient, the Adam analogue of Nesterov's look-ahead. torch also "
    "schedules the momentum coefficient, which starts near β1/2 and grows towards β1 very slowly.",
    latex=r"\begin{aligned} \mu_t &= \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right)\\ "
    r"m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t,\quad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2\\ "
    r"\hat m_t &= \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i} + \frac{(1 - \mu_t)\, g_t}"
    r"{1 - \prod_{i=1}^{t} \mu_i},\quad \hat v_t = \frac{v_t}{1 - \beta_2^t}\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} \end{aligned}",
    pseudocode="g = grad f(theta)\nmu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))\n"
    "mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))\nprod = prod * mu_t\n"
    "m = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g * g\n"
    "m_hat = mu_next * m / (1 - prod * mu_next) + (1 - mu_t) * g / (1 - prod)\nv_hat = v / (1 - beta2 ** t)\n"
    "theta = theta - lr * m_hat / (sqrt(v_hat) + eps)",
    paper=Paper("Dozat", "Incorporating Nesterov momentum into Adam", 2016,
                "https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ"),
    equivalent="torch.optim.NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, momentum_decay=4e-3)",
    notes=("With torch's momentum_decay ψ = 4e-3 the schedule is slow: μ_t is 0.450 at step 1, 0.472 at step 300 "
           "and 0.70 only at step 5000, so over this gallery's horizon NAdam runs with about half of β1.",
           _ADAM_EPS),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#B14994", "solid", "hourglass"),
    views=(
        Panel("m", "the average of gradients, uncorrected: NAdam's correction follows its momentum schedule and "
              "mixes in the current gradient", lambda c: c.state["exp_avg"], fields=("exp_avg",)),
        *adam_views()[1:],
    ),
)
def nadam(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
    def init(params):
        return NAdamState(0, 1.0, np.zeros_like(params), np.zeros_like(params))

    def update(grads, state, params, **extra):
        t = state.step + 1
        mu_t = beta1 * (1.0 - 0.5 * power(0.96, t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * power(0.96, (t + 1) * momentum_decay))
        mu_product = state.mu_product * mu_t
        exp_avg = lerp(state.exp_avg, grads, 1 - beta1)
        exp_avg_sq = square_average(state.exp_avg_sq, grads, beta2)
        denominator = np.sqrt(exp_avg_sq / (1 - power(beta2, t))) + eps
        updates = (-lr * (1.0 - mu_t) / (1.0 - mu_product)) * (grads / denominator) + (
            (-lr * mu_next) / (1.0 - mu_product * mu_next)
        ) * (exp_avg / denominator)
        return updates, NAdamState(t, mu_product, exp_avg, exp_avg_sq)

    return Transform(init, update)


@optimizer(
    "radam",
    title="RAdam",
    summary="Rectified Adam: in the first steps the second-moment estimate rests on too few gradients to be "
    "trusted, so RAdam takes plain momentum steps, then switches to Adam steps scaled by a rectification factor "
    "that grows towards 1. It is a built-in warm-up.",
    latex=r"\begin{aligned} " + _ADAM_LATEX + r"\rho_\infty &= \frac{2}{1 - \beta_2} - 1,\quad "
    r"\rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}\\ "
    r"r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}}\\ "
    r"\theta_t &= \begin{cases} \theta_{t-1} - \gamma\, \hat m_t\, r_t \dfrac{\sqrt{1 - \beta_2^t}}"
    r"{\sqrt{v_t} + \epsilon} & \rho_t > 5\\ \theta_{t-1} - \gamma\, \hat m_t & \text{otherwise} \end{cases}"
    r"\end{aligned}",
    pseudocode="g = grad f(theta)\nm = beta1 * m + (1 - beta1) * g\nv = beta2 * v + (1 - beta2) * g * g\n"
    "m_hat = m / (1 - beta1 ** t)\nrho_inf = 2 / (1 - beta2) - 1\n"
    "rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)\nif rho_t > 5:\n"
    "    r = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))\n"
    "    theta = theta - lr * m_hat * r * sqrt(1 - beta2 ** t) / (sqrt(v) + eps)\nelse:\n"
    "    theta = theta - lr * m_hat",
    paper=Paper("Liu, Jiang, He, Chen, Liu, Gao, Han", "On the variance of the adaptive learning rate and beyond",
                2020, "https://arxiv.org/abs/1908.03265"),
    equivalent="torch.optim.RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)",
    notes=(
        "The switch happens when ρ_t > 5, torch's threshold (the paper uses 4); with β2 = 0.999 that is from "
        "step 6 on, so the first five steps are un-normalized momentum steps of size lr·|m̂|.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#93664C", "solid", "bowtie"),
    views=adam_views(note="; RAdam multiplies it by its rectification term once that is defined, and steps "
                           "with lr·m̂ alone before"),
)
def radam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    rho_inf = np.asarray(2 / (1 - beta2) - 1)

    def init(params):
        return AdamState(0, np.zeros_like(params), np.zeros_like(params))

    def update(grads, state, params, **extra):
        t = state.step + 1
        exp_avg = lerp(state.exp_avg, grads, 1 - beta1)
        exp_avg_sq = square_average(state.exp_avg_sq, grads, beta2)
        correction2 = 1 - power(beta2, t)
        corrected = exp_avg / (1 - power(beta1, t))
        rho_t = rho_inf - 2 * t * power(beta2, t) / correction2
        # Per run: ρ_t > 5 takes the rectified Adam step, the others a plain momentum step. The ratio of the
        # others may divide by zero (ρ∞ = 4); it is discarded.
        rectified = rho_t > 5.0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        rect = power(np.where(rectified, ratio, 1.0), 0.5)
        adaptive = power(correction2, 0.5) / (np.sqrt(exp_avg_sq) + eps)
        scaled = corrected * lr
        updates = -np.where(rectified, scaled * adaptive * rect, scaled)
        return updates, AdamState(t, exp_avg, exp_avg_sq)

    return Transform(init, update)


@optimizer(
    "adabelief",
    title="AdaBelief",
    summary="Adam that divides by the spread of the gradient around its moving average (its 'belief') instead of "
    "by the gradient's magnitude: when gradients agree with the momentum, the denominator is small and steps are "
    "large; when they disagree, steps shrink.",
    latex=r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"s_t &= \beta_2 s_{t-1} + (1 - \beta_2)\,(g_t - m_t)^2 + \epsilon_{\text{root}}\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{s_t / (1 - \beta_2^t)} + \epsilon}"
    r"\end{aligned}",
    pseudocode="g = grad f(theta)\nm = beta1 * m + (1 - beta1) * g\n"
    "s = beta2 * s + (1 - beta2) * (g - m) ** 2 + eps_root\nm_hat = m / (1 - beta1 ** t)\n"
    "s_hat = s / (1 - beta2 ** t)\ntheta = theta - lr * m_hat / (sqrt(s_hat) + eps)",
    paper=Paper("Zhuang, Tang, Ding, Tatikonda, Dvornek, Papademetris, Duncan",
                "AdaBelief optimizer: adapting stepsizes by the belief in observed gradients", 2020,
                "https://arxiv.org/abs/2010.07468"),
    equivalent="optax.adabelief(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16)",
    notes=(
        "torch.optim has no AdaBelief; this follows optax: the prediction error uses the updated m_t, and "
        "eps_root is added to the stored s_t every step.",
        "optax has no default learning rate; 1e-3 is the paper's.",
        "On a straight slope, where every gradient matches the average, the denominator shrinks step after step: "
        "with the defaults a constant gradient gives steps of about 1.1·lr at step 1, 1.6·lr at step 10, 5·lr at "
        "step 100 and 9·lr at step 300, so AdaBelief speeds up along smooth, straight valleys.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#737425", "solid", "triangle-right"),
    views=adam_views(first="mu", second="nu", what="the gradient's deviation from m (its belief)"),
)
def adabelief(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-16, eps_root=1e-16):
    def init(params):
        return AdaBeliefState(0, np.zeros_like(params), np.zeros_like(params))

    def update(grads, state, params, **extra):
        t = state.count + 1
        mu = (1.0 - beta1) * grads + beta1 * state.mu
        error = grads - mu
        nu = (1.0 - beta2) * (error * error) + beta2 * state.nu + eps_root
        denominator = np.sqrt(nu / (1 - power(beta2, t))) + eps
        return -lr * ((mu / (1 - power(beta1, t))) / denominator), AdaBeliefState(t, mu, nu)

    return Transform(init, update)


YOGI_INITIAL_ACCUMULATOR = 1e-6  # scale_by_yogi's initial_accumulator_value, which optax.yogi does not expose


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
        OPTAX_NO_LR + "1e-2 is the paper's recommended default, with its eps = 1e-3.",
    ),
    second_axis=BETA1_AXIS,
    look=Look("#018E8F", "dash", "pentagon"),
    views=adam_views(first="mu", second="nu", what="gradients, moved towards g² by at most (1 − β₂)·g² per step"),
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
        OPTAX_NO_LR + "1e-3 is the default of the authors' PyTorch implementation; the paper tunes it per task.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.98, 0.99)),
    look=Look("#A379E6", "dash", "hexagon"),
    views=(
        Panel("m̂", "the bias-corrected average of gradients, m / (1 − β₁ᵗ): the main part of the direction",
              corrected("m", "beta1"), fields=("m",)),
        Panel("v̂", "the bias-corrected average of gradient differences g − g_prev: where the gradient is heading; "
              "the step adds (1 − β₂) times it to m̂", corrected("v", "beta2"), fields=("v",)),
        Panel("√n̂", "the bias-corrected root mean square of the extrapolated gradient g + (1 − β₂)(g − g_prev), "
              "which the step divides by", root_corrected("n", "beta3"), log=True, fields=("n",)),
        Panel("lr/(√n̂+ε)", "lr / (√n̂ + ε): the step per unit of direction in each coordinate",
              adam_step("n", "beta3"), log=True, fields=("n",), first=1),
    ),
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
        OPTAX_NO_LR + "1e-2 is our choice: the paper tunes the learning rate per task and gives no default.",
    ),
    second_axis=BETA1_AXIS,
    look=Look("#38A071", "dash", "star"),
    views=(
        momentum_arrow_of("mu", "−lr·m", "−lr times m, the momentum of normalized gradients: exactly the step it "
                           "just took"),
        Panel("v", "the moving average of the squared gradient norm ‖g‖², one number for the whole vector (the "
              "only layer here): the gradient's size, which every step divides by", lambda c: c.state["nu"],
              log=True, fields=("nu",), coordinates=("",)),
        Panel("lr/(√v+ε)", "lr / (√v + ε): the step per unit of gradient, the same for both coordinates",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["nu"] + c.hyper["eps_root"]) + c.hyper["eps"]), log=True,
              fields=("nu",), coordinates=("",), first=1),
    ),
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


def _lamb_trust(c):
    """LAMB's trust ratio ‖θ‖ / ‖u‖ of update t (at index t): θ before the step, u from the state after it."""
    hyper = c.hyper
    m = corrected("mu", "beta1")(c)
    v = c.state["nu"] / (1 - hyper["beta2"] ** c.t)
    before = previous(c.points)
    u = m / (np.sqrt(v + hyper["eps_root"]) + hyper["eps"]) + hyper["weight_decay"] * before
    theta, size = row_norm(before), row_norm(u)
    return np.where((theta == 0) | (size == 0), 1.0, theta / size)


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
        OPTAX_NO_LR + "1e-3 is our choice, Adam's default: the paper tunes LAMB's rate per batch size.",
    ),
    second_axis=BETA1_AXIS,
    look=Look("#436BCE", "dash", "cross"),
    views=(
        *adam_views(first="mu", second="nu")[:2],
        Panel("trust ratio", "‖θ‖ / ‖u‖, u Adam's update: it rescales the step to length lr·‖θ‖, so the step is "
              "relative to the distance from the origin (one ratio for the whole vector, the only layer here)",
              _lamb_trust, log=True, fields=("mu", "nu"), coordinates=("",), first=1),
    ),
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
        OPTAX_NO_LR + "1e-3 is our choice, Adam's default: the paper runs AdEMAMix at the learning rates of its "
        "AdamW baselines.",
    ),
    second_axis=BETA1_AXIS,
    look=Look("#AD7EB8", "dash", "bowtie"),
    views=(
        Panel("m̂₁", "the fast average of gradients (β₁), bias-corrected: it reacts to the gradient of the moment",
              corrected("m1", "beta1"), fields=("m1",)),
        Panel("α·m₂", "α times the slow average of gradients (β₃ = 0.9999), not bias-corrected: it starts at 0 and "
              "fades in over thousands of steps", lambda c: c.hyper["alpha_mix"] * c.state["m2"], fields=("m2",)),
        *adam_views(first="m1", second="nu")[1:],
    ),
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
