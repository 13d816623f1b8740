"""The registry of optimizers and the numeric pieces their update rules share.

An optimizer is a factory whose keyword arguments are its hyperparameters; it returns a ``Transform``, a pure
``init``/``update`` pair in the style of optax. ``init(params)`` returns the state, a NamedTuple whose fields are
named like torch's state keys (optax's for the optax-only optimizers); ``update(grads, state, params, **extra)``
returns ``(updates, state)`` and the caller adds ``updates`` to ``params``. ``extra`` holds what only some rules
read: ``hessian`` (B, 2, 2) for the optimizers with ``uses_hessian``, and ``value`` (B,), f at ``params``.

Arrays carry a leading batch axis, so one call advances a whole batch of runs. Every hyperparameter is a scalar or
an array of shape (B, 1), one value per run, and every rule computes each run exactly as it would alone: branches on
a hyperparameter are taken per element, and powers go through ``power``.

Update rules and defaults follow ``torch.optim`` (its documented pseudo-code, and the order of operations of its
single-tensor implementation, so trajectories agree with torch to rounding in float64). Those torch lacks follow
optax.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from ..errors import UserError, unknown_name
from . import looks
from .views import View


class Transform(NamedTuple):
    init: Callable
    update: Callable
    # For an optimizer whose reported point is not where it evaluates the gradient (schedule-free's x and y):
    # shown(state, params) -> the point to report. The engine then records f there.
    shown: Callable | None = None


def take_rows(state, rows):
    """The state of the runs ``rows`` (indices) alone: each per-run array indexed along its first axis, where
    every state keeps its runs, unless a part of it says otherwise with its own ``take_rows``; a number shared
    by every run stays as it is."""
    if hasattr(state, "take_rows"):
        return state.take_rows(rows)
    if isinstance(state, tuple):
        parts = [take_rows(part, rows) for part in state]
        return type(state)(*parts) if hasattr(state, "_fields") else tuple(parts)
    return state[rows] if isinstance(state, np.ndarray) and state.ndim else state


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
    # Valid ranges of this optimizer's own, by hyperparameter name, where they differ from RANGES.
    ranges: dict = field(default_factory=dict)
    # Reads f* (its ``f_min`` hyperparameter comes from the function): no cell on a function without a minimum.
    needs_minimum: bool = False
    # Its colour, dash and marker in every figure; without one, a fallback fixed by its name (``look``).
    look: looks.Look | None = None
    # What its state means and how to draw it (``views.py``); without them, each recorded field as raw values.
    views: tuple | None = None

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in inspect.signature(self.factory).parameters.values()}

    @property
    def module_path(self) -> str:
        """Where the factory is defined, relative to the project root."""
        return self.factory.__module__.replace(".", "/") + ".py"

    def hyperparameters(self, overrides: dict | None = None) -> dict:
        """Defaults merged with checked overrides; raises UserError for unknown names or bad values."""
        values = self.defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                raise UserError(
                    f"optimizer {self.name!r} has no hyperparameter {key!r}; it has {', '.join(values)}"
                )
            values[key] = check_hyperparameter(key, value, self.ranges.get(key))
        return values

    def applies_to(self, fn) -> bool:
        """Whether this optimizer can run on the test function ``fn`` at all."""
        return not self.needs_minimum or fn.minimum is not None

    def for_function(self, fn) -> dict:
        """The hyperparameters that come from the function rather than the settings: ``f_min`` = f*."""
        if not self.needs_minimum:
            return {}
        if fn.minimum is None:
            raise UserError(f"optimizer {self.name!r} needs the function's minimum f*, and {fn.name!r} has none")
        return {"f_min": fn.minimum}

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
    "etaminus": (0.0, 1.0, False),  # Rprop: 0 < etaminus < 1 < etaplus, as torch checks
    "etaplus": (1.0, math.inf, False),
    "beta2_decay": (-math.inf, 0.0, True),  # Adafactor: the exponent c of t^c, negative
    "d": (1.0, math.inf, True),  # Adafactor's clipping threshold
    "beta3": (0.0, 1.0, True),
    "f_min": (-math.inf, math.inf, True),
}


def check_hyperparameter(key: str, value, bounds: tuple | None = None) -> float:
    if isinstance(value, bool):
        raise UserError(f"hyperparameter {key} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserError(f"hyperparameter {key} must be a number, got {value!r}") from None
    low, high, inclusive = bounds or RANGES.get(key, (0.0, math.inf, True))
    ok = math.isfinite(value) and (value >= low if inclusive else value > low) and value < high
    if not ok:
        bracket = "[" if inclusive else "("
        raise UserError(f"hyperparameter {key} must be finite and in {bracket}{low:g}, {high:g}), got {value!r}")
    return value


CATALOGUE: dict[str, Optimizer] = {}


def optimizer(name: str, **meta):
    """Register the decorated factory (hyperparameters as keyword defaults) under ``name``."""

    def register(factory):
        look, views = meta.get("look"), meta.get("views")
        if look is not None:
            looks.check(name, look)
        if views is not None and not all(isinstance(view, View) for view in views):
            raise ValueError(f"optimizer {name!r}: views must be Panel, Arrow or Path entries")
        CATALOGUE[name] = Optimizer(name=name, factory=factory,
                                    **{**meta, "views": None if views is None else tuple(views)})
        return factory

    return register


def get(name: str) -> Optimizer:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise unknown_name("optimizer", name, CATALOGUE) from None


def look(name: str) -> looks.Look:
    """The look of the optimizer ``name``: the one it registered, else (registered without one, or not at all) the
    fallback fixed by its name."""
    registered = CATALOGUE.get(name)
    return registered.look if registered is not None and registered.look is not None else looks.fallback(name)


# Shared pieces, written the way torch's kernels compute them, per element of the batch.


def lerp(start, end, weight):
    """torch.lerp: the moving average ``start + weight·(end − start)``, in torch's rounding, which switches formula
    at weight 0.5 (only the formulas some element takes are computed)."""
    if np.ndim(weight) == 0:  # one weight for every run
        return start + weight * (end - start) if abs(weight) < 0.5 else end - (end - start) * (1 - weight)
    small = np.abs(weight) < 0.5
    if np.all(small):
        return start + weight * (end - start)
    if not np.any(small):
        return end - (end - start) * (1 - weight)
    return np.where(small, start + weight * (end - start), end - (end - start) * (1 - weight))


def square_average(average, grads, decay):
    """``decay·average + (1 − decay)·g²``, as torch's ``mul_(decay).addcmul_(g, g, 1 − decay)``."""
    return average * decay + (1 - decay) * (grads * grads)


