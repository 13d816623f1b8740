"""The test-function catalogue: 2-D functions written once in ``autograd.numpy``.

Each function is one decorated definition. The decorator records what the sweep and the site need: its LaTeX, a
plotting domain, every global minimizer with the minimum value (Surjanovic & Bingham, *Virtual Library of
Simulation Experiments*, checked numerically to double precision), a default start and notes. Gradients come from
autograd, evaluated for a whole batch of points in one call.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Callable

import autograd.numpy as np
import numpy as onp
from autograd import make_vjp
from autograd.extend import defvjp, primitive

from . import tape
from .errors import unknown_name

VLSE = "https://www.sfu.ca/~ssurjano/"
ESCAPE_FACTOR = 10.0  # a run has "left the domain" outside the domain scaled this much about its centre


@dataclass(frozen=True)
class TestFunction:
    """A 2-D test function and what is known about it."""

    __test__ = False  # not a pytest test class, despite the name
    name: str
    title: str
    formula: Callable = field(repr=False)
    latex: str
    domain: tuple  # ((x_lo, x_hi), (y_lo, y_hi)): the plotted box
    minimizers: tuple  # every global minimizer within the domain, as (x, y) pairs
    minimum: float | None  # f at the minimizers; None when there is none
    start: tuple
    bounded_below: bool
    hard: str  # what makes it hard, in a sentence or two
    notes: str = ""
    reference: str = ""
    escape_factor: float = ESCAPE_FACTOR
    steps: int | None = None  # the function's own horizon, the same for every optimizer; None: the sweep's default

    @property
    def source(self) -> str:
        return inspect.getsource(self.formula)

    @property
    def width(self) -> float:
        """The longer side of the domain: the length scale for capture radii and escape boxes."""
        return max(hi - lo for lo, hi in self.domain)

    def box(self, factor: float = 1.0):
        """Lower and upper corners of the domain scaled by ``factor`` about its centre."""
        (x0, x1), (y0, y1) = self.domain
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        half = factor * np.array([(x1 - x0) / 2, (y1 - y0) / 2])
        return centre - half, centre + half

    def contains(self, points, factor: float = 1.0):
        """Which points lie in the domain scaled by ``factor`` about its centre."""
        low, high = self.box(factor)
        points = np.asarray(points, dtype=float)
        return ((points >= low) & (points <= high)).all(axis=-1)

    def values(self, points):
        """f at a batch of points of shape (..., 2)."""
        points = np.asarray(points, dtype=float)
        return self.formula(points[..., 0], points[..., 1])

    def value_and_grad(self, points):
        """f and its gradient at a batch of points (B, 2), from one reverse pass of autograd."""
        return _replayed(_value_and_grad, self, points)

    def gradient(self, points):
        return self.value_and_grad(points)[1]

    @property
    def typical_gradient(self) -> float:
        """The median |∇f| over a TYPICAL_GRID × TYPICAL_GRID grid of the domain: the scale of the default noise."""
        return _typical_gradient(self)

    def hessian(self, points):
        """Gradient (B, 2) and Hessian (B, 2, 2)."""
        return self.value_grad_and_hessian(points)[1:]

    def value_grad_and_hessian(self, points):
        """f, its gradient and its Hessian at a batch of points (B, 2)."""
        return _replayed(_value_grad_and_hessian, self, points)


def _value_and_grad(formula, points):
    # x and y go in as a tuple: autograd's VJP of array indexing would use the slow np.add.at.
    return _pair_value_and_grad(formula, (points[:, 0], points[:, 1]))


def _pair_value_and_grad(formula, xy):
    vjp, values = make_vjp(lambda pair: formula(pair[0], pair[1]))(xy)
    gx, gy = vjp(np.ones_like(values))
    return values, np.stack([gx, gy], axis=1)


def _value_grad_and_hessian(formula, points):
    """One trace of the gradient and one reverse sweep: the points go in twice, the first copy's sweep gives
    ∂/∂(x, y) of ∂f/∂x and the second's of ∂f/∂y (x and y as a tuple, as in ``_value_and_grad``)."""
    n, values = len(points), []

    def gradient(xy):
        value, grads = _pair_value_and_grad(formula, xy)
        values.append(value)
        return grads

    twice = np.concatenate([points, points])
    vjp, grads = make_vjp(gradient)((twice[:, 0], twice[:, 1]))
    dx, dy = vjp(np.repeat(np.eye(2), n, axis=0))
    hess = np.stack([np.stack([dx[:n], dy[:n]], axis=1), np.stack([dx[n:], dy[n:]], axis=1)], axis=1)
    # the value is boxed by the outer trace only: peel that one level, not every level as getval would
    return values[0]._value[:n], grads[:n], hess


