"""Per-coordinate step sizes: Adagrad, RMSProp, Adadelta."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, optimizer, square_average


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

