"""Replayed tapes: the same bits as autograd, for every catalogue function, and refused where they cannot be.

CI runs this file twice: as it comes, and with GALLERY_TAPE=off, where nothing is replayed and every call is
autograd's.
"""

import sys

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.tracer import getval

from gallery_builder import functions, tape
from gallery_builder.functions import CATALOGUE

NAMES = sorted(CATALOGUE)


def assert_same_bits(replayed, direct):
    assert len(replayed) == len(direct)
    for a, b in zip(replayed, direct):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", NAMES)
def test_every_function_replays_bit_for_bit(name):
    fn = CATALOGUE[name]
    rng = np.random.default_rng(len(name))
    (x0, x1), (y0, y1) = fn.domain
    for count in (1, 37, 1000):
        # three times the domain, as the runs that leave it see; then the replay is reused at the same shape
        for _ in range(2):
            points = np.column_stack([rng.uniform(2 * x0 - x1, 2 * x1 - x0, count),
                                      rng.uniform(2 * y0 - y1, 2 * y1 - y0, count)])
            for derivatives, method in ((functions._value_and_grad, fn.value_and_grad),
                                        (functions._value_grad_and_hessian, fn.value_grad_and_hessian)):
                # a catalogue function that could not be replayed would silently run at autograd's speed
                assert functions._tape(derivatives, fn, points.shape, points.dtype) is not None
                assert_same_bits(method(points), derivatives(fn.formula, points))


BOX = (np.full(4, -2.0), np.full(4, 2.0))  # a domain for the tapes of functions of 4 numbers
REACH = (10 * BOX[0], 10 * BOX[1])


def test_a_branch_on_a_value_is_not_replayed():
    # the check inputs all take the same branch (none is exactly 0), so only the recording itself can notice it
    def branchy(x):
        return (x * x if x[0] else -x, )

    assert tape.record(branchy, (4,), np.float64, BOX, REACH) is None


def test_an_unboxed_value_is_not_replayed():
    # getval strips every trace, the recording's too: the value would be baked into the tape as a constant
    def escapes(x):
        return (anp.sin(x), getval(anp.cos(x)))

    assert tape.record(escapes, (4,), np.float64, BOX, REACH) is None


def branch_beyond_5(x, y):
    # getval hides the branch from the recording: only points on both sides of it can show that a tape is wrong
    return x * x + y * y if getval(x).max() > 5 else x + y


def test_a_branch_hidden_from_the_recording_is_caught_at_points_where_runs_go():
    """Recorded inside its domain, the formula takes its x + y side; runs reach 10 times as far, where the checks
    see the other side: no tape, and at x = 7 the gradient is autograd's."""
    fn = functions.TestFunction(name="branch_beyond_5", title="", formula=branch_beyond_5, latex="",
                                domain=((-4.0, 4.0), (-4.0, 4.0)), minimizers=(), minimum=None, start=(1.0, 1.0),
                                bounded_below=False, hard="")
    points = np.array([[7.0, 1.0]])
    assert functions._tape(functions._value_and_grad, fn, points.shape, points.dtype) is None
    assert_same_bits(fn.value_and_grad(points), functions._value_and_grad(branch_beyond_5, points))
    np.testing.assert_array_equal(fn.gradient(points), [[14.0, 2.0]])


def test_a_replay_does_not_overwrite_the_last_outputs():
    def gradient_and_square(x):
        return grad(lambda v: anp.sum(anp.sin(v) ** 2))(x), x * x

    recorded = tape.record(gradient_and_square, (5,), np.float64, (0.0, 1.0), (-5.0, 5.0))
    first_input, second_input = np.linspace(0, 1, 5), np.linspace(2, 3, 5)
    first = recorded(first_input)
    kept = [out.copy() for out in first]
    recorded(second_input)
    assert_same_bits(first, kept)
    assert_same_bits(first, gradient_and_square(first_input))


def test_threads_recording_at_once_each_get_their_own_tape():
    # a Dask worker may run several tasks in threads: recordings must not mix their ops
    import threading

    failures = []

    def record_all(k):
        rng = np.random.default_rng(k)
        for name, fn in CATALOGUE.items():
            points = rng.uniform(-2, 2, (100 + k, 2))  # a shape of this thread's own: a fresh recording each
            if functions._tape(functions._value_and_grad, fn, points.shape, points.dtype) is None:
                failures.append((k, name, "not recorded"))
            elif fn.value_and_grad(points)[1].tobytes() != functions._value_and_grad(fn.formula, points)[1].tobytes():
                failures.append((k, name, "differs"))

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that recordings would interleave
    try:
        threads = [threading.Thread(target=record_all, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert failures == []


def test_the_switch_decides_whether_derivatives_are_replayed():
    """GALLERY_TAPE=off (tape.REPLAY false): a function's derivatives at a new shape record no tape, and are
    autograd's."""
    fn, points = CATALOGUE["booth"], np.random.default_rng(5).uniform(-1, 1, (1237, 2))  # a shape no other test uses
    recorded = functions._tape.cache_info().misses
    assert_same_bits(fn.value_and_grad(points), functions._value_and_grad(fn.formula, points))
    assert (functions._tape.cache_info().misses > recorded) == tape.REPLAY
