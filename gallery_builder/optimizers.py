"""The optimizer catalogue, in the style of optax: each optimizer is a pure ``init``/``update`` pair.

``init(params)`` returns the state; ``update(grads, state, params, hessian)`` returns ``(updates, state)`` and the
caller adds ``updates`` to ``params``. Arrays carry a leading batch axis, so one call advances a whole batch of runs
(learning rates × start points); hyperparameters are scalars or arrays that broadcast against ``(batch, 1)``.

Update rules and defaults follow ``torch.optim`` (its documented pseudo-code, and the order of operations of its
single-tensor implementation, so trajectories agree with torch to rounding in float64). Lion and AdaBelief, which
torch lacks, follow optax. Adding an optimizer means adding one decorated factory here.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from .errors import UserError, unknown_name


class Transform(NamedTuple):
    init: Callable
    update: Callable


@dataclass(frozen=True)
class Paper:
    authors: str
    title: str
    year: int
    url: str


@dataclass(frozen=True)
class Optimizer:
    """An optimizer factory and everything the site says about it."""

    name: str
    title: str
    factory: Callable = field(repr=False)
    summary: str
    latex: str
    pseudocode: str
    paper: Paper
    equivalent: str  # the torch.optim (or optax) call this reproduces
    notes: tuple = ()
    uses_hessian: bool = False
    # A second hyperparameter to sweep against the learning rate, with its values: the momentum-like one.
    second_axis: tuple | None = None

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in inspect.signature(self.factory).parameters.values()}

    @property
    def source(self) -> str:
        return inspect.getsource(self.factory)

    def hyperparameters(self, overrides: dict | None = None) -> dict:
        """Defaults merged with checked overrides; raises UserError for unknown names or bad values."""
        values = self.defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                raise UserError(
                    f"optimizer {self.name!r} has no hyperparameter {key!r}; it has {', '.join(values)}"
                )
            values[key] = check_hyperparameter(key, value)
        return values

    def transform(self, **hyper) -> Transform:
        return self.factory(**hyper)


# Valid ranges by hyperparameter name: (low, high, low is inclusive).
RANGES = {
    "lr": (0.0, math.inf, False),
    "momentum": (0.0, 1.0, True),
    "alpha": (0.0, 1.0, True),
    "rho": (0.0, 1.0, True),
    "beta1": (0.0, 1.0, True),
    "beta2": (0.0, 1.0, True),
}


def check_hyperparameter(key: str, value) -> float:
    if isinstance(value, bool):
        raise UserError(f"hyperparameter {key} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserError(f"hyperparameter {key} must be a number, got {value!r}") from None
    low, high, inclusive = RANGES.get(key, (0.0, math.inf, True))
    ok = math.isfinite(value) and (value >= low if inclusive else value > low) and value < high
    if not ok:
        bracket = "[" if inclusive else "("
        raise UserError(f"hyperparameter {key} must be finite and in {bracket}{low:g}, {high:g}), got {value!r}")
    return value


CATALOGUE: dict[str, Optimizer] = {}


def optimizer(name: str, **meta):
    """Register the decorated factory (hyperparameters as keyword defaults) under ``name``."""

    def register(factory):
        CATALOGUE[name] = Optimizer(name=name, factory=factory, **meta)
        return factory

    return register


def get(name: str) -> Optimizer:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise unknown_name("optimizer", name, CATALOGUE) from None


# Shared pieces, written the way torch's kernels compute them.


def lerp(start, end, weight):
    """torch.lerp: the exponential moving average ``start + weight·(end − start)`` in torch's rounding."""
    if np.ndim(weight):
        return np.where(weight < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def square_average(average, grads, decay):
    """``decay·average + (1 − decay)·g²``, as torch's ``mul_(decay).addcmul_(g, g, 1 − decay)``."""
    return average * decay + (1 - decay) * (grads * grads)


class CountState(NamedTuple):
    count: int


class BufferState(NamedTuple):
    count: int
    buffer: np.ndarray


class MomentsState(NamedTuple):
    count: int
    mu: np.ndarray
    nu: np.ndarray
    nu_max: np.ndarray | None = None
    mu_product: float = 1.0


def _zeros_state(state_type, n_moments):
    return lambda params: state_type(0, *(np.zeros_like(params) for _ in range(n_moments)))


# --- Plain and momentum SGD ------------------------------------------------------------------------------------

TORCH_SGD = Paper(
    "Sutskever, Martens, Dahl, Hinton",
    "On the importance of initialization and momentum in deep learning",
    2013,
    "https://proceedings.mlr.press/v28/sutskever13.html",
)


@optimizer(
    "sgd",
    title="SGD",
    summary="Gradient descent: step downhill along the negative gradient, scaled by the learning rate. "
    "The step is large where the slope is steep and tiny on plateaus, and a single learning rate must suit "
    "every direction at once.",
    latex=r"\theta_t = \theta_{t-1} - \gamma\, g_t",
    pseudocode="g = grad f(theta)\ntheta = theta - lr * g",
    paper=Paper("Robbins, Monro", "A stochastic approximation method", 1951, "https://doi.org/10.1214/aoms/1177729586"),
    equivalent="torch.optim.SGD(params, lr=1e-3)",
    notes=("torch's default lr is 1e-3 (since torch 2.0).", "No gradient clipping and no weight decay."),
)
def sgd(lr=1e-3):
    def update(grads, state, params, hessian=None):
        return -lr * grads, state

    return Transform(lambda params: CountState(0), update)


def _heavy_ball(lr, momentum, nesterov):
    def update(grads, state, params, hessian=None):
        # torch starts the buffer at the first gradient rather than at zero.
        buffer = grads if state.count == 0 else state.buffer * momentum + grads
        step = grads + momentum * buffer if nesterov else buffer
        return -lr * step, BufferState(state.count + 1, buffer)

    return Transform(_zeros_state(BufferState, 1), update)


_MOMENTUM_FORM = (
    "This is torch's form: the buffer accumulates raw gradients and the learning rate multiplies the whole "
    "buffer. Sutskever et al. (and the Deep Learning book) put the learning rate inside the buffer "
    "(v ← μv + γg, θ ← θ − v). The two agree for a constant learning rate but not once the learning rate "
    "changes during a run."
)


@optimizer(
    "momentum",
    title="Momentum",
    summary="Heavy-ball momentum: keep a running sum of past gradients and step along it. Consistent directions "
    "build up speed, oscillating ones cancel, so it crosses flat regions faster than SGD but can overshoot.",
    latex=r"\begin{aligned} b_t &= \mu\, b_{t-1} + g_t \quad (b_1 = g_1)\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, b_t \end{aligned}",
    pseudocode="g = grad f(theta)\nb = g if t == 1 else momentum * b + g\ntheta = theta - lr * b",
    paper=Paper("Polyak", "Some methods of speeding up the convergence of iteration methods", 1964,
                "https://doi.org/10.1016/0041-5553(64)90137-5"),
    equivalent="torch.optim.SGD(params, lr=1e-3, momentum=0.9)",
    notes=(_MOMENTUM_FORM, "Dampening is 0, as torch's default."),
    second_axis=("momentum", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
)
def momentum(lr=1e-3, momentum=0.9):
    return _heavy_ball(lr, momentum, nesterov=False)


@optimizer(
    "nesterov",
    title="Nesterov momentum",
    summary="Momentum with a correction: the step adds the current gradient to the momentum buffer once more, "
    "which approximates looking ahead to where momentum is about to carry the parameters. It brakes earlier "
    "than plain momentum when the slope turns.",
    latex=r"\begin{aligned} b_t &= \mu\, b_{t-1} + g_t \quad (b_1 = g_1)\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\,(g_t + \mu\, b_t) \end{aligned}",
    pseudocode="g = grad f(theta)\nb = g if t == 1 else momentum * b + g\ntheta = theta - lr * (g + momentum * b)",
    paper=TORCH_SGD,
    equivalent="torch.optim.SGD(params, lr=1e-3, momentum=0.9, nesterov=True)",
    notes=(
        "torch's Nesterov form evaluates the gradient at the current point and steps along g + μ·b. The "
        "look-ahead form evaluates the gradient at θ − γμv instead; the two are a change of variables of each "
        "other, so the trajectories differ by where the point is recorded.",
        _MOMENTUM_FORM,
    ),
    second_axis=("momentum", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
)
def nesterov(lr=1e-3, momentum=0.9):
    return _heavy_ball(lr, momentum, nesterov=True)


# --- Adaptive per-coordinate step sizes ------------------------------------------------------------------------


@optimizer(
    "adagrad",
    title="Adagrad",
    summary="Divide each coordinate's step by the root of the sum of all its past squared gradients. Steep "
    "coordinates get small steps, flat ones large steps; but the sum only grows, so every step keeps shrinking.",
    latex=r"\begin{aligned} s_t &= s_{t-1} + g_t^2\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \frac{g_t}{\sqrt{s_t} + \epsilon} \end{aligned}",
    pseudocode="g = grad f(theta)\ns = s + g * g\ntheta = theta - lr * g / (sqrt(s) + eps)",
    paper=Paper("Duchi, Hazan, Singer", "Adaptive subgradient methods for online learning and stochastic "
                "optimization", 2011, "https://jmlr.org/papers/v12/duchi11a.html"),
    equivalent="torch.optim.Adagrad(params, lr=1e-2, eps=1e-10)",
    notes=(
        "eps = 1e-10 is added after the square root, as in torch.",
        "initial_accumulator_value is 0 as in torch; TF/Keras start the sum at 0.1, which caps the first steps.",
        "lr_decay and weight_decay are fixed at torch's default 0.",
    ),
)
def adagrad(lr=1e-2, eps=1e-10, initial_accumulator_value=0.0):
    def init(params):
        return BufferState(0, np.full_like(params, initial_accumulator_value))

    def update(grads, state, params, hessian=None):
        total = state.buffer + grads * grads
        return -lr * (grads / (np.sqrt(total) + eps)), BufferState(state.count + 1, total)

    return Transform(init, update)


@optimizer(
    "rmsprop",
    title="RMSProp",
    summary="Adagrad with a memory: divide by the root of an exponential moving average of squared gradients, "
    "so old gradients are forgotten and steps stop shrinking. Near a minimum its steps stay about lr long, "
    "so it tends to hover around the minimum rather than settle.",
    latex=r"\begin{aligned} v_t &= \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2\\ "
    r"b_t &= \mu\, b_{t-1} + \frac{g_t}{\sqrt{v_t} + \epsilon}\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, b_t \end{aligned}",
    pseudocode="g = grad f(theta)\nv = alpha * v + (1 - alpha) * g * g\nb = momentum * b + g / (sqrt(v) + eps)\n"
    "theta = theta - lr * b",
    paper=Paper("Tieleman, Hinton", "Lecture 6.5, rmsprop: divide the gradient by a running average of its recent "
                "magnitude (COURSERA: Neural Networks for Machine Learning)", 2012,
                "https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf"),
    equivalent="torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8)",
    notes=(
        "eps is added after the square root, as in torch. TensorFlow adds it inside (√(v + ε)) and used "
        "decay 0.9 and eps 1e-10 in TF1: those runs look different near the minimum.",
        "With the default momentum = 0 the buffer is just the scaled gradient. centered = False.",
    ),
    second_axis=("alpha", (0.5, 0.9, 0.99, 0.999)),
)
def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0):
    def update(grads, state, params, hessian=None):
        average = square_average(state.mu, grads, alpha)
        buffer = state.nu * momentum + grads / (np.sqrt(average) + eps)
        return -lr * buffer, MomentsState(state.count + 1, average, buffer)

    return Transform(_zeros_state(MomentsState, 2), update)


@optimizer(
    "adadelta",
    title="Adadelta",
    summary="RMSProp whose step size is itself a running average: each coordinate's step is the ratio of the "
    "RMS of recent updates to the RMS of recent gradients, so the units work out and lr = 1 is the natural "
    "value. It starts very slowly because the update average starts at zero.",
    latex=r"\begin{aligned} v_t &= \rho\, v_{t-1} + (1 - \rho)\, g_t^2\\ "
    r"\Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\ "
    r"u_t &= \rho\, u_{t-1} + (1 - \rho)\, \Delta_t^2\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \Delta_t \end{aligned}",
    pseudocode="g = grad f(theta)\nv = rho * v + (1 - rho) * g * g\ndelta = sqrt(u + eps) / sqrt(v + eps) * g\n"
    "u = rho * u + (1 - rho) * delta * delta\ntheta = theta - lr * delta",
    paper=Paper("Zeiler", "ADADELTA: an adaptive learning rate method", 2012, "https://arxiv.org/abs/1212.5701"),
    equivalent="torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-6)",
    notes=(
        "eps sits inside both square roots, as in the paper and torch.",
        "torch's default lr = 1.0 matches the paper; TF/Keras default to 0.001, which makes Adadelta look "
        "a thousand times slower than it is.",
    ),
    second_axis=("rho", (0.5, 0.9, 0.95, 0.99)),
)
def adadelta(lr=1.0, rho=0.9, eps=1e-6):
    def update(grads, state, params, hessian=None):
        average = square_average(state.mu, grads, rho)
        delta = np.sqrt(state.nu + eps) / np.sqrt(average + eps) * grads
        return -lr * delta, MomentsState(state.count + 1, average, square_average(state.nu, delta, rho))

    return Transform(_zeros_state(MomentsState, 2), update)


# --- The Adam family -------------------------------------------------------------------------------------------

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


def _adam(lr, beta1, beta2, eps, weight_decay=0.0, amsgrad=False):
    def init(params):
        zeros = np.zeros_like(params)
        return MomentsState(0, zeros, zeros, zeros if amsgrad else None)

    def update(grads, state, params, hessian=None):
        t = state.count + 1
        mu = lerp(state.mu, grads, 1 - beta1)
        nu = square_average(state.nu, grads, beta2)
        nu_max = np.maximum(state.nu_max, nu) if amsgrad else None
        # The corrections divide the step, never the stored moments.
        step_size = lr / (1 - beta1**t)
        denominator = np.sqrt(nu_max if amsgrad else nu) / math.sqrt(1 - beta2**t) + eps
        updates = -step_size * (mu / denominator)
        if weight_decay:
            updates = updates - lr * weight_decay * params  # decoupled: shrink θ itself, as torch's AdamW
        return updates, MomentsState(t, mu, nu, nu_max)

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
    "a root mean square, which makes the step bounded by lr/(1 − β1ᵗ) and less sensitive to a single large "
    "gradient.",
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
    def update(grads, state, params, hessian=None):
        t = state.count + 1
        mu = lerp(state.mu, grads, 1 - beta1)
        norm = np.maximum(state.nu * beta2, np.abs(grads) + eps)
        return -(lr / (1 - beta1**t)) * (mu / norm), MomentsState(t, mu, norm)

    return Transform(_zeros_state(MomentsState, 2), update)


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
    def update(grads, state, params, hessian=None):
        t = state.count + 1
        mu_t = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        product = state.mu_product * mu_t
        mu = lerp(state.mu, grads, 1 - beta1)
        nu = square_average(state.nu, grads, beta2)
        denominator = np.sqrt(nu / (1 - beta2**t)) + eps
        updates = (-lr * (1.0 - mu_t) / (1.0 - product)) * (grads / denominator) + (
            (-lr * mu_next) / (1.0 - product * mu_next)
        ) * (mu / denominator)
        return updates, MomentsState(t, mu, nu, None, product)

    return Transform(_zeros_state(MomentsState, 2), update)


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
    rho_inf = 2 / (1 - beta2) - 1

    def update(grads, state, params, hessian=None):
        t = state.count + 1
        mu = lerp(state.mu, grads, 1 - beta1)
        nu = square_average(state.nu, grads, beta2)
        correction2 = 1 - beta2**t
        corrected = mu / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = correction2**0.5 / (np.sqrt(nu) + eps)
            updates = -(corrected * lr * adaptive * rect)
        else:
            updates = -(corrected * lr)
        return updates, MomentsState(t, mu, nu)

    return Transform(_zeros_state(MomentsState, 2), update)


# --- optax-only optimizers -------------------------------------------------------------------------------------


@optimizer(
    "lion",
    title="Lion",
    summary="Sign momentum, found by program search: step by the sign of an interpolation between the momentum "
    "and the current gradient, so every coordinate moves exactly lr per step (plus weight decay). It ignores "
    "gradient magnitude entirely, which makes it robust to scale but unable to slow down near a minimum.",
    latex=r"\begin{aligned} c_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\left(\operatorname{sign}(c_t) + \lambda\,\theta_{t-1}\right)\\ "
    r"m_t &= \beta_2 m_{t-1} + (1 - \beta_2)\, g_t \end{aligned}",
    pseudocode="g = grad f(theta)\nc = beta1 * m + (1 - beta1) * g\n"
    "theta = theta - lr * (sign(c) + weight_decay * theta)\nm = beta2 * m + (1 - beta2) * g",
    paper=Paper("Chen, Liang, Huang, Real, Wang, Pham, Dong, Luong, Hsieh, Lu, Le",
                "Symbolic discovery of optimization algorithms", 2023, "https://arxiv.org/abs/2302.06675"),
    equivalent="optax.lion(learning_rate=1e-4, b1=0.9, b2=0.99, weight_decay=1e-3)",
    notes=(
        "torch.optim has no Lion; this follows optax (b1 = 0.9, b2 = 0.99, weight_decay = 1e-3).",
        "optax has no default learning rate; 1e-4 follows the paper's advice of a learning rate 3-10× smaller "
        "than AdamW's.",
        "Since |sign(c)| = 1, Lion cannot converge closer than about lr to a minimum: it ends oscillating.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
)
def lion(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=1e-3):
    def update(grads, state, params, hessian=None):
        direction = np.sign((1.0 - beta1) * grads + beta1 * state.buffer)
        momentum_ = (1.0 - beta2) * grads + beta2 * state.buffer
        return -lr * (direction + weight_decay * params), BufferState(state.count + 1, momentum_)

    return Transform(_zeros_state(BufferState, 1), update)


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
)
def adabelief(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-16, eps_root=1e-16):
    def update(grads, state, params, hessian=None):
        t = state.count + 1
        mu = (1.0 - beta1) * grads + beta1 * state.mu
        error = grads - mu
        nu = (1.0 - beta2) * (error * error) + beta2 * state.nu + eps_root
        denominator = np.sqrt(nu / (1 - beta2**t)) + eps
        return -lr * ((mu / (1 - beta1**t)) / denominator), MomentsState(t, mu, nu)

    return Transform(_zeros_state(MomentsState, 2), update)


# --- Second order ----------------------------------------------------------------------------------------------


@optimizer(
    "newton",
    title="Newton's method",
    summary="Model the function by its second-order Taylor expansion and jump to the model's stationary point: "
    "θ ← θ − γ H⁻¹ g, with the exact Hessian from autograd. Near a minimum it converges in a handful of steps; "
    "but it seeks any stationary point, so it walks straight into saddles and maxima, and where the Hessian is "
    "singular the step is undefined.",
    latex=r"\theta_t = \theta_{t-1} - \gamma\,\left(\nabla^2 f(\theta_{t-1}) + \lambda I\right)^{-1} g_t",
    pseudocode="g = grad f(theta)\nH = hessian f(theta)\n"
    "theta = theta - lr * solve(H + damping * I, g)",
    paper=Paper("Nocedal, Wright", "Numerical Optimization, chapter 3 (2nd ed.)", 2006,
                "https://doi.org/10.1007/978-0-387-40065-5"),
    equivalent="no torch.optim or optax equivalent; torch.optim.LBFGS approximates H⁻¹ from gradients instead",
    notes=(
        "The learning rate is the damping factor of the step (lr = 1 is the pure Newton step); 'damping' adds "
        "λI to the Hessian (Levenberg). Both default to the pure method so that what Newton does is visible.",
        "At a saddle or wherever the Hessian is indefinite, the step points towards the stationary point of the "
        "quadratic model, uphill along negative-curvature directions: on the saddle function Newton lands on the "
        "saddle point in one step. Nothing here modifies the Hessian to hide that.",
        "Where H + λI is singular the step is infinite or NaN: the run is recorded as diverged at that step.",
    ),
    uses_hessian=True,
)
def newton(lr=1.0, damping=0.0):
    def update(grads, state, params, hessian=None):
        a = hessian[:, 0, 0] + damping
        b = hessian[:, 0, 1]
        c = hessian[:, 1, 1] + damping
        det = a * c - b * b
        # Explicit 2×2 inverse, elementwise over the batch: a singular Hessian gives inf/NaN, which the sweep
        # records as divergence instead of raising.
        step = np.stack([c * grads[:, 0] - b * grads[:, 1], a * grads[:, 1] - b * grads[:, 0]], axis=1)
        return -lr * (step / det[:, None]), CountState(state.count + 1)

    return Transform(lambda params: CountState(0), update)
