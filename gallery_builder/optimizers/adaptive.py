"""Per-coordinate step sizes from the squared gradients seen so far: Adagrad, RMSProp, Adadelta and Adafactor
(torch.optim)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, _norm, lerp, optimizer, power, square_average
from .looks import Look
from .views import Panel, momentum_arrow, previous, row_norm


class AdagradState(NamedTuple):
    step: int
    sum: np.ndarray


class RMSpropState(NamedTuple):
    step: int
    square_avg: np.ndarray
    momentum_buffer: np.ndarray  # kept whatever the momentum, which may differ from run to run


class AdadeltaState(NamedTuple):
    step: int
    square_avg: np.ndarray
    acc_delta: np.ndarray


class AdafactorState(NamedTuple):
    step: int
    variance: np.ndarray  # a vector parameter is not factored: one second moment per coordinate


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
    look=Look("#AB8B26", "solid", "triangle-up"),
    views=(
        Panel("s", "the sum of every past squared gradient, per coordinate: it only grows", lambda c: c.state["sum"],
              log=True, fields=("sum",)),
        Panel("lr/(√s+ε)", "lr / (√s + ε): the step per unit of gradient in each coordinate, which only shrinks",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["sum"]) + c.hyper["eps"]), log=True, fields=("sum",), first=1),
    ),
)
def adagrad(lr=1e-2, eps=1e-10, initial_accumulator_value=0.0):
    def init(params):
        return AdagradState(0, np.zeros_like(params) + initial_accumulator_value)

    def update(grads, state, params, **extra):
        total = state.sum + grads * grads
        return -lr * (grads / (np.sqrt(total) + eps)), AdagradState(state.step + 1, total)

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
    look=Look("#467E1C", "solid", "triangle-down"),
    views=(
        Panel("v", "the moving average of squared gradients (smoothing α): the size of recent gradients, which the "
              "step divides by", lambda c: c.state["square_avg"], log=True, fields=("square_avg",)),
        Panel("lr/(√v+ε)", "lr / (√v + ε): the step per unit of gradient in each coordinate",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["square_avg"]) + c.hyper["eps"]), log=True,
              fields=("square_avg",), first=1),
        momentum_arrow("the step it just took (with momentum 0 the buffer is the scaled gradient)"),
    ),
)
def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0):
    def init(params):
        return RMSpropState(0, np.zeros_like(params), np.zeros_like(params))

    def update(grads, state, params, **extra):
        square_avg = square_average(state.square_avg, grads, alpha)
        buffer = state.momentum_buffer * momentum + grads / (np.sqrt(square_avg) + eps)
        return -lr * buffer, RMSpropState(state.step + 1, square_avg, buffer)

    return Transform(init, update)


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
    look=Look("#38A071", "solid", "pentagon"),
    views=(
        Panel("v", "the moving average of squared gradients: the size of recent gradients, which the step divides "
              "by", lambda c: c.state["square_avg"], log=True, fields=("square_avg",)),
        Panel("u", "the moving average of squared updates: the size of its recent steps, which sets the next one",
              lambda c: c.state["acc_delta"], log=True, fields=("acc_delta",)),
        Panel("lr·√(u+ε)/√(v+ε)", "lr·√(u + ε) / √(v + ε) from the state at step t: the step per unit of gradient, "
              "recent step size over recent gradient size (the next update uses the next v)",
              lambda c: c.hyper["lr"] * np.sqrt(c.state["acc_delta"] + c.hyper["eps"])
              / np.sqrt(c.state["square_avg"] + c.hyper["eps"]), log=True, fields=("square_avg", "acc_delta"), first=1),
    ),
)
def adadelta(lr=1.0, rho=0.9, eps=1e-6):
    def init(params):
        return AdadeltaState(0, np.zeros_like(params), np.zeros_like(params))

    def update(grads, state, params, **extra):
        square_avg = square_average(state.square_avg, grads, rho)
        delta = np.sqrt(state.acc_delta + eps) / np.sqrt(square_avg + eps) * grads
        acc_delta = square_average(state.acc_delta, delta, rho)
        return -lr * delta, AdadeltaState(state.step + 1, square_avg, acc_delta)

    return Transform(init, update)


def _adafactor_scale(c):
    """Adafactor's relative step size max(ε₂, RMS(θ))·min(lr, 1/√t) at update t, θ before the step."""
    rms = row_norm(previous(c.points)) / np.sqrt(2)
    return np.maximum(rms, c.hyper["eps2"]) * np.minimum(c.hyper["lr"], 1 / np.sqrt(c.t))