@functools.lru_cache(maxsize=256)
def _tape(derivatives, fn, shape, dtype):
    """The tape of ``derivatives`` of ``fn`` at this shape, checked at points of its domain and of the box its runs
    stay in (module ``tape``)."""
    return tape.record(functools.partial(derivatives, fn.formula), shape, dtype, fn.box(), fn.box(fn.escape_factor))


def _replayed(derivatives, fn, points):
    """``derivatives(fn.formula, points)``, replayed from its tape at this shape when it has one."""
    recorded = _tape(derivatives, fn, points.shape, points.dtype) \
        if tape.REPLAY and type(points) is onp.ndarray else None
    return recorded(points) if recorded else derivatives(fn.formula, points)


# The origin-pull control moves a function by these fractions of its width along x and y: irrational, so that no
# start or minimizer lands on a multiple of a learning rate it did not sit on before.
SHIFT_FRACTIONS = ((3 - math.sqrt(5)) / 2, math.sqrt(5) - 2)  # 1/φ², 1/φ³


@functools.lru_cache(maxsize=None)
def shifted(name: str) -> TestFunction:
    """Function ``name`` translated by SHIFT_FRACTIONS × its width: f_s(θ) = f(θ − d), with its domain, minimizers
    and start moved by d too, so that a run from the shifted start is the same problem away from the origin. Only
    what an update rule reads from θ itself (weight decay, a trust ratio ‖θ‖, a step relative to |θ|) can tell the
    two apart; the translation also rounds differently, so runs agree to rounding, not bit for bit."""
    fn = get(name)
    dx, dy = (fraction * fn.width for fraction in SHIFT_FRACTIONS)

    def formula(x, y):
        return fn.formula(x - dx, y - dy)

    (x0, x1), (y0, y1) = fn.domain
    return dataclasses.replace(fn, formula=formula, domain=((x0 + dx, x1 + dx), (y0 + dy, y1 + dy)),
                               minimizers=tuple((x + dx, y + dy) for x, y in fn.minimizers),
                               start=(fn.start[0] + dx, fn.start[1] + dy))


# what computes a function's numbers besides its formula: the sweep's cache key covers their source
CODE = (TestFunction, _value_and_grad, _pair_value_and_grad, _value_grad_and_hessian, _tape, _replayed, tape, shifted)

TYPICAL_GRID = 64


@functools.lru_cache(maxsize=None)
def _typical_gradient(fn) -> float:
    (x0, x1), (y0, y1) = fn.domain
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, TYPICAL_GRID), np.linspace(y0, y1, TYPICAL_GRID)), -1)
    grads = fn.gradient(grid.reshape(-1, 2))
    return float(np.median(np.hypot(grads[:, 0], grads[:, 1])))


CATALOGUE: dict[str, TestFunction] = {}


def test_function(**meta):
    """Register the decorated ``f(x, y)`` in the catalogue under its function name."""

    def register(formula):
        fn = TestFunction(name=formula.__name__, formula=formula, **meta)
        CATALOGUE[fn.name] = fn
        return formula

    return register


test_function.__test__ = False


def get(name: str) -> TestFunction:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise unknown_name("function", name, CATALOGUE) from None


@primitive
def radius(x, y):
    """sqrt(x^2 + y^2), whose gradient at the origin is taken as 0 (a subgradient) instead of NaN."""
    return np.sqrt(x * x + y * y)


def _radius_vjp(coordinate):
    def make(ans, x, y):
        safe = np.where(ans > 0, ans, 1.0)
        return lambda g: g * np.where(ans > 0, coordinate(x, y) / safe, 0.0)

    return make


defvjp(radius, _radius_vjp(lambda x, y: x), _radius_vjp(lambda x, y: y))


@test_function(
    title="Saddle",
    latex=r"f(x, y) = x^2 - y^2",
    domain=((-2.0, 2.0), (-2.0, 2.0)),
    minimizers=(),
    minimum=None,
    start=(-1.8, 1e-3),
    bounded_below=False,
    hard="A hyperbolic paraboloid: the origin is a stationary point that is a minimum along x and a maximum along y. "
    "Started almost on the x axis, an optimizer first slides towards the saddle and then has to escape along y, "
    "where the gradient starts out tiny.",
    notes="Unbounded below, so there is no minimizer: success is leaving the saddle, and runs end by leaving the "
    "domain. Newton's method is attracted to the saddle because it seeks any stationary point.",
)
def saddle(x, y):
    return np.square(x) - np.square(y)


