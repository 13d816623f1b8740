"""JavaScript for the playground, generated from the catalogue: each test function's value, gradient and Hessian
as straight-line JS, from the very numpy calls its recorded tape replays (module ``tape``).

The tape of one run (a batch of one point) is evaluated once more on *symbols*: numpy object arrays whose elements
name JS variables. Each arithmetic operation a numpy call performs on them emits one JS statement, so the JS does
the operations of the replay in its order, in float64, and gives its bits wherever ``Math``'s functions round like
C's libm (``+ − × ÷`` and ``sqrt`` always do). Nothing is written twice by hand: a new function appears in the
playground by being in the catalogue.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources

import numpy as onp
from autograd.numpy.numpy_vspaces import ArrayVSpace

from . import carried, figures, functions, optimizers, schedules, tape
from .optimizers import adam, second_order, tuning_free
from .optimizers.views import Arrow, Path
from .config import DEFAULT_STEPS, Settings
from .errors import UserError
from .engine import CAPTURE_FRACTION, STALL_GRADIENT, TOLERANCE
from .model import STATUSES


class _Listing(tape.Tape):
    """A tape that keeps its ops (``tape.Tape`` compiles them and drops the list)."""

    def _compiled(self, ops):
        self.ops = ops
        return super()._compiled(ops)


def _literal(value) -> str:
    if isinstance(value, Sym):
        return value.name
    if isinstance(value, (bool, onp.bool_)):
        return "true" if value else "false"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "(-Infinity)"
    text = repr(value)  # the shortest text that reads back as the same double, in JS as in Python
    return f"({text})" if value < 0 or text.startswith("-") else text


class Sym:
    """A float64 held by a JS variable; every operation on it appends a statement to the current ``Emitter``."""

    __slots__ = ("name",)
    emitter = None

    def __init__(self, name: str):
        self.name = name

    def __bool__(self):
        raise TypeError("a branch on a symbolic value")

    @classmethod
    def of(cls, expression: str) -> "Sym":
        return cls.emitter.let(expression)


def _binary(template):
    def left(a, b):
        return Sym.of(template.format(a=_literal(a), b=_literal(b)))

    def right(b, a):
        return Sym.of(template.format(a=_literal(a), b=_literal(b)))

    return left, right


for _name, _template in {"add": "{a} + {b}", "sub": "{a} - {b}", "mul": "{a} * {b}", "truediv": "{a} / {b}",
                         "pow": "PG.pow({a}, {b})", "gt": "{a} > {b}", "lt": "{a} < {b}", "ge": "{a} >= {b}",
                         "le": "{a} <= {b}"}.items():
    _left, _right = _binary(_template)
    setattr(Sym, f"__{_name}__", _left)
    setattr(Sym, f"__r{_name}__", _right)
for _name, _template in {"__neg__": "-{a}", "__abs__": "Math.abs({a})", "sqrt": "Math.sqrt({a})",
                         "sin": "Math.sin({a})", "cos": "Math.cos({a})", "exp": "Math.exp({a})",
                         "log": "Math.log({a})", "tan": "Math.tan({a})"}.items():
    setattr(Sym, _name, lambda a, _t=_template: Sym.of(_t.format(a=_literal(a))))


class Emitter:
    def __init__(self):
        self.lines = []

    def let(self, expression: str) -> Sym:
        name = f"t{len(self.lines)}"
        self.lines.append(f"const {name} = {expression};")
        return Sym(name)


def _where(condition, a, b):
    condition, a, b = onp.broadcast_arrays(onp.asarray(condition, object), onp.asarray(a, object),
                                           onp.asarray(b, object))
    out = onp.empty(condition.shape, object)
    for index in onp.ndindex(condition.shape):
        c = condition[index]
        if isinstance(c, Sym):
            out[index] = Sym.of(f"{c.name} ? {_literal(a[index])} : {_literal(b[index])}")
        else:
            out[index] = a[index] if c else b[index]
    return out


_COMPARISONS = (onp.greater, onp.less, onp.greater_equal, onp.less_equal)


def _object_zeros(space):
    return onp.full(space.shape, 0.0, dtype=object)


def _run_symbolically(listing: _Listing, inputs, outputs: tuple) -> list:
    """The tape's ops that ``outputs`` (slot indices) need, run on ``inputs`` (an object array of Syms)."""
    needed = set(outputs)
    for index, _fun, _constants, feeds, _kwargs, _done in reversed(listing.ops):
        if index in needed:
            needed.update(source for _, source in feeds)
    slots = {0: inputs}
    zeros, ArrayVSpace.zeros = ArrayVSpace.zeros, _object_zeros  # gradients accumulate into symbolic zeros
    try:
        for index, fun, constants, feeds, kwargs, _done in listing.ops:
            if index not in needed:
                continue
            fed = dict(feeds)
            args = [slots[fed[argnum]] if argnum in fed else constant for argnum, constant in enumerate(constants)]
            if fun is onp.where:
                slots[index] = _where(*args)
            elif fun in _COMPARISONS:  # their default loop turns each result into a Python bool
                slots[index] = fun(*args, dtype=object, **(kwargs or {}))
            else:
                with onp.errstate(all="ignore"):
                    slots[index] = fun(*args, **(kwargs or {}))
    finally:
        ArrayVSpace.zeros = zeros
    return [slots[index] for index in outputs]


