"""The optimizer catalogue: one decorated factory per optimizer, a pure ``init``/``update`` pair (see ``base``).

Each family module registers its optimizers when it is imported, so the imports below set the catalogue's order.
A new family is one module (``from .base import optimizer, Paper, Transform, ...``, then decorated factories) plus
one import line here.
"""

from .base import (CATALOGUE, RANGES, Optimizer, Paper, Transform, check_hyperparameter, get, lerp, optimizer,
                   power, square_average, take_rows)
from . import sgd, adaptive, adam, optax_family, second_order  # noqa: F401  (registers, in catalogue order)
from . import optax_extra  # noqa: F401
from . import torch_extra  # noqa: F401
from . import authors  # noqa: F401
