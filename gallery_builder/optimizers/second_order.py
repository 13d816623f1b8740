"""Second order."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .base import Paper, Transform, optimizer


class NewtonState(NamedTuple):
    step: int

@optimizer(
    "newton",
    title="Newton's method",
    summary="Model the function by its second-order Taylor expansion and jump to the model's stationary point: "
    "θ ← θ − γ H⁻¹ g, with the exact Hessian from autograd. Near a minimum it converges in a handful of steps; "
    "but it seeks any stationary point, so it walks straight into saddles and maxima, and where the Hessian is "
    "singular the step is undefined.",
    latex=r"\theta_t = \theta_{t-1} - \gamma\,\left(\nabla^2 f(\theta_{t-1}) + \lambda I\right)^{-1} g_t",
    pseudocode="g = grad f(theta)\nH = hessian f(theta)\n"
    "theta = theta - lr * solve(H + damping * I, g)",
    paper=Paper("Nocedal, Wright", "Numerical Optimization, chapter 3 (2nd ed.)", 2006,
                "https://doi.org/10.1007/978-0-387-40065-5"),
    equivalent="no torch.optim or optax equivalent; torch.optim.LBFGS approximates H⁻¹ from gradients instead",
    notes=(
        "The learning rate is the damping factor of the step (lr = 1 is the pure Newton step); 'damping' adds "
        "λI to the Hessian (Levenberg). Both default to the pure method so that what Newton does is visible.",
        "At a saddle or wherever the Hessian is indefinite, the step points towards the stationary point of the "
        "quadratic model, uphill along negative-curvature directions: on the saddle function Newton lands on the "
        "saddle point in one step. Nothing here modifies the Hessian to hide that.",
        "Where H + λI is singular the step is infinite or NaN: the run is recorded as diverged at that step.",
    ),
    uses_hessian=True,
)
def newton(lr=1.0, damping=0.0):
    def update(grads, state, params, *, hessian, **extra):
        # (B, 1) columns, so that lr and damping may hold one value per run.
        a = hessian[:, 0, :1] + damping
        b = hessian[:, 0, 1:]
        c = hessian[:, 1, 1:] + damping
        det = a * c - b * b
        x, y = grads[:, :1], grads[:, 1:]
        # Explicit 2×2 inverse, elementwise over the batch: a singular Hessian gives inf/NaN, which the sweep
        # records as divergence instead of raising.
        step = np.concatenate([c * x - b * y, a * y - b * x], axis=1)
        return -lr * (step / det), NewtonState(state.step + 1)

    return Transform(lambda params: NewtonState(0), update)