@test_function(
    title="Monkey saddle",
    latex=r"f(x, y) = x^3 - 3 x y^2",
    domain=((-2.0, 2.0), (-2.0, 2.0)),
    minimizers=(),
    minimum=None,
    start=(1.2, 0.3),
    bounded_below=False,
    hard="A degenerate saddle with three valleys: at the origin both the gradient and the Hessian vanish, so "
    "gradient steps there are tiny and Newton's method has no curvature to work with.",
    notes="Unbounded below; runs end by leaving the domain through one of the three valleys.",
)
def monkey_saddle(x, y):
    return x**3 - 3 * x * np.square(y)


@test_function(
    title="Rosenbrock",
    latex=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
    domain=((-2.0, 2.0), (-1.0, 3.0)),
    minimizers=((1.0, 1.0),),
    minimum=0.0,
    start=(-1.2, 1.0),
    bounded_below=True,
    hard="The minimum lies at the end of a long, curved, flat-bottomed valley. Finding the valley is easy; "
    "following its bend to (1, 1) is slow, and the walls are steep enough to make large steps diverge.",
    notes="The classic start (-1.2, 1) is from Rosenbrock (1960). Runs here last 1000 steps, not 300: in 300 "
    "steps only Newton's method, L-BFGS and Polyak's step (which is given f*) reach the tolerance at any learning "
    "rate of their search, and the valley is the point. (Signum at lr = 0.1 passes through (1, 1) at step 160 "
    "only because its steps of exactly lr keep it on a lattice through the start and the minimizer: from a start "
    "moved by 0.004 it never comes within the tolerance.)",
    reference=VLSE + "rosen.html",
    steps=1000,
)
def rosenbrock(x, y):
    return np.square(1 - x) + 100 * np.square(y - np.square(x))


@test_function(
    title="Beale",
    latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    domain=((-4.5, 4.5), (-4.5, 4.5)),
    minimizers=((3.0, 0.5),),
    minimum=0.0,
    start=(1.0, 1.4),
    bounded_below=True,
    hard="Flat plateaus beside walls that rise like y⁶: gradients span many orders of magnitude, so a step size "
    "that moves on the plateau overshoots on the walls.",
    reference=VLSE + "beale.html",
)
def beale(x, y):
    return np.square(1.5 - x + x * y) + np.square(2.25 - x + x * np.square(y)) + np.square(2.625 - x + x * y**3)


@test_function(
    title="Himmelblau",
    latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    minimizers=(
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.283185991286169),
        (3.5844283403304917, -1.8481265269644036),
    ),
    minimum=0.0,
    start=(-0.27, -0.9),
    bounded_below=True,
    hard="Four global minima of equal value. Started near the local maximum at about (-0.27, -0.92), each "
    "optimizer's early steps decide which of the four it reaches.",
    reference="Himmelblau, Applied Nonlinear Programming (1972)",
)
def himmelblau(x, y):
    return np.square(np.square(x) + y - 11) + np.square(x + np.square(y) - 7)


@test_function(
    title="Booth",
    latex=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    minimizers=((1.0, 3.0),),
    minimum=0.0,
    start=(-8.0, -8.0),
    bounded_below=True,
    hard="A convex quadratic with Hessian eigenvalues 2 and 18 (condition number 9): the easy baseline.",
    reference=VLSE + "booth.html",
)
def booth(x, y):
    return np.square(x + 2 * y - 7) + np.square(2 * x + y - 5)


@test_function(
    title="Matyas",
    latex=r"f(x, y) = 0.26\,(x^2 + y^2) - 0.48\,xy",
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    start=(-8.0, 6.0),
    bounded_below=True,
    hard="A convex quadratic whose Hessian has eigenvalues 1.00 and 0.04 along the diagonals (condition number "
    "25): a shallow valley along y = x where plain gradient descent crawls.",
    reference=VLSE + "matya.html",
)
def matyas(x, y):
    return 0.26 * (np.square(x) + np.square(y)) - 0.48 * x * y


