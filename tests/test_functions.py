"""The test-function catalogue: gradients, Hessians, listed minima and domains."""

import math

import numpy as np
import pytest

from gallery_builder import functions
from gallery_builder.functions import CATALOGUE

NAMES = sorted(CATALOGUE)
BOUNDED = [name for name in NAMES if CATALOGUE[name].minimum is not None]
REQUIRED = {
    "saddle", "monkey_saddle", "rosenbrock", "beale", "himmelblau", "booth", "matyas", "three_hump_camel",
    "six_hump_camel", "goldstein_price", "rastrigin", "ackley", "levi13", "mccormick", "styblinski_tang",
    "ill_conditioned",
}


def random_points(fn, count=20, seed=0):
    """``count`` points drawn uniformly from the interior of the domain (a fixed seed per function)."""
    rng = np.random.default_rng([seed, sum(map(ord, fn.name))])
    (x0, x1), (y0, y1) = fn.domain
    margin_x, margin_y = 1e-3 * (x1 - x0), 1e-3 * (y1 - y0)
    return np.column_stack([rng.uniform(x0 + margin_x, x1 - margin_x, count),
                            rng.uniform(y0 + margin_y, y1 - margin_y, count)])


def fd_gradient(fn, points, h=1e-6):
    """Central differences of f, one coordinate at a time, with a step scaled to the coordinate."""
    grads = np.empty_like(points)
    for axis in range(2):
        step = h * np.maximum(1.0, np.abs(points[:, axis]))
        shift = np.zeros_like(points)
        shift[:, axis] = step
        grads[:, axis] = (fn.values(points + shift) - fn.values(points - shift)) / (2 * step)
    return grads


def fd_hessian(fn, points, h=1e-5):
    """Central differences of the autograd gradient: row i is d(grad f)/d(coordinate i)."""
    rows = []
    for axis in range(2):
        shift = np.zeros_like(points)
        shift[:, axis] = h
        rows.append((fn.gradient(points + shift) - fn.gradient(points - shift)) / (2 * h))
    return np.stack(rows, axis=1)


def grid(fn, n=201):
    (x0, x1), (y0, y1) = fn.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    return np.stack(np.meshgrid(xs, ys), axis=-1)


def test_catalogue_has_the_required_functions():
    assert REQUIRED <= set(CATALOGUE)
    assert len(CATALOGUE) >= 16
    for name, fn in CATALOGUE.items():
        assert fn.name == name
        assert functions.get(name) is fn


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    fn = CATALOGUE[name]
    points = random_points(fn)
    values, grads = fn.value_and_grad(points)
    assert grads.shape == points.shape and values.shape == (len(points),)
    np.testing.assert_array_equal(values, fn.values(points))
    np.testing.assert_array_equal(grads, fn.gradient(points))
    numeric = fd_gradient(fn, points)
    # Central differences with h = 1e-6 are accurate to about eps·|f|/h ≈ 2e-10·|f| (plus h²·f''' ≈ 1e-12·f''').
    scale = np.maximum(1.0, np.abs(values))[:, None]
    error = np.abs(grads - numeric)
    allowed = 1e-5 * np.abs(grads) + 1e-7 * scale
    assert np.all(error <= allowed), (name, points[np.any(error > allowed, axis=1)], (error - allowed).max())


@pytest.mark.parametrize("name", NAMES)
def test_gradient_is_batched_pointwise(name):
    """Each row of a batched gradient equals the gradient of that point alone."""
    fn = CATALOGUE[name]
    points = random_points(fn, count=7, seed=1)
    batched = fn.gradient(points)
    for point, row in zip(points, batched):
        np.testing.assert_array_equal(fn.gradient(point[None, :])[0], row)


