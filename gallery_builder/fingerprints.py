"""What each generated file depends on, decided in one place: the code of an optimizer or a formula (hashed into the
cell keys and listed on the optimizer pages), the cell keys, and the keys of the figure files.

One walker, ``Closure``, follows definitions to every definition of the package they use. The build reuses a
figure file when its key is unchanged, so a key must cover everything the file's bytes depend on; the figure keys
are computed from what the figure code reads (its closure, the card fields and settings it names), not listed by
hand. Pages are not keyed: they are rendered on every build.
"""

from __future__ import annotations

import ast
import dataclasses
import dis
import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import platform
import sys
import textwrap
import types
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
from autograd.core import primitive_vjps

from . import __version__, criteria, engine, functions, model, optimizers, schedules
from .config import Settings

PACKAGE = __package__


@functools.lru_cache(maxsize=None)
def code_of(obj) -> str:
    """The source of a function or class without its decorators, normalized (comments and layout dropped): the
    descriptive card passed to a catalogue decorator computes no number, so editing it must not recompute. A lambda
    has no syntax tree of its own to find: it is the lines it starts on and what its code holds (the lines may not
    show all of it)."""
    node = _node(obj)
    if node is None:
        return textwrap.dedent(inspect.getsource(obj)).strip() + "\n" + _code_text(obj.__code__)
    return ast.unparse(type(node)(**{**vars(node), "decorator_list": []}))


