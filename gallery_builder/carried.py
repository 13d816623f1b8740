"""What an optimizer carries from step to step, read from the state the sweep recorded for one run.

Each optimizer registers its views with its definition (``optimizers/views.py``): which quantities explain its
method, in words, and how to draw them, each computed from the recorded state and path. An optimizer registered
without views shows each recorded field as a panel of its raw values. ``memory`` counts an optimizer's state in
copies of the parameters.
"""

from __future__ import annotations

import importlib

import numpy as np

from . import functions, optimizers
from .optimizers.views import Context, Panel, Path


# Engine-level fields, for any optimizer.
COMMON = [Path("gradient point y", "where the gradient is evaluated, when the optimizer shows another point "
               "(schedule-free's y, between z and the shown average x)", lambda c: c.state["gradient_point"],
               fields=("gradient_point",))]


def views(name: str, recorded) -> list:
    """The registered views of an optimizer whose recorded state has the fields ``recorded``. An optimizer
    registered without views gets a panel of raw values per recorded field, so nothing goes unseen."""
    registered = optimizers.get(name).views
    if registered is not None:
        return [v for v in [*registered, *COMMON] if set(v.fields) <= set(recorded)]
    known = [v for v in COMMON if set(v.fields) <= set(recorded)]
    read = {f for v in known for f in v.fields}
    return known + [Panel(field, f"{field}: a state field that its optimizer's registered views do not describe",
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
