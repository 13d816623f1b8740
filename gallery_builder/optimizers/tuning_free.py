"""Optimizers that take a tuning step off the user: SGD with Polyak's step (optax 0.2.8), its step size from f*;
Prodigy (prodigyopt), which estimates its own learning rate; schedule-free AdamW (schedulefree), which
averages its iterates in place of a learning-rate schedule.

Prodigy and schedule-free AdamW keep scalars for the whole parameter group (Prodigy's estimate d,
schedule-free's averaging weights). Here each run is its own group holding the 2-vector, so those scalars
are (B, 1) arrays, one per run.
"""

from __future__ import annotations

import math
import sys
from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, lerp, optimizer, power
from .looks import Look
from .views import Panel, Path, adam_views, previous


MACHINE_EPS = float(np.finfo(float).eps)  # scale_by_polyak's jnp.finfo(float).eps


class PolyakState(NamedTuple):  # optax's EmptyState: the step reads only the gradient and the value
    pass


class ProdigyState(NamedTuple):
    """prodigyopt's parameter state (s, p0, exp_avg, exp_avg_sq) and group state (k, d, d_max, d_numerator,
    d_denom, d_hat); the parameter's own step counter always equals k."""

    k: np.ndarray
    s: np.ndarray
    p0: np.ndarray
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    d: np.ndarray
    d_max: np.ndarray
    d_numerator: np.ndarray
    d_denom: np.ndarray
    d_hat: np.ndarray


class ScheduleFreeState(NamedTuple):
    """schedulefree's parameter state (z, exp_avg_sq) and group state (k, weight_sum, lr_max). The parameters
    themselves are y; x is not stored: eval() recovers it from y and z."""

    k: int
    z: np.ndarray
    exp_avg_sq: np.ndarray
    weight_sum: np.ndarray
    lr_max: np.ndarray


UNLIMITED = sys.float_info.max  # growth_rate: no limit, as prodigyopt's float('inf'), but finite


def column(value, n):
    """A group scalar (or one value per run) as a fresh (n, 1) array."""
    return np.array(np.broadcast_to(np.asarray(value, float), (n, 1)))


def larger(a, b):
    """Python's max(a, b) per element: b only where b > a, so a NaN b keeps a (np.maximum would spread it)."""
    return np.where(b > a, b, a)


def smaller(a, b):
    """Python's min(a, b) per element."""
    return np.where(b < a, b, a)


def _finite_rows(points, compute, width):
    """``compute`` (points (n, 2) -> (n, width)) at the finite rows of ``points``; NaN elsewhere."""
    out = np.full((len(points), width), np.nan)
    finite = np.isfinite(points).all(axis=1)
    if finite.any():
        out[finite] = np.asarray(compute(points[finite]), float).reshape(finite.sum(), width)
    return out


def _polyak_step(c):
    """Polyak's step size at update t, min((f(θ) − f*) / ‖g‖², lr), from the point the update started at; and the
    cap lr beside it."""
    before = previous(c.points)
    value = _finite_rows(before, c.fn.values, 1)
    squared = _finite_rows(before, lambda p: np.sum(c.fn.gradient(p) ** 2, axis=1), 1)
    step = np.minimum((value - c.hyper["f_min"]) / (squared + c.hyper["eps"]), c.hyper["lr"])
    step = np.where(squared + c.hyper["eps"] <= np.finfo(float).eps, 0.0, step)  # optax's guard: no step
    return np.hstack([step, np.full_like(step, c.hyper["lr"])])


