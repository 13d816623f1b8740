"""The optimizer catalogue, in the style of optax: each optimizer is a pure ``init``/``update`` pair.

``init(params)`` returns the state; ``update(grads, state, params, hessian)`` returns ``(updates, state)`` and the
caller adds ``updates`` to ``params``. Arrays carry a leading batch axis, so one call advances a whole batch of runs
(learning rates × start points); hyperparameters are scalars or arrays that broadcast against ``(batch, 1)``.

Update rules and defaults follow ``torch.optim`` (its documented pseudo-code, and the order of operations of its
single-tensor implementation, so trajectories agree with torch to rounding in float64). Lion and AdaBelief, which
torch lacks, follow optax. Adding an optimizer means adding one decorated factory here.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from ..errors import UserError, unknown_name


class Transform(NamedTuple):
    init: Callable
    update: Callable


@dataclass(frozen=True)
class Paper:
    authors: str
    title: str
    year: int
    url: str


@dataclass(frozen=True)
class Optimizer:
    """An optimizer factory and everything the site says about it."""

    name: str
    title: str
    factory: Callable = field(repr=False)
    summary: str
    latex: str
    pseudocode: str
    paper: Paper
    equivalent: str  # the torch.optim (or optax) call this reproduces
    notes: tuple = ()
    uses_hessian: bool = False
    # A second hyperparameter to sweep against the learning rate, with its values: the momentum-like one.
    second_axis: tuple | None = None

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in inspect.signature(self.factory).parameters.values()}

    @property
    def source(self) -> str:
        return inspect.getsource(self.factory)

    def hyperparameters(self, overrides: dict | None = None) -> dict:
        """Defaults merged with checked overrides; raises UserError for unknown names or bad values."""
        values = self.defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                raise UserError(
                    f"optimizer {self.name!r} has no hyperparameter {key!r}; it has {', '.join(values)}"
                )
            values[key] = check_hyperparameter(key, value)
        return values

    def transform(self, **hyper) -> Transform:
        return self.factory(**hyper)


# Valid ranges by hyperparameter name: (low, high, low is inclusive).
RANGES = {
    "lr": (0.0, math.inf, False),
    "momentum": (0.0, 1.0, True),
    "alpha": (0.0, 1.0, True),
    "rho": (0.0, 1.0, True),
    "beta1": (0.0, 1.0, True),
    "beta2": (0.0, 1.0, True),
}


def check_hyperparameter(key: str, value) -> float:
    if isinstance(value, bool):
        raise UserError(f"hyperparameter {key} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserError(f"hyperparameter {key} must be a number, got {value!r}") from None
    low, high, inclusive = RANGES.get(key, (0.0, math.inf, True))
    ok = math.isfinite(value) and (value >= low if inclusive else value > low) and value < high
    if not ok:
        bracket = "[" if inclusive else "("
        raise UserError(f"hyperparameter {key} must be finite and in {bracket}{low:g}, {high:g}), got {value!r}")
    return value


CATALOGUE: dict[str, Optimizer] = {}


def optimizer(name: str, **meta):
    """Register the decorated factory (hyperparameters as keyword defaults) under ``name``."""

    def register(factory):
        CATALOGUE[name] = Optimizer(name=name, factory=factory, **meta)
        return factory

    return register


def get(name: str) -> Optimizer:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise unknown_name("optimizer", name, CATALOGUE) from None


# Shared pieces, written the way torch's kernels compute them.


def lerp(start, end, weight):
    """torch.lerp: the exponential moving average ``start + weight·(end − start)`` in torch's rounding."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def square_average(average, grads, decay):
    """``decay·average + (1 − decay)·g²``, as torch's ``mul_(decay).addcmul_(g, g, 1 − decay)``."""
    return average * decay + (1 - decay) * (grads * grads)


class CountState(NamedTuple):
    count: int


class BufferState(NamedTuple):
    count: int
    buffer: np.ndarray


class MomentsState(NamedTuple):
    count: int
    mu: np.ndarray
    nu: np.ndarray
    nu_max: np.ndarray | None = None
    mu_product: float = 1.0


def _zeros_state(state_type, n_moments):
    return lambda params: state_type(0, *(np.zeros_like(params) for _ in range(n_moments)))

