"""What an optimizer carries from step to step, read from the state the sweep recorded for one run.

A table says, per optimizer, which quantities explain its method, in words, and how to draw them: as a panel of
per-coordinate series against the step (on a log axis where they span decades), as an arrow from the current point,
or as a point sequence of its own on the contour. Every value comes from the recorded state and the recorded path
(Newton's Hessian, Polyak's step size, LAMB's trust ratio and L-BFGS's true curvature are computed from the function
at the recorded points, as the update computed them). Bias corrections use the state's own step count: the state
recorded at index t is the state after t updates, so its step counter is t. An optimizer the table does not know
yet (one added later) shows each recorded field as a panel of its raw values. ``memory`` counts an optimizer's state
in copies of the parameters.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import functions, optimizers


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


def _adam_views(second="exp_avg_sq", note="", first="exp_avg", beta2="beta2", what="gradients"):
    """Adam's three panels for a state whose first moment is ``first`` and second ``second`` (optax's mu and nu)."""
    views = [
        Panel("m̂", "the bias-corrected average of gradients, m / (1 − β₁ᵗ): the direction of the step",
              _corrected(first, "beta1"), fields=(first,)),
        Panel("√v̂", f"the bias-corrected root mean square of {what}, √(v / (1 − β₂ᵗ)), per coordinate: what the "
              "step divides by", _root_corrected(second, beta2), log=True, fields=(second,)),
    ]
    views.append(Panel("lr/(√v̂+ε)", f"lr / (√v̂ + ε): the step per unit of m̂ in each coordinate, the learning rate "
                       f"each coordinate really gets{note}", _adam_step(second, beta2), log=True, fields=(second,),
                       first=1))
    return views


def _previous(values):
    """The rows shifted down by one step: at index t, the value at t − 1 (NaN at 0)."""
    return np.vstack([np.full((1,) + values.shape[1:], np.nan), values[:-1]])


def _norm(values):
    return np.hypot(values[:, :1], values[:, 1:])


def _momentum_arrow_of(field, name, meaning):
    return Arrow(name, f"{meaning}, drawn from the current point", lambda c: -c.hyper["lr"] * c.state[field],
                 fields=(field,))


def _momentum_arrow(what):
    return _momentum_arrow_of("momentum_buffer", "−lr·b", f"−lr times the momentum buffer b: {what}")


_BUFFER = Panel("b", "the momentum buffer: a running sum of past gradients, each weighted by μ per step since",
                lambda c: c.state["momentum_buffer"], fields=("momentum_buffer",))


def _finite_rows(points, compute, width):
    """``compute`` (points (n, 2) -> (n, width)) at the finite rows of ``points``; NaN elsewhere."""
    out = np.full((len(points), width), np.nan)
    finite = np.isfinite(points).all(axis=1)
    if finite.any():
        out[finite] = np.asarray(compute(points[finite]), float).reshape(finite.sum(), width)
    return out


def _lamb_trust(c):
    """LAMB's trust ratio ‖θ‖ / ‖u‖ of update t (at index t): θ before the step, u from the state after it."""
    hyper = c.hyper
    m = _corrected("mu", "beta1")(c)
    v = c.state["nu"] / (1 - hyper["beta2"] ** c.t)
    before = _previous(c.points)
    u = m / (np.sqrt(v + hyper["eps_root"]) + hyper["eps"]) + hyper["weight_decay"] * before
    theta, size = _norm(before), _norm(u)
    return np.where((theta == 0) | (size == 0), 1.0, theta / size)


def _polyak_step(c):
    """Polyak's step size at update t, min((f(θ) − f*) / ‖g‖², lr), from the point the update started at; and the
    cap lr beside it."""
    before = _previous(c.points)
    value = _finite_rows(before, c.fn.values, 1)
    squared = _finite_rows(before, lambda p: np.sum(c.fn.gradient(p) ** 2, axis=1), 1)
    step = np.minimum((value - c.hyper["f_min"]) / (squared + c.hyper["eps"]), c.hyper["lr"])
    step = np.where(squared + c.hyper["eps"] <= np.finfo(float).eps, 0.0, step)  # optax's guard: no step
    return np.hstack([step, np.full_like(step, c.hyper["lr"])])


def _adafactor_scale(c):
    """Adafactor's relative step size max(ε₂, RMS(θ))·min(lr, 1/√t) at update t, θ before the step."""
    rms = _norm(_previous(c.points)) / np.sqrt(2)
    return np.maximum(rms, c.hyper["eps2"]) * np.minimum(c.hyper["lr"], 1 / np.sqrt(c.t))


