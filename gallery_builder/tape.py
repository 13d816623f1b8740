"""Trace once, replay many: the numpy calls autograd makes for a function of one array, as a flat list.

autograd boxes every intermediate, builds a graph and walks it backwards on every call; on a batch of a few hundred
points that bookkeeping costs more than the arithmetic. A function whose operations do not branch on values makes
the same numpy calls, in the same order, every time it sees an input of the same shape. Traced once with a
recording node, those calls replay on plain arrays and give the same bits, with none of the bookkeeping.

A function that cannot be replayed (it branches on a value, or unboxes one) is caught when it is recorded: the
recording refuses a branch, and the replay must equal autograd on two fresh inputs, bit for bit. Such a function
keeps running through autograd.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as onp
from autograd.tracer import Box, Node, isbox, new_box, trace_stack


class _Unreplayable(Exception):
    """The traced function branches on a value or unboxes one."""


class _Recording(Node):
    """A node that appends its primitive call to the tape being recorded."""

    __slots__ = ["index"]
    tape = None  # the list being recorded into; one recording at a time

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        feeds = tuple((argnum, parent.index) for argnum, parent in zip(parent_argnums, parents))
        constants = tuple(None if argnum in parent_argnums else arg for argnum, arg in enumerate(args))
        self.index = len(_Recording.tape) + 1  # slot 0 holds the input
        _Recording.tape.append((fun.fun, constants, feeds, kwargs))

    def initialize_root(self):
        self.index = 0


def _refuse(box):
    raise _Unreplayable("a Python branch on a traced value")


@contextmanager
def _recording(tape):
    _Recording.tape, saved = tape, Box.__bool__
    Box.__bool__ = _refuse
    try:
        yield
    finally:
        _Recording.tape, Box.__bool__ = None, saved


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
        self.ops = self._needed(ops)

    def _needed(self, ops):
        """The ops the outputs depend on, each with the slots it reads; the rest are dropped."""
        live = {index for kind, index in self.outputs if kind == "slot"}
        for index in range(len(ops), 0, -1):
            if index in live:
                live.update(source for _, source in ops[index - 1][2])
        kept = [index for index in range(1, len(ops) + 1) if index in live]
        # free each intermediate after its last reader, as autograd does, so numpy can reuse its memory
        last_reader = {}
        for index in kept:
            for _, source in ops[index - 1][2]:
                last_reader[source] = index
        outputs = {index for kind, index in self.outputs if kind == "slot"}
        freed = {}
        for source, reader in last_reader.items():
            if source not in outputs:
                freed.setdefault(reader, []).append(source)
        return [(index, *ops[index - 1], tuple(freed.get(index, ()))) for index in kept]

    def __call__(self, x):
        slots = {0: x}
        for index, fun, constants, feeds, kwargs, done in self.ops:
            args = list(constants)
            for argnum, source in feeds:
                args[argnum] = slots[source]
            slots[index] = fun(*args, **kwargs)
            for source in done:
                del slots[source]
        return tuple(slots[value] if kind == "slot" else onp.copy(value) for kind, value in self.outputs)


def record(fun, shape, dtype) -> Tape | None:
    """``fun``'s tape at this input shape, or None when ``fun`` cannot be replayed: traced at one input and checked
    bit for bit against ``fun`` itself at two more (the first replay's outputs must survive the second)."""
    rng = onp.random.default_rng(0)
    first, second, third = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    with onp.errstate(all="ignore"):
        try:
            tape = Tape(fun, first)
        except Exception:  # a branch on a value, or anything else recording cannot follow: autograd does it all
            return None
        kept = tape(second)
        expected = [onp.copy(out) for out in kept]
        if not (_same(expected, fun(second)) and _same(tape(third), fun(third)) and _same(kept, expected)):
            return None
    return tape


def _same(outputs, expected) -> bool:
    return len(outputs) == len(expected) and all(
        type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and onp.array_equal(a, b, equal_nan=True)
        for a, b in zip(outputs, expected))
