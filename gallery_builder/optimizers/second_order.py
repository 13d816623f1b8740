"""Curvature: Newton's method, from the Hessian, and L-BFGS (torch.optim.LBFGS, one iteration per step()),
from the last gradient differences.

L-BFGS's early returns and curvature test, branches on values computed during the run, are taken per
element of the batch, so each run follows its own branch exactly as torch would alone.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, _dot, optimizer
from .looks import Look
from .views import Arrow, Panel, previous


class NewtonState(NamedTuple):
    step: int


def _eigen(c):
    """Eigenvalues (ascending) and unit eigenvectors of the function's Hessian at every finite recorded point."""
    finite = np.isfinite(c.points).all(axis=1)
    values, vectors = np.full((len(c.points), 2), np.nan), np.full((len(c.points), 2, 2), np.nan)
    if finite.any():
        _, hessians = c.fn.hessian(c.points[finite])
        values[finite], vectors[finite] = np.linalg.eigh(hessians)
        # eigh's sign of a vector is arbitrary; fix it so an arrow does not flip from one step to the next.
        flip = vectors[:, 0:1, :] < 0
        vectors = np.where(flip, -vectors, vectors)
    return values, vectors


def _eigen_direction(k):
    def values(c):
        (x0, x1), (y0, y1) = c.fn.domain
        return _eigen(c)[1][:, :, k] * 0.06 * np.hypot(x1 - x0, y1 - y0)
    return values


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
    look=Look("#C24643", "dash", "circle"),
    views=(
        Arrow("eigen-direction λ₁", "the Hessian's eigenvector of the smaller eigenvalue at the current point "
              "(a segment of fixed length)", _eigen_direction(0), through=True),
        Arrow("eigen-direction λ₂", "the Hessian's eigenvector of the larger eigenvalue at the current point",
              _eigen_direction(1), through=True),
        Panel("λ", "the Hessian's eigenvalues λ₁ ≤ λ₂ at the current point: a negative one means Newton's step "
              "goes uphill along its direction", lambda c: _eigen(c)[0], coordinates=("₁", "₂")),
    ),
)
def newton(lr=1.0, damping=0.0):
    def update(grads, state, params, *, hessian, **extra):
        # (B, 1) columns, so that lr and damping may hold one value per run.
        a = hessian[:, 0, :1] + damping
        b = hessian[:, 0, 1:]
        c = hessian[:, 1, 1:] + damping
        det = a * c - b * b
        x, y = grads[:, :1], grads[:, 1:]
        # Explicit 2×2 inverse, elementwise over the batch: a singular Hessian gives inf/NaN, which the sweep
        # records as divergence instead of raising.
        step = np.concatenate([c * x - b * y, a * y - b * x], axis=1)
        return -lr * (step / det), NewtonState(state.step + 1)

    return Transform(lambda params: NewtonState(0), update)


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


def _lbfgs_curvature(c):
    """The curvature L-BFGS's memory holds along its latest stored step s, 1/H_diag = yᵀy / sᵀy, beside the same
    ratio from the true Hessian H at the step's end, with y = Hs (equal on a quadratic; NaN before a pair is
    stored)."""
    end = previous(c.points)
    step = end - previous(end)
    hessians = np.full((len(end), 2, 2), np.nan)
    finite = np.isfinite(end).all(axis=1)
    if finite.any():
        hessians[finite] = c.fn.hessian(end[finite])[1]
    change = np.einsum("tij,tj->ti", hessians, step)  # the gradient change y a quadratic would give
    true = np.sum(change ** 2, axis=1) / np.sum(change * step, axis=1)
    stored = c.state["num_old"][:, 0] > 0
    return np.where(stored[:, None], np.stack([1 / c.state["H_diag"][:, 0], true], axis=1), np.nan)