@test_function(
    title="Three-hump camel",
    latex=r"f(x, y) = 2x^2 - 1.05x^4 + \frac{x^6}{6} + xy + y^2",
    domain=((-2.5, 2.5), (-2.5, 2.5)),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    start=(-2.2, 1.8),
    bounded_below=True,
    hard="Besides the global minimum at the origin it has two local minima at about ±(1.748, -0.874) that trap "
    "optimizers arriving from the sides.",
    reference=VLSE + "camel3.html",
)
def three_hump_camel(x, y):
    x2 = np.square(x)  # powers of x² ≥ 0: numpy computes x**n about 20 times slower for a negative x
    return 2 * x2 - 1.05 * np.square(x2) + x2**3 / 6 + x * y + np.square(y)


@test_function(
    title="Six-hump camel",
    latex=r"f(x, y) = \left(4 - 2.1x^2 + \frac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
    domain=((-2.0, 2.0), (-1.0, 1.0)),
    minimizers=(
        (0.08984201310031806, -0.7126564030207396),
        (-0.08984201310031806, 0.7126564030207396),
    ),
    minimum=-1.0316284534898774,
    start=(-1.5, -0.2),
    bounded_below=True,
    hard="Two global minima and four local ones in a small box; the domain is the usual plotting window "
    "(the VLSE search box is [-3, 3] × [-2, 2]).",
    reference=VLSE + "camel6.html",
)
def six_hump_camel(x, y):
    x2 = np.square(x)
    return (4 - 2.1 * x2 + np.square(x2) / 3) * x2 + x * y + (-4 + 4 * np.square(y)) * np.square(y)


@test_function(
    title="Goldstein-Price",
    latex=r"f(x, y) = \left[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
    r"\left[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]",
    domain=((-2.0, 2.0), (-2.0, 2.0)),
    minimizers=((0.0, -1.0),),
    minimum=3.0,
    start=(-1.5, 1.5),
    bounded_below=True,
    hard="Values range from 3 to about a million within the box, with several local minima: a fixed step size is "
    "either far too small on the plateau or far too large on the cliffs.",
    reference=VLSE + "goldpr.html",
)
def goldstein_price(x, y):
    a = 1 + np.square(x + y + 1) * (19 - 14 * x + 3 * np.square(x) - 14 * y + 6 * x * y + 3 * np.square(y))
    b = 30 + np.square(2 * x - 3 * y) * (18 - 32 * x + 12 * np.square(x) + 48 * y - 36 * x * y + 27 * np.square(y))
    return a * b


@test_function(
    title="Rastrigin",
    latex=r"f(x, y) = 20 + \left(x^2 - 10\cos 2\pi x\right) + \left(y^2 - 10\cos 2\pi y\right)",
    domain=((-5.12, 5.12), (-5.12, 5.12)),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    start=(-3.2, 2.6),
    bounded_below=True,
    hard="A bowl covered in a regular egg-crate of about a hundred local minima: gradient methods stop in the "
    "nearest one unless their steps are large enough to jump the ridges.",
    reference=VLSE + "rastr.html",
)
def rastrigin(x, y):
    return 20 + (np.square(x) - 10 * np.cos(2 * math.pi * x)) + (np.square(y) - 10 * np.cos(2 * math.pi * y))


@test_function(
    title="Ackley",
    latex=r"f(x, y) = -20\exp\left(-0.2\sqrt{\tfrac{1}{2}(x^2 + y^2)}\right) "
    r"- \exp\left(\tfrac{1}{2}(\cos 2\pi x + \cos 2\pi y)\right) + e + 20",
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    start=(-3.3, 2.2),
    bounded_below=True,
    hard="A nearly flat outer region riddled with local minima around a sharp funnel: the gradient is "
    "discontinuous at the minimum itself (a cone tip).",
    notes="The square root has no derivative at the origin, where naive autodiff gives NaN. The radius is a "
    "custom autograd primitive whose gradient there is 0, a valid subgradient; the function is unchanged "
    "everywhere. The VLSE search box is [-32.768, 32.768]²; the plot shows the central part.",
    reference=VLSE + "ackley.html",
)
def ackley(x, y):
    return (
        -20 * np.exp(-0.2 * radius(x, y) / math.sqrt(2))
        - np.exp(0.5 * (np.cos(2 * math.pi * x) + np.cos(2 * math.pi * y)))
        + math.e
        + 20
    )


