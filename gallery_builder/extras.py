"""The sweep's runs besides the cells: those the hand-written explanations quote with ``{{ run(...) }}``, and each
function's noise families (what noise alone does to SGD, momentum, Adam and Lion at a minimizer).

They are cached like cells, one small file per run or function under a hash of everything that can change its
numbers, so that the render stage reads results and runs nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import nodes
import numpy as np

from . import engine, fingerprints, functions, optimizers
from .errors import UserError

EXPLANATIONS = "explanations"  # hand-written prose inside docs_dir


@dataclass(frozen=True)
class Measured:
    """One run from a function's start, for the numbers written into the explanations at build time."""

    status: str
    stop_step: int  # step at which it left the domain or diverged, -1 otherwise
    steps_to_tolerance: int  # -1 if never
    gap: float | None
    final_value: float
    steps: int

    @property
    def left_at(self):
        return self.stop_step if self.status == "escaped" else None

    @property
    def leaves(self) -> str:
        """"leaves at step 55", or "does not leave within 300 steps"."""
        if self.status == "escaped":
            return f"leaves at step {self.stop_step}"
        if self.status == "diverged":
            return f"diverges at step {self.stop_step}"
        return f"does not leave within {self.steps} steps"

    @property
    def ends(self) -> str:
        """How the run ends, as a verb phrase: "reaches the minimum in 5 steps", "leaves the domain at step 9"."""
        if self.status == "converged":
            count = self.steps_to_tolerance
            return f"reaches the minimum in {count} step{'' if count == 1 else 's'}"
        if self.status in ("escaped", "diverged"):
            return f"{'leaves the domain' if self.status == 'escaped' else 'diverges'} at step {self.stop_step}"
        gap = "" if self.gap is None else f" with f − f* = {self.gap:.3g}"
        return f"{'stalls' if self.status == 'stalled' else f'is still moving after {self.steps} steps'}{gap}"


def request_key(optimizer: str, function: str, lr: float, steps: int, hyperparameters: dict) -> tuple:
    """A run request in one canonical form: (optimizer, function, steps, sorted hyperparameters with lr and what
    the function fills in); raises UserError for a name, value or horizon the engine would refuse."""
    opt, fn = optimizers.get(optimizer), functions.get(function)
    hyper = opt.hyperparameters({**opt.for_function(fn), **hyperparameters, "lr": lr})
    return optimizer, function, engine.check_steps(steps), tuple(sorted(hyper.items()))


class Extras:
    """What the render stage reads besides the cells: measured runs by request key, noise families by function."""

    def __init__(self, measured: dict, families: dict):
        self.measured, self.families = measured, families

    def run(self, optimizer: str, function: str, lr: float, steps: int, **hyperparameters) -> Measured:
        key = request_key(optimizer, function, lr, steps, hyperparameters)
        if key not in self.measured:
            raise UserError(f"run({optimizer!r}, {function!r}, {lr!r}, …) was not run by the sweep: the sweep runs "
                            f"the calls whose arguments are all written out as literals")
        return self.measured[key]


def requests_in(docs_dir: Path, settings) -> dict:
    """Every ``run(...)`` the explanations call with literal arguments, as request key -> the explanation's path
    (a call whose arguments the engine would refuse is an error naming that file)."""
    prose = jinja2.Environment()
    found = {}
    for kind, catalogue in (("optimizers", optimizers.CATALOGUE), ("functions", functions.CATALOGUE)):
        for name in catalogue:
            path = Path(docs_dir) / EXPLANATIONS / kind / f"{name}.md"
            try:
                tree = prose.parse(path.read_text(encoding="utf-8"))
            except (OSError, jinja2.TemplateError):
                continue  # no explanation, or one whose render will say what is wrong
            for call in tree.find_all(nodes.Call):
                literal = [*call.args, *(k.value for k in call.kwargs)]
                if (isinstance(call.node, nodes.Name) and call.node.name == "run" and len(call.args) == 3
                        and all(isinstance(a, nodes.Const) for a in literal)
                        and call.dyn_args is None and call.dyn_kwargs is None):
                    optimizer, function, lr = (a.value for a in call.args)
                    hyper = {k.key: k.value.value for k in call.kwargs}
                    try:
                        steps = settings.steps_for(function)
                        found.setdefault(request_key(optimizer, function, lr, steps, hyper), path)
                    except (UserError, TypeError) as error:
                        raise UserError(f"{path}: {error}") from None
    return found


