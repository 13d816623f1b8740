"""Optimizers torch lacks, after optax."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, optimizer, power


class LionState(NamedTuple):
    count: int
    mu: np.ndarray


class AdaBeliefState(NamedTuple):
    count: int
    mu: np.ndarray
    nu: np.ndarray

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