def _lbfgs_curvature(c):
    """The curvature L-BFGS's memory holds along its latest stored step s, 1/H_diag = yᵀy / sᵀy, beside the same
    ratio from the true Hessian H at the step's end, with y = Hs (equal on a quadratic; NaN before a pair is
    stored)."""
    end = _previous(c.points)
    step = end - _previous(end)
    hessians = np.full((len(end), 2, 2), np.nan)
    finite = np.isfinite(end).all(axis=1)
    if finite.any():
        hessians[finite] = c.fn.hessian(end[finite])[1]
    change = np.einsum("tij,tj->ti", hessians, step)  # the gradient change y a quadratic would give
    true = np.sum(change ** 2, axis=1) / np.sum(change * step, axis=1)
    stored = c.state["num_old"][:, 0] > 0
    return np.where(stored[:, None], np.stack([1 / c.state["H_diag"][:, 0], true], axis=1), np.nan)


def _schedule_free_weight(c):
    """c_t = w_t / Σw: the weight of the newest z in the average x."""
    total = c.state["weight_sum"]
    return (total - _previous(total)) / total


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
    "sgd": [],
    "momentum": [_momentum_arrow("the step it just took, which it carries into the next one"), _BUFFER],
    "nesterov": [_momentum_arrow("the velocity; each step adds the gradient to μ times it"), _BUFFER],
    "adagrad": [
        Panel("s", "the sum of every past squared gradient, per coordinate: it only grows", lambda c: c.state["sum"],
              log=True, fields=("sum",)),
        Panel("lr/(√s+ε)", "lr / (√s + ε): the step per unit of gradient in each coordinate, which only shrinks",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["sum"]) + c.hyper["eps"]), log=True, fields=("sum",), first=1),
    ],
    "rmsprop": [
        Panel("v", "the moving average of squared gradients (smoothing α): the size of recent gradients, which the "
              "step divides by", lambda c: c.state["square_avg"], log=True, fields=("square_avg",)),
        Panel("lr/(√v+ε)", "lr / (√v + ε): the step per unit of gradient in each coordinate",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["square_avg"]) + c.hyper["eps"]), log=True,
              fields=("square_avg",), first=1),
        _momentum_arrow("the step it just took (with momentum 0 the buffer is the scaled gradient)"),
    ],
    "adadelta": [
        Panel("v", "the moving average of squared gradients: the size of recent gradients, which the step divides "
              "by", lambda c: c.state["square_avg"], log=True, fields=("square_avg",)),
        Panel("u", "the moving average of squared updates: the size of its recent steps, which sets the next one",
              lambda c: c.state["acc_delta"], log=True, fields=("acc_delta",)),
        Panel("lr·√(u+ε)/√(v+ε)", "lr·√(u + ε) / √(v + ε) from the state at step t: the step per unit of gradient, "
              "recent step size over recent gradient size (the next update uses the next v)",
              lambda c: c.hyper["lr"] * np.sqrt(c.state["acc_delta"] + c.hyper["eps"])
              / np.sqrt(c.state["square_avg"] + c.hyper["eps"]), log=True, fields=("square_avg", "acc_delta"), first=1),
    ],
    "adam": _adam_views(),
    "adamw": _adam_views(note="; the decay shrinks θ by lr·λ·θ besides"),
    "amsgrad": [*_adam_views()[:2],
                Panel("√v̂ max", "the running maximum of v, bias-corrected: AMSGrad divides by it instead of v, so a "
                      "coordinate's step per unit of m̂ never grows back", _root_corrected("max_exp_avg_sq", "beta2"),
                      log=True, fields=("max_exp_avg_sq",)),
                _adam_views("max_exp_avg_sq", note=" (with the running maximum)")[2]],
    "radam": _adam_views(note="; RAdam multiplies it by its rectification term once that is defined, and steps "
                              "with lr·m̂ alone before"),
    "nadam": [
        Panel("m", "the average of gradients, uncorrected: NAdam's correction follows its momentum schedule and "
              "mixes in the current gradient", lambda c: c.state["exp_avg"], fields=("exp_avg",)),
        *_adam_views()[1:],
    ],
    "adamax": [
        _adam_views()[0],
        Panel("u", "the decayed maximum of |g| (+ ε) per coordinate: the size of the gradient Adamax divides by",
              lambda c: c.state["exp_inf"], log=True, fields=("exp_inf",)),
        Panel("lr/u", "lr / u: the step per unit of m̂ in each coordinate",
              lambda c: c.hyper["lr"] / c.state["exp_inf"], log=True, fields=("exp_inf",), first=1),
    ],
    "lion": [Panel("m", "the momentum, an average of gradients with β₂; the step is lr times the sign of a mix of it "
                        "and the gradient (with β₁), so every coordinate moves exactly lr", lambda c: c.state["mu"],
                   fields=("mu",))],
    "adabelief": _adam_views(first="mu", second="nu", what="the gradient's deviation from m (its belief)"),
    "yogi": _adam_views(first="mu", second="nu", what="gradients, moved towards g² by at most (1 − β₂)·g² per step"),
    "adan": [
        Panel("m̂", "the bias-corrected average of gradients, m / (1 − β₁ᵗ): the main part of the direction",
              _corrected("m", "beta1"), fields=("m",)),
        Panel("v̂", "the bias-corrected average of gradient differences g − g_prev: where the gradient is heading; "
              "the step adds (1 − β₂) times it to m̂", _corrected("v", "beta2"), fields=("v",)),
        Panel("√n̂", "the bias-corrected root mean square of the extrapolated gradient g + (1 − β₂)(g − g_prev), "
              "which the step divides by", _root_corrected("n", "beta3"), log=True, fields=("n",)),
        Panel("lr/(√n̂+ε)", "lr / (√n̂ + ε): the step per unit of direction in each coordinate",
              _adam_step("n", "beta3"), log=True, fields=("n",), first=1),
    ],
    "novograd": [
        _momentum_arrow_of("mu", "−lr·m", "−lr times m, the momentum of normalized gradients: exactly the step it "
                           "just took"),
        Panel("v", "the moving average of the squared gradient norm ‖g‖², one number for the whole vector (the "
              "only layer here): the gradient's size, which every step divides by", lambda c: c.state["nu"],
              log=True, fields=("nu",), coordinates=("",)),
        Panel("lr/(√v+ε)", "lr / (√v + ε): the step per unit of gradient, the same for both coordinates",
              lambda c: c.hyper["lr"] / (np.sqrt(c.state["nu"] + c.hyper["eps_root"]) + c.hyper["eps"]), log=True,
              fields=("nu",), coordinates=("",), first=1),
    ],
    "signum": [
        Arrow("−lr·sign(m)", "the step it just took: lr against the sign of m in each coordinate",
              lambda c: -c.hyper["lr"] * np.sign(c.state["ema"]), fields=("ema",)),
        Panel("m", "the moving average of gradients (β = momentum); only its sign reaches the step",
              lambda c: c.state["ema"], fields=("ema",)),
    ],
    "lamb": [
        *_adam_views(first="mu", second="nu")[:2],
        Panel("trust ratio", "‖θ‖ / ‖u‖, u Adam's update: it rescales the step to length lr·‖θ‖, so the step is "
              "relative to the distance from the origin (one ratio for the whole vector, the only layer here)",
              _lamb_trust, log=True, fields=("mu", "nu"), coordinates=("",), first=1),
    ],
    "polyak_sgd": [
        Panel("step size", "Polyak's step size min((f(θ) − f*) / ‖g‖², lr), computed from f*, which it is given; "
              "beside it the cap lr, where it is cut", _polyak_step, log=True, coordinates=(" η", " cap lr"),
              first=1),
    ],
    "ademamix": [
        Panel("m̂₁", "the fast average of gradients (β₁), bias-corrected: it reacts to the gradient of the moment",
              _corrected("m1", "beta1"), fields=("m1",)),
        Panel("α·m₂", "α times the slow average of gradients (β₃ = 0.9999), not bias-corrected: it starts at 0 and "
              "fades in over thousands of steps", lambda c: c.hyper["alpha_mix"] * c.state["m2"], fields=("m2",)),
        *_adam_views(first="m1", second="nu")[1:],
    ],
    "rprop": [
        Panel("step size", "each coordinate's own step length: × η₊ = 1.2 while its gradient keeps its sign, × η₋ = "
              "0.5 when it flips, clamped to [1e-6, 50]", lambda c: c.state["step_size"], log=True,
              fields=("step_size",)),
        Panel("sign(g_prev)", "the sign of the gradient the next step compares with (0 right after a flip, when the "
              "coordinate did not move)", lambda c: np.sign(c.state["prev"]), fields=("prev",)),
    ],
    "asgd": [
        Path("average", "the running average of the iterates, which ASGD reports as its answer (it equals the "
             "iterate until step t0)", lambda c: c.state["ax"], fields=("ax",)),
        Panel("η", "the step size of the next update, lr / (1 + λ·lr·t)^α", lambda c: c.state["eta"], log=True,
              fields=("eta",), coordinates=("",)),
        Panel("μ", "the weight of the newest iterate in the average, 1 / max(1, t − t0): 1 means the average is "
              "the iterate", lambda c: c.state["mu"], log=True, fields=("mu",), coordinates=("",)),
    ],
    "adafactor": [
        Panel("√v", "the root of the second-moment average of g², whose decay 1 − t^(−0.8) approaches 1",
              lambda c: np.sqrt(c.state["variance"]), log=True, fields=("variance",)),
        Panel("relative step", "max(ε₂, RMS(θ))·min(lr, 1/√t): the step size, relative to the size of θ, so tiny "
              "near the origin", _adafactor_scale, log=True, coordinates=("",), first=1),
    ],
    "lbfgs": [
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
    ],
    "prodigy": [
        Panel("d", "its estimate of the distance from the start to the solution: the learning rate it sets for "
              "itself (the step is lr·d times Adam's direction); it starts at d₀ = 1e-6 and only grows",
              lambda c: c.state["d"], log=True, fields=("d",), coordinates=("",)),
        Panel("m/(√v+dε)", "Adam's normalized direction, m / (√v + d·ε), without bias correction (as prodigyopt's "
              "default): the step is lr·d times it", lambda c: c.state["exp_avg"] / (np.sqrt(c.state["exp_avg_sq"])
                                                                                       + c.state["d"] * c.hyper["eps"]),
              fields=("exp_avg", "exp_avg_sq", "d")),
    ],
    "schedule_free_adamw": [
        Path("z", "the base sequence, which takes the Adam-normalized gradient steps; the shown point x is its "
             "weighted running average", lambda c: c.state["z"], fields=("z",)),
        _adam_views()[1],
        Panel("c", "the weight of the newest z in the average x, w_t / Σw: 1/t with the default r = 0",
              _schedule_free_weight, log=True, fields=("weight_sum",), coordinates=("",), first=1),
    ],
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
COMMON = [Path("gradient point y", "where the gradient is evaluated, when the optimizer shows another point "
               "(schedule-free's y, between z and the shown average x)", lambda c: c.state["gradient_point"],
               fields=("gradient_point",))]