def _measured(runs, row: int, fn, steps: int) -> Measured:
    values = runs.values[row]
    value = float(values[np.flatnonzero(np.isfinite(values))[-1]])
    return Measured(engine.STATUSES[int(runs.status[row])], int(runs.stop_step[row]),
                    int(runs.steps_to_tolerance[row]), None if fn.minimum is None else value - fn.minimum, value,
                    steps)


def _swept_row(cell, key: tuple) -> int | None:
    """The row of ``cell``'s shown learning rates that is this run (same start, horizon and hyperparameters), or
    None."""
    _, function, steps, items = key
    hyper = dict(items)
    if (cell is None or tuple(map(float, cell.start)) != tuple(map(float, functions.get(function).start))
            or cell.runs.points.shape[1] != steps + 1 or {**cell.hyperparameters, "lr": hyper["lr"]} != hyper):
        return None
    rows = np.flatnonzero(cell.lrs == hyper["lr"])
    return int(rows[0]) if len(rows) else None


def measure_many(keys, cells: dict | None = None) -> dict:
    """Request key -> Measured for many requests, one batch per function and horizon (each run equals the run
    alone, bit for bit). A run that ``cells`` (swept at the default tolerance) already made is read from its cell."""
    found, groups = {}, {}
    for key in keys:
        optimizer, function, steps, items = key
        fn = functions.get(function)
        row = _swept_row((cells or {}).get((optimizer, function)), key)
        if row is not None:
            found[key] = _measured(cells[(optimizer, function)].runs, row, fn, steps)
        else:
            opt = optimizers.get(optimizer)
            groups.setdefault((function, steps), {})[key] = engine.Member(opt, [fn.start], dict(items))
    for (function, steps), members in groups.items():
        fn = functions.get(function)
        for key, runs in zip(members, engine.run_many(fn, list(members.values()), steps)):
            found[key] = _measured(runs, 0, fn, steps)
    return found


FAMILY_SEEDS, FAMILY_STEPS = 16, 120


def _noise_runs(fn, at, runs: list) -> list:
    """The points (seeds, steps + 1, 2) of each (optimizer, lr, σ, hyperparameters) in ``runs``, started at ``at``
    with gradient noise σ, over FAMILY_SEEDS seeds: all in one batch."""
    starts = np.repeat(np.array([at], float), FAMILY_SEEDS, axis=0)
    members = []
    for name, lr, sigma, hyper in runs:
        opt = optimizers.get(name)
        members.append(engine.Member(opt, starts, opt.hyperparameters({**hyper, "lr": lr}), noise=sigma,
                                     seed=np.arange(FAMILY_SEEDS)))
    return [r.points for r in engine.run_many(fn, members, FAMILY_STEPS)]


def _lengths(points) -> np.ndarray:
    return np.hypot(*np.diff(points, axis=1).transpose(2, 0, 1))