_STRETCHES: dict = {}  # id -> (array, its stretches' values, their lengths), for read-only arrays
_STRETCHES_KEPT = 256


def _stretch_starts(*arrays) -> np.ndarray:
    """Where the stretches of equal elements start (of equal tuples, for several arrays of one shape), flat."""
    flats = [array.reshape(-1) for array in arrays]
    first = np.zeros(flats[0].size, bool)
    first[:1] = True
    for flat in flats:
        if flat.strides != (0,):  # a broadcast scalar is one stretch
            first[1:] |= flat[1:] != flat[:-1]
    return np.flatnonzero(first)


def _lengths(starts: np.ndarray, shape) -> np.ndarray:
    return np.diff(starts, append=math.prod(shape))


def _spread(values: list, lengths: np.ndarray, shape) -> np.ndarray:
    """Each stretch's value over its stretch (np.repeat: a fraction of the cost of indexing by stretch)."""
    return np.repeat(np.array(values, float), lengths).reshape(shape)


def _stretches(values: np.ndarray):
    """The values of a read-only array's stretches of equal elements, as Python floats, and their lengths.

    Cached by identity: a read-only array cannot change, and the engine's per-run hyperparameters (read-only)
    come back at every step."""
    entry = _STRETCHES.get(id(values))
    if entry is None or entry[0] is not values:
        starts = _stretch_starts(values)
        entry = values, values.reshape(-1)[starts].tolist(), _lengths(starts, values.shape)
        if len(_STRETCHES) >= _STRETCHES_KEPT:
            del _STRETCHES[next(iter(_STRETCHES))]
        _STRETCHES[id(values)] = entry
    return entry[1], entry[2]


def _read_only(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype == np.float64 and not value.flags.writeable


def power(base, exponent):
    """``base ** exponent`` by C's ``pow``, as torch's Python-float scalar code computes its bias corrections.

    numpy's vectorized power may differ in the last bit, so arrays (one hyperparameter value per run, in long
    stretches of equal values) go through Python floats, once per stretch of equal elements (or of equal pairs).
    A negative base needs an integer exponent.
    """
    if np.ndim(base) == 0 and np.ndim(exponent) == 0:
        return float(base) ** float(exponent)
    if np.ndim(exponent) == 0 and _read_only(base):
        values, lengths = _stretches(base)
        exponent = float(exponent)
        return _spread([value ** exponent for value in values], lengths, base.shape)
    if np.ndim(base) == 0 and _read_only(exponent):
        values, lengths = _stretches(exponent)
        base = float(base)
        return _spread([base ** value for value in values], lengths, exponent.shape)
    base, exponent = np.broadcast_arrays(np.asarray(base, float), np.asarray(exponent, float))
    starts = _stretch_starts(base, exponent)
    pairs = zip(base.reshape(-1)[starts].tolist(), exponent.reshape(-1)[starts].tolist())
    powers = {}  # a pair equal to an earlier one takes the earlier one's power (a dict keeps the first of equal keys)
    return _spread([powers.setdefault(pair, pair[0] ** pair[1]) for pair in pairs], _lengths(starts, base.shape),
                   base.shape)


# Shared by two families: torch's two-element dot and norm (Adafactor, L-BFGS); optax's moving average (Signum and
# the optax relatives of Adam), and the note of the optax optimizers' cards on the learning rate.


def _dot(a, b):
    """Row-wise dot product of (B, 2) arrays as torch's ``dot`` computes it for two elements: a₀b₀ + a₁b₁."""
    return a[:, :1] * b[:, :1] + a[:, 1:] * b[:, 1:]


def _norm(a):
    """Row-wise Euclidean norm of (B, 2) arrays, (B, 1)."""
    return np.sqrt(_dot(a, a))


def update_moment(grads, moment, decay):
    """optax.tree.update_moment: ``(1 − decay)·g + decay·moment``, in that order."""
    return (1 - decay) * grads + decay * moment


OPTAX_NO_LR = "optax has no default learning rate; "