def views(name: str, recorded) -> list:
    """The table's views of an optimizer whose recorded state has the fields ``recorded``. An optimizer the table
    does not know yet (one added later) gets a panel of raw values per recorded field, so nothing goes unseen."""
    if name in VIEWS:
        return [v for v in VIEWS[name] + COMMON if set(v.fields) <= set(recorded)]
    known = [v for v in COMMON if set(v.fields) <= set(recorded)]
    read = {f for v in known for f in v.fields}
    return known + [Panel(field, f"{field}: a state field that this gallery's table of meanings does not describe",
                          lambda c, field=field: c.state[field], fields=(field,))
                    for field in recorded if field not in read]


def memory(name: str) -> dict:
    """The optimizer's state in copies of the parameters, counted from the state its ``init`` returns for one run
    with its default hyperparameters: each per-coordinate array is one copy; per-run scalars and counters are not
    counted. ``note`` says where the reference's memory differs from this state."""
    opt = optimizers.get(name)
    state = opt.transform().init(np.zeros((1, 2)))

    def copies(value) -> float:
        if isinstance(value, tuple):
            return sum(copies(v) for v in value)
        shape = np.shape(value)
        return np.size(value) / 2 if len(shape) >= 2 and shape[-1] == 2 else 0.0
    count, note = int(copies(tuple(state))), ""
    history = getattr(importlib.import_module(opt.factory.__module__), "HISTORY_SIZE", None)
    if name == "lbfgs" and history:  # its pairs are kept in a closed form that only works in 2-D
        note = f"; torch's keeps up to history_size = {history} pairs besides, {2 * history} more copies"
    if name == "rmsprop":  # this state keeps the buffer for every run, since the momentum may vary per run
        note = "; torch's keeps the momentum buffer only when momentum > 0"
        count -= 0 if opt.defaults["momentum"] else 1
    if opt.uses_hessian:
        note = "; it evaluates the n × n Hessian every step"
    return {"copies": count, "note": note}


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
