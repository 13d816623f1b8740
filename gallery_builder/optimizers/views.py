"""What an optimizer carries from step to step, in words, and how to draw it: the views an optimizer registers
(``views=(...)``) with its definition, which the state figure draws from the state the sweep recorded.

A view is a panel of per-coordinate series against the step (on a log axis where they span decades), an arrow from
the current point, or a point sequence of its own on the contour. Its ``values`` compute it from a ``Context``, one
run's recorded state and path; what a rule computed from the function (Newton's Hessian, Polyak's step size) is
computed again at the recorded points. Bias corrections use the state's own step count: the state recorded at index
t is the state after t updates, so its step counter is t. Here are the view types and the pieces several families
share; each family's own formulas sit beside its optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Context:
    """One run's recorded state and what a view's formulas may use."""

    state: dict  # field -> (S+1, k), the run's own recorded state; NaN after it stopped
    hyper: dict  # the run's hyperparameters, lr included
    t: np.ndarray  # (S+1, 1): the state's step count at each index
    points: np.ndarray  # (S+1, 2): the positions the run reported
    fn: object


@dataclass(frozen=True)
class View:
    """A quantity the optimizer carries: its name in the legend, its meaning in words, its values from a run's
    ``Context``, and the state fields they read (a view is shown where the run recorded them all)."""

    name: str
    meaning: str
    values: Callable  # Context -> (S+1, k)
    fields: tuple = ()


@dataclass(frozen=True)
class Panel(View):
    """Per-coordinate values against the step, on a panel of their own."""

    log: bool = False  # a positive quantity, drawn on a log axis
    coordinates: tuple = (" x", " y")  # the legend's suffixes for its two columns
    first: int = 0  # the first step with a meaning: 1 for the scale an update applies (no update made step 0)


@dataclass(frozen=True)
class Arrow(View):
    """A displacement (S+1, 2) drawn at each step from the current point (``through``: a segment centred on it)."""

    through: bool = False


@dataclass(frozen=True)
class Path(View):
    """A point sequence (S+1, 2) the optimizer keeps besides the path it shows, drawn as its own trace."""


def corrected(field, beta):
    def values(c):
        with np.errstate(divide="ignore", invalid="ignore"):
            return c.state[field] / (1 - c.hyper[beta] ** c.t)
    return values


def root_corrected(field, beta):
    correct = corrected(field, beta)
    return lambda c: np.sqrt(correct(c))


def adam_step(field, beta, eps="eps"):
    root = root_corrected(field, beta)
    return lambda c: c.hyper["lr"] / (root(c) + c.hyper[eps])


def adam_views(second="exp_avg_sq", note="", first="exp_avg", beta2="beta2", what="gradients"):
    """Adam's three panels for a state whose first moment is ``first`` and second ``second`` (optax's mu and nu)."""
    views = [
        Panel("m̂", "the bias-corrected average of gradients, m / (1 − β₁ᵗ): the direction of the step",
              corrected(first, "beta1"), fields=(first,)),
        Panel("√v̂", f"the bias-corrected root mean square of {what}, √(v / (1 − β₂ᵗ)), per coordinate: what the "
              "step divides by", root_corrected(second, beta2), log=True, fields=(second,)),
    ]
    views.append(Panel("lr/(√v̂+ε)", f"lr / (√v̂ + ε): the step per unit of m̂ in each coordinate, the learning rate "
                       f"each coordinate really gets{note}", adam_step(second, beta2), log=True, fields=(second,),
                       first=1))
    return views


def previous(values):
    """The rows shifted down by one step: at index t, the value at t − 1 (NaN at 0)."""
    return np.vstack([np.full((1,) + values.shape[1:], np.nan), values[:-1]])


def row_norm(values):
    return np.hypot(values[:, :1], values[:, 1:])


def momentum_arrow_of(field, name, meaning):
    return Arrow(name, f"{meaning}, drawn from the current point", lambda c: -c.hyper["lr"] * c.state[field],
                 fields=(field,))


def momentum_arrow(what):
    return momentum_arrow_of("momentum_buffer", "−lr·b", f"−lr times the momentum buffer b: {what}")