@pytest.mark.parametrize("name", NAMES)
def test_listed_minimizers(name):
    fn = CATALOGUE[name]
    if fn.minimum is None:
        assert fn.minimizers == ()
        assert fn.bounded_below is False
        return
    assert len(fn.minimizers) >= 1
    minimizers = np.array(fn.minimizers, dtype=float)
    assert fn.contains(minimizers).all()
    values = fn.values(minimizers)
    np.testing.assert_allclose(values, fn.minimum, rtol=0, atol=1e-12 * max(1.0, abs(fn.minimum)))
    grads = fn.gradient(minimizers)
    assert np.all(np.hypot(grads[:, 0], grads[:, 1]) < 1e-6), grads


@pytest.mark.parametrize("name", BOUNDED)
def test_no_grid_point_below_the_listed_minimum(name):
    fn = CATALOGUE[name]
    values = fn.values(grid(fn))
    assert np.isfinite(values).all()
    assert values.min() >= fn.minimum - 1e-9, (values.min(), fn.minimum)


def _refine(fn, points, iterations=60):
    """Descend from each point with a Newton step on |H| (eigenvalues made positive) and backtracking."""
    points = points.copy()
    for _ in range(iterations):
        grads, hess = fn.hessian(points)
        eigenvalues, vectors = np.linalg.eigh(np.nan_to_num(hess))
        scaled = np.einsum("bij,bi->bj", vectors, grads) / np.maximum(np.abs(eigenvalues), 1e-8)
        step = -np.einsum("bij,bj->bi", vectors, scaled)
        before = fn.values(points)
        size = np.ones(len(points))
        for _ in range(40):
            better = fn.values(points + size[:, None] * step) <= before
            if better.all():
                break
            size = np.where(better, size, size / 2)
        candidate = points + size[:, None] * step
        keep = (fn.values(candidate) <= before) & np.isfinite(candidate).all(axis=1)
        points = np.where(keep[:, None], candidate, points)
    return points


@pytest.mark.parametrize("name", BOUNDED)
def test_every_global_minimizer_is_listed(name):
    """Refine each local minimum of a coarse grid: those reaching f* must be listed minimizers, and all of
    them must be reached (catches a missing minimizer, e.g. one of Himmelblau's four)."""
    fn = CATALOGUE[name]
    n = 101
    points = grid(fn, n)
    values = fn.values(points)
    padded = np.pad(values, 1, constant_values=np.inf)
    neighbours = np.stack([padded[1 + dy:1 + dy + n, 1 + dx:1 + dx + n]
                           for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dx, dy) != (0, 0)])
    local = points[values <= neighbours.min(axis=0)]
    refined = _refine(fn, local)
    refined_values = fn.values(refined)
    inside = fn.contains(refined)
    assert np.all(refined_values[inside] >= fn.minimum - 1e-9)
    minimizers = np.array(fn.minimizers, dtype=float)
    global_ = refined[inside & (refined_values <= fn.minimum + 1e-8)]
    distances = np.hypot(global_[:, None, 0] - minimizers[None, :, 0], global_[:, None, 1] - minimizers[None, :, 1])
    assert np.all(distances.min(axis=1) < 1e-6), global_
    assert set(np.argmin(distances, axis=1)) == set(range(len(minimizers)))


@pytest.mark.parametrize("name", NAMES)
def test_start_lies_in_the_domain(name):
    fn = CATALOGUE[name]
    assert len(fn.start) == 2
    assert all(math.isfinite(v) for v in fn.start)
    assert fn.contains(np.array(fn.start, dtype=float))
    (x0, x1), (y0, y1) = fn.domain
    assert x0 < x1 and y0 < y1


def test_domain_contains_and_escape_factor():
    fn = CATALOGUE["rosenbrock"]  # [-2, 2] x [-1, 3]
    points = np.array([[-2.0, -1.0], [2.0, 3.0], [2.001, 0.0], [0.0, 3.5], [0.0, 1.0]])
    np.testing.assert_array_equal(fn.contains(points), [True, True, False, False, True])
    # scaled x10 about the centre (0, 1): [-20, 20] x [-19, 21]
    np.testing.assert_array_equal(fn.contains(np.array([[19.9, 20.9], [0.0, -19.5]]), 10.0), [True, False])
    assert fn.width == 4.0


