"""Markdown pages from Jinja templates: generated numbers and figures, merged with hand-written explanations.

Every text that comes from the catalogue or the config is escaped where it lands (``md`` escapes HTML and Markdown;
attributes get HTML escaping from autoescape). Authors' explanations under ``docs/explanations/`` are rendered with
Jinja into the pages, so that the numbers they quote about runs come from runs (``gallery-builder watch`` rebuilds
when one is edited).
"""

from __future__ import annotations

import json
import math
import sys
import re
from html import escape
from pathlib import PurePosixPath

import jinja2
import markupsafe
import plotly

from . import carried, functions, jsgen, optimizers
from .criteria import CRITERION
from .embeds import BUNDLES, CELL, KINDS, relative, row
from .engine import CAPTURE_FRACTION, STALL_GRADIENT
from .errors import UserError
from .model import STATUSES
from .extras import EXPLANATIONS, Extras  # hand-written prose inside docs_dir, included by the pages
from .figures import style
from .fingerprints import definition, library_versions, listing
from .results import (badge_tags, badges, leaderboard, no_cell, noise_facts, noise_families, num, pair_facts,
                      quadratic_theory, schedule_facts, schedule_summary, verdict)
from .scorecard import COLUMNS, WINDOW_FACTOR, Score, lr_window, scorecard

GALLERY = "gallery"  # the generated folder inside docs_dir
PLAYGROUND = "gallery/playground.md"  # the side-by-side view, linked from every optimizer and function page

# Markdown and arithmatex punctuation; parentheses stay as they are since "\(" would start inline math.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#+!|~>$-])")
# The same, plus HTML's specials: every one becomes a numeric character reference in an attribute.
_ATTR_SPECIAL = frozenset("\\`*_{}[]#+!|~>$-&<\"'")


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
    # One pass, so that the "#" of a reference made for "'" is not itself replaced (which showed "&&#35;x27;").
    return markupsafe.Markup("".join(f"&#{ord(c)};" if c in _ATTR_SPECIAL else c for c in str(text)))


def first_sentence(text: str) -> str:
    """The first sentence of a text, with its full stop (and only one)."""
    head = str(text).split(". ")[0].rstrip()
    return head if head.endswith((".", "!", "?")) else head + "."


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


