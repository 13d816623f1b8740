"""How an optimizer's lines look in every figure: a colour, a dash pattern and a marker, registered with the
optimizer (``look=Look(...)``), or for an optimizer registered without one a fallback fixed by its name."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

# Line colours: every one reaches a WCAG contrast of at least 3:1 against both the light page (#ffffff) and
# Material's slate page (#1e2129), so they all sit in one band of lightness; hue alone cannot then keep 28 lines
# apart for every colour vision, so each optimizer also has its own pair of dash pattern and marker symbol.
PALETTE = ("#8E8E8E", "#C24643", "#D27730", "#AB8B26", "#467E1C", "#38A071", "#018E8F", "#1A98D0", "#436BCE",
           "#A379E6", "#B14994", "#93664C", "#AD7EB8", "#737425")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon", "hexagon", "star", "cross",
           "x", "hourglass", "bowtie", "triangle-left", "triangle-right")
DASHES = ("solid", "dash", "longdash", "longdashdot")  # a registered look's
FALLBACK_DASHES = ("dot", "dashdot")  # never registered, so a fallback cannot look like a registered look


class Look(NamedTuple):
    colour: str  # one of PALETTE
    dash: str  # one of DASHES
    symbol: str  # one of SYMBOLS


def check(name: str, look: Look) -> None:
    """Raise ValueError unless ``look`` is made of the palette's parts."""
    if not isinstance(look, Look) or look.colour not in PALETTE or look.dash not in DASHES or \
            look.symbol not in SYMBOLS:
        raise ValueError(f"optimizer {name!r}: look must be Look(colour in PALETTE, dash in {DASHES}, symbol in "
                         f"SYMBOLS), got {look!r}")


def check_apart(registered: dict) -> None:
    """Raise ValueError where two looks of ``registered`` (name -> look or None) share their colour and dash, or
    their dash and marker."""
    seen = {}
    for name, look in registered.items():
        for key in () if look is None else (("colour and dash", look[:2]), ("dash and marker", look[1:])):
            if key in seen:
                raise ValueError(f"optimizer {name!r}: look {tuple(look)} shares its {key[0]} with {seen[key]!r}")
            seen[key] = name


def fallback(name: str) -> Look:
    """A look fixed by a hash of the name alone, in a dash pattern that no registered look uses."""
    n = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")
    colour, n = PALETTE[n % len(PALETTE)], n // len(PALETTE)
    dash, n = FALLBACK_DASHES[n % len(FALLBACK_DASHES)], n // len(FALLBACK_DASHES)
    return Look(colour, dash, SYMBOLS[n % len(SYMBOLS)])