def _code_text(code: types.CodeType) -> str:
    """A code object's instructions, names and constants (its nested functions' too), without line numbers."""
    consts = [_code_text(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return repr((code.co_code.hex(), code.co_names, consts))


def definition(obj) -> str:
    """Source of a function or class from its ``def``/``class`` line on (decorators dropped, comments kept)."""
    node = _node(obj)
    lines = _module_source(obj.__module__).splitlines(keepends=True)
    return textwrap.dedent("".join(lines[node.lineno - 1:node.end_lineno]))


@functools.lru_cache(maxsize=None)
def _module_source(name: str) -> str:
    return inspect.getsource(sys.modules[name])


@functools.lru_cache(maxsize=None)
def _module_tree(name: str) -> ast.Module:
    return ast.parse(_module_source(name))


@functools.lru_cache(maxsize=None)
def _definitions(module: str) -> dict:
    """(first line, name) -> syntax tree of every def and class of a module, nested ones too; the first line is
    where the code object says it starts (its first decorator's)."""
    found, statements = {}, list(_module_tree(module).body)
    while statements:  # a def is a statement: only statement bodies are searched, not every expression
        node = statements.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[(min([node.lineno] + [d.lineno for d in node.decorator_list]), node.name)] = node
        for field in ("body", "orelse", "finalbody", "handlers"):
            statements += getattr(node, field, None) or []
    return found


def _node(obj):
    """The syntax tree of a function or class, from its module's parsed source (inspect.getsource would parse the
    module again on each call); None for a lambda."""
    if inspect.isclass(obj):
        found = [n for n in _module_tree(obj.__module__).body if isinstance(n, ast.ClassDef) and n.name == obj.__name__]
        return found[0] if found else ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]
    code = obj.__code__
    return _definitions(obj.__module__).get((code.co_firstlineno, code.co_name))


@functools.lru_cache(maxsize=None)
def _class_names(node: ast.ClassDef) -> tuple:
    """The names a class's code uses: its bases, decorators, methods and assigned values, but not the names of its
    fields (a dataclass's fields are not read by declaring them)."""
    parts = [*node.bases, *node.decorator_list]
    for statement in node.body:
        parts += [statement.value] if isinstance(statement, (ast.Assign, ast.AnnAssign)) else [statement]
    names = [_node_names(part) for part in parts if part is not None]
    return (list(dict.fromkeys(n for found, _ in names for n in found)),
            list(dict.fromkeys(a for _, found in names for a in found)))


def unwrapped(obj):
    """The Python function behind an autograd primitive (``fun``) or a functools cache (``__wrapped__``)."""
    inner = getattr(obj, "fun", None) or getattr(obj, "__wrapped__", None)
    return unwrapped(inner) if callable(inner) else obj


def _gradient_rules(primitive, module) -> list:
    """The functions of ``module`` registered with ``defvjp`` for an autograd primitive."""
    found, stack, visited = [], [primitive_vjps.get(primitive)], set()
    while stack:
        item = stack.pop()
        if id(item) in visited:
            continue
        visited.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif inspect.isfunction(item):
            if item.__module__ == module.__name__:
                found.append(item)
            stack.extend(cell.cell_contents for cell in item.__closure__ or ())
    return found


@functools.lru_cache(maxsize=None)
def _code_names(code: types.CodeType) -> tuple:
    """The global names and the attribute names that ``code`` and the functions nested in it use, each in order of
    first use."""
    names, attributes = [], []
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            names.append(instruction.argval)
        elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            attributes.append(instruction.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            inner = _code_names(const)
            names, attributes = names + inner[0], attributes + inner[1]
    return list(dict.fromkeys(names)), list(dict.fromkeys(attributes))


@functools.lru_cache(maxsize=None)
def _code_strings(code: types.CodeType) -> list:
    strings = [c for c in code.co_consts if isinstance(c, str)]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            strings += _code_strings(const)
    return strings


@functools.lru_cache(maxsize=None)
def _node_strings(node: ast.AST) -> list:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@functools.lru_cache(maxsize=None)
def _node_names(node: ast.AST) -> tuple:
    """The names and the attribute names in a syntax tree, each in source order."""
    names = sorted((n.lineno, n.col_offset, n.id) for n in ast.walk(node) if isinstance(n, ast.Name))
    attributes = sorted((n.end_lineno, n.end_col_offset, n.attr) for n in ast.walk(node) if isinstance(n, ast.Attribute))
    return list(dict.fromkeys(n for *_, n in names)), list(dict.fromkeys(n for *_, n in attributes))


@functools.lru_cache(maxsize=None)
def _assignments(module: str, name: str) -> list:
    """The top-level statements of ``module`` that assign ``name``."""
    def targets(statement):
        if isinstance(statement, ast.Assign):
            return statement.targets
        return [statement.target] if isinstance(statement, (ast.AnnAssign, ast.AugAssign)) else []

    return [s for s in _module_tree(module).body
            if any(isinstance(n, ast.Name) and n.id == name for t in targets(s) for n in ast.walk(t))]


@functools.lru_cache(maxsize=None)
def _origin(module: str, name: str) -> str:
    """The package module that defines ``name`` as ``module`` sees it (following ``from .x import name``)."""
    for statement in _module_tree(module).body:
        if isinstance(statement, ast.ImportFrom) and statement.level and any(
                (alias.asname or alias.name) == name for alias in statement.names):
            base = module if sys.modules[module].__spec__.submodule_search_locations else module.rpartition(".")[0]
            for _ in range(statement.level - 1):
                base = base.rpartition(".")[0]
            return f"{base}.{statement.module}" if statement.module else base
    return module


def plain(value):
    """``value`` as JSON text when it is plain data (numbers, text, and tuples, lists, sets and string-keyed dicts of
    them, as a module-level table such as ``figures.OUTCOME_COLOURS`` holds), else None."""
    def convert(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (tuple, list)):
            return [convert(x) for x in v]
        if isinstance(v, (set, frozenset)):
            return sorted(convert(x) for x in v)
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {k: convert(x) for k, x in v.items()}
        raise TypeError

    try:
        return json.dumps(convert(value), sort_keys=True)
    except TypeError:
        return None


def _immutable(value) -> bool:
    if isinstance(value, (tuple, frozenset)):
        return all(map(_immutable, value))
    return value is None or isinstance(value, (bool, int, float, str))


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def modules_under(prefix: str) -> frozenset:
    return frozenset(name for name in sys.modules if _in(name, prefix))


def imported_by(*modules: str) -> frozenset:
    """``modules`` and the package modules they import, transitively (what their code can reach)."""
    found, stack = set(), list(modules)
    while stack:
        name = stack.pop()
        if name in found:
            continue
        found.add(name)
        for value in vars(sys.modules[name]).values():
            used = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
            if isinstance(used, str) and _in(used, PACKAGE) and used in sys.modules:
                stack.append(used)
    return frozenset(found)


@functools.lru_cache(maxsize=None)
def _methods() -> dict:
    """Attribute name -> the package classes that define a method or property of that name."""
    index = {}
    for module in [m for name, m in sys.modules.items() if _in(name, PACKAGE)]:
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                for attribute, member in vars(cls).items():
                    if isinstance(member, (types.FunctionType, property, functools.cached_property,
                                           staticmethod, classmethod)):
                        index.setdefault(attribute, []).append(cls)
    return index


class Closure:
    """``roots`` and every definition of the modules in ``scope`` they use, transitively, in order of first use:
    the functions and classes they name (as globals, or as attributes of a module they name), the module-level
    values they read (the statements that assign them, and the value itself when it is plain data, which may come
    from a file), an autograd primitive's gradient rules and the functions a closure captured. With ``methods``, an
    attribute name also reaches every class of the scope that defines a method of that name (figure code calls
    methods of objects it did not name: ``fn.values``, ``settings.steps_for``). A value counts as it is now when it
    is immutable (``PLOTLY_VERSION``, read from a file); with ``tables`` also when it is a plain dict, list or set
    (``figures.OUTCOME_COLOURS``, so that a change made in-process counts too), which the figure code reads but the
    sweep's code must not: its caches (``base._STRETCHES``) fill while it runs. ``reads`` holds every attribute read
    (a card's field, a setting), ``strings`` every text constant."""

    def __init__(self, roots, scope: frozenset, methods: bool = False, tables: bool = False):
        self.scope, self.methods, self.tables = scope, methods, tables
        self.found = {}  # definition -> (module, name, object, normalized source)
        self.reads, self.strings = set(), set()
        for root in roots:
            self._visit(root)

    def texts(self) -> list:
        return [text for *_, text in self.found.values()]

    def _visit(self, ref) -> None:
        key = ref if isinstance(ref, tuple) else unwrapped(ref)
        if key in self.found:
            return
        entry, reached, names, strings = _uses(ref, self.scope, self.methods)
        if isinstance(ref, tuple):  # a value as it is now, not as the cache of _uses saw it
            module, name, _, text = entry
            obj = vars(sys.modules[module])[name]
            value = plain(obj) if self.tables or _immutable(obj) else None
            entry = (module, name, obj, text + (f"\n{name} == {value}" if value else ""))
        self.found[key] = entry
        self.reads.update(names)
        self.strings.update(strings)
        for used in reached:
            self._visit(used)


@functools.lru_cache(maxsize=None)
def _uses(ref, scope: frozenset, methods: bool) -> tuple:
    """One definition (a function or class, or ("value", module, name)): its entry in a closure, the definitions
    it uses, the attributes it reads and its text constants (cached: every figure kind walks the same ones)."""
    if isinstance(ref, tuple):
        _, module, name = ref
        statements = _assignments(module, name)
        text = "\n".join(ast.unparse(s) for s in statements)
        names = [_node_names(s) for s in statements]
        names = ([n for found, _ in names for n in found], [a for _, found in names for a in found])
        strings = [t for s in statements for t in _node_strings(s)]
        return (module, name, None, text), _resolve(names, module, scope, methods), names[1], strings
    target = unwrapped(ref)
    module = target.__module__
    entry = (module, target.__name__, target, code_of(target) + _captured(target))
    if inspect.isclass(target):
        names, strings, reached = _class_names(_node(target)), _node_strings(_node(target)), []
    else:
        names, strings = _code_names(target.__code__), _code_strings(target.__code__)
        # An autograd primitive's gradient rules, and functions captured by closures, are code too.
        reached = _gradient_rules(ref, sys.modules[module])
        reached += [c.cell_contents for c in target.__closure__ or ()
                    if inspect.isfunction(c.cell_contents) and c.cell_contents.__module__ in scope]
    return entry, reached + _resolve(names, module, scope, methods), names[1], strings


def _captured(function) -> str:
    """The values other than functions that a closure captured (a state view's field names, made by a shared
    builder such as ``corrected("m", "beta1")``), which its code alone does not show."""
    cells = [cell.cell_contents for cell in getattr(function, "__closure__", None) or ()
             if cell.cell_contents is not None and not inspect.isfunction(cell.cell_contents)]
    return f"\ncaptured == {[plain(value) or type(value).__qualname__ for value in cells]}" if cells else ""


def _resolve(names: tuple, module: str, scope: frozenset, methods: bool) -> list:
    """The definitions in ``scope`` that ``names`` (global names, attribute names) denote in ``module``."""
    globals_, attributes = names
    own = vars(sys.modules[module])
    found = [_definition_of(own[name], module, name, scope) for name in globals_ if name in own]
    spaces = [own[n] for n in globals_ if isinstance(own.get(n), types.ModuleType) and own[n].__name__ in scope]
    for name in attributes:
        found += [_definition_of(vars(space)[name], space.__name__, name, scope) for space in spaces
                  if name in vars(space)]
        found += [cls for cls in _methods().get(name, ()) if methods and cls.__module__ in scope]
    return [ref for ref in found if ref is not None]


def _definition_of(obj, module: str, name: str, scope: frozenset):
    """What ``name`` in ``module`` refers to, when it is defined in ``scope``: the function or class, or
    ("value", module that assigns it, name); None for modules and what comes from outside (typing, numpy)."""
    target = unwrapped(obj)
    if isinstance(obj, types.ModuleType):
        return None
    if inspect.isfunction(target) or inspect.isclass(target):
        return obj if target.__module__ in scope else None
    origin = _origin(module, name)
    return ("value", origin, name) if origin in scope and _assignments(origin, name) else None


def family(module: str) -> frozenset:
    """The scope of a catalogue entry's code: its module, or its subpackage (an optimizer family and its base)."""
    parent = module.rpartition(".")[0]
    return modules_under(parent) if parent.count(".") >= 1 else frozenset({module})


def source_closure(obj) -> list:
    """The normalized source of ``obj`` and of every definition of its family that it uses."""
    return Closure([obj], family(unwrapped(obj).__module__)).texts()


@functools.lru_cache(maxsize=None)
def fingerprint(obj) -> str:
    """A hash of an optimizer factory's or a formula's source closure (cached: getsource is slow)."""
    return hashlib.sha256("\n".join(source_closure(obj)).encode()).hexdigest()


def _helpers(opt) -> list:
    """(module, name, object) for everything but the factory in its cell key's closure, in order of first use
    (state types, shared pieces such as ``lerp``), without the registry's plumbing (``Transform``)."""
    found = list(Closure([opt.factory], family(opt.factory.__module__)).found.values())[1:]
    return [(module, name, obj) for module, name, obj, _ in found if obj is not optimizers.Transform]


def helpers(opt) -> dict:
    return {name: obj for _, name, obj in _helpers(opt)}


def listing(opt) -> str:
    """The code an optimizer page shows: the factory without its card, then each of its helpers as written."""
    parts = [definition(opt.factory)]
    for module, name, obj in _helpers(opt):
        if inspect.isfunction(obj) or inspect.isclass(obj):
            parts.append(definition(obj))
        else:  # a module-level value: the statements that assign it
            lines = _module_source(module).splitlines(keepends=True)
            parts += ["".join(lines[s.lineno - 1:s.end_lineno]) for s in _assignments(module, name)]
    return "\n\n".join(parts)


def library_versions() -> dict:
    """Versions of what computes the numbers (autograd has no __version__: ask the installed metadata)."""
    return {"gallery-builder": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "autograd": importlib.metadata.version("autograd")}


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """A hash of the code every cell shares: the engine, the data model, the criterion, the schedules, the sweep's
    search, the formulas' machinery and the library versions."""
    sweep = importlib.import_module(".sweep", PACKAGE)  # sweep imports this module: its code is read, not run
    code = [*map(inspect.getsource, (engine, model, criteria, schedules)),
            *source_closure(sweep.compute_many), *source_closure(optimizers.take_rows),
            *map(inspect.getsource, functions.CODE), json.dumps(library_versions(), sort_keys=True)]
    return hashlib.sha256("\n".join(code).encode()).hexdigest()


def cell_key(opt_name: str, fn_name: str, settings: Settings) -> str:
    """A hash of everything that can change a cell's numbers, and nothing else."""
    opt, fn = optimizers.get(opt_name), functions.get(fn_name)
    payload = {
        "optimizer": [opt_name, opt.uses_hessian, fingerprint(opt.factory)],
        "hyperparameters": settings.hyper(opt_name),
        "function": [fn_name, fingerprint(fn.formula), fn.domain, fn.minimizers, fn.minimum, fn.escape_factor],
        "start": list(settings.start(fn_name)),
        "settings": [settings.steps_for(fn_name), settings.lr_per_decade, settings.basin_grid,
                     *map(float, (settings.lr_decades_below, settings.lr_decades_above, settings.lr_limit_below,
                                  settings.lr_limit_above, settings.tolerance))],
        "schedules": list(settings.schedules),
        "noise": [settings.noise_seeds, settings.sigma_for(fn_name) if settings.noise_seeds else 0.0],
        "code": code_fingerprint(),
    }
    return _hash(payload)[:24]


def _hash(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def _package_files() -> dict:
    """Every file of the package (code, templates, assets) by its path relative to the package."""
    root = Path(str(resources.files(PACKAGE)))
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def _files_named(strings) -> dict:
    """Hashes of the package files that a text of the code names (``"manifest.json"``, ``"assets/embed.js"``): a
    value read from a file at import time, or a file read while drawing."""
    names = {s for s in strings if "." in s and 3 < len(s) < 200 and not any(c.isspace() for c in s)}
    return {rel: hashlib.sha256(path.read_bytes()).hexdigest() for rel, path in _package_files().items()
            if any(rel == name or rel.endswith("/" + name) for name in names)}


def _card(entry, reads: set) -> dict:
    """The fields of a catalogue entry (an optimizer's or a function's card) that the code reads."""
    card = {}
    for field in dataclasses.fields(entry):
        if field.name in reads:
            value = getattr(entry, field.name)
            card[field.name] = fingerprint(value) if callable(value) else plain(_card_value(value)) or repr(value)
    return card


def _card_value(value):
    """A card field as plain data where it can be: a dataclass (a paper, a state view) field by field, a function
    in it (a view's formula) as the hash of its code."""
    if callable(value):
        return fingerprint(value)
    if dataclasses.is_dataclass(value):
        return {field.name: _card_value(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_card_value(item) for item in value]
    return value


class FigureKeys:
    """The key of a figure's files (embed, data download, thumbnail): its cells' keys, the closure of the code that
    makes them (``writer``, which writes a figure's files, and the kind's builders it calls, across the modules the
    builders import), the card fields and the settings that code reads, the URLs its page names (assets, playground), the
    package files its code names and the library versions."""

    def __init__(self, settings: Settings, cell_keys: dict, writer, assets: str):
        self.settings, self.cell_keys, self.writer, self.assets = settings, cell_keys, writer, assets
        self.kinds = {}

    def _kind(self, kind) -> tuple:
        if kind.name not in self.kinds:
            roots = [r for r in (kind.figure, kind.title, kind.data, kind.thumbnail, kind.applies) if r is not None]
            # The writer's own module (the build) is outside the scope: only what it calls of the figure stages counts.
            scope = imported_by(*{unwrapped(r).__module__ for r in roots})
            closure = Closure([self.writer, *roots], scope, methods=True, tables=True)
            settings = {f.name: getattr(self.settings, f.name) for f in dataclasses.fields(self.settings)
                        if f.name in closure.reads}
            code = _hash([closure.texts(), _files_named(closure.strings), settings, self.assets,
                          library_versions(), zlib.ZLIB_RUNTIME_VERSION])
            self.kinds[kind.name] = (code, closure.reads)
        return self.kinds[kind.name]

    def key(self, kind, subject) -> str:
        code, reads = self._kind(kind)
        cells = kind.cells(subject)
        names = [(c.optimizer, c.function) for c in cells]
        # The subject's function (the last of its names) counts even without cells: a surface is drawn from it.
        used = {("function", kind.names(subject)[-1])} | {("optimizer", o) for o, _ in names}
        cards = [[*which, _card((optimizers if which[0] == "optimizer" else functions).get(which[1]), reads)]
                 for which in sorted(used)]
        return _hash([code, [self.cell_keys[n] for n in names], cards])[:24]