_LBFGS_LATEX = (
    r"\begin{aligned} s_t &= \alpha_{t-1}\, d_{t-1},\quad y_t = g_t - g_{t-1}\quad "
    r"\text{(stored if } y_t^{\top} s_t > 10^{-10}\text{, at most } m = 100 \text{ pairs)}\\ "
    r"d_t &= -H_t\, g_t\ \text{ by the two-loop recursion},\quad H_t^{0} = "
    r"\frac{y^{\top}s}{y^{\top}y}\, I \ \text{(last stored pair)},\quad d_1 = -g_1\\ "
    r"\alpha_t &= \begin{cases} \min\!\left(1,\ 1/\lVert g_1\rVert_1\right)\gamma & t = 1\\ \gamma & t > 1 "
    r"\end{cases}\\ "
    r"\theta_t &= \theta_{t-1} + \alpha_t\, d_t \quad \text{unless } \max_i |g_{t,i}| \le \tau_g \text{ or } "
    r"g_t^{\top} d_t > -\tau_c \end{aligned}"
)


_LBFGS_PSEUDOCODE = (
    "g = grad f(theta)                  # the step's one evaluation\n"
    "if max(abs(g)) <= tolerance_grad: return  # nothing changes\nn_iter = n_iter + 1\n"
    "if n_iter == 1:\n    d = -g; H_diag = 1\nelse:\n    y = g - prev_g; s = t * d\n"
    "    if dot(y, s) > 1e-10:\n        remember (y, s), dropping the oldest pair beyond 100\n"
    "        H_diag = dot(y, s) / dot(y, y)\n    d = -(two-loop recursion over the pairs)(g)\nprev_g = g\n"
    "t = min(1, 1 / sum(abs(g))) * lr if n_iter == 1 else lr\n"
    "if dot(g, d) > -tolerance_change: return  # d and t are kept\ntheta = theta + t * d"
)


@optimizer(
    "lbfgs",
    title="L-BFGS",
    summary="A quasi-Newton method: estimate the inverse Hessian from the last (up to 100) pairs of steps and "
    "gradient changes, and step along −H·g with a fixed step length, without a line search. One iteration per "
    "step() here; torch's default runs 20 per call.",
    latex=_LBFGS_LATEX,
    pseudocode=_LBFGS_PSEUDOCODE,
    paper=Paper("Liu, Nocedal", "On the limited memory BFGS method for large scale optimization", 1989,
                "https://doi.org/10.1007/BF01589116"),
    equivalent="torch.optim.LBFGS(params, lr=1, max_iter=1, tolerance_grad=1e-7, tolerance_change=1e-9, "
    "history_size=100, line_search_fn=None)",
    notes=(
        "One iteration per step: max_iter = 1, so each step() evaluates the closure once, at the current point, "
        "and that evaluation is the step's one gradient here. torch's default max_iter = 20 runs up to 20 "
        "iterations per step() call and, without a line search, evaluates the closure up to 20 times: one of its "
        "steps is up to 20 of these.",
        "No line search (line_search_fn = None): the step size t is lr, except on the very first iteration, where "
        "it is min(1, 1/‖g‖₁)·lr and the step, t·g, has length t‖g‖₂ (at most lr). Nothing stops a step from "
        "going uphill, so a large learning rate can diverge.",
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
    look=Look("#AB8B26", "dash", "triangle-down"),
    views=(
        Arrow("t·d", "the step it just took: its memory's inverse Hessian applied to −g, times the step size t",
              lambda c: c.state["d"] * c.state["t"], fields=("d", "t")),
        Panel("pairs stored", "how many (step, gradient change) pairs its memory holds, up to history_size",
              lambda c: c.state["num_old"], fields=("num_old",), coordinates=("",)),
        Panel("curvature", "the curvature its memory measured along its latest stored step s, with y the change of "
              "gradient over it: yᵀy / sᵀy, the inverse of its initial Hessian scale; beside it the same ratio from "
              "the true Hessian at the step's end (they agree on a quadratic; a negative one is not drawn)",
              _lbfgs_curvature, log=True, fields=("num_old", "H_diag"), coordinates=(" memory", " true")),
        Panel("t", "the step size: min(1, 1/‖g‖₁)·lr on the first iteration, lr after", lambda c: c.state["t"],
              log=True, fields=("t",), coordinates=("",)),
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
