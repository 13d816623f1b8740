"""A figure's phone layout: the bands that its parts, side by side on a wide embed, stack in on a narrow one.

Every figure builder ends with ``narrow.stack(layout, data, *bands)``, which checks the bands against the figure
and returns the figure's ``narrow`` entry, ``{"blocks": [...]}``, in the JSON that ``assets/embed.js``
(``narrowLayout``) lays out at the reader's width below 560 px: from top to bottom, each band takes its height
(``SQUARE``: as tall as the plot is wide, at most 480 px), then its ``below`` and 8 px. Heights are CSS pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SQUARE = "square"


@dataclass(frozen=True)
class Plot:
    """Cartesian axes drawn in one band: x axes span the width, y axes the band (or their ``parts`` of it)."""

    axes: tuple  # layout keys: ("xaxis", "yaxis"), ("xaxis2", "yaxis2"), …
    height: int | str  # pixels, or SQUARE
    below: int = 0  # room for the tick labels and the axis title under it
    nticks: int | None = None  # fewer y ticks in a short band (drawn at font size 10)
    tickangle: int | None = None  # x tick labels turned (−90: upright); the room below grows to hold them
    parts: dict = field(default_factory=dict)  # y axis -> [low, high], its share of the band

    def block(self) -> dict:
        optional = {"nticks": self.nticks, "tickangle": self.tickangle, "parts": self.parts or None}
        return {"axes": list(self.axes), "height": self.height, "below": self.below,
                **{key: value for key, value in optional.items() if value is not None}}


@dataclass(frozen=True)
class Scene:
    """A 3-D scene filling a band."""

    name: str  # its layout key: "scene"
    height: int | str = SQUARE

    def block(self) -> dict:
        return {"scene": self.name, "height": self.height}


@dataclass(frozen=True)
class Slider:
    """A slider of ``layout.sliders``, with the play buttons of ``layout.updatemenus[buttons]`` at its left."""

    index: int
    height: int
    buttons: int | None = None

    def block(self) -> dict:
        return {"slider": self.index, **({} if self.buttons is None else {"buttons": self.buttons}),
                "height": self.height}


@dataclass(frozen=True)
class ColourBar:
    """The colour bar of trace ``trace``, with plotly colorbar attributes (``bar``) that fit it in the band."""

    trace: int
    height: int
    bar: dict

    def block(self) -> dict:
        return {"colorbar": self.trace, "height": self.height, "bar": self.bar}


@dataclass(frozen=True)
class Note:
    """Annotation ``index`` of the layout, wrapped to the width; as tall as its lines."""

    index: int

    def block(self) -> dict:
        return {"annotation": self.index}


@dataclass(frozen=True)
class Legend:
    """The legend, laid out horizontally; as tall as its rows."""

    def block(self) -> dict:
        return {"legend": True}


def _height(value) -> bool:
    return value == SQUARE or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


def _problem(band, layout: dict, data: list) -> str | None:
    """What is wrong with ``band`` in this figure, or None."""
    if isinstance(band, (Plot, Scene, Slider, ColourBar)) and not _height(band.height):
        return f"height must be a positive number of pixels or {SQUARE!r}"
    if isinstance(band, Plot):
        missing = [name for name in band.axes if name not in layout and name not in ("xaxis", "yaxis")]
        shares = all(name in band.axes and 0 <= low < high <= 1 for name, (low, high) in band.parts.items())
        return f"no axes {missing} in the layout" if missing else None if shares else "parts outside its axes"
    if isinstance(band, Scene):
        return None if band.name in layout else f"no {band.name} in the layout"
    if isinstance(band, Slider):
        if band.index >= len(layout.get("sliders", ())):
            return "no such slider"
        return None if band.buttons is None or band.buttons < len(layout.get("updatemenus", ())) else "no such buttons"
    if isinstance(band, ColourBar):
        return None if band.trace < len(data) and "colorbar" in data[band.trace] else "no colour bar on that trace"
    if isinstance(band, Note):
        return None if band.index < len(layout.get("annotations", ())) else "no such annotation"
    return None if isinstance(band, Legend) else "not a band"


def stack(layout: dict, data: list, *bands) -> dict:
    """The figure's ``narrow`` entry; raises ValueError for a band the figure does not have."""
    for band in bands:
        problem = _problem(band, layout, data)
        if problem:
            raise ValueError(f"narrow layout: {band!r}: {problem}")
    return {"blocks": [band.block() for band in bands]}