def _rms(points) -> float:
    """Root mean square step length over the second half of the runs (the momentum buffer has filled by then)."""
    return float(np.sqrt(np.mean(_lengths(points)[:, FAMILY_STEPS // 2:] ** 2)))


def _rms_distance(points, at) -> float:
    """Root mean square distance from ``at`` over the second half of the runs."""
    return float(np.sqrt(np.mean(np.sum((points[:, FAMILY_STEPS // 2 + 1:] - at) ** 2, axis=-1))))


def _slopes(fn, at) -> tuple:
    """|∇f| at 1e-4 and 1e-6 of the domain from ``at``: where f is smooth there, it falls with the distance."""
    return tuple(float(np.hypot(*fn.gradient((at + r * fn.width / math.sqrt(2))[None, :])[0])) for r in (1e-4, 1e-6))


def family_numbers(function: str, sigma: float) -> dict | None:
    """What noise alone does to SGD, momentum, Adam and Lion at a global minimizer: measured RMS step lengths,
    RMS distances from the minimizer and their ratios, and whether the true gradient vanishes there (``smooth``;
    not at Ackley's cone, whose slope next to the tip is ``slope``). None for a function without a minimum."""
    fn = functions.get(function)
    if not fn.minimizers or sigma <= 0:
        return None
    at = np.asarray(fn.minimizers[0], float)
    _, hess = fn.hessian(at[None, :])
    curvature = float(np.abs(np.linalg.eigvalsh(hess[0])).max()) or 1.0
    beta = optimizers.get("momentum").defaults["momentum"]
    lr = 1e-3 / curvature  # SGD's lr/(1−β) times the curvature stays 0.01: the noise, not the pull, moves them
    adam_lr, lion_lr = optimizers.get("adam").defaults["lr"], optimizers.get("lion").defaults["lr"]
    sgd, sgd_small, momentum, adam, adam_small, *lion = _noise_runs(fn, at, [
        ("sgd", lr / (1 - beta), sigma, {}), ("sgd", lr / (1 - beta), sigma / 1000, {}),
        ("momentum", lr, sigma, {"momentum": beta}),
        ("adam", adam_lr, sigma, {}), ("adam", adam_lr, sigma / 1000, {}),
        ("lion", lion_lr, sigma, {"weight_decay": 0.0}), ("lion", lion_lr, 100 * sigma, {"weight_decay": 0.0})])
    distances = {"sgd_distance": _rms_distance(sgd, at), "momentum_distance": _rms_distance(momentum, at)}
    sgd, sgd_small, momentum, adam, adam_small = map(_rms, (sgd, sgd_small, momentum, adam, adam_small))
    lion_spread = max(float(np.abs(_lengths(points) / (lion_lr * math.sqrt(2)) - 1).max()) for points in lion)
    near, nearer = _slopes(fn, at)
    return {**distances, "slope": nearer, "smooth": nearer < near / 10,
            "lr": lr, "beta": beta, "sgd": sgd, "momentum": momentum, "momentum_ratio": sgd / momentum,
            "momentum_expected": math.sqrt((1 + beta) / (1 - beta)), "sgd_shrink": sgd / sgd_small,
            "adam_lr": adam_lr, "adam_shrink": adam / adam_small, "lion_lr": lion_lr, "lion_spread": lion_spread,
            "where": f"({', '.join(f'{v:.4g}' for v in at)})", "steps": FAMILY_STEPS, "seeds": FAMILY_SEEDS}


FAMILIES = ("sgd", "momentum", "adam", "lion")


def _path(folder: Path, kind: str, *request, code=()) -> Path:
    """Where an extra run's numbers are cached: under a hash of its request, the fingerprints of the optimizers and
    function that compute it (``code``), the sweep's code and this module's."""
    payload = [kind, *request, *map(fingerprints.fingerprint, code), fingerprints.code_fingerprint(),
               inspect.getsource(sys.modules[__name__])]
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()[:24]
    return folder / f"{kind}-{digest}.json"


def _write(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    partial.write_text(json.dumps(value))
    os.replace(partial, path)  # atomic: a reader never sees half a file


def run_extras(settings, cells: dict, docs_dir: Path | None, cache_dir: Path | None = None) -> Extras:
    """The runs the explanations under ``docs_dir`` quote, at this build's horizons (from the cache, from a cell
    that made them, or computed in one batch per function), and the noise families of the swept functions; cached
    under ``cache_dir`` (nothing is cached without one)."""
    folder = Path(cache_dir) / "extras" if cache_dir is not None else None
    keys = list(requests_in(docs_dir, settings)) if docs_dir is not None else []
    paths = {key: _path(folder, "run", key, code=(optimizers.get(key[0]).factory, functions.get(key[1]).formula))
             for key in keys} if folder else {}
    measured = {key: Measured(**json.loads(path.read_text())) for key, path in paths.items() if path.is_file()}
    # Most are rows of the sweep's learning-rate searches, when it judged runs at the engine's tolerance.
    fresh = measure_many([key for key in keys if key not in measured],
                         cells if settings.tolerance == engine.TOLERANCE else None)
    for key, value in fresh.items() if folder else ():
        _write(paths[key], dataclasses.asdict(value))
    families = {}
    for name in settings.functions if settings.noise_seeds else ():
        sigma = settings.sigma_for(name)
        path = folder and _path(folder, "families", name, sigma,
                                code=(*(optimizers.get(o).factory for o in FAMILIES), functions.get(name).formula))
        if path and path.is_file():
            families[name] = json.loads(path.read_text())
        else:
            families[name] = family_numbers(name, sigma)
            if path:
                _write(path, families[name])
    return Extras({**measured, **fresh}, families)