def _flat(value) -> list:
    return [element if isinstance(element, Sym) else float(element) for element in onp.asarray(value, object).flat]


def _body(derivatives, fn, shape, pick) -> str:
    """The JS statements and return value of ``derivatives(fn.formula, points)`` at one point (x, y)."""
    formula = fn.formula
    if functions._tape(derivatives, fn, shape, onp.dtype(float)) is None:
        raise UserError(f"function {formula.__name__!r} cannot be replayed from a tape (it branches on a value), "
                        "so the playground has no JavaScript for it; write it with np.where")
    listing = _Listing(functools.partial(derivatives, formula), onp.zeros(shape))
    emitter = Sym.emitter = Emitter()
    try:
        point = onp.array([[Sym("x"), Sym("y")]], dtype=object)
        slots = [index for kind, index in listing.outputs if kind == "slot"]
        if len(slots) != len(listing.outputs):
            raise UserError(f"function {formula.__name__!r}: its value or gradient does not depend on the point")
        values = _run_symbolically(listing, point, tuple(slots[i] for i in pick))
    finally:
        Sym.emitter = None
    results = [_literal(element) for value in values for element in _flat(value)]
    return "\n".join(["    " + line for line in emitter.lines] + [f"    return [{', '.join(results)}];"])


def function_js(fn) -> str:
    """``{v, vg, vgh}`` for one test function: f; f and ∇f; f, ∇f and the Hessian (row-major), at (x, y)."""
    parts = []
    for key, derivatives, pick in (("v", functions._value_and_grad, (0,)), ("vg", functions._value_and_grad, (0, 1)),
                                   ("vgh", functions._value_grad_and_hessian, (0, 1, 2))):
        parts.append(f"  {key}(x, y) {{\n{_body(derivatives, fn, (1, 2), pick)}\n  }}")
    return "{\n" + ",\n".join(parts) + "\n}"


def _meta(fn) -> dict:
    low, high = fn.box(fn.escape_factor)
    return {"title": fn.title, "domain": fn.domain, "start": fn.start, "minimum": fn.minimum,
            "minimizers": fn.minimizers, "box": [list(map(float, low)), list(map(float, high))],
            "width": fn.width, "steps": fn.steps, "typical_gradient": fn.typical_gradient}


def _optimizer_meta(opt) -> dict:
    ranges = {key: opt.ranges.get(key, optimizers.RANGES.get(key)) for key in opt.defaults}
    settings, lr = Settings(), opt.defaults["lr"]
    return {"title": opt.title, "defaults": opt.defaults,
            "ranges": {k: [r[0], r[1], r[2]] for k, r in ranges.items() if r is not None},
            # the learning-rate search's limits about the default (sweep.py), the slider's ends
            "lr_range": [lr * 10 ** -settings.lr_limit_below, lr * 10 ** settings.lr_limit_above],
            "second": [opt.second_axis[0], min(opt.second_axis[1]), max(opt.second_axis[1])]
            if opt.second_axis else None,
            "style": figures.style(opt.name), "hessian": opt.uses_hessian, "needs_minimum": opt.needs_minimum,
            "carried": drawn_views(opt)}