@test_function(
    title="Lévi N.13",
    latex=r"f(x, y) = \sin^2 3\pi x + (x - 1)^2\left(1 + \sin^2 3\pi y\right) + (y - 1)^2\left(1 + \sin^2 2\pi y\right)",
    domain=((-4.0, 6.0), (-4.0, 6.0)),
    minimizers=((1.0, 1.0),),
    minimum=0.0,
    start=(-3.0, -2.5),
    bounded_below=True,
    hard="A quadratic bowl modulated by sines: ridges in x every third of a unit hide the minimum behind many "
    "local minima.",
    notes="f(1, 1) evaluates to about 1e-31 rather than 0 because sin(3π) is not exactly 0 in floating point.",
    reference=VLSE + "levy13.html",
)
def levi13(x, y):
    return (
        np.square(np.sin(3 * math.pi * x))
        + np.square(x - 1) * (1 + np.square(np.sin(3 * math.pi * y)))
        + np.square(y - 1) * (1 + np.square(np.sin(2 * math.pi * y)))
    )


@test_function(
    title="McCormick",
    latex=r"f(x, y) = \sin(x + y) + (x - y)^2 - 1.5x + 2.5y + 1",
    domain=((-1.5, 4.0), (-3.0, 4.0)),
    minimizers=((0.5 - math.pi / 3, -0.5 - math.pi / 3),),
    minimum=-math.sqrt(3) / 2 - math.pi / 3,
    start=(-1.0, 3.0),
    bounded_below=False,
    hard="A tilted valley along y = x - 1 with a sine ripple.",
    notes="The minimizer is exactly (1/2 - π/3, -1/2 - π/3) with value -√3/2 - π/3 ≈ -1.9132. The function is "
    "unbounded below outside the box (along x = y it behaves like x), so the minimum is global only within "
    "the VLSE domain [-1.5, 4] × [-3, 4], which is also the plotted one; a run that leaves this box is "
    "stopped there as having left the domain.",
    reference=VLSE + "mccorm.html",
    escape_factor=1.0,  # outside its box the function falls without bound, so leaving the box ends a run
)
def mccormick(x, y):
    return np.sin(x + y) + np.square(x - y) - 1.5 * x + 2.5 * y + 1


@test_function(
    title="Styblinski-Tang",
    latex=r"f(x, y) = \tfrac{1}{2}\left(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y\right)",
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    minimizers=((-2.903534027771177, -2.903534027771177),),
    minimum=-78.33233140754284,
    start=(0.5, 4.5),
    bounded_below=True,
    hard="Four basins, one per combination of the two one-dimensional minima: the global minimum at (-2.90, -2.90) "
    "with f ≈ -78.33, two at ≈ -64.20 and one at ≈ -50.06. Along each axis the basins divide near 0.157, so a "
    "start just right of that line ends in a local minimum.",
    notes="VLSE gives the minimum as -39.16599·d (-78.33198 for d = 2); that is not a rounding of the true "
    "value, -39.16617·d (-78.3323314 for d = 2), but off by 1.76e-4 per dimension.",
    reference=VLSE + "stybtang.html",
)
def styblinski_tang(x, y):
    x2, y2 = np.square(x), np.square(y)
    return 0.5 * (np.square(x2) - 16 * x2 + 5 * x + np.square(y2) - 16 * y2 + 5 * y)


_THETA = math.pi / 6  # the narrow valley is turned 30° so that no coordinate axis lines up with it


@test_function(
    title="Ill-conditioned bowl",
    latex=r"f(x, y) = \tfrac{1}{2}\left(u^2 + 100\,v^2\right),\quad "
    r"u = x\cos 30^\circ + y\sin 30^\circ,\ v = -x\sin 30^\circ + y\cos 30^\circ",
    domain=((-2.0, 2.0), (-2.0, 2.0)),
    minimizers=((0.0, 0.0),),
    minimum=0.0,
    start=(-1.6, 0.4),
    bounded_below=True,
    hard="A quadratic with condition number 100, rotated 30°: a step size small enough for the steep direction "
    "is a hundred times too small for the shallow one, and since the valley is not aligned with the axes, "
    "per-coordinate scaling (Adagrad, RMSProp, Adam) cannot undo it.",
    notes="Hessian eigenvalues 1 and 100. Plain gradient descent is stable only for lr < 2/100.",
)
def ill_conditioned(x, y):
    u = x * math.cos(_THETA) + y * math.sin(_THETA)
    v = -x * math.sin(_THETA) + y * math.cos(_THETA)
    return 0.5 * (np.square(u) + 100 * np.square(v))