@optimizer(
    "adafactor",
    title="Adafactor",
    summary="A memory-frugal Adam without momentum whose step is relative to the size of the parameters: "
    "it divides the gradient by the root of a second-moment average whose decay follows a schedule in t, "
    "clips the result to RMS ≤ d, and scales it by max(ε₂, RMS(θ))·min(lr, 1/√t). Near θ = 0 the steps become tiny.",
    latex=r"\begin{aligned} v_t &= v_{t-1} + t^{c}\,(g_t^2 - v_{t-1})\\ "
    r"u_t &= \frac{g_t}{\sqrt{\max(v_t,\ \epsilon_1^2)}}\\ "
    r"\rho_t &= \min\!\left(\gamma,\ \frac{1}{\sqrt t}\right),\qquad "
    r"\alpha_t = \max\!\left(\epsilon_2,\ \operatorname{RMS}(\theta_{t-1})\right)\rho_t\\ "
    r"\theta_t &= \theta_{t-1}\,(1 - \gamma\lambda) - \frac{\alpha_t}{\max\left(1,\ "
    r"\operatorname{RMS}(u_t)/d\right)}\, u_t \end{aligned}",
    pseudocode="g = grad f(theta)\nt = t + 1\nrho = min(lr, 1 / sqrt(t))\n"
    "alpha = max(eps2, rms(theta)) * rho\ntheta = theta * (1 - lr * weight_decay)\n"
    "v = v + t ** beta2_decay * (g * g - v)\nu = g / sqrt(max(v, eps1 * eps1))\n"
    "theta = theta - alpha / max(1, rms(u) / d) * u",
    paper=Paper("Shazeer, Stern", "Adafactor: adaptive learning rates with sublinear memory cost", 2018,
                "https://arxiv.org/abs/1804.04235"),
    equivalent="torch.optim.Adafactor(params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, "
    "weight_decay=0.0)",
    notes=(
        "On a vector Adafactor keeps a full second moment, like Adam's v: the factored row and column averages "
        "that save memory apply only to matrices, so on the 2-D functions here there is nothing to factor.",
        "Relative step: the step's RMS is at most α_t = max(ε₂, RMS(θ))·ρ_t with ρ_t = min(lr, 1/√t) (exactly "
        "α_t when the clipping is active), computed from θ before the update and before weight decay, as in "
        "torch. It scales with the size of θ, so a run near the origin moves by at most ε₂·lr = 1e-5 per step "
        "in RMS, and a run far from it may take large steps. lr only caps ρ_t: with lr = 1e-2 the cap holds for "
        "the first 10,000 steps.",
        "The decay 1 − t^c (c = beta2_decay = −0.8) is a schedule, not momentum: the weight of the new g² is 1 "
        "at t = 1 (v starts at g² with no bias correction), then shrinks like t^−0.8. Adafactor has no first "
        "moment at all. Following RMSProp's α and Adadelta's ρ, the learning-rate maps sweep it as the second "
        "axis; c = −1 gives the plain mean of all g².",
        "eps = (eps1, eps2): torch's eps1 = None means the dtype's machine epsilon, 2.22e-16 in float64, which is "
        "eps1's default here. eps1² floors v before the square root.",
        "The update clipping divides u by max(1, RMS(u)/d): with d = 1 a step never exceeds the relative step "
        "α_t in RMS.",
    ),
    second_axis=("beta2_decay", (-0.5, -0.65, -0.8, -1.0)),
    look=Look("#467E1C", "dash", "triangle-up"),
    views=(
        Panel("√v", "the root of the second-moment average of g², whose decay 1 − t^(−0.8) approaches 1",
              lambda c: np.sqrt(c.state["variance"]), log=True, fields=("variance",)),
        Panel("relative step", "max(ε₂, RMS(θ))·min(lr, 1/√t): the step size, relative to the size of θ, so tiny "
              "near the origin", _adafactor_scale, log=True, coordinates=("",), first=1),
    ),
)
def adafactor(lr=1e-2, beta2_decay=-0.8, eps1=float(np.finfo(float).eps), eps2=1e-3, d=1.0, weight_decay=0.0):
    def init(params):
        return AdafactorState(0, np.zeros_like(params))

    def update(grads, state, params, **extra):
        t = state.step + 1
        weight = power(float(t), beta2_decay)  # 1 − β̂₂ₜ
        inverse_root = 1 / power(float(t), 0.5)
        rho = np.where(inverse_root < lr, inverse_root, lr)  # Python's min(lr, 1/√t)
        rms = _norm(params) / 2**0.5
        alpha = np.where(rms > eps2, rms, eps2) * rho  # Python's max(eps2, RMS(θ)), before the decay
        variance = lerp(state.variance, grads * grads, weight)
        scaled = 1 / np.sqrt(np.maximum(variance, eps1 * eps1)) * grads
        clip = _norm(scaled) / (2**0.5 * d)
        denominator = np.where(clip > 1.0, clip, 1.0)
        decay = np.where(weight_decay != 0, params * (1 - lr * weight_decay) - params, 0.0)
        return -alpha / denominator * scaled + decay, AdafactorState(t, variance)

    return Transform(init, update)
