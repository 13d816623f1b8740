"""More of torch.optim: Rprop, ASGD, Adafactor and L-BFGS, in the order of operations of torch's single-tensor code.

torch's branches on a value computed during the run (Rprop's sign test, L-BFGS's early returns and curvature test)
are taken per element of the batch, so each run follows its own branch exactly as torch would alone.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, lerp, optimizer, power


class RpropState(NamedTuple):
    step: int
    prev: np.ndarray
    step_size: np.ndarray


class ASGDState(NamedTuple):
    step: int
    eta: np.ndarray  # (B, 1): the step size used by the next update
    mu: np.ndarray  # (B, 1): the averaging weight used by the next update
    ax: np.ndarray  # (B, 2): the average of the iterates


class AdafactorState(NamedTuple):
    step: int
    variance: np.ndarray  # a vector parameter is not factored: one second moment per coordinate


# torch's default history_size: it sets the shape of the memory, so it is not a per-run hyperparameter.
HISTORY_SIZE = 100


LINKS = HISTORY_SIZE - 1  # the pairs of a full memory are joined by this many links


class LBFGSMemory(NamedTuple):
    """The stored pairs, in the form that the 2-D closed form of ``_direction`` reads.

    In 2-D the memory's inverse Hessian is H = ρ s sᵀ + λ (Jy)(Jy)ᵀ for its newest pair (s, y, ρ), where J turns a
    vector by 90°: one number λ stands for every older pair. Storing a pair maps λ affinely, λ ↦ a·λ + b with
    a, b ≥ 0 from the two newest pairs (a *link*); dropping the oldest pair takes the links composed over a sliding
    window. So links are grouped by their number into blocks of LINKS: a full memory's links are a suffix of the
    previous block, kept composed from each position to its end, then a prefix of the current block, kept composed.
    Every number depends on the run's own pairs only, so a run computes the same bits in any batch."""

    pushes: np.ndarray  # (B,): pairs stored since the start; the memory holds the last min(pushes, HISTORY_SIZE)
    y: np.ndarray  # (B, 2): the newest pair's y (torch's old_dirs[-1])
    s: np.ndarray  # (B, 2): its s (old_stps[-1])
    ro: np.ndarray  # (B, 1): its 1 / yᵀs (ro[-1])
    scale: np.ndarray  # (B,): its ρ²|s|², the λ per unit of H_diag of a memory holding it alone
    first: np.ndarray  # (B,): the scale of the pair that the current block's first link starts from
    prefix: np.ndarray  # (2, B): (a, b) of the current block's links composed, oldest first
    links: tuple  # LINKS arrays (3, B): (a, b, scale of its older pair) of the current block's link at each position
    suffix: np.ndarray  # (2, LINKS, B): the previous block's links from each position on, composed and applied to
    # the scale of that position's older pair: (coefficient of H_diag, constant)

    def take_rows(self, rows):
        """The memory of the runs ``rows`` alone (prefix, links and suffix keep their runs on the last axis)."""
        return LBFGSMemory(self.pushes[rows], self.y[rows], self.s[rows], self.ro[rows], self.scale[rows],
                           self.first[rows], self.prefix[:, rows], tuple(link[:, rows] for link in self.links),
                           self.suffix[:, :, rows])


class LBFGSState(NamedTuple):
    func_evals: int  # closure evaluations: one per step() call with max_iter = 1, early return or not
    n_iter: np.ndarray  # (B, 1): iterations done; a run that returned early at tolerance_grad did none
    d: np.ndarray  # (B, 2): the last direction
    t: np.ndarray  # (B, 1): the last step length
    H_diag: np.ndarray  # (B, 1): the scale of the initial inverse Hessian
    prev_flat_grad: np.ndarray  # (B, 2)
    num_old: np.ndarray  # (B, 1): how many pairs are stored (len(old_dirs) in torch)
    memory: LBFGSMemory  # torch's old_dirs, old_stps and ro, in closed form


def _dot(a, b):
    """Row-wise dot product of (B, 2) arrays as torch's ``dot`` computes it for two elements: a₀b₀ + a₁b₁."""
    return a[:, :1] * b[:, :1] + a[:, 1:] * b[:, 1:]


def _norm(a):
    """Row-wise Euclidean norm of (B, 2) arrays, (B, 1)."""
    return np.sqrt(_dot(a, a))


