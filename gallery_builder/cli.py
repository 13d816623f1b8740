"""The ``gallery-builder`` command: list, run, sweep, build and watch.

Bad input ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from . import build, config, engine, functions, optimizers, results, schedules
from .sweep import make_executor, run_sweep
from .errors import UserError

PROG = "gallery-builder"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's default prints the whole usage text; one line is enough
        raise UserError(f"{message} (see {self.prog} --help)")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _assignment(text: str) -> tuple:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Build the optimizer gallery: sweeps, figures and the MkDocs site.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="list the optimizers and test functions")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    run = commands.add_parser("run", help="print one trajectory")
    run.add_argument("--optimizer", required=True)
    run.add_argument("--function", required=True)
    run.add_argument("--start", nargs=2, type=_number, metavar=("X", "Y"), help="default: the function's start")
    run.add_argument("--steps", type=int, default=300)
    run.add_argument("--set", action="append", type=_assignment, default=[], metavar="NAME=VALUE",
                     help="a hyperparameter, e.g. --set lr=0.01 (repeatable)")
    run.add_argument("--schedule", default="constant", metavar="SPEC",
                     help="learning-rate schedule, e.g. cosine or warmup_cosine:warmup=30 (default: constant)")
    run.add_argument("--noise", type=_number, default=0.0, metavar="SIGMA",
                     help="add SIGMA times a standard normal draw to every gradient (default: 0)")
    run.add_argument("--seed", type=int, default=0, help="the noise's seed (default: 0)")
    run.add_argument("--format", choices=("csv", "json"), default="csv")

    for name, text in (("sweep", "run and cache the sweep"),
                       ("results", "the best learning rate and outcome of every optimizer on every function"),
                       ("build", "sweep, write the embeds and pages"),
                       ("watch", "rebuild the gallery whenever its sources change (for mkdocs serve)")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--config", help=f"TOML settings (default: {config.DEFAULT_PATH} if present)")
        sub.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per CPU)")
        if name != "watch":
            sub.add_argument("--executor", metavar="dask://HOST:PORT",
                             help="compute on an existing Dask cluster instead of local processes")
        sub.add_argument("--quiet", action="store_true", help="no progress output")
        if name == "results":
            sub.add_argument("--json", action="store_true", help="machine-readable output")
        if name in ("build", "watch"):
            sub.add_argument("--docs", default="docs", help="the MkDocs docs_dir to write the gallery into")
        if name == "build":
            sub.add_argument("--site", action="store_true",
                             help="then run mkdocs build --strict beside docs/ and swap the result into site/")
    return parser


def _list(as_json: bool) -> str:
    opts = [{"name": o.name, "title": o.title, "hyperparameters": o.defaults, "equivalent": o.equivalent,
             "reference": f"{o.paper.authors} ({o.paper.year}), {o.paper.title}, {o.paper.url}"}
            for o in optimizers.CATALOGUE.values()]
    fns = [{"name": f.name, "title": f.title, "domain": f.domain, "minimizers": f.minimizers, "minimum": f.minimum,
            "start": f.start, "bounded_below": f.bounded_below} for f in functions.CATALOGUE.values()]
    if as_json:
        return json.dumps({"optimizers": opts, "functions": fns}, indent=2)
    lines = ["Optimizers:"]
    for o in opts:
        hyper = ", ".join(f"{k}={v:g}" for k, v in o["hyperparameters"].items())
        lines.append(f"  {o['name']:<11} {hyper}\n  {'':<11} {o['equivalent']}")
    lines.append("Functions:")
    for f in fns:
        (x0, x1), (y0, y1) = f["domain"]
        minimum = "unbounded below, no minimum" if f["minimum"] is None else f"min {f['minimum']:.10g} at " + \
            ", ".join(f"({x:.16g}, {y:.16g})" for x, y in f["minimizers"])
        lines.append(f"  {f['name']:<17} [{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]  start ({f['start'][0]:g}, "
                     f"{f['start'][1]:g})  {minimum}")
    return "\n".join(lines)


def _run(args) -> str:
    hyper = {}
    for key, value in args.set:
        if key in hyper:
            raise UserError(f"hyperparameter {key} given twice")
        hyper[key] = value
    run = engine.trajectory(args.optimizer, args.function, start=args.start, steps=args.steps, noise=args.noise,
                            seed=args.seed, schedule=args.schedule, **hyper)
    rows = [(k, *map(float, run.points[k]), float(run.values[k])) for k in range(run.steps + 1) if math.isfinite(run.values[k])]
    if args.format == "json":
        return json.dumps({
            "optimizer": run.optimizer, "function": run.function, "hyperparameters": run.hyperparameters,
            "steps": run.steps, "schedule": schedules.parse(args.schedule).spec, "noise": args.noise,
            "seed": args.seed, "lr": [float(v) for v in run.lr], "status": run.status, "description": run.description, "stop_step": run.stop_step,
            "steps_to_tolerance": run.steps_to_tolerance, "columns": ["step", "x", "y", "f"],
            "rows": [list(r) for r in rows]}, indent=1)
    hyper_text = ", ".join(f"{k}={v!r}" for k, v in run.hyperparameters.items())
    extras = "" if args.schedule == "constant" else f", schedule {schedules.parse(args.schedule).spec}"
    extras += f", noise σ={args.noise!r} seed {args.seed}" if args.noise else ""
    lines = [f"# {run.optimizer} on {run.function}, {run.steps} steps, {hyper_text}{extras}",
             f"# status: {run.status}: {run.description}", "step,x,y,f"]
    lines += [f"{k},{x!r},{y!r},{f!r}" for k, x, y, f in rows]
    return "\n".join(lines)


def _results(settings, args) -> str:
    report = run_sweep(settings, jobs=args.jobs, quiet=args.quiet)
    entries = [results.entry(cell, functions.get(fn)) for (_, fn), cell in report.cells.items()]
    if args.json:
        return json.dumps(entries, indent=1)
    header = ("optimizer", "function", "best lr", "outcome", "final gap", "steps to tol.")
    rows = [(e["optimizer"], e["function"], results.num(e["best_lr"]), e["outcome"], results.num(e["final_gap"]),
             "–" if e["steps_to_tolerance"] is None else str(e["steps_to_tolerance"])) for e in entries]
    widths = [max(len(r[k]) for r in (header, *rows)) for k in range(len(header))]
    left = {0, 1, 3}  # names and words; numbers are right-aligned
    lines = ["  ".join(cell.ljust(w) if k in left else cell.rjust(w) for k, (cell, w) in enumerate(zip(row, widths)))
             .rstrip() for row in (header, *rows)]
    notes = [f"best lr: {text}" for text in results.CRITERION.values()]
    return "\n".join([*lines, "", *notes])


def main(argv=None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "list":
            print(_list(args.json))
        elif args.command == "run":
            print(_run(args))
        else:
            if args.jobs is not None and args.jobs < 1:
                raise UserError(f"--jobs must be at least 1, got {args.jobs}")
            settings = config.load(args.config)
            if args.command == "sweep":
                executor = make_executor(args.jobs or 1, args.executor) if args.executor else None
                report = run_sweep(settings, jobs=args.jobs, quiet=args.quiet, executor=executor)
                print(f"sweep: {len(report.cells)} cells, {report.computed} computed, {report.cached} from cache")
            elif args.command == "results":
                print(_results(settings, args))
            else:
                build.command(args.command, settings, args)
        return 0
    except UserError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