def drawn_views(opt) -> list:
    """The views of what ``opt`` carries that go on the map (the arrows and paths of carried.views), with their
    words; the playground draws each from its JS rule's ``drawn`` (a test checks each against Python's)."""
    transform = opt.transform()
    fields = [*transform.init(onp.zeros((1, 2)))._fields, *(["gradient_point"] if transform.shown else [])]
    return [{"name": v.name, "meaning": v.meaning, "kind": "path" if isinstance(v, Path) else "arrow",
             "through": bool(getattr(v, "through", False))}
            for v in carried.views(opt.name, fields) if isinstance(v, (Arrow, Path))]


def _json(value) -> str:
    """JSON with ±Infinity spelled as JS understands it (the catalogue's ranges are open-ended)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return text.replace("-Infinity", "-1e999").replace("Infinity", "1e999")


NOISE_SEEDS = 16  # the seeds whose noise the playground offers


def noise_steps() -> int:
    """The longest horizon of the catalogue: the playground's runs are at most this long."""
    return max(fn.steps or DEFAULT_STEPS for fn in functions.CATALOGUE.values())


def noise_table() -> bytes:
    """ξ for seeds 0 … NOISE_SEEDS−1 over ``noise_steps()`` steps, float64 little-endian, seed-major: the draws of
    ``trajectory(..., noise=σ, seed=s)`` (engine._Noise), whose prefix a shorter run reads."""
    steps = noise_steps()
    return b"".join(onp.random.default_rng(seed).standard_normal((steps, 2)).astype("<f8").tobytes()
                    for seed in range(NOISE_SEEDS))


def assets() -> dict:
    """The playground's files for the shared assets folder, by name: the engine and the page's script as written,
    the catalogue and the noise table as generated."""
    here = resources.files("gallery_builder").joinpath("assets")
    return {"playground.js": here.joinpath("playground.js").read_bytes(),
            "playground-ui.js": here.joinpath("playground-ui.js").read_bytes(),
            "playground-catalogue.js": _catalogue_bytes(), "playground-noise.bin": noise_table()}


@functools.lru_cache(maxsize=1)
def _catalogue_bytes() -> bytes:
    return catalogue_js().encode()


def catalogue_js(function_names=None) -> str:
    """``playground-catalogue.js``: every test function's generated code and metadata, the optimizers' defaults
    and ranges, the schedules' parameters and the engine's constants, as ``window.PG_CATALOGUE``."""
    names = list(function_names or functions.CATALOGUE)
    fns = ",\n".join(f"{json.dumps(name)}: {function_js(functions.get(name))}" for name in names)
    data = {"functions": {name: _meta(functions.get(name)) for name in names},
            "optimizers": {name: _optimizer_meta(opt) for name, opt in optimizers.CATALOGUE.items()},
            "schedules": schedules.PARAMETERS, "statuses": STATUSES,
            "noise": {"seeds": NOISE_SEEDS, "steps": noise_steps()}, "default_steps": DEFAULT_STEPS,
            "constants": {"tolerance": TOLERANCE, "stall": STALL_GRADIENT, "capture": CAPTURE_FRACTION,
                          # the optimizers' module constants that the JS rules read
                          "yogi_initial": adam.YOGI_INITIAL_ACCUMULATOR, "machine_eps": tuning_free.MACHINE_EPS,
                          "lbfgs_links": second_order.LINKS}}
    return ("// Generated by gallery_builder/jsgen.py from the catalogue: do not edit.\n"
            f"window.PG_CATALOGUE = {_json(data)};\nwindow.PG_CATALOGUE.code = {{\n{fns}\n}};\n")
