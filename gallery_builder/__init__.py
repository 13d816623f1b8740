"""Optimizer Gallery builder: sweeps optimizers over 2-D test functions and renders the gallery site."""

from .engine import Trajectory, trajectory

__version__ = "0.1.0"
__all__ = ["Trajectory", "trajectory", "__version__"]
