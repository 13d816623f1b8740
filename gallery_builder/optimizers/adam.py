"""The Adam family."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, lerp, optimizer, power, square_average


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

