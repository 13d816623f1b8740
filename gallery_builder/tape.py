"""Trace once, replay many: the numpy calls autograd makes for a function of one array, as a flat list.

autograd boxes every intermediate, builds a graph and walks it backwards on every call; on a batch of a few hundred
points that bookkeeping costs more than the arithmetic. A function whose operations do not branch on values makes
the same numpy calls, in the same order, every time it sees an input of the same shape. Traced once with a
recording node, those calls replay on plain arrays and give the same bits, with none of the bookkeeping.

A function that cannot be replayed (it branches on a value, or unboxes one) is caught when it is recorded: the
recording refuses a branch, and the replay must equal autograd, bit for bit, at fresh points drawn from where the
runs go (the function's domain, the box they stay in, its corners), so that a branch hidden from the recording
(``getval(x).max() > 5``) shows as a difference on one side of it. Such a function keeps running through autograd.

``GALLERY_TAPE=off`` in the environment turns replaying off (``REPLAY``): every call of a function's derivatives
goes through autograd (the same bits, slower), should a new autograd change the ``autograd.tracer`` internals this
module records through. Recording still works (the playground's JavaScript is generated from a recording).
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import numpy as onp
from autograd.tracer import Box, Node, isbox, new_box, trace_stack


REPLAY = os.environ.get("GALLERY_TAPE", "on") != "off"  # read by functions._replayed


class _Unreplayable(Exception):
    """The traced function branches on a value or unboxes one."""


_RECORDING = threading.local()  # .tape: the list this thread is recording into, if any
_ONE_AT_A_TIME = threading.Lock()  # Box.__bool__ is patched while a recording runs


class _Recording(Node):
    """A node that appends its primitive call to the tape being recorded."""

    __slots__ = ["index"]

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        feeds = tuple((argnum, parent.index) for argnum, parent in zip(parent_argnums, parents))
        constants = tuple(None if argnum in parent_argnums else arg for argnum, arg in enumerate(args))
        self.index = len(_RECORDING.tape) + 1  # slot 0 holds the input
        _RECORDING.tape.append((fun.fun, constants, feeds, kwargs))

    def initialize_root(self):
        self.index = 0


def _refuse(box):
    if getattr(_RECORDING, "tape", None) is not None:
        raise _Unreplayable("a Python branch on a traced value")
    return bool(box._value)  # autograd's own, in a thread that is not recording


@contextmanager
def _recording(tape):
    with _ONE_AT_A_TIME:
        _RECORDING.tape, saved = tape, Box.__bool__
        Box.__bool__ = _refuse
        try:
            yield
        finally:
            _RECORDING.tape, Box.__bool__ = None, saved


class Tape:
    """``fun``'s numpy calls at one input shape, and where its outputs are."""

    def __init__(self, fun, x):
        ops = []
        with _recording(ops), trace_stack.new_trace() as level:
            outputs = fun(new_box(x, level, _Recording.new_root()))
        # an output is a slot of the tape, or a constant that does not depend on the input
        self.outputs = tuple(("slot", out._node.index) if isbox(out) and out._trace == level else ("constant", out)
                             for out in outputs)
        if any(kind == "constant" and isbox(value) for kind, value in self.outputs):
            raise _Unreplayable("an output escaped the recording")
        self.replay = self._compiled(self._needed(ops))

    def _needed(self, ops):
        """The ops the outputs depend on, each with the slots it reads and those it reads last; the rest are
        dropped."""
        outputs = {index for kind, index in self.outputs if kind == "slot"}
        live = set(outputs)
        for index in range(len(ops), 0, -1):
            if index in live:
                live.update(source for _, source in ops[index - 1][2])
        kept = [index for index in range(1, len(ops) + 1) if index in live]
        # free each intermediate after its last reader, as autograd does, so numpy can reuse its memory
        last_reader = {}
        for index in kept:
            for _, source in ops[index - 1][2]:
                last_reader[source] = index
        freed = {}
        for source, reader in last_reader.items():
            if source not in outputs:
                freed.setdefault(reader, []).append(source)
        return [(index, *ops[index - 1], freed.get(index, ())) for index in kept]

    def _compiled(self, ops):
        """The ops as one straight-line Python function, ``s3 = f3(s1, c3_1)`` per op: replaying then costs a
        call per op and nothing else (a loop over the ops spent as long again in its own bookkeeping)."""
        names, lines = {"copy": onp.copy}, ["def replay(s0):"]
        for index, fun, constants, feeds, kwargs, done in ops:
            fed, args = dict(feeds), []
            for argnum, constant in enumerate(constants):
                if argnum in fed:
                    args.append(f"s{fed[argnum]}")
                else:
                    names[f"c{index}_{argnum}"] = constant
                    args.append(f"c{index}_{argnum}")
            if kwargs:
                names[f"k{index}"] = kwargs
                args.append(f"**k{index}")
            names[f"f{index}"] = fun
            lines.append(f"    s{index} = f{index}({', '.join(args)})")
            if done:
                lines.append(f"    del {', '.join(f's{source}' for source in done)}")
        outputs = []
        for number, (kind, value) in enumerate(self.outputs):
            if kind == "slot":
                outputs.append(f"s{value}")
            else:  # a copy each time: the caller may write into what it gets
                names[f"out{number}"] = value
                outputs.append(f"copy(out{number})")
        lines.append(f"    return ({', '.join(outputs)},)")
        exec("\n".join(lines), names)
        return names["replay"]

    def __call__(self, x):
        return self.replay(x)


def record(fun, shape, dtype, domain, reach) -> Tape | None:
    """``fun``'s tape at this input shape, or None when ``fun`` cannot be replayed: traced at points drawn from
    ``domain`` and checked bit for bit against ``fun`` itself at more, drawn from ``domain`` and from ``reach`` (the
    box the runs stay in) and at reach's two corners (the first replay's outputs must survive the others). A box is
    its lower and upper corners, broadcast against the input's last axis."""
    rng = onp.random.default_rng(0)
    (low, high), (far_low, far_high) = domain, reach
    first, *checks = (rng.uniform(lo, hi, shape).astype(dtype) for lo, hi in (domain, domain, reach))
    checks += [onp.broadcast_to(corner, shape).astype(dtype) for corner in (far_low, far_high)]
    with onp.errstate(all="ignore"):
        try:
            tape = Tape(fun, first)
        except Exception:  # a branch on a value, or anything else recording cannot follow: autograd does it all
            return None
        kept = tape(checks[0])
        expected = [onp.copy(out) for out in kept]
        if not (_same(expected, fun(checks[0])) and all(_same(tape(x), fun(x)) for x in checks[1:])
                and _same(kept, expected)):
            return None
    return tape


def _same(outputs, expected) -> bool:
    return len(outputs) == len(expected) and all(
        type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and onp.array_equal(a, b, equal_nan=True)
        for a, b in zip(outputs, expected))
