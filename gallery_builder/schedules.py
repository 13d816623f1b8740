"""Learning-rate schedules: spec strings such as ``warmup_cosine:warmup=30`` and the multipliers λ(i) they stand for.

Update i (i = 0 … T−1 of a T-step run) uses lr·λ(i), which is what a torch scheduler stepped after every optimizer
step sets (tests/test_schedules.py checks each against torch):

- ``constant``: λ = 1;
- ``cosine``: (1 + cos(π i / T)) / 2, ``CosineAnnealingLR(T_max=T)``;
- ``step_decay:step_size=S,gamma=G``: G^⌊i/S⌋, ``StepLR(step_size=S, gamma=G)``;
- ``warmup_cosine:warmup=W``: (i+1)/W for i < W, then (1 + cos(π (i−W)/(T−W))) / 2, a ``LambdaLR``;
- ``wsd:warmup=W,decay=D``: (i+1)/W for i < W, then 1 until T−D, then (T−i)/D, a ``LambdaLR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import UserError, unknown_name

# name -> {parameter: kind}; "count" is a whole number ≥ 1, "factor" a number > 0
PARAMETERS = {
    "constant": {},
    "cosine": {},
    "step_decay": {"step_size": "count", "gamma": "factor"},
    "warmup_cosine": {"warmup": "count"},
    "wsd": {"warmup": "count", "decay": "count"},
}
DEFAULT = "constant"


@dataclass(frozen=True)
class Schedule:
    name: str
    parameters: tuple  # ((key, value), ...) in PARAMETERS order

    @property
    def spec(self) -> str:
        """The canonical spec string (parameters in a fixed order, numbers printed the shortest way)."""
        if not self.parameters:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in self.parameters)

    @property
    def constant(self) -> bool:
        return self.name == "constant"

    def multipliers(self, steps: int) -> np.ndarray:
        """λ(i) for i = 0 … steps−1; a warmup or decay that does not fit in ``steps`` is a UserError."""
        p = dict(self.parameters)
        i = np.arange(steps, dtype=float)
        if self.name == "constant":
            return np.ones(steps)
        if self.name == "cosine":
            return (1 + np.cos(math.pi * i / steps)) / 2
        if self.name == "step_decay":
            return p["gamma"] ** np.floor(i / p["step_size"])
        warmup = p["warmup"]
        decay = p.get("decay", 0)
        if warmup + decay > steps or (self.name == "warmup_cosine" and warmup >= steps):
            raise UserError(f"schedule {self.spec}: the warmup{' and decay' if decay else ''} must fit in the "
                            f"{steps} steps of the run")
        ramp = (i + 1) / warmup
        if self.name == "warmup_cosine":
            return np.where(i < warmup, ramp, (1 + np.cos(math.pi * (i - warmup) / (steps - warmup))) / 2)
        return np.where(i < warmup, ramp, np.where(i < steps - decay, 1.0, (steps - i) / max(decay, 1)))


def _value(spec: str, key: str, kind: str, text: str):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if kind == "count":
        if not (math.isfinite(value) and value.is_integer() and value >= 1):
            raise UserError(f"schedule {spec!r}: {key} must be a whole number ≥ 1, got {text!r}")
        return int(value)
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"schedule {spec!r}: {key} must be a number > 0, got {text!r}")
    return value


def parse(spec) -> Schedule:
    """A Schedule from its spec string: ``name`` or ``name:key=value,key=value``."""
    if isinstance(spec, Schedule):
        return spec
    if not isinstance(spec, str):
        raise UserError(f"a schedule is a string such as 'cosine', got {spec!r}")
    name, _, rest = spec.strip().partition(":")
    if name not in PARAMETERS:
        raise unknown_name("schedule", name, PARAMETERS)
    wanted = PARAMETERS[name]
    given = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or key not in wanted:
            expected = ", ".join(wanted) or "no parameters"
            raise UserError(f"schedule {spec!r}: unknown parameter {item!r}; {name} takes {expected}")
        if key in given:
            raise UserError(f"schedule {spec!r}: {key} given twice")
        given[key] = _value(spec, key, wanted[key], text.strip())
    missing = [key for key in wanted if key not in given]
    if missing:
        raise UserError(f"schedule {spec!r}: missing {', '.join(missing)} (e.g. {example(name)})")
    return Schedule(name, tuple((key, given[key]) for key in wanted))


def example(name: str) -> str:
    return {"step_decay": "step_decay:step_size=100,gamma=0.5", "warmup_cosine": "warmup_cosine:warmup=30",
            "wsd": "wsd:warmup=30,decay=60"}.get(name, name)
