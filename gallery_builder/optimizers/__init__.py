"""The optimizer catalogue, in the style of optax: each optimizer is a pure ``init``/``update`` pair.

The registry and the shared numeric pieces live in ``base``; each family module registers its optimizers when it
is imported, so the imports below set the catalogue's order. A new family is one module plus one import line here.
"""

from .base import (CATALOGUE, RANGES, Optimizer, Paper, Transform, check_hyperparameter, get, lerp, optimizer,
                   square_average)
from . import sgd, adaptive, adam, optax_family, second_order  # noqa: E402,F401  (registers, in catalogue order)