@optimizer(
    "polyak_sgd",
    title="SGD with Polyak's step",
    summary="Gradient descent whose step size is computed from f*: (f(θ) − f*) / |∇f|², the step that would "
    "reach the minimum value if f were linear, capped at lr, which is still tuned. It needs the minimum value f*, so it only runs on "
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
    look=Look("#1A98D0", "dash", "hourglass"),
    views=(
        Panel("step size", "Polyak's step size min((f(θ) − f*) / ‖g‖², lr), computed from f*, which it is given; "
              "beside it the cap lr, where it is cut", _polyak_step, log=True, coordinates=(" η", " cap lr"),
              first=1),
    ),
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


_PRODIGY_LATEX = (
    r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, d_{t-1}\, g_t\\ "
    r"v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, d_{t-1}^2\, g_t^2\\ "
    r"r_t &= \beta_3 r_{t-1} + \frac{d_{t-1}}{d_0}\,\gamma\, d_{t-1}\,\langle g_t,\ \theta_0 - \theta_{t-1}\rangle\\ "
    r"s_t &= \beta_3 s_{t-1} + \frac{d_{t-1}}{d_0}\,\gamma\, d_{t-1}\, g_t\\ "
    r"\hat d_t &= c\, \frac{r_t}{\lVert s_t \rVert_1},\quad d^{\max}_t = \max(d^{\max}_{t-1}, \hat d_t),\quad "
    r"d_t = \min(d^{\max}_t,\ \rho\, d_{t-1})\\ "
    r"\theta_t &= \theta_{t-1} - \gamma\, d_{t-1}\, \lambda\, \theta_{t-1} - \gamma\, d_{t-1}\, "
    r"\frac{m_t}{\sqrt{v_t} + d_t\, \epsilon} \end{aligned}"
)


_PRODIGY_PSEUDOCODE = (
    "g = grad f(theta)\ndlr = d * lr\n"
    "numerator = beta3 * numerator + (d / d0) * dlr * dot(g, theta0 - theta)\n"
    "m = beta1 * m + d * (1 - beta1) * g\nv = beta2 * v + d * d * (1 - beta2) * g * g\n"
    "s = beta3 * s + (d / d0) * dlr * g\nd_hat = d_coef * numerator / sum(abs(s))\n"
    "if d == d0: d = max(d, d_hat)\nd_max = max(d_max, d_hat)\nd = min(d_max, d * growth_rate)\n"
    "theta = theta - weight_decay * dlr * theta\ntheta = theta - dlr * m / (sqrt(v) + d * eps)"
)


_PRODIGY_NOTES = (
        "lr is not a step size but a multiplier on the estimated d: the step is about lr·d per coordinate, and "
        "the package asks to leave lr at 1. The sweep's learning rates here are multiples of the estimate.",
        "d is global to a parameter group. Each run here is one group holding the 2-vector, so the inner "
        "product and the ℓ1 norm that estimate d run over the two coordinates of that run only.",
        "The estimate uses d before this step (in m, v, s and the numerator, and as the step's factor), and the "
        "new d only in d·ε; m and v carry d and d², so m/√v is scale-free and the step is about lr·d.",
        "beta3 = None in prodigyopt means √β2; here beta3 is a number of its own with that value (0.9995), "
        "so changing beta2 alone does not move it.",
        "prodigyopt's growth_rate = ∞ (no limit on the growth of d) is the largest float here, 1.8e308: d·1.8e308 "
        "is above any d_max a finite run reaches, so it limits nothing, and every hyperparameter stays a finite "
        "number that data files and --set can carry.",
        "decouple, use_bias_correction and safeguard_warmup are flags: 0 is off, any other value on.",
        "While the accumulated ‖s‖₁ is 0 (a run whose gradients are exactly zero) prodigyopt returns before "
        "the step, leaving θ, d and the step counter as they were; so does each run here.",
    )


@optimizer(
    "prodigy",
    title="Prodigy",
    summary="Adam whose step size is learned: it estimates d, the distance from the start to the solution, from "
    "how far the gradients have pointed back towards the start, and steps by lr·d. The estimate starts tiny "
    "(d0 = 1e-6) and can only grow, so the first steps are minute and the run speeds up as d catches up with the "
    "real distance; lr = 1 is meant to be left alone.",
    latex=_PRODIGY_LATEX,
    pseudocode=_PRODIGY_PSEUDOCODE,
    paper=Paper("Mishchenko, Defazio", "Prodigy: an expeditiously adaptive parameter-free learner", 2024,
                "https://arxiv.org/abs/2306.06101"),
    equivalent="prodigyopt.Prodigy(params, lr=1.0, betas=(0.9, 0.999), beta3=None, eps=1e-8, weight_decay=0, "
    "decouple=True, use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0, "
    "growth_rate=float('inf'))",
    notes=_PRODIGY_NOTES,
    second_axis=("beta1", (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    ranges={"eps": (0.0, math.inf, False), "d0": (0.0, math.inf, False)},
    look=Look("#737425", "dash", "triangle-left"),
    views=(
        Panel("d", "its estimate of the distance from the start to the solution: the learning rate it sets for "
              "itself (the step is lr·d times Adam's direction); it starts at d₀ = 1e-6 and only grows",
              lambda c: c.state["d"], log=True, fields=("d",), coordinates=("",)),
        Panel("m/(√v+dε)", "Adam's normalized direction, m / (√v + d·ε), without bias correction (as prodigyopt's "
              "default): the step is lr·d times it", lambda c: c.state["exp_avg"] / (np.sqrt(c.state["exp_avg_sq"])
                                                                                       + c.state["d"] * c.hyper["eps"]),
              fields=("exp_avg", "exp_avg_sq", "d")),
    ),
)
def prodigy(lr=1.0, beta1=0.9, beta2=0.999, beta3=math.sqrt(0.999), eps=1e-8, weight_decay=0.0, decouple=True,
            use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0, growth_rate=UNLIMITED):
    def init(params):
        n, zeros = len(params), np.zeros_like(params)
        start_d, nothing = column(d0, n), column(0.0, n)
        return ProdigyState(np.zeros((n, 1), int), zeros, params.copy(), zeros, zeros, start_d, start_d, nothing,
                            nothing, start_d)

    def update(grads, state, params, **extra):
        d, k = state.d, state.k
        corrects = np.not_equal(use_bias_correction, 0)
        dlr = d * lr  # × 1.0 without the correction, which is exact
        if np.any(corrects):
            dlr = dlr * np.where(corrects, power(1 - power(beta2, k + 1), 0.5) / (1 - power(beta1, k + 1)), 1.0)
        decoupled = np.not_equal(decouple, 0)
        decays = np.not_equal(weight_decay, 0)
        grads = np.where(decays & ~decoupled, grads + weight_decay * params, grads)  # coupled: an L2 gradient

        # The accumulators of the estimate of d, with this step's (old) d.
        away = state.p0 - params
        dot = grads[:, :1] * away[:, :1] + grads[:, 1:] * away[:, 1:]
        d_numerator = state.d_numerator * beta3 + (d / d0) * dlr * dot
        exp_avg = np.where(beta1 > 0, state.exp_avg * beta1 + d * (1 - beta1) * grads, state.exp_avg)
        exp_avg_sq = state.exp_avg_sq * beta2 + d * d * (1 - beta2) * grads * grads
        weight = np.where(np.not_equal(safeguard_warmup, 0), (d / d0) * d, (d / d0) * dlr)
        s = state.s * beta3 + weight * grads
        d_denom = np.abs(s[:, :1]) + np.abs(s[:, 1:])

        # The new estimate: the running maximum of d_hat, growing by at most growth_rate per step.
        skip = d_denom == 0  # no gradient yet: prodigyopt returns before the step
        d_hat = d_coef * d_numerator / np.where(skip, 1.0, d_denom)
        new_d = np.where(d == d0, larger(d, d_hat), d)
        d_max = larger(state.d_max, d_hat)
        new_d = smaller(d_max, new_d * growth_rate)

        denom = np.sqrt(exp_avg_sq) + new_d * eps
        # In place as prodigyopt does (decay, then step), so θ rounds as there: early on the estimate divides by
        # θ0 − θ, a difference of nearly equal numbers.
        decayed = np.where(decays & decoupled, params + (-weight_decay * dlr) * params, params)
        step = np.where(beta1 > 0, -dlr * (exp_avg / denom), (-dlr * new_d) * (grads / denom))
        updates = np.where(skip, 0.0, (decayed + step) - params)
        kept = ProdigyState(k, s, state.p0, exp_avg, exp_avg_sq, d, state.d_max, state.d_numerator, state.d_denom,
                            state.d_hat)
        new = ProdigyState(k + 1, s, state.p0, exp_avg, exp_avg_sq, new_d, d_max, d_numerator, d_denom, d_hat)
        if not skip.any():
            return updates, new
        return updates, ProdigyState(*(np.where(skip, old, now) for old, now in zip(kept, new)))

    return Transform(init, update)


def _schedule_free_weight(c):
    """c_t = w_t / Σw: the weight of the newest z in the average x."""
    total = c.state["weight_sum"]
    return (total - previous(total)) / total


@optimizer(
    "schedule_free_adamw",
    title="Schedule-free AdamW",
    summary="AdamW without a learning-rate schedule: it keeps three sequences, z (plain Adam-normalized steps), "
    "x (the running average of the z's, the point that is evaluated and shown here) and y (between the two, where "
    "the gradient is taken). Averaging replaces the decay a schedule would give.",
    latex=r"\begin{aligned} v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,\quad g_t = \nabla f(y_{t-1})\\ "
    r"\hat g_t &= \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + \lambda\, y_{t-1}\\ "
    r"z_t &= z_{t-1} - \gamma_t\, \hat g_t,\quad \gamma_t = \gamma \min(1, t / T_{\text{warmup}})\\ "
    r"c_t &= \frac{w_t}{\sum_{i \le t} w_i},\quad w_t = t^{\,r} \left(\max_{i \le t} \gamma_i\right)^{p}\\ "
    r"x_t &= (1 - c_t)\, x_{t-1} + c_t\, z_t\\ "
    r"y_t &= (1 - \beta_1)\, z_t + \beta_1\, x_t \end{aligned}",
    pseudocode="g = grad f(y)\nv = beta2 * v + (1 - beta2) * g * g\n"
    "g_hat = g / (sqrt(v / (1 - beta2 ** t)) + eps) + weight_decay * y\n"
    "lr_max = max(lr_max, lr_t)\nweight = t ** r * lr_max ** weight_lr_power\n"
    "weight_sum = weight_sum + weight\nc = weight / weight_sum\n"
    "y = lerp(y, z, c) + lr_t * (beta1 * (1 - c) - 1) * g_hat\nz = z - lr_t * g_hat\n"
    "x = lerp(y, z, 1 - 1 / beta1)   # what eval() sets, shown",
    paper=Paper("Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky", "The road less scheduled", 2024,
                "https://arxiv.org/abs/2405.15682"),
    equivalent="schedulefree.AdamWScheduleFree(params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, "
    "warmup_steps=0, r=0.0, weight_lr_power=2.0)",
    notes=(
        "The path shown is x, the point optimizer.eval() puts in the parameters; the gradient is taken at y, the "
        "parameters in train mode, which the engine records as the run's gradient point. Evaluating or plotting y "
        "instead, as one does by forgetting eval(), shows a point pulled a fraction 1 − β1 of the way to z.",
        "The package stores y (the parameters), z and the squared-gradient average, not x: eval() recovers "
        "x = y + (1 − 1/β1)(z − y), which is why β1 must be above 0 here.",
        "With warmup_steps = 0 and r = 0 every weight is lr², so c_t = 1/t and x is the plain average of "
        "z_1 … z_t: the whole history counts equally, the first steps as much as the last.",
        "The update of y is written in one fused step, as the package does (lerp towards z, then a gradient "
        "step); it equals (1 − β1) z_t + β1 x_t.",
    ),
    second_axis=("beta1", (0.5, 0.8, 0.9, 0.95, 0.99)),
    ranges={"beta1": (0.0, 1.0, False)},
    look=Look("#93664C", "dash", "triangle-right"),
    views=(
        Path("z", "the base sequence, which takes the Adam-normalized gradient steps; the shown point x is its "
             "weighted running average", lambda c: c.state["z"], fields=("z",)),
        adam_views()[1],
        Panel("c", "the weight of the newest z in the average x, w_t / Σw: 1/t with the default r = 0",
              _schedule_free_weight, log=True, fields=("weight_sum",), coordinates=("",), first=1),
    ),
)
def schedule_free_adamw(lr=0.0025, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, warmup_steps=0.0, r=0.0,
                        weight_lr_power=2.0):
    def init(params):
        n = len(params)
        return ScheduleFreeState(0, params.copy(), np.zeros_like(params), column(0.0, n), column(-1.0, n))

    def update(grads, state, params, **extra):
        k = state.k
        warming = k < np.asarray(warmup_steps)
        scheduled = lr * np.where(warming, (k + 1) / np.where(warming, warmup_steps, 1.0), 1.0)
        lr_max = larger(scheduled, state.lr_max)
        weight = power(k + 1, r) * power(lr_max, weight_lr_power)
        weight_sum = state.weight_sum + weight
        ckp1 = np.where(weight_sum == 0, 0.0, weight / np.where(weight_sum == 0, 1.0, weight_sum))

        exp_avg_sq = state.exp_avg_sq * beta2 + (1 - beta2) * grads * grads
        normalized = grads / (np.sqrt(exp_avg_sq / (1 - power(beta2, k + 1))) + eps)
        normalized = np.where(np.not_equal(weight_decay, 0), normalized + weight_decay * params, normalized)
        y = lerp(params, state.z, ckp1)
        y = y + scheduled * (beta1 * (1 - ckp1) - 1) * normalized
        z = state.z - scheduled * normalized
        return y - params, ScheduleFreeState(k + 1, z, exp_avg_sq, weight_sum, lr_max)

    def shown(state, params):
        return lerp(params, state.z, 1 - 1 / beta1)

    return Transform(init, update, shown)
