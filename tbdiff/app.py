"""Command orchestration: one function per command, wiring the pipeline stages.

Data flows one way: logdir -> events -> graph -> align -> findings -> report -> render.
Every user-facing failure is turned into a one-line message and exit code 2 here, so
no command ever shows a traceback for bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tbdiff.errors import TbdiffError

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed command line; map known errors to a clean exit code 2."""
    handler = {
        "inspect": cmd_inspect,
        "graphs": cmd_graphs,
        "scalars": cmd_scalars,
        "compare": cmd_compare,
        "train-and-compare": cmd_train_and_compare,
    }[args.command]
    try:
        return handler(args)
    except TbdiffError as exc:
        print(f"tbdiff: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tbdiff: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    """List runs, event counts, scalar tags and graph records of a log directory or file."""
    import json

    from tbdiff import events
    from tbdiff.render import render_inspect

    runs = events.read_logdir(args.logdir, verify_crc=not getattr(args, "no_crc", False))
    inv = events.inventory(args.logdir, runs)
    if not getattr(args, "no_model", False):
        for run, entry in zip(runs, inv["runs"], strict=True):
            entry["model"] = _describe_model(run, inv["warnings"])
    if args.json:
        sys.stdout.write(json.dumps(inv, indent=1) + "\n")
    else:
        render_inspect(inv, make_console(args))
    for w in inv["warnings"]:
        print(f"tbdiff: warning: {w}", file=sys.stderr)
    return EXIT_OK


def _describe_model(run, warnings: list[str]) -> dict[str, str]:
    """What the run's most complete graph does, in plain words (the detectors' one-graph half)."""
    from tbdiff import graph
    from tbdiff.findings import Hints, analyse
    from tbdiff.findings.summary import describe

    source = run.best_graph()
    if source is None:
        return {}
    try:
        g = graph.load_graph(source)
    except TbdiffError as exc:
        warnings.append(f"{run.name}: graph not analysed: {exc}")
        return {}
    return describe(analyse(g, Hints(hparams=dict(run.hparams))))


def make_console(args: argparse.Namespace, *, record: bool = False, file=None):
    """A rich Console honouring --no-color/--width; records output for --html/--svg."""
    from rich.console import Console

    no_color = bool(getattr(args, "no_color", False))
    return Console(
        file=file,
        width=getattr(args, "width", None),
        no_color=no_color,
        color_system=None if no_color else "auto",
        highlight=False,
        record=record,
        emoji=False,
    )


def emit_report(report, args: argparse.Namespace) -> None:
    """Print the report as JSON or rich text, and write --html/--svg exports if asked."""
    import io

    from tbdiff.render import render_report

    exporting = bool(getattr(args, "html", None) or getattr(args, "svg", None))
    if args.json:
        sys.stdout.write(report.to_json() + "\n")
        for w in report.warnings:
            print(f"tbdiff: warning: {w}", file=sys.stderr)
        console = make_console(args, record=True, file=io.StringIO()) if exporting else None
    else:
        console = make_console(args, record=exporting)
    if console is not None:
        render_report(report, console)
    if exporting:
        title = f"tbdiff: {report.a.label} vs {report.b.label}"
        from tbdiff.html import export_svg, render_html

        if getattr(args, "html", None):
            _write_export(args.html, lambda: render_html(report))
        if getattr(args, "svg", None):
            _write_export(args.svg, lambda: export_svg(console, title))


def _write_export(target: str, produce) -> None:
    from pathlib import Path

    try:
        Path(target).write_text(produce(), encoding="utf-8")
    except OSError as exc:
        raise TbdiffError(f"cannot write {target}: {exc.strerror or exc}") from None


def _report_from_args(args: argparse.Namespace, *, graphs: bool, scalars: bool):
    from tbdiff.pipeline import build_report

    return build_report(
        args.logdir_a,
        args.logdir_b,
        run_a=args.run_a,
        run_b=args.run_b,
        kind=getattr(args, "graph_source", "auto"),
        feeds=dict(getattr(args, "feed", []) or []),
        graphs=graphs,
        scalars=scalars,
        forced_pairs=list(getattr(args, "pair", []) or []),
        list_nodes=bool(getattr(args, "all", False)),
    )


def cmd_graphs(args: argparse.Namespace) -> int:
    """Compare the graphs only; exit 1 when a critical or warning finding exists (like diff)."""
    report = _report_from_args(args, graphs=True, scalars=False)
    emit_report(report, args)
    return report.exit_code()


def cmd_scalars(args: argparse.Namespace) -> int:
    """Compare the scalar curves only; exit 1 when a paired curve separates for good."""
    report = _report_from_args(args, graphs=False, scalars=True)
    emit_report(report, args)
    pairs = report.scalars.pairs if report.scalars is not None else []
    return EXIT_DIFF if any(p.diverges_at_step is not None for p in pairs) else EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Graphs + scalars + hparams in one report; exit code as for `graphs`."""
    report = _report_from_args(args, graphs=True, scalars=True)
    emit_report(report, args)
    return report.exit_code()


def _compare_after_training(
    dir_a: Path, dir_b: Path, args: argparse.Namespace, experiment: dict
) -> int:
    """Compare the two freshly written runs (tensorflow = A, keras = B), like `compare`.

    The experiment's accuracies travel inside the report (key "experiment"), so `--json`
    still prints exactly one object that follows the report contract.
    """
    from tbdiff.pipeline import build_report

    report = build_report(str(dir_a), str(dir_b), graphs=True, scalars=True)
    report.extra["experiment"] = experiment
    emit_report(report, args)
    return report.exit_code()


def cmd_train_and_compare(args: argparse.Namespace) -> int:
    """Train the seed case's raw-TF and Keras MLPs on MNIST, then compare their logs.

    TensorFlow is imported only here, lazily, via tbdiff.experiment (never by analysis code).
    Exit code as for `compare` (1 when a critical/warning finding explains a difference).
    """
    import json
    import os

    from rich.console import Console

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tbdiff.experiment import train as experiment

    err = Console(stderr=True, no_color=args.no_color, width=args.width)
    outcome = experiment.train_from_args(args, err)
    out = err if args.json else Console(no_color=args.no_color, width=args.width)
    experiment.print_outcome(outcome, out)
    payload = outcome.to_dict()
    dir_a, dir_b = outcome.dirs()
    if dir_a is not None and dir_b is not None:
        if not args.json:
            out.rule("Diagnosis (tbdiff compare of the two runs)")
        return _compare_after_training(Path(dir_a), Path(dir_b), args, payload)
    if args.json:
        print(json.dumps({"schema": "tbdiff.experiment/1", "experiment": payload}, indent=1))
    return EXIT_OK