def code(text) -> markupsafe.Markup:
    """An inline code span that the text cannot close; Markdown escapes its HTML, so it is not escaped here (that
    would show "&#39;" for a quote)."""
    line = " ".join(str(text).split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", line)), default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return markupsafe.Markup(f"{ticks}{pad}{line}{pad}{ticks}")


def hyper(value) -> str:
    """A hyperparameter's default as the table shows it: infinity as ∞, not as the largest float."""
    if isinstance(value, float) and (math.isinf(value) or value == sys.float_info.max):
        return "∞"
    return num(value, 6)


def sortkey(value: float) -> str:
    """A number for a table's sorting script: NaN (nothing measured) sorts as empty, infinity as the largest."""
    value = float(value)
    return "" if math.isnan(value) else "1e999" if math.isinf(value) else repr(value)


def slug(*parts: str) -> str:
    return "--".join(parts)


class Site:
    """Paths of generated files and the URLs between them, for the ``use_directory_urls`` in force."""

    gallery_page = f"{GALLERY}/index.md"

    def __init__(self, use_directory_urls: bool):
        self.use_directory_urls = use_directory_urls

    @staticmethod
    def optimizer_page(name):
        return f"{GALLERY}/optimizers/{name}.md"

    @staticmethod
    def function_page(name):
        return f"{GALLERY}/functions/{name}.md"

    @staticmethod
    def viewer_page(name):
        """A function's gallery cards opened inside the site, one at a time (docs/design/card-viewer.md)."""
        return f"{GALLERY}/view/{name}.md"

    def card(self, page: str, optimizer: str, function: str) -> str:
        """A Markdown link to one pair's figure inside the site: its function's viewer page, opened on it."""
        return f"{self.link(page, self.viewer_page(function))}?optimizer={optimizer}"

    @staticmethod
    def embed(kind, *names):
        return f"{GALLERY}/embeds/{slug(kind, *names)}.html"

    @staticmethod
    def data(kind, *names):
        """The figure's data download: its embed, opened alone, saves the JSON (embed.js)."""
        return f"{GALLERY}/embeds/{slug(kind, *names)}.html#download"

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

    def page_url(self, page: str, target: str) -> str:
        """The URL of a page or a static file as seen from a page, for raw HTML (which MkDocs does not rewrite)."""
        if target.endswith(".md"):
            path = PurePosixPath(target)
            target = (str(path.with_suffix("")) + "/" if self.use_directory_urls and path.stem != "index"
                      else str(path.with_suffix(".html")))
        return self.src(page, target)

    @staticmethod
    def link(page: str, target: str) -> str:
        """A Markdown link between files of docs_dir, which MkDocs checks and rewrites."""
        return relative(target, str(PurePosixPath(page).parent))


def versions() -> dict:
    from plotly.offline import get_plotlyjs_version

    return {**library_versions(), "plotly": plotly.__version__, "plotly.js": get_plotlyjs_version(),
            "jinja2": jinja2.__version__}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("gallery_builder", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(md=md, attr=attr, first_sentence=first_sentence, page_title=page_title, texnum=texnum,
                       fence=fence, latex=latex, num=num, sortkey=sortkey, code=code, hyper=hyper,
                       badge_tags=badge_tags)
    env.globals.update(STATUSES=STATUSES, memory=carried.memory)
    return env


class Renderer:
    """Renders every page for one build."""

    def __init__(self, settings, cells: dict, site: Site, docs_dir, extras: Extras | None = None):
        """``extras``: the sweep's runs besides the cells (``extras.run_extras``), which the explanations quote."""
        self.settings, self.cells, self.site, self.docs_dir = settings, cells, site, docs_dir
        self.badges = {pair: badges(cell) for pair, cell in cells.items()}  # read by three kinds of page
        self.extras = extras or Extras({}, {})
        self.env = environment()
        # Explanations are Markdown by authors: no escaping, but every name they use must exist.
        self.prose = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        self.prose.filters.update(num=num)

        def run(optimizer, function, lr, **hyperparameters):
            return self.extras.run(optimizer, function, lr, settings.steps_for(function), **hyperparameters)

        self.prose.globals.update(run=run, theory=lambda function: quadratic_theory(
            function, settings.tolerance, settings.steps_for(function)))
        self.optimizers = [optimizers.get(n) for n in settings.optimizers]
        swept = [functions.get(n) for n in settings.functions]
        # Functions with a minimum first, so that pages, the comparison and the gallery open on one that teaches
        # (Rosenbrock); the saddles, where the best run is the one that leaves soonest, keep their place at the end.
        self.functions = [f for f in swept if f.minimum is not None] + [f for f in swept if f.minimum is None]

    def explanation(self, kind: str, name: str) -> str | None:
        """An author's explanation, rendered, when there is one: its measured numbers are filled in from runs of
        this build's horizon, e.g. ``{{ run("sgd", "saddle", 0.1).leaves }}`` gives "at step 55"."""
        path = self.docs_dir / EXPLANATIONS / kind / f"{name}.md"
        if not path.is_file():
            return None
        try:
            return self.prose.from_string(path.read_text(encoding="utf-8")).render()
        except (jinja2.TemplateError, TypeError, UserError) as error:  # a bad name or call in the author's text
            raise UserError(f"{path}: {error}") from None

    def figure(self, kind: str, *names: str) -> dict:
        """What a page needs to place one embed: its path, its title and its shape, from the figure registry."""
        kind = KINDS[kind]
        if kind.scope == CELL:
            subject = self.cells[names]
        else:
            subject = row(names[0], self.settings.optimizers, self.cells)
        return {"path": self.site.embed(kind.name, *names), "title": kind.title(subject), "ratio": kind.ratio}

    def side_by_side(self, page: str, fn: str, *names: str) -> str | None:
        """The playground's URL for a function and 2–4 of the build's optimizers, as seen from ``page``; None when
        fewer than two are in the build."""
        if fn not in self.settings.functions:
            return None
        chosen = [n for n in dict.fromkeys(names) if n in self.settings.optimizers][:4]
        return f"{self.site.page_url(page, PLAYGROUND)}?f={fn}&o={','.join(chosen)}" if len(chosen) >= 2 else None

    def _render(self, template: str, page: str, **context) -> str:
        return self.env.get_template(template).render(page=page, site=self.site, settings=self.settings,
                                                      side_by_side=self.side_by_side,
                                                      optimizers=self.optimizers, functions=self.functions,
                                                      figure=self.figure, **context)

    def _on(self, fn) -> list:
        """Every cell of the build on ``fn``, in the build's order of optimizers."""
        return [self.cells[(o, fn.name)] for o in self.settings.optimizers if (o, fn.name) in self.cells]

    def _noise(self, fn, swept: bool) -> dict:
        """The noise section of a function page: σ, where it comes from, and the per-family measurements."""
        if not swept or not self.settings.noise_seeds:
            return {}
        sigma = self.settings.sigma_for(fn.name)
        return {"sigma": sigma, "override": fn.name in self.settings.noise_sigma, "grid": functions.TYPICAL_GRID,
                "families": noise_families(self.extras.families.get(fn.name))}

    @staticmethod
    def _memory(name: str) -> Score:
        """The scorecard's memory column: carried.memory's count, its note in the tooltip."""
        kept = carried.memory(name)
        return Score(str(kept["copies"]), kept["copies"], page=("optimizer", name, "which-formulation"),
                     detail=f"copies of the parameters in its state{kept['note']}")

    def _tour(self) -> dict:
        """What the home page's tour shows: a bowl for the first steps (the ill-conditioned one when swept), a
        curved valley (Rosenbrock) for the race, and the pairs and figures this build has of them."""
        swept = [f for f in self.settings.functions if any((o, f) in self.cells for o in self.settings.optimizers)]
        bounded = [f for f in swept if functions.get(f).minimum is not None]
        bowl = "ill_conditioned" if "ill_conditioned" in bounded else next(iter(bounded), None)
        curved = "rosenbrock" if "rosenbrock" in bounded else bowl
        first = row(curved, self.settings.optimizers, self.cells).cells[0] if curved else None
        return {"cells": self.cells, "bowl": bowl, "curved": curved,
                "noisy": first is not None and first.noisy is not None,
                "hero": [o for o in ("sgd", "momentum", "adam") if (o, bowl) in self.cells],
                "titles": {o.name: o.title for o in self.optimizers},
                "fn_titles": {f.name: f.title for f in self.functions}}

    def pages(self) -> dict:
        """Relative path under docs_dir -> Markdown text, for every generated page and snippet."""
        out = {}
        # Every catalogue entry gets a page, so that explanations can link to any of them; entries left out of
        # this build's sweep show their definition and say so.
        for opt in optimizers.CATALOGUE.values():
            page = self.site.optimizer_page(opt.name)
            tabs = []
            for fn in self.functions if opt.name in self.settings.optimizers else ():
                cell = self.cells.get((opt.name, fn.name))
                tolerance = self.settings.tolerance
                if cell is None:
                    tabs.append({"fn": fn, "cell": None, "facts": no_cell(opt)})
                    continue
                tabs.append({"fn": fn, "cell": cell, "facts": pair_facts(cell, fn, tolerance),
                             "badges": self.badges[(opt.name, fn.name)],
                             "carries": KINDS["state"].applies(cell), "views": carried.views(opt.name, cell.runs.state),
                             "schedule_facts": schedule_facts(cell, fn),
                             "noise_facts": noise_facts(cell, fn, tolerance, self._on(fn))})
            rule = definition(opt.factory)  # the listing opens with the update rule, then its helpers
            out[page] = self._render("optimizer.md.j2", page, opt=opt, tabs=tabs,
                                     implementation={"rule": rule, "helpers": listing(opt)[len(rule):].strip()},
                                     explanation=self.explanation("optimizers", opt.name))
        for fn in functions.CATALOGUE.values():
            page = self.site.function_page(fn.name)
            swept = fn.name in self.settings.functions
            # (optimizer, its cell or None where it has none), in the build's order
            pairs = [(o, self.cells.get((o.name, fn.name))) for o in self.optimizers] if swept else []
            cells = [cell for _, cell in pairs if cell is not None]
            out[page] = self._render("function.md.j2", page, fn=fn, pairs=pairs, cells=cells,
                                     board=leaderboard(cells, fn), no_cell=no_cell,
                                     explanation=self.explanation("functions", fn.name),
                                     schedule_summary=schedule_summary(cells, fn), noise=self._noise(fn, swept),
                                     factor=WINDOW_FACTOR, windows={c.optimizer: lr_window(c, fn) for c in cells}
                                     if fn.minimum is not None else {})
        matrix = [[(fn, self.cells[(o.name, fn.name)], *verdict(self.cells[(o.name, fn.name)], fn),
                    self.badges[(o.name, fn.name)])
                   if (o.name, fn.name) in self.cells else (fn, None, no_cell(o), "", [])
                   for fn in self.functions] for o in self.optimizers]
        page = f"{GALLERY}/comparison.md"
        out[page] = self._render("comparison.md.j2", page, matrix=matrix)
        page = f"{GALLERY}/scorecard.md"
        rows = [{"optimizer": r.optimizer, "scores": {**r.scores, "memory": self._memory(r.optimizer.name)},
                 "colour": style(r.optimizer.name)["color"],
                 "window": 0.0 if math.isnan(r.scores["window"].value) else r.scores["window"].value}
                for r in scorecard(self.cells, self.settings.optimizers, self.settings.functions)]
        out[page] = self._render("scorecard.md.j2", page, rows=rows, columns=COLUMNS, factor=WINDOW_FACTOR,
                                 bounded=[fn for fn in self.functions if fn.minimum is not None])
        # Snippets are included by hand-written pages at the docs root, so their links are relative to it.
        out[f"{GALLERY}/snippets/tour.md"] = self._render("tour.md.j2", "index.md", **self._tour())
        verdicts = {pair: verdict(cell, functions.get(pair[1]))[0] for pair, cell in self.cells.items()}
        page = f"{GALLERY}/playground.md"
        out[page] = self._render("playground.md.j2", page, plotly=next(iter(BUNDLES)), noise_steps=jsgen.noise_steps(),
                                 noise_seeds=jsgen.NOISE_SEEDS)
        page = self.site.gallery_page
        out[page] = self._render("gallery_index.md.j2", page, cells=self.cells, verdicts=verdicts,
                                 badges=self.badges)
        for fn in self.functions:
            pairs = [(o, self.cells[(o.name, fn.name)]) for o in self.optimizers if (o.name, fn.name) in self.cells]
            if pairs:
                page = self.site.viewer_page(fn.name)
                out[page] = self._render("viewer.md.j2", page, fn=fn, pairs=pairs, verdicts=verdicts,
                                         badges=self.badges)
        out[f"{GALLERY}/snippets/settings.md"] = self._render(
            "settings.md.j2", "methodology.md", criterion=CRITERION, versions=versions(),
            constants={"escape": functions.ESCAPE_FACTOR, "capture": CAPTURE_FRACTION, "stall": STALL_GRADIENT})
        return out
