"""Steps by the sign of the gradient or of a momentum: Rprop (torch.optim), with a step size per coordinate
that grows while the sign holds; Lion and Signum (optax), whose every coordinate moves by lr.

Rprop's sign test, a branch on a value computed during the run, is taken per element of the batch, so each
run follows its own branch exactly as torch would alone.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import OPTAX_NO_LR, Paper, Transform, optimizer, update_moment
from .looks import Look
from .views import Arrow, Panel


class RpropState(NamedTuple):
    step: int
    prev: np.ndarray
    step_size: np.ndarray


class LionState(NamedTuple):
    count: int
    mu: np.ndarray


class SignumState(NamedTuple):  # optax's EmaState
    count: int
    ema: np.ndarray


@optimizer(
    "rprop",
    title="Rprop",
    summary="Resilient backpropagation: ignore the gradient's size and step by its sign, with a step size per "
    "coordinate that grows by 1.2× while the sign of the gradient stays the same and halves when it flips. "
    "After a flip that coordinate pauses for one step.",
    latex=r"\begin{aligned} \eta_{t,i} &= \operatorname{clip}\big(c_{t,i}\, \eta_{t-1,i},\ \Gamma_{\min},\ "
    r"\Gamma_{\max}\big),\quad c_{t,i} = \begin{cases} \eta^{+} & g_{t,i}\, p_{t-1,i} > 0\\ "
    r"\eta^{-} & g_{t,i}\, p_{t-1,i} < 0\\ 1 & \text{otherwise} \end{cases}\\ "
    r"p_{t,i} &= \begin{cases} 0 & g_{t,i}\, p_{t-1,i} < 0\\ g_{t,i} & \text{otherwise} \end{cases}\\ "
    r"\theta_{t,i} &= \theta_{t-1,i} - \eta_{t,i}\, \operatorname{sign}(p_{t,i}),\qquad \eta_{0,i} = \gamma, "
    r"\ p_{0,i} = 0 \end{aligned}",
    pseudocode="g = grad f(theta)\nfor each coordinate i:\n    if g[i] * prev[i] > 0:   step[i] = step[i] * etaplus\n"
    "    elif g[i] * prev[i] < 0: step[i] = step[i] * etaminus; g[i] = 0\n"
    "    step[i] = min(max(step[i], step_size_min), step_size_max)\n"
    "    theta[i] = theta[i] - step[i] * sign(g[i])\n    prev[i] = g[i]",
    paper=Paper("Riedmiller, Braun", "A direct adaptive method for faster backpropagation learning: the RPROP "
                "algorithm", 1993, "https://doi.org/10.1109/ICNN.1993.298623"),
    equivalent="torch.optim.Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))",
    notes=(
        "lr is the initial step size of every coordinate, not a multiplier of the gradient: the first step moves "
        "each coordinate by lr clamped to [step_size_min, step_size_max] = [1e-6, 50] (against the sign of its "
        "gradient), so every lr below 1e-6 runs exactly like 1e-6. The clamp applies at every step.",
        "After a sign change the step size shrinks and the gradient is stored as 0, so that coordinate does not "
        "move this step and its step size is left alone at the next one. The paper also takes back the previous "
        "step after a sign change (weight backtracking); torch does not, the variant Igel and Hüsken (2000) "
        "call iRprop⁻.",
        "etas = (etaminus, etaplus) and step_sizes = (step_size_min, step_size_max) are torch's tuples, split "
        "into one hyperparameter each.",
        "The gradient's magnitude never enters, so the step sizes, not the slope, set the pace: steep and flat "
        "coordinates move alike.",
    ),
    look=Look("#D27730", "dash", "square"),
    views=(
        Panel("step size", "each coordinate's own step length: × η₊ = 1.2 while its gradient keeps its sign, × η₋ = "
              "0.5 when it flips, clamped to [1e-6, 50]", lambda c: c.state["step_size"], log=True,
              fields=("step_size",)),
        Panel("sign(g_prev)", "the sign of the gradient the next step compares with (0 right after a flip, when the "
              "coordinate did not move)", lambda c: np.sign(c.state["prev"]), fields=("prev",)),
    ),
)
def rprop(lr=1e-2, etaminus=0.5, etaplus=1.2, step_size_min=1e-6, step_size_max=50.0):
    def init(params):
        return RpropState(0, np.zeros_like(params), np.zeros_like(params) + lr)

    def update(grads, state, params, **extra):
        # torch overwrites the sign in three passes; the order matters when etaminus is 0 or 1.
        factor = np.sign(grads * state.prev)
        factor = np.where(factor > 0, etaplus, factor)
        factor = np.where(factor < 0, etaminus, factor)
        factor = np.where(factor == 0, 1.0, factor)
        step_size = np.minimum(np.maximum(state.step_size * factor, step_size_min), step_size_max)
        grads = np.where(factor == etaminus, 0.0, grads)  # after a sign change: no move, and no change next time
        return -np.sign(grads) * step_size, RpropState(state.step + 1, grads, step_size)

    return Transform(init, update)


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
    paper=Paper("Chen, Liang, Huang, Real, Wang, Liu, Pham, Dong, Luong, Hsieh, Lu, Le",
                "Symbolic discovery of optimization algorithms", 2023, "https://arxiv.org/abs/2302.06675"),
    equivalent="optax.lion(learning_rate=1e-4, b1=0.9, b2=0.99, weight_decay=1e-3)",
    notes=(
        "torch.optim has no Lion; this follows optax (b1 = 0.9, b2 = 0.99, weight_decay = 1e-3).",
        "optax has no default learning rate; 1e-4 follows the paper's advice of a learning rate 3-10× smaller "
        "than AdamW's.",
        "Since |sign(c)| = 1, Lion cannot converge closer than about lr to a minimum: it ends oscillating.",
    ),
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#AD7EB8", "solid", "triangle-left"),
    views=(Panel("m", "the momentum, an average of gradients with β₂; the step is lr times the sign of a mix of it "
                      "and the gradient (with β₁), so every coordinate moves exactly lr", lambda c: c.state["mu"],
                 fields=("mu",)),),
)
def lion(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=1e-3):
    def init(params):
        return LionState(0, np.zeros_like(params))

    def update(grads, state, params, **extra):
        direction = np.sign((1.0 - beta1) * grads + beta1 * state.mu)
        mu = (1.0 - beta2) * grads + beta2 * state.mu
        return -lr * (direction + weight_decay * params), LionState(state.count + 1, mu)

    return Transform(init, update)


@optimizer(
    "signum",
    title="Signum",
    summary="Sign momentum: step every coordinate by exactly lr against the sign of a moving average of gradients. "
    "It is Lion with β1 = β2 and no weight decay, and it ignores gradient magnitude entirely.",
    latex=r"\begin{aligned} m_t &= \beta\, m_{t-1} + (1 - \beta)\, g_t\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, \operatorname{sign}(m_t) \end{aligned}",
    pseudocode="g = grad f(theta)\nm = (1 - momentum) * g + momentum * m\ntheta = theta - lr * sign(m)",
    paper=Paper("Bernstein, Wang, Azizzadenesheli, Anandkumar",
                "signSGD: compressed optimisation for non-convex problems", 2018, "https://arxiv.org/abs/1802.04434"),
    equivalent="optax.signum(learning_rate=1e-4, beta=0.9)",
    notes=(
        "torch.optim has no Signum; this follows optax, whose moving average is not bias-corrected (the sign "
        "does not change). optax's beta is called momentum here, as in the paper.",
        OPTAX_NO_LR + "1e-4 is the learning rate the paper uses for Signum on ImageNet.",
        "Since |sign(m)| = 1, every coordinate moves by exactly lr per step: Signum cannot settle closer than "
        "about lr to a minimum.",
    ),
    second_axis=("momentum", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    look=Look("#B14994", "dash", "x"),
    views=(
        Arrow("−lr·sign(m)", "the step it just took: lr against the sign of m in each coordinate",
              lambda c: -c.hyper["lr"] * np.sign(c.state["ema"]), fields=("ema",)),
        Panel("m", "the moving average of gradients (β = momentum); only its sign reaches the step",
              lambda c: c.state["ema"], fields=("ema",)),
    ),
)
def signum(lr=1e-4, momentum=0.9):
    def init(params):
        return SignumState(0, np.zeros_like(params))

    def update(grads, state, params, **extra):
        ema = update_moment(grads, state.ema, momentum)
        return -lr * np.sign(ema), SignumState(state.count + 1, ema)

    return Transform(init, update)