@optimizer(
    "rprop",
    title="Rprop",
    summary="Resilient backpropagation: ignore the gradient's size and step by its sign, with a step size per "
    "coordinate that grows by 1.2× while the sign of the gradient stays the same and halves when it flips. "
    "After a flip that coordinate pauses for one step.",
    latex=r"\begin{aligned} \eta_{t,i} &= \begin{cases} \min(\eta^{+}\eta_{t-1,i},\ \Gamma_{\max}) & "
    r"g_{t,i}\, p_{t-1,i} > 0\\ \max(\eta^{-}\eta_{t-1,i},\ \Gamma_{\min}) & g_{t,i}\, p_{t-1,i} < 0\\ "
    r"\eta_{t-1,i} & \text{otherwise} \end{cases}\\ "
    r"p_{t,i} &= \begin{cases} 0 & g_{t,i}\, p_{t-1,i} < 0\\ g_{t,i} & \text{otherwise} \end{cases}\\ "
    r"\theta_{t,i} &= \theta_{t-1,i} - \eta_{t,i}\, \operatorname{sign}(p_{t,i}),\qquad \eta_{0,i} = \gamma, "
    r"\ p_{0,i} = 0 \end{aligned}",
    pseudocode="g = grad f(theta)\nfor each coordinate i:\n    if g[i] * prev[i] > 0:   step[i] = min(step[i] * etaplus, "
    "step_size_max)\n    elif g[i] * prev[i] < 0: step[i] = max(step[i] * etaminus, step_size_min); g[i] = 0\n"
    "    theta[i] = theta[i] - step[i] * sign(g[i])\n    prev[i] = g[i]",
    paper=Paper("Riedmiller, Braun", "A direct adaptive method for faster backpropagation learning: the RPROP "
                "algorithm", 1993, "https://doi.org/10.1109/ICNN.1993.298623"),
    equivalent="torch.optim.Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50))",
    notes=(
        "lr is the initial step size of every coordinate, not a multiplier of the gradient: the first step moves "
        "each coordinate by exactly lr (times the sign of its gradient).",
        "After a sign change the step size shrinks and the gradient is stored as 0, so that coordinate does not "
        "move this step and its step size is left alone at the next one. The paper also takes back the previous "
        "step after a sign change (weight backtracking); torch does not, the variant Igel and Hüsken (2000) "
        "call iRprop⁻.",
        "etas = (etaminus, etaplus) and step_sizes = (step_size_min, step_size_max) are torch's tuples, split "
        "into one hyperparameter each.",
        "The gradient's magnitude never enters, so the step sizes, not the slope, set the pace: steep and flat "
        "coordinates move alike.",
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


def _cross(a, b):
    """Row-wise a₀b₁ − a₁b₀ of (B, 2) arrays, (B,): (Ja)·b, where J turns by 90°."""
    return a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]


def _empty_memory(n):
    zeros, pairs = np.zeros(n), np.zeros((n, 2))
    link = np.stack([np.ones(n), zeros, zeros])  # the identity map; a slot is always written before it is read
    return LBFGSMemory(np.zeros(n, dtype=int), pairs, pairs, np.zeros((n, 1)), zeros, zeros, link[:2],
                       (link,) * LINKS, np.zeros((2, LINKS, n)))


def _remember(memory, y, s, ys, push):
    """Store the pair (y, s) where ``push``; a full memory drops its oldest pair as its window moves on."""
    pushed = push[:, 0]
    if not pushed.any():
        return memory
    ro = 1.0 / ys
    scale = (ro[:, 0] * ro[:, 0]) * _dot(s, s)[:, 0]
    # The link from the newest stored pair to this one: λ' = ρ²(sᵀy_old)²·λ + ρ²ρ_old(s × s_old)².
    a = ro[:, 0] * _dot(s, memory.y)[:, 0]
    b = ro[:, 0] * _cross(s, memory.s)
    a, b = a * a, (b * b) * memory.ro[:, 0]
    number = memory.pushes  # the new link's number, from 1 (0: the first pair, which has none)
    linked = pushed & (number >= 1)
    position = (number - 1) % LINKS
    opens = linked & (position == 0)  # the first link of a block
    suffix = memory.suffix
    completed = np.flatnonzero(opens & (number > 1))
    if completed.size:  # the previous block is complete: compose it from each position to its end
        a_block, b_block, scale_block = np.stack([link[:, completed] for link in memory.links], axis=1)
        after = np.cumprod(a_block[::-1], axis=0)[::-1]  # a_j·a_{j+1}·…·a_last
        tail = np.concatenate([after[1:], np.ones((1, completed.size))]) * b_block
        suffix = suffix.copy()
        suffix[0][:, completed] = after * scale_block
        suffix[1][:, completed] = np.cumsum(tail[::-1], axis=0)[::-1]
    prefix = np.where(opens, np.stack([a, b]), np.stack([a * memory.prefix[0], a * memory.prefix[1] + b]))
    prefix = np.where(linked, prefix, np.where(pushed, np.array([[1.0], [0.0]]), memory.prefix))
    first = np.where(opens, memory.scale, np.where(pushed & (number == 0), scale, memory.first))
    links = list(memory.links)
    link = np.stack([a, b, memory.scale])
    at = position[linked]
    in_step = at.size and (at == at[0]).all()  # usually: the runs that store every step stay in step
    for j in at[:1] if in_step else np.unique(at):
        links[j] = np.where(linked & (position == j), link, links[j])
    return LBFGSMemory(number + pushed, np.where(push, y, memory.y), np.where(push, s, memory.s),
                       np.where(push, ro, memory.ro), np.where(pushed, scale, memory.scale), first, prefix,
                       tuple(links), suffix)


def _direction(grads, memory, H_diag):
    """−H·g for the inverse Hessian H that torch's two-loop recursion applies, with H₀ = H_diag·I.

    For pairs (sᵢ, yᵢ, ρᵢ), oldest first, Hᵢ = Vᵢᵀ Hᵢ₋₁ Vᵢ + ρᵢ sᵢ sᵢᵀ with Vᵢ = I − ρᵢ yᵢ sᵢᵀ, which in 2-D is
    the rank-one ρᵢ (Jsᵢ)(Jyᵢ)ᵀ. So H = ρ s sᵀ + λ (Jy)(Jy)ᵀ for the newest pair, with λ = ρ²|s|²·H_diag for one
    pair, and each next pair's link gives the next λ: the same matrix, in a few operations instead of four per pair.
    """
    links = memory.pushes - 1
    position = (links - 1) % LINKS + 1  # where the window starts in the previous block
    inside = (links <= LINKS) | (position == LINKS)  # the window is the current block's links alone
    if inside.all():  # as until a run's 101st pair: no gather from the previous block
        coefficient, constant = memory.first, 0.0
    else:
        at = np.minimum(position, LINKS - 1)[None, :]
        coefficient = np.where(inside, memory.first, np.take_along_axis(memory.suffix[0], at, 0)[0])
        constant = np.where(inside, 0.0, np.take_along_axis(memory.suffix[1], at, 0)[0])
    lam = memory.prefix[0] * (H_diag[:, 0] * coefficient + constant) + memory.prefix[1]
    y, s = memory.y, memory.s
    along = (memory.ro * _dot(s, grads)) * s
    across = (lam * _cross(y, grads))[:, None] * np.stack([-y[:, 1], y[:, 0]], axis=1)
    if memory.pushes.all():
        return -(along + across)
    return np.where((memory.pushes == 0)[:, None], -grads * H_diag, -(along + across))


@optimizer(
    "lbfgs",
    title="L-BFGS",
    summary="A quasi-Newton method: estimate the inverse Hessian from the last (up to 100) pairs of steps and "
    "gradient changes, and step along −H·g with a fixed step length, without a line search. One iteration per "
    "step() here; torch's default runs 20 per call.",
    latex=r"\begin{aligned} s_t &= \alpha_{t-1}\, d_{t-1},\quad y_t = g_t - g_{t-1}\quad "
    r"\text{(stored if } y_t^{\top} s_t > 10^{-10}\text{, at most } m = 100 \text{ pairs)}\\ "
    r"d_t &= -H_t\, g_t\ \text{ by the two-loop recursion},\quad H_t^{0} = "
    r"\frac{y^{\top}s}{y^{\top}y}\, I \ \text{(last stored pair)},\quad d_1 = -g_1\\ "
    r"\alpha_t &= \begin{cases} \min\!\left(1,\ 1/\lVert g_1\rVert_1\right)\gamma & t = 1\\ \gamma & t > 1 "
    r"\end{cases}\\ "
    r"\theta_t &= \theta_{t-1} + \alpha_t\, d_t \quad \text{unless } \max_i |g_{t,i}| \le \tau_g \text{ or } "
    r"g_t^{\top} d_t > -\tau_c \end{aligned}",
    pseudocode="g = grad f(theta)                  # the step's one evaluation\n"
    "if max(abs(g)) <= tolerance_grad: return  # nothing changes\nn_iter = n_iter + 1\n"
    "if n_iter == 1:\n    d = -g; H_diag = 1\nelse:\n    y = g - prev_g; s = t * d\n"
    "    if dot(y, s) > 1e-10:\n        remember (y, s), dropping the oldest pair beyond 100\n"
    "        H_diag = dot(y, s) / dot(y, y)\n    d = -(two-loop recursion over the pairs)(g)\nprev_g = g\n"
    "t = min(1, 1 / sum(abs(g))) * lr if n_iter == 1 else lr\n"
    "if dot(g, d) > -tolerance_change: return  # d and t are kept\ntheta = theta + t * d",
    paper=Paper("Liu, Nocedal", "On the limited memory BFGS method for large scale optimization", 1989,
                "https://doi.org/10.1007/BF01589116"),
    equivalent="torch.optim.LBFGS(params, lr=1, max_iter=1, tolerance_grad=1e-7, tolerance_change=1e-9, "
    "history_size=100, line_search_fn=None)",
    notes=(
        "One iteration per step: max_iter = 1, so each step() evaluates the closure once, at the current point, "
        "and that evaluation is the step's one gradient here. torch's default max_iter = 20 runs up to 20 "
        "iterations per step() call and, without a line search, evaluates the closure up to 20 times: one of its "
        "steps is up to 20 of these.",
        "No line search (line_search_fn = None): the step length is lr, except the very first, which is "
        "min(1, 1/‖g‖₁)·lr. Nothing stops a step from going uphill, so a large learning rate can diverge.",
        "The memory keeps a pair only if yᵀs > 1e-10, which is how torch keeps the estimate positive definite; "
        "on a saddle or near a maximum, where the curvature along the step is negative, pairs are skipped and "
        "the last scale H_diag stays.",
        "Every branch is taken per run: a run whose largest gradient coordinate is ≤ tolerance_grad does "
        "nothing that step (not even the iteration count moves); a direction with gᵀd > −tolerance_change is "
        "not taken, but it and its t are kept and enter the next memory update, as in torch.",
        "history_size is torch's default 100 and fixed. In 2-D the memory's estimate is H = ρ s sᵀ + λ (Jy)(Jy)ᵀ "
        "for the newest pair (J turns by 90°), so the state keeps that pair and what λ needs over the window of "
        "pairs instead of torch's lists (its memory); num_old is the number of pairs in use (len(old_dirs) in "
        "torch). torch's al holds the recursion's scratch coefficients and prev_loss is read only by a check that "
        "max_iter = 1 never reaches: both are left out.",
    ),
)
def lbfgs(lr=1.0, tolerance_grad=1e-7, tolerance_change=1e-9):
    def init(params):
        column = np.zeros((len(params), 1))
        return LBFGSState(0, column, np.zeros_like(params), column, column + 1.0, np.zeros_like(params), column,
                          _empty_memory(len(params)))

    def update(grads, state, params, **extra):
        # torch returns before anything else when max|g| ≤ tolerance_grad (NaN compares False: it goes on).
        moving = ~(np.maximum(np.abs(grads[:, :1]), np.abs(grads[:, 1:])) <= tolerance_grad)
        n_iter = state.n_iter + moving
        first = n_iter == 1  # a run's first iteration: d = −g (its memory is still empty and H_diag is 1)
        later = moving & ~first
        y = grads - state.prev_flat_grad
        s = state.d * state.t
        ys = _dot(y, s)
        push = later & (ys > 1e-10)
        with np.errstate(invalid="ignore", divide="ignore"):  # rows that push nothing may divide 0 by 0
            memory = _remember(state.memory, y, s, ys, push)
            H_diag = np.where(push, ys / _dot(y, y), state.H_diag)
            direction = _direction(grads, memory, H_diag)
        num_old = np.minimum(memory.pushes, HISTORY_SIZE)[:, None]
        d = direction if later.all() else np.where(later, direction, np.where(first, -grads, state.d))
        prev_flat_grad = np.where(moving, grads, state.prev_flat_grad)
        inverse = 1.0 / (np.abs(grads[:, :1]) + np.abs(grads[:, 1:]))
        t = np.where(first, np.where(inverse < 1.0, inverse, 1.0) * lr, lr)  # Python's min(1.0, 1/‖g‖₁)
        t = np.where(moving, t, state.t)
        step = moving & ~(_dot(grads, d) > -tolerance_change)
        updates = d * t if step.all() else np.where(step, d * t, 0.0)
        return updates, LBFGSState(state.func_evals + 1, n_iter, d, t, H_diag, prev_flat_grad, num_old, memory)

    return Transform(init, update)
