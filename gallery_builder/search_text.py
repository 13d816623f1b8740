"""The MkDocs plugin ``gallery-search-text``: the search index reads each formula as text ("β₁", "f(θ) - f*")
instead of its LaTeX ("\\(\\beta_1\\)"), which search results showed raw. Only the index: the pages keep their LaTeX
for KaTeX (docs/design/site-portability.md says why this is the one plugin besides search)."""

from __future__ import annotations

import re
from html import escape, unescape

from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority

# A formula as pymdownx.arithmatex (generic) writes it: inline \( \) in a span, display \[ \] in a div.
MATH = re.compile(r'(<(span|div) class="arithmatex">)(.*?)(</\2>)', re.S)
DELIMITERS = re.compile(r"^\s*(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)\s*$")
TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|\s+|.", re.S)

GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3B5),
    ("varepsilon", 0x3B5), ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8), ("vartheta", 0x3D1),
    ("iota", 0x3B9), ("kappa", 0x3BA), ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE),
    ("pi", 0x3C0), ("rho", 0x3C1), ("sigma", 0x3C3), ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3C6),
    ("varphi", 0x3C6), ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9), ("Gamma", 0x393), ("Delta", 0x394),
    ("Theta", 0x398), ("Lambda", 0x39B), ("Xi", 0x39E), ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Phi", 0x3A6),
    ("Psi", 0x3A8), ("Omega", 0x3A9))}
SYMBOLS = {
    **GREEK, "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤", "ge": "≥",
    "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "~", "simeq": "≃", "equiv": "≡", "propto": "∝",
    "ll": "≪", "gg": "≫", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "mapsto": "↦",
    "infty": "∞", "sum": "Σ", "prod": "Π", "int": "∫", "nabla": "∇", "partial": "∂", "odot": "⊙",
    "otimes": "⊗", "circ": "∘", "in": "∈", "notin": "∉", "subset": "⊂", "cup": "∪", "cap": "∩", "forall": "∀",
    "exists": "∃", "ldots": "…", "dots": "…", "cdots": "…", "top": "⊤", "star": "*", "ast": "*", "prime": "′",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖", "langle": "⟨", "rangle": "⟩", "lfloor": "⌊",
    "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "mid": "|", "vert": "|", "lvert": "|", "rvert": "|",
    "quad": " ", "qquad": " ", ",": " ", ";": " ", ":": " ", " ": " ", "!": "", "\\": "; ",
}
DROPPED = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
           "textstyle", "limits", "nolimits"}
WRAPPERS = {"text", "textrm", "textit", "textbf", "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathcal",
            "boldsymbol", "operatorname", "operatorname*", "mbox"}
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304", "tilde": "\u0303",
           "widetilde": "\u0303", "dot": "\u0307", "vec": "\u20d7"}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "E": "𝔼", "Q": "ℚ", "C": "ℂ"}
SUPERSCRIPT = dict(zip("0123456789+-=()ni⊤T", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀᵀ"))
SUBSCRIPT = dict(zip("0123456789+-=()aeoxhklmnpstijruvβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥᵦᵧᵨᵩᵪ"))
OPERATORS = re.compile(r"[\s+\-−·×/=<>≤≥]")


class _Reader:
    """LaTeX read token by token into plain text."""

    def __init__(self, latex: str):
        self.tokens, self.at = TOKEN.findall(latex), 0

    def _next(self) -> str | None:
        token = self.tokens[self.at] if self.at < len(self.tokens) else None
        self.at += 1
        return token

    def text(self, closing: str | None = None) -> str:
        """Everything up to ``closing`` (a "}" of a group) or the end."""
        out = []
        while (token := self._next()) is not None and token != closing:
            out.append(self._token(token))
        return "".join(out)

    def argument(self) -> str:
        """A command's or a script's argument: a {group}, or the next token (spaces before it skipped)."""
        while (token := self._next()) is not None and token.isspace():
            pass
        if token is None:
            return ""
        return self._token(token)

    def _script(self, marks: dict, sign: str) -> str:
        body = self.argument().strip()
        if body in ("*", "′", "'"):
            return body
        if body and all(c in marks for c in body):
            return "".join(marks[c] for c in body)
        return sign + (body if len(body) == 1 else f"({body})")

    def _token(self, token: str) -> str:
        if token == "{":
            return self.text("}")
        if token == "}":  # unbalanced
            return ""
        if token == "^":
            return self._script(SUPERSCRIPT, "^")
        if token == "_":
            return self._script(SUBSCRIPT, "_")
        if token.isspace() or token in ("~", "&"):
            return " "
        if not token.startswith("\\"):
            return token
        return self._command(token[1:])

    def _command(self, name: str) -> str:
        if name in ("frac", "dfrac", "tfrac"):
            top, bottom = self.argument(), self.argument()
            return "/".join(f"({part})" if OPERATORS.search(part.strip()) else part.strip() for part in (top, bottom))
        if name == "sqrt":
            body = self.argument().strip()
            return "√" + (f"({body})" if len(body) > 1 else body)
        if name in ("begin", "end"):
            self.argument()  # the environment's name
            return " "
        if name in WRAPPERS:
            return self.argument()
        if name == "mathbb":
            body = self.argument()
            return "".join(BLACKBOARD.get(c, c) for c in body)
        if name in ACCENTS:
            body = self.argument()
            return body + ACCENTS[name] if len(body) == 1 else body
        if name in DROPPED:
            return ""
        return SYMBOLS.get(name, name if name.isalpha() else name.rstrip("*"))


def plain(latex: str) -> str:
    """A formula's LaTeX (with or without its delimiters) as one line of plain text."""
    text = _Reader(DELIMITERS.sub("", latex.strip())).text()
    return " ".join(text.split()).replace(" ;", ";").strip(" ;")


def readable_math(html: str) -> str:
    """Every arithmatex formula of a page's HTML as plain text, in the element it was in."""
    return MATH.sub(lambda m: m.group(1) + escape(plain(unescape(m.group(3))), quote=False) + m.group(4), html)


class SearchText(BasePlugin):
    """Around Material's search plugin, which indexes a page on ``on_page_context``: before it, the page's formulas
    become text; after it, the page gets its LaTeX back (each formula in order, into the HTML search left)."""

    def __init__(self):
        self.formulas = {}

    @event_priority(50)
    def _before(self, context, *, page, config, nav):
        self.formulas[page.file.src_uri] = [m.group(0) for m in MATH.finditer(page.content or "")]
        page.content = readable_math(page.content or "")
        return context

    @event_priority(-50)
    def _after(self, context, *, page, config, nav):
        formulas = iter(self.formulas.pop(page.file.src_uri, []))
        page.content = MATH.sub(lambda m: next(formulas, m.group(0)), page.content)
        return context

    on_page_context = CombinedEvent(_before, _after)
