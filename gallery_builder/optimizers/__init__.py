"""The optimizer catalogue: one decorated factory per optimizer, a pure ``init``/``update`` pair (see ``base``).

A module per family; each registers its optimizers when it is imported. A new family is one module
(``from .base import optimizer, Paper, Transform, ...``, then decorated factories) plus one import line here. Each
factory's decorator carries its card, its look (``looks.py``) and its state views (``views.py``).
"""

from . import looks
from .base import (CATALOGUE, RANGES, Optimizer, Paper, Transform, check_hyperparameter, get, lerp, look, optimizer,
                   power, square_average, take_rows)
from .looks import Look
from . import sgd, adaptive, sign, adam, second_order, tuning_free  # noqa: F401  (registers)

# The catalogue's order, which the sweep, the pages and the legends follow: the order in which the optimizers joined
# the gallery. One not listed here (a new one) comes after these, in the order it registered.
ORDER = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "amsgrad", "adamw", "adamax",
         "nadam", "radam", "lion", "adabelief", "newton", "yogi", "adan", "novograd", "signum", "lamb", "polyak_sgd",
         "ademamix", "rprop", "asgd", "adafactor", "lbfgs", "prodigy", "schedule_free_adamw")
_registered = dict(CATALOGUE)
CATALOGUE.clear()
CATALOGUE.update({name: _registered.pop(name) for name in ORDER})
CATALOGUE.update(_registered)
# Here, once every family has registered, rather than in the decorator: the figures' keys follow what the code they
# reach reads, and the decorator is within their reach; a look read there would count for every figure.
looks.check_apart({name: entry.look for name, entry in CATALOGUE.items()})
