"""Markdown pages from Jinja templates: generated numbers and figures, merged with hand-written explanations.

Every text that comes from the catalogue or the config is escaped where it lands (``md`` escapes HTML and Markdown;
attributes get HTML escaping from autoescape). Authors' explanations under ``docs/explanations/`` are included with
``pymdownx.snippets`` so that an edit to them shows in ``mkdocs serve`` without rebuilding the gallery.
"""

from __future__ import annotations

import json
import math
import re
import sys
from html import escape
from pathlib import PurePosixPath

import jinja2
import markupsafe
import plotly

from . import functions, optimizers
from .embeds import relative
from .engine import (CAPTURE_FRACTION, CONVERGED, DIVERGED, ESCAPED, STALL_GRADIENT, STATUSES, describe,
                     is_failure)
from .sweep import CRITERION, Cell, library_versions, source_closure

GALLERY = "gallery"  # the generated folder inside docs_dir
EXPLANATIONS = "explanations"  # hand-written prose inside docs_dir, included by the generated pages

# Markdown and arithmatex punctuation; parentheses stay as they are since "\(" would start inline math.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#+!|~>$-])")


def md(text) -> markupsafe.Markup:
    """Plain text made safe for Markdown: one line, HTML-escaped, Markdown punctuation backslash-escaped (and
    what Python-Markdown cannot backslash-escape, "=" and a leading "1.", as character references)."""
    line = " ".join(str(text).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", escape(line, quote=False)).replace("=", "&#61;")
    return markupsafe.Markup(re.sub(r"^(\d+)([.)])", lambda m: f"{m.group(1)}&#{ord(m.group(2))};", escaped))


def page_title(text) -> markupsafe.Markup:
    """A front-matter title: MkDocs puts it into the navigation unescaped, so it is HTML-escaped here, and
    JSON-quoted, which is valid YAML."""
    return markupsafe.Markup(json.dumps(escape(str(text), quote=False)))


def attr(text) -> markupsafe.Markup:
    """Text for an HTML attribute that Markdown may still scan: escaped, Markdown punctuation as entities."""
    return markupsafe.Markup(_MD_SPECIAL.sub(lambda m: f"&#{ord(m.group(1))};", escape(str(text), quote=True)))


def fence(text: str, language: str = "") -> markupsafe.Markup:
    """A fenced code block that the text cannot close, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return markupsafe.Markup(f"{ticks}{language}\n{text.rstrip()}\n{ticks}")


def latex(text: str) -> markupsafe.Markup:
    """LaTeX for an arithmatex block, as written: arithmatex escapes it for HTML itself (escaping here too would
    turn the & of aligned environments into "amp;"). ``$`` could end the block early, so it is refused."""
    if "$" in text:
        raise ValueError("LaTeX must not contain '$'")
    return markupsafe.Markup(text)


def texnum(value: float) -> markupsafe.Markup:
    """A number for LaTeX: 1e-06 becomes 10^{-6}, 2.5e-08 becomes 2.5 \\times 10^{-8}."""
    text = f"{value:.3g}"
    if "e" not in text:
        return markupsafe.Markup(text)
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return markupsafe.Markup(power if mantissa == "1" else f"{mantissa} \\times {power}")


def num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}"


def slug(*parts: str) -> str:
    return "--".join(parts)


class Site:
    """Paths of generated files and the URLs between them, for the ``use_directory_urls`` in force."""

    def __init__(self, use_directory_urls: bool):
        self.use_directory_urls = use_directory_urls

    @staticmethod
    def optimizer_page(name):
        return f"{GALLERY}/optimizers/{name}.md"

    @staticmethod
    def function_page(name):
        return f"{GALLERY}/functions/{name}.md"

    @staticmethod
    def embed(kind, *names):
        return f"{GALLERY}/embeds/{slug(kind, *names)}.html"

    @staticmethod
    def data(kind, *names):
        return f"{GALLERY}/embeds/{slug(kind, *names)}.json"

    @staticmethod
    def thumbnail(kind, *names):
        return f"{GALLERY}/thumbs/{slug(kind, *names)}.png"

    def url_dir(self, page: str) -> str:
        """The folder of a page's URL: MkDocs serves a.md as a.html, or as a/ with directory URLs."""
        path = PurePosixPath(page)
        if self.use_directory_urls and path.stem != "index":
            return str(path.with_suffix(""))
        return str(path.parent)

    def src(self, page: str, target: str) -> str:
        """The URL of a static file as seen from a page: what an <iframe src> needs (MkDocs does not rewrite it)."""
        return relative(target, self.url_dir(page))

    @staticmethod
    def link(page: str, target: str) -> str:
        """A Markdown link between files of docs_dir, which MkDocs checks and rewrites."""
        return relative(target, str(PurePosixPath(page).parent))


def failures(cell: Cell) -> str:
    """How the runs of a cell without a qualifying learning rate ended, in words."""
    ended = {int(s) for s in cell.runs.status}
    if ended == {DIVERGED}:
        return "diverged"
    if ended == {ESCAPED}:
        return "left the domain"
    return "diverged or left the domain"


def pair_facts(cell: Cell, fn, tolerance: float) -> str:
    """Sentences about one (optimizer, function) cell, written from its numbers."""
    opt = optimizers.get(cell.optimizer)
    runs, steps = cell.runs, cell.runs.points.shape[1] - 1
    sentences = []
    if cell.best < 0:
        sentences.append(f"Every learning rate from {num(cell.lrs[0])} to {num(cell.lrs[-1])} {failures(cell)}, "
                         f"so the figure opens at the default lr = {num(cell.hyperparameters['lr'])}.")
    else:
        b = cell.best
        status, stop = runs.status[b], runs.stop_step[b]
        if fn.minimum is None:
            if status == ESCAPED:
                direction = "downhill" if runs.final_value[b] < runs.values[b, 0] else "uphill"
                outcome = f"leaves the domain {direction} at step {stop}"
            else:
                outcome = f"is {describe(status, stop, steps)}"
        elif status == CONVERGED:
            outcome = f"reaches the minimum within {num(tolerance)} in {runs.steps_to_tolerance[b]} steps"
        else:
            outcome = f"ends {steps} steps with f − f* = {num(runs.gap[b])} ({describe(status, stop, steps)})"
        sentences.append(f"At the best learning rate, lr = {num(cell.lrs[b])}, {opt.title} {outcome}.")
    failed = [i for i, bad in enumerate(is_failure(runs.status, fn)) if bad]
    if failed:
        first = min(failed)
        everything_above = all(i in failed for i in range(first, len(runs.status)))
        what = "diverges" if fn.minimum is None else "diverges or leaves the domain"
        sentences.append(f"It {what} for lr ≥ {num(cell.lrs[first])}." if everything_above else
                         f"It {what} at {len(failed)} of the {len(cell.lrs)} learning rates, the smallest being "
                         f"{num(cell.lrs[first])}.")
    elif fn.minimum is not None:
        sentences.append(f"No learning rate from {num(cell.lrs[0])} to {num(cell.lrs[-1])} diverged.")
    return " ".join(sentences)


def leaderboard(cells: list, fn) -> list:
    """Rows for a function's leaderboard, best first."""
    rows = []
    for cell in cells:
        b = cell.best
        opt = optimizers.get(cell.optimizer)
        if b < 0:
            rows.append({"optimizer": opt, "lr": None, "status": f"every lr {failures(cell)}", "gap": None, "steps": None,
                         "rank": (2, 0, 0)})
            continue
        status = int(cell.runs.status[b])
        reached = int(cell.runs.steps_to_tolerance[b])
        if fn.minimum is None:
            rank = (0, cell.runs.stop_step[b] if status == ESCAPED else math.inf, cell.runs.final_value[b])
        else:
            rank = (0 if status == CONVERGED else 1, reached if reached >= 0 else math.inf, cell.runs.gap[b])
        rows.append({"optimizer": opt, "lr": float(cell.lrs[b]), "status": STATUSES[status],
                     "gap": None if fn.minimum is None else float(cell.runs.gap[b]),
                     "steps": reached if reached >= 0 else None,
                     "left_at": int(cell.runs.stop_step[b]) if status == ESCAPED else None, "rank": rank})
    return sorted(rows, key=lambda r: r["rank"])


def verdict(cell: Cell, fn) -> tuple:
    """A short label and a CSS class for a comparison-matrix cell."""
    b = cell.best
    if b < 0:
        return f"✗ {failures(cell)}", "og-bad"
    status = int(cell.runs.status[b])
    if fn.minimum is None:
        if status == ESCAPED:
            return f"escaped @{cell.runs.stop_step[b]}", "og-good"
        return STATUSES[status], "og-meh"
    if status == CONVERGED:
        return f"✓ {cell.runs.steps_to_tolerance[b]} steps", "og-good"
    return f"gap {num(cell.runs.gap[b], 2)}", "og-meh" if cell.runs.gap[b] < 1e-2 * max(abs(fn.minimum), 1) else "og-poor"


def versions() -> dict:
    from plotly.offline import get_plotlyjs_version

    return {**library_versions(), "plotly": plotly.__version__, "plotly.js": get_plotlyjs_version(),
            "jinja2": jinja2.__version__}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("gallery_builder", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(md=md, attr=attr, page_title=page_title, texnum=texnum, fence=fence, latex=latex, num=num)
    env.globals.update(STATUSES=STATUSES)
    return env


class Renderer:
    """Renders every page for one build."""

    def __init__(self, settings, cells: dict, site: Site, docs_dir):
        self.settings, self.cells, self.site, self.docs_dir = settings, cells, site, docs_dir
        self.env = environment()
        self.optimizers = [optimizers.get(n) for n in settings.optimizers]
        self.functions = [functions.get(n) for n in settings.functions]

    def explanation(self, kind: str, name: str) -> str | None:
        """The snippet path of an author's explanation, when there is one."""
        path = f"{EXPLANATIONS}/{kind}/{name}.md"
        return path if (self.docs_dir / path).is_file() else None

    def _render(self, template: str, page: str, **context) -> str:
        return self.env.get_template(template).render(page=page, site=self.site, settings=self.settings,
                                                      optimizers=self.optimizers, functions=self.functions,
                                                      **context)

    def pages(self) -> dict:
        """Relative path under docs_dir -> Markdown text, for every generated page and snippet."""
        out = {}
        # Every catalogue entry gets a page, so that explanations can link to any of them; entries left out of
        # this build's sweep show their definition and say so.
        for opt in optimizers.CATALOGUE.values():
            page = self.site.optimizer_page(opt.name)
            tabs = []
            for fn in self.functions if opt.name in self.settings.optimizers else ():
                cell = self.cells[(opt.name, fn.name)]
                tabs.append({"fn": fn, "cell": cell, "facts": pair_facts(cell, fn, self.settings.tolerance)})
            source = "\n\n".join(source_closure(opt.factory, sys.modules[opt.factory.__module__], set()))
            out[page] = self._render("optimizer.md.j2", page, opt=opt, tabs=tabs, source=source,
                                     explanation=self.explanation("optimizers", opt.name))
        for fn in functions.CATALOGUE.values():
            page = self.site.function_page(fn.name)
            swept = fn.name in self.settings.functions
            cells = [self.cells[(o.name, fn.name)] for o in self.optimizers] if swept else []
            out[page] = self._render("function.md.j2", page, fn=fn, cells=cells, board=leaderboard(cells, fn),
                                     explanation=self.explanation("functions", fn.name))
        matrix = [[(fn, self.cells[(o.name, fn.name)], *verdict(self.cells[(o.name, fn.name)], fn))
                   for fn in self.functions] for o in self.optimizers]
        page = f"{GALLERY}/comparison.md"
        out[page] = self._render("comparison.md.j2", page, matrix=matrix)
        verdicts = {pair: verdict(cell, functions.get(pair[1]))[0] for pair, cell in self.cells.items()}
        page = f"{GALLERY}/index.md"
        out[page] = self._render("gallery_index.md.j2", page, cells=self.cells, verdicts=verdicts)
        # Snippets are included by hand-written pages at the docs root, so their links are relative to it.
        out[f"{GALLERY}/snippets/grid.md"] = self._render("grid.md.j2", "index.md", cells=self.cells,
                                                          verdicts=verdicts)
        out[f"{GALLERY}/snippets/settings.md"] = self._render(
            "settings.md.j2", "methodology.md", criterion=CRITERION, versions=versions(),
            constants={"escape": functions.ESCAPE_FACTOR, "capture": CAPTURE_FRACTION, "stall": STALL_GRADIENT})
        return out
