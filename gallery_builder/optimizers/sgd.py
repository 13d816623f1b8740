"""Gradient descent with a fixed rule for its step: plain, momentum and Nesterov SGD (torch.optim.SGD) and
averaged SGD (torch.optim.ASGD)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, optimizer, power
from .looks import Look
from .views import Panel, Path, momentum_arrow


class SGDState(NamedTuple):
    step: int


class MomentumState(NamedTuple):
    step: int
    momentum_buffer: np.ndarray


class ASGDState(NamedTuple):
    step: int
    eta: np.ndarray  # (B, 1): the step size used by the next update
    mu: np.ndarray  # (B, 1): the averaging weight used by the next update
    ax: np.ndarray  # (B, 2): the average of the iterates


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
    notes=("torch's default lr is 1e-3 since torch 2.2; in torch 2.0 and 2.1 lr had no default.",
           "No gradient clipping and no weight decay."),
    look=Look("#8E8E8E", "solid", "circle"),
    views=(),
)
def sgd(lr=1e-3):
    def update(grads, state, params, **extra):
        return -lr * grads, SGDState(state.step + 1)

    return Transform(lambda params: SGDState(0), update)


def _heavy_ball(lr, momentum, nesterov):
    def init(params):
        return MomentumState(0, np.zeros_like(params))

    def update(grads, state, params, **extra):
        # torch starts the buffer at the first gradient rather than at zero.
        buffer = grads if state.step == 0 else state.momentum_buffer * momentum + grads
        direction = grads + momentum * buffer if nesterov else buffer
        return -lr * direction, MomentumState(state.step + 1, buffer)

    return Transform(init, update)


_MOMENTUM_FORM = (
    "This is torch's form: the buffer accumulates raw gradients and the learning rate multiplies the whole "
    "buffer. Sutskever et al. (and the Deep Learning book) put the learning rate inside the buffer "
    "(v ← μv + γg, θ ← θ − v). The two agree for a constant learning rate but not once the learning rate "
    "changes during a run."
)


_BUFFER = Panel("b", "the momentum buffer: a running sum of past gradients, each weighted by μ per step since",
                lambda c: c.state["momentum_buffer"], fields=("momentum_buffer",))


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
    look=Look("#C24643", "solid", "square"),
    views=(momentum_arrow("the step it just took, which it carries into the next one"), _BUFFER),
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
        "The method is Nesterov's: Y. Nesterov (1983), A method for solving the convex programming problem with "
        "convergence rate O(1/k²), Soviet Mathematics Doklady 27. Its momentum form for deep learning, which torch "
        "implements, is Sutskever, Martens, Dahl and Hinton's (2013), the paper linked below.",
        "torch's Nesterov form evaluates the gradient at the current point and steps along g + μ·b. The "
        "look-ahead form evaluates the gradient at θ − γμb with torch's buffer b (or θ − μv with Sutskever's v, "
        "which already contains the learning rate) instead; the two are a change of variables of each other, so "
        "the trajectories differ by where the point is recorded.",
        _MOMENTUM_FORM,
    ),
    second_axis=("momentum", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#D27730", "solid", "diamond"),
    views=(momentum_arrow("the velocity; each step adds the gradient to μ times it"), _BUFFER),
)
def nesterov(lr=1e-3, momentum=0.9):
    return _heavy_ball(lr, momentum, nesterov=True)


@optimizer(
    "asgd",
    title="ASGD",
    summary="Averaged SGD: plain gradient steps with a slowly decaying step size and a slight decay of θ, while an "
    "average of the iterates is kept on the side. The path is the iterate; the average is the point averaged "
    "SGD would report, and with torch's default t0 = 10⁶ it only starts averaging after a million steps.",
    latex=r"\begin{aligned} \theta_t &= \theta_{t-1}\,(1 - \lambda\eta_{t-1}) - \eta_{t-1}\, g_t\\ "
    r"\bar\theta_t &= \bar\theta_{t-1} + \mu_{t-1}\,(\theta_t - \bar\theta_{t-1})\\ "
    r"\eta_t &= \frac{\gamma}{(1 + \lambda\gamma t)^{\alpha}},\qquad \mu_t = \frac{1}{\max(1,\ t - t_0)},"
    r"\qquad \eta_0 = \gamma,\ \mu_0 = 1 \end{aligned}",
    pseudocode="g = grad f(theta) + weight_decay * theta\ntheta = theta * (1 - lambd * eta) - eta * g\n"
    "ax = theta if mu == 1 else ax + mu * (theta - ax)\nt = t + 1\neta = lr / (1 + lambd * lr * t) ** alpha\n"
    "mu = 1 / max(1, t - t0)",
    paper=Paper("Polyak, Juditsky", "Acceleration of stochastic approximation by averaging", 1992,
                "https://doi.org/10.1137/0330046"),
    equivalent="torch.optim.ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0)",
    notes=(
        "The state keeps the average as ax, and eta and mu, under torch's names; the path drawn is the iterate θ, "
        "which never reads the average.",
        "mu = 1/max(1, t − t0) is 1 until step t0 + 1, and while it is 1 torch copies θ into ax: with the default "
        "t0 = 10⁶ the average equals the iterate at every step shown here. Lower t0 to see averaging.",
        "lambd does two jobs, as in torch: it sets the decay of η (1 + λγt)^(−α), which is slight at the "
        "defaults (η falls by about 0.02 % over 300 steps at lr = 1e-2), and it shrinks θ by the factor "
        "1 − λη every step, a weight decay towards the origin.",
        "The update of θ uses the η and μ of the previous step; the new ones are computed after it, as in torch.",
    ),
    look=Look("#8E8E8E", "dash", "diamond"),
    views=(
        Path("average", "the running average of the iterates, which ASGD reports as its answer (it equals the "
             "iterate until step t0)", lambda c: c.state["ax"], fields=("ax",)),
        Panel("η", "the step size of the next update, lr / (1 + λ·lr·t)^α", lambda c: c.state["eta"], log=True,
              fields=("eta",), coordinates=("",)),
        Panel("μ", "the weight of the newest iterate in the average, 1 / max(1, t − t0): 1 means the average is "
              "the iterate", lambda c: c.state["mu"], log=True, fields=("mu",), coordinates=("",)),
    ),
)
def asgd(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0):
    def init(params):
        column = np.zeros((len(params), 1))
        return ASGDState(0, column + lr, column + 1.0, np.zeros_like(params))

    def update(grads, state, params, **extra):
        t = state.step + 1
        grads = np.where(weight_decay != 0, grads + weight_decay * params, grads)
        eta = state.eta
        theta = params * (1 - lambd * eta) - eta * grads
        ax = np.where(state.mu != 1, state.ax + (theta - state.ax) * state.mu, theta)
        new_eta = lr / power(1 + lambd * lr * t, alpha)
        excess = t - t0
        new_mu = 1 / np.where(excess > 1, excess, 1.0) + np.zeros_like(eta)  # Python's max(1, t − t0)
        return theta - params, ASGDState(t, new_eta + np.zeros_like(eta), new_mu, ax)

    return Transform(init, update)