def test_known_counts_of_global_minimizers():
    assert len(CATALOGUE["himmelblau"].minimizers) == 4
    assert len(CATALOGUE["six_hump_camel"].minimizers) == 2


def test_ackley_gradient_at_the_origin_is_zero():
    fn = CATALOGUE["ackley"]
    value, grads = fn.value_and_grad(np.zeros((1, 2)))
    assert np.isfinite(grads).all()
    np.testing.assert_array_equal(grads, [[0.0, 0.0]])
    assert abs(value[0]) < 1e-14
    # the origin inside a batch does not spoil the other rows
    points = np.array([[0.0, 0.0], [0.3, -0.2], [0.0, 1e-3], [1e-9, 0.0]])
    grads = fn.gradient(points)
    assert np.isfinite(grads).all()
    np.testing.assert_array_equal(grads[1], fn.gradient(points[1:2])[0])


def test_ackley_gradient_near_the_origin_matches_finite_differences():
    fn = CATALOGUE["ackley"]
    points = np.array([[0.3, -0.2], [1e-2, 2e-2], [-1e-3, 0.0], [0.0, 5e-3], [2.5, 2.5], [-4.2, 1.1]])
    h = 1e-8  # small enough against the distance to the cone tip
    numeric = np.empty_like(points)
    for axis in range(2):
        shift = np.zeros_like(points)
        shift[:, axis] = h
        numeric[:, axis] = (fn.values(points + shift) - fn.values(points - shift)) / (2 * h)
    np.testing.assert_allclose(fn.gradient(points), numeric, rtol=1e-5, atol=1e-6)
    # the cone tip: |grad| tends to 20·0.2/√2·... ≈ 2.83 along any ray, not to 0
    slope = np.hypot(*fn.gradient(np.array([[1e-9, 0.0]]))[0])
    assert 2.5 < slope < 3.0


def test_radius_primitive_gradient():
    from autograd import grad

    assert grad(lambda x: functions.radius(x, 0.0))(0.0) == 0.0
    assert grad(lambda y: functions.radius(3.0, y))(4.0) == pytest.approx(0.8)


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "goldstein_price", "ill_conditioned", "rastrigin",
                                  "ackley", "beale", "mccormick"])
def test_hessian_matches_finite_differences_of_the_gradient(name):
    fn = CATALOGUE[name]
    points = random_points(fn, count=5, seed=2)
    grads, hess = fn.hessian(points)
    assert hess.shape == (len(points), 2, 2)
    np.testing.assert_array_equal(grads, fn.gradient(points))
    numeric = fd_hessian(fn, points)
    scale = np.abs(hess).max(axis=(1, 2), keepdims=True)
    assert np.all(np.abs(hess - numeric) <= 1e-5 * np.abs(hess) + 1e-6 * np.maximum(scale, 1.0))
    np.testing.assert_allclose(hess[:, 0, 1], hess[:, 1, 0], rtol=1e-12, atol=1e-9)


def test_hessian_of_quadratics_is_exact():
    _, hess = CATALOGUE["booth"].hessian(np.array([[0.5, -2.0], [3.0, 7.0]]))
    np.testing.assert_allclose(hess, [[[10.0, 8.0], [8.0, 10.0]]] * 2, rtol=1e-14)
    _, hess = CATALOGUE["ill_conditioned"].hessian(np.array([[0.1, 0.2]]))
    np.testing.assert_allclose(np.linalg.eigvalsh(hess[0]), [1.0, 100.0], rtol=1e-12)


def test_minimizers_are_local_minima():
    """The Hessian at each smooth minimizer is positive semi-definite (Ackley's cone tip excluded)."""
    for name in BOUNDED:
        if name == "ackley":
            continue
        fn = CATALOGUE[name]
        _, hess = fn.hessian(np.array(fn.minimizers, dtype=float))
        assert np.all(np.linalg.eigvalsh(hess) >= -1e-8), name


def test_unknown_function_names_a_close_match():
    from gallery_builder.errors import UserError

    with pytest.raises(UserError, match="rosenbrock"):
        functions.get("rosenbrok")
