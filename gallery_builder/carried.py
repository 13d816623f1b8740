"""What an optimizer carries from step to step, read from the state the sweep recorded for one run.

A small table says, per optimizer, what each state field means and how to draw it: as a panel of per-coordinate
series against the step, as an arrow from the current point, or as a point sequence of its own on the contour.
Every value comes from the recorded state (or, for Newton, from the function's Hessian at the recorded points,
which is the Hessian the update used). Bias corrections use the state's own step count: the state recorded at
index t is the state after t updates, so its step counter is t. A recorded field the table does not describe
(an optimizer added later) is still shown, as a panel of its raw values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import functions


@dataclass(frozen=True)
class Context:
    """One run's recorded state and what the table's formulas may use."""

    state: dict  # field -> (S+1, k), the run's own recorded state; NaN after it stopped
    hyper: dict  # the run's hyperparameters, lr included
    t: np.ndarray  # (S+1, 1): the state's step count at each index
    points: np.ndarray  # (S+1, 2): the positions the run reported
    fn: object


@dataclass(frozen=True)
class Panel:
    """Per-coordinate values against the step, on a panel of their own."""

    name: str
    meaning: str
    values: Callable  # Context -> (S+1, k)
    log: bool = False  # a positive quantity, drawn on a log axis
    fields: tuple = ()  # the state fields it reads
    coordinates: tuple = (" x", " y")  # the legend's suffixes for its two columns
    first: int = 0  # the first step with a meaning: 1 for the scale an update applies (no update made step 0)


@dataclass(frozen=True)
class Arrow:
    """A displacement drawn at each step from the current point (``through``: a segment centred on it)."""

    name: str
    meaning: str
    values: Callable  # Context -> (S+1, 2)
    fields: tuple = ()
    through: bool = False


@dataclass(frozen=True)
class Path:
    """A point sequence the optimizer keeps besides the path it shows, drawn as its own trace."""

    name: str
    meaning: str
    values: Callable  # Context -> (S+1, 2)
    fields: tuple = ()


def _corrected(field, beta):
    def values(c):
        with np.errstate(divide="ignore", invalid="ignore"):
            return c.state[field] / (1 - c.hyper[beta] ** c.t)
    return values


def _root_corrected(field, beta):
    corrected = _corrected(field, beta)
    return lambda c: np.sqrt(corrected(c))


def _adam_step(field, beta, eps="eps"):
    root = _root_corrected(field, beta)
    return lambda c: c.hyper["lr"] / (root(c) + c.hyper[eps])


def _adam_views(second="exp_avg_sq", note=""):
    views = [
        Panel("m̂", "exp_avg / (1 − β₁ᵗ): the bias-corrected average of gradients, the direction of the step",
              _corrected("exp_avg", "beta1"), fields=("exp_avg",)),
        Panel("√v̂", "√(exp_avg_sq / (1 − β₂ᵗ)): the bias-corrected root mean square of gradients",
              _root_corrected("exp_avg_sq", "beta2"), log=True, fields=("exp_avg_sq",)),
    ]
    if second != "exp_avg_sq":
        views.append(Panel("√v̂ max", "√(max_exp_avg_sq / (1 − β₂ᵗ)): AMSGrad divides by this running maximum",
                           _root_corrected(second, "beta2"), log=True, fields=(second,)))
    step = "√v̂ max" if second != "exp_avg_sq" else "√v̂"
    views.append(Panel("lr/(√v̂+ε)", f"lr / ({step} + ε): the step per unit of m̂ in each coordinate{note}",
                       _adam_step(second, "beta2"), log=True, fields=(second,), first=1))
    return views


def _momentum_arrow(what):
    return Arrow("−lr·b", f"−lr times the momentum buffer, drawn from the current point: {what}",
                 lambda c: -c.hyper["lr"] * c.state["momentum_buffer"], fields=("momentum_buffer",))


_BUFFER = Panel("b", "the momentum buffer per coordinate", lambda c: c.state["momentum_buffer"],
                fields=("momentum_buffer",))


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


VIEWS = {
    "momentum": [_momentum_arrow("the step it just took, which it carries into the next one"), _BUFFER],
    "nesterov": [_momentum_arrow("the velocity; each step adds the gradient to μ times it"), _BUFFER],
    "adagrad": [
        Panel("s", "sum: every past squared gradient, per coordinate; it only grows", lambda c: c.state["sum"],
              log=True, fields=("sum",)),
        Panel("lr/(√s+ε)", "lr / (√sum + ε): the step per unit of gradient in each coordinate",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["sum"]) + c.hyper["eps"]), log=True, fields=("sum",), first=1),
    ],
    "rmsprop": [
        Panel("v", "square_avg: the moving average of squared gradients", lambda c: c.state["square_avg"], log=True,
              fields=("square_avg",)),
        Panel("lr/(√v+ε)", "lr / (√square_avg + ε): the step per unit of gradient in each coordinate",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["square_avg"]) + c.hyper["eps"]), log=True,
              fields=("square_avg",), first=1),
        _momentum_arrow("the step it just took (with momentum 0 the buffer is the scaled gradient)"),
    ],
    "adadelta": [
        Panel("v", "square_avg: the moving average of squared gradients", lambda c: c.state["square_avg"], log=True,
              fields=("square_avg",)),
        Panel("u", "acc_delta: the moving average of squared updates", lambda c: c.state["acc_delta"], log=True,
              fields=("acc_delta",)),
        Panel("lr·√(u+ε)/√(v+ε)", "lr·√(acc_delta + ε) / √(square_avg + ε) from the state at step t: the step per "
              "unit of gradient (the next update uses the next square_avg)",
              lambda c: c.hyper["lr"] * np.sqrt(c.state["acc_delta"] + c.hyper["eps"])
              / np.sqrt(c.state["square_avg"] + c.hyper["eps"]), log=True, fields=("square_avg", "acc_delta"), first=1),
    ],
    "adam": _adam_views(),
    "adamw": _adam_views(),
    "amsgrad": _adam_views("max_exp_avg_sq"),
    "radam": _adam_views(note="; RAdam multiplies it by its rectification term once that is defined, and steps "
                              "with lr·m̂ alone before"),
    "nadam": [
        Panel("m", "exp_avg: the average of gradients, uncorrected (NAdam's correction uses its momentum schedule)",
              lambda c: c.state["exp_avg"], fields=("exp_avg",)),
        *_adam_views()[1:],
    ],
    "adamax": [
        _adam_views()[0],
        Panel("u", "exp_inf: the decayed maximum of |g| (+ ε), the per-coordinate divisor",
              lambda c: c.state["exp_inf"], log=True, fields=("exp_inf",)),
        Panel("lr/u", "lr / exp_inf: the step per unit of m̂ in each coordinate",
              lambda c: c.hyper["lr"] / c.state["exp_inf"], log=True, fields=("exp_inf",), first=1),
    ],
    "lion": [Panel("m", "mu: the momentum, an average of gradients with β₂; the step is lr times the sign of a "
                        "mix of it and the gradient", lambda c: c.state["mu"], fields=("mu",))],
    "adabelief": [
        Panel("m̂", "mu / (1 − β₁ᵗ): the bias-corrected average of gradients", _corrected("mu", "beta1"),
              fields=("mu",)),
        Panel("√ŝ", "√(nu / (1 − β₂ᵗ)): the bias-corrected root mean square of the gradient's deviation from m",
              _root_corrected("nu", "beta2"), log=True, fields=("nu",)),
        Panel("lr/(√ŝ+ε)", "lr / (√ŝ + ε): the step per unit of m̂ in each coordinate",
              _adam_step("nu", "beta2"), log=True, fields=("nu",), first=1),
    ],
    "asgd": [Path("average", "ax: the running average of the iterates, which ASGD reports as its answer",
                  lambda c: c.state["ax"], fields=("ax",))],
    "newton": [
        Arrow("eigen-direction λ₁", "the Hessian's eigenvector of the smaller eigenvalue at the current point "
              "(a segment of fixed length)", _eigen_direction(0), through=True),
        Arrow("eigen-direction λ₂", "the Hessian's eigenvector of the larger eigenvalue at the current point",
              _eigen_direction(1), through=True),
        Panel("λ", "the Hessian's eigenvalues λ₁ ≤ λ₂ at the current point: a negative one means Newton's step "
              "goes uphill along its direction", lambda c: _eigen(c)[0], coordinates=("₁", "₂")),
    ],
}
# Engine-level fields, for any optimizer.
COMMON = [Path("gradient point y", "gradient_point: where the gradient is evaluated, when the optimizer shows "
               "another point (schedule-free's y; the path is x)", lambda c: c.state["gradient_point"],
               fields=("gradient_point",))]


def views(name: str, recorded) -> list:
    """The table's views of an optimizer whose recorded state has the fields ``recorded``, then a panel of raw
    values for every recorded field no view reads."""
    known = [v for v in VIEWS.get(name, []) + COMMON if set(v.fields) <= set(recorded)]
    read = {f for v in known for f in v.fields}
    return known + [Panel(field, f"{field}: a state field of this optimizer, as recorded",
                          lambda c, field=field: c.state[field], fields=(field,))
                    for field in recorded if field not in read]


def context(cell, i: int) -> Context:
    """Run ``i`` of a cell, cut at its last recorded step."""
    last = int(cell.runs.last[i])
    state = {name: values[i, : last + 1] for name, values in cell.runs.state.items()}
    return Context(state, {**cell.hyperparameters, "lr": float(cell.lrs[i])},
                   np.arange(last + 1, dtype=float)[:, None], cell.runs.points[i, : last + 1],
                   functions.get(cell.function))


def carried(cell, i: int) -> list:
    """(view, values (S+1, k)) for every view of run ``i``."""
    c = context(cell, i)
    out = []
    with np.errstate(all="ignore"):
        for view in views(cell.optimizer, c.state):
            values = np.array(view.values(c), float)
            values[: getattr(view, "first", 0)] = np.nan
            out.append((view, values))
    return out


def applies(cell) -> bool:
    return bool(views(cell.optimizer, cell.runs.state))
