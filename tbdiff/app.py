"""Command orchestration: one function per command, wiring the pipeline stages.

Data flows one way: logdir -> events -> graph -> align -> findings -> report -> render.
Every user-facing failure is turned into a one-line message and exit code 2 here, so
no command ever shows a traceback for bad input. stdout carries the report (or JSON) only;
warnings, progress and "wrote FILE" go to stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError

if TYPE_CHECKING:
    from tbdiff.inputs import Input
    from tbdiff.report import Report

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed command line; map known errors to a clean exit code 2."""
    from tbdiff.inputs import describe_os_error

    handler = {
        "inspect": cmd_inspect,
        "graphs": cmd_graphs,
        "scalars": cmd_scalars,
        "compare": cmd_compare,
        "runs": cmd_runs,
        "export": cmd_export,
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
    except OSError as exc:  # a file that vanished or lost its permission while being read
        print(f"tbdiff: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_ERROR


def print_warnings(records: Sequence[LogWarning]) -> None:
    """Every warning on stderr, one line each, repeated problems summarised."""
    if not records:
        return
    from tbdiff.render import warning_lines  # rich: only when there is something to print

    for line in warning_lines(records):
        print(f"tbdiff: warning: {line}", file=sys.stderr)


# ------------------------------------------------------------------ runs


def cmd_runs(args: argparse.Namespace) -> int:
    """Many runs at once (tbdiff.multirun): exit 1 when a run is outside its seed-noise floor or
    model groups differ by a critical/warning finding, else 0."""
    import json

    from tbdiff import multirun as runs_mod
    from tbdiff.inputs import check_input

    for root in args.roots:
        if check_input(root).is_graph:
            raise TbdiffError(f"{root}: a graph file, not a folder of runs")
    warnings: list[LogWarning] = []
    tasks = runs_mod.discover(args.roots, verify_crc=not args.no_crc, warnings=warnings)
    print(f"tbdiff: reading {len(tasks)} run(s) ...", file=sys.stderr)
    summaries = runs_mod.read_all(tasks, jobs=args.jobs, dask_address=args.dask)
    report = runs_mod.analyse(
        list(args.roots), summaries, metric=args.metric, baseline=args.baseline, warnings=warnings
    )
    doc = runs_mod.to_json(report)
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    else:
        from tbdiff.multirun.render import render_runs  # rich, only for text output

        render_runs(report, make_console(args))
    if args.html:
        from tbdiff.multirun.render import render_runs_html

        _write_export(args.html, lambda: render_runs_html(report, doc))
    print_warnings(report.warnings)
    return report.exit_code


# ------------------------------------------------------------------ export


def cmd_export(args: argparse.Namespace) -> int:
    """The long scalar table (run, tag, step, value, wall_time) as CSV or parquet, written only
    where --csv/--parquet points (never next to the logs unless told so)."""
    from tbdiff.events import is_event_file_name
    from tbdiff.frames import require_pandas, require_pyarrow, scalar_table

    target = args.csv if args.csv is not None else args.parquet
    require_pandas("export")
    if args.parquet is not None:
        require_pyarrow("export --parquet")
    if target != "-" and is_event_file_name(Path(target).name):
        raise TbdiffError(f"{target}: an event file name; refusing to write over event files")
    table = scalar_table(
        args.logdir, args.tag, run=args.run, verify_crc=not args.no_crc, flag="--run"
    )
    print_warnings(table.warnings)
    if args.csv == "-":
        table.frame.to_csv(sys.stdout, index=False)
        return EXIT_OK
    if args.csv is not None:
        _write_export(args.csv, lambda: table.frame.to_csv(args.csv, index=False))
    else:
        _write_export(args.parquet, lambda: table.frame.to_parquet(args.parquet, index=False))
    return EXIT_OK


# ------------------------------------------------------------------ inspect


def cmd_inspect(args: argparse.Namespace) -> int:
    """List runs, event counts, scalar tags and graph records of a log directory or file."""
    import json

    from tbdiff.inputs import check_input
    from tbdiff.render import render_inspect

    source = check_input(args.logdir)
    warnings: list[LogWarning] = []
    if source.is_graph:
        inv = _graph_file_inventory(source, warnings, describe=not args.no_model)
    else:
        inv = _logs_inventory(
            source, warnings, verify_crc=not args.no_crc, describe=not args.no_model
        )
    inv["warnings"] = [str(w) for w in warnings]
    inv["warning_records"] = [w.to_dict() for w in warnings]
    if args.json:
        sys.stdout.write(json.dumps(inv, indent=1) + "\n")
    else:
        render_inspect(inv, make_console(args))
    print_warnings(warnings)
    return EXIT_OK


def _logs_inventory(
    source: Input, warnings: list[LogWarning], *, verify_crc: bool, describe: bool
) -> dict[str, Any]:
    from tbdiff import events
    from tbdiff.selection import best_graph, group_hparams, group_runs

    runs = events.read_logdir(source.path, verify_crc=verify_crc)
    inv = events.inventory(source.text, runs)
    for rd in runs:
        warnings.extend(rd.warnings)
    entries = {e["name"]: e for e in inv["runs"]}
    for group in group_runs(runs):  # star the graph `compare` would use for this run
        chosen = best_graph(group.members)
        for rd in group.members:
            for g in entries[rd.name].get("graphs", []):
                g["best"] = chosen is not None and _same_record(g, chosen[1])
        if describe:
            first = chosen[0] if chosen is not None else group.members[0]
            hparams = group_hparams(group.members, chosen[0] if chosen else None)
            source = chosen[1] if chosen is not None else None
            _describe_model(entries[first.name], group, source, hparams, warnings)
    return inv


def _same_record(entry: dict[str, Any], src: Any) -> bool:
    return str(entry.get("file")) == str(src.file) and entry.get("offset") == src.offset


def _describe_model(
    entry: dict[str, Any], group: Any, source: Any, hparams: dict, warnings: list[LogWarning]
) -> None:
    """Add what the run's model is (from its graph, Keras config and hparams, each fact with its
    source) and the graph's node count once functions are inlined (what `compare` counts)."""
    from tbdiff import graph
    from tbdiff.pipeline import run_inputs

    g = None
    if source is not None:
        try:
            g = graph.load_graph(source)
        except TbdiffError as exc:
            where = str(group.members[0].path)
            warnings.append(LogWarning("graph.load", f"graph not analysed: {exc}", path=where))
    _add_model(entry, run_inputs(group.members, g, hparams, {}))


def _add_model(entry: dict[str, Any], inputs: Any) -> None:
    from tbdiff.findings.summary import describe
    from tbdiff.model import describe as describe_model

    d = describe_model(inputs)
    if not d.is_empty:
        entry["model"] = describe(d)
    if inputs.graph is None:
        return
    for rec in entry.get("graphs", []):
        if rec.get("best"):
            rec["inlined_nodes"] = inputs.graph.number_of_nodes()  # what compare counts


def _graph_file_inventory(source: Input, warnings: list[LogWarning], *, describe: bool) -> dict:
    """The inventory of a .pb/.pbtxt file or SavedModel: one run holding one graph."""
    from tbdiff import graph
    from tbdiff.events import INSPECT_SCHEMA

    g, info = graph.graph_from_path(source.path)
    warnings.extend(g.graph.get("warnings", []))
    top = sum(1 for _n, d in g.nodes(data=True) if not d.get("function"))
    record = {
        "kind": info.kind,
        "tag": None,
        "step": None,
        "nodes": top,
        "functions": info.functions,
        "file": info.file,
        "offset": None,
        "best": True,
    }
    size = Path(info.file).stat().st_size if info.file else None
    entry: dict[str, Any] = {
        "name": ".",
        "path": source.text,
        "files": [
            {"path": info.file or source.text, "size": size, "records": 0, "format": "graph"}
        ],
        "counts": {},
        "scalars": [],
        "graphs": [record],
        "hparams": {},
        "warnings": [str(w) for w in warnings],
    }
    if describe:
        from tbdiff.model import RunInputs

        _add_model(entry, RunInputs(graph=g))
    return {"schema": INSPECT_SCHEMA, "path": source.text, "runs": [entry]}


# ------------------------------------------------------------------ comparisons


class _TrimmedLines:
    """stdout without the spaces rich pads lines with (tables, panels' bodies): pasted into a
    ticket or diffed, a report has no trailing blanks. Colour codes after them are kept."""

    _PAD = re.compile(r" +((?:\x1b\[[0-9;]*m)*)(?=\n)")

    def __init__(self, out: TextIO):
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(self._PAD.sub(r"\1", text))
        return len(text)

    def __getattr__(self, name: str):  # flush, isatty, fileno, encoding ...
        return getattr(self._out, name)


def make_console(args: argparse.Namespace, *, record: bool = False, file=None):
    """A rich Console honouring --no-color/--width; records output for --html/--svg."""
    from rich.console import Console

    no_color = bool(getattr(args, "no_color", False))
    return Console(
        file=file if file is not None else _TrimmedLines(sys.stdout),
        width=getattr(args, "width", None),
        no_color=no_color,
        color_system=None if no_color else "auto",
        highlight=False,
        record=record,
        emoji=False,
    )


def emit_report(report: Report, args: argparse.Namespace) -> None:
    """Print the report as JSON or rich text on stdout, warnings on stderr, and write
    --html/--svg exports if asked (both show the warnings too)."""
    from tbdiff.render import render_report

    verbose = bool(getattr(args, "verbose", False) or getattr(args, "all", False))
    if args.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        render_report(report, make_console(args), verbose=verbose)
    print_warnings(report.warnings)
    if getattr(args, "html", None):
        from tbdiff.html import render_html

        _write_export(args.html, lambda: render_html(report))
    if getattr(args, "svg", None):
        _write_export(args.svg, lambda: _report_svg(report, args, verbose))


def _report_svg(report: Report, args: argparse.Namespace, verbose: bool) -> str:
    """The terminal report plus its warnings, recorded at the terminal's width, as SVG."""
    import io

    from tbdiff.html import export_svg
    from tbdiff.render import render_report, render_warnings

    width = getattr(args, "width", None) or make_console(args).width
    console = make_console(
        argparse.Namespace(**{**vars(args), "width": width}), record=True, file=io.StringIO()
    )
    render_report(report, console, verbose=verbose)
    render_warnings(report, console)
    return export_svg(console, f"tbdiff: {report.a.label} vs {report.b.label}")


def _write_export(target: str, produce) -> None:
    """Write `produce()` (text) to `target`, or let `produce` write it (when it returns None)."""
    try:
        text = produce()
        if text is not None:
            Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TbdiffError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"tbdiff: wrote {target}", file=sys.stderr)


def _report_from_args(args: argparse.Namespace, *, graphs: bool, scalars: bool) -> Report:
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
    return report.exit_code


def cmd_scalars(args: argparse.Namespace) -> int:
    """Compare the scalar curves only; exit 1 when a paired curve separates for good."""
    report = _report_from_args(args, graphs=False, scalars=True)
    emit_report(report, args)
    return report.exit_code


def cmd_compare(args: argparse.Namespace) -> int:
    """Graphs + scalars + hparams in one report; exit code as for `graphs`."""
    report = _report_from_args(args, graphs=True, scalars=True)
    emit_report(report, args)
    return report.exit_code


# ------------------------------------------------------------------ train-and-compare


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
    return report.exit_code


def _require_training_packages() -> None:
    """`make demo` installs the analysis only: say how to add TensorFlow, in one line."""
    import importlib.util

    missing = [m for m in ("tensorflow", "tf_keras") if importlib.util.find_spec(m) is None]
    if missing:
        raise TbdiffError(
            f"train-and-compare needs {' and '.join(missing)}, which the analysis install "
            "leaves out: run `make train-and-compare` or `pip install -e '.[train]'`"
        )


def cmd_train_and_compare(args: argparse.Namespace) -> int:
    """Train the seed case's raw-TF and Keras MLPs on MNIST, then compare their logs.

    TensorFlow is imported only here, lazily, via tbdiff.experiment (never by analysis code).
    Exit code as for `compare` (1 when a critical/warning finding explains a difference).
    """
    import json
    import os

    from rich.console import Console

    _require_training_packages()
    if args.verbose:  # TensorFlow's own C++/absl log lines, silenced by default
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tbdiff.experiment import train as experiment

    err = Console(stderr=True, no_color=args.no_color, width=args.width)
    if args.ablate:
        return _ablate(args, err)
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


def _ablate(args: argparse.Namespace, err: Any) -> int:
    """`train-and-compare --ablate`: train (or resume) the study, print its table, then the
    `compare` report of the two seed models with the measured shares in its verdict."""
    import json

    from rich.console import Console

    from tbdiff.experiment import ablation
    from tbdiff.pipeline import build_report

    run_dir, study = ablation.ablate_from_args(args, err)
    pair = ablation.compared_seed(run_dir, study)
    report = build_report(str(pair[0]), str(pair[1]), graphs=True, scalars=True) if pair else None
    summary = ablation.summarize(run_dir, study, report.findings if report else None)
    out = err if args.json else Console(no_color=args.no_color, width=args.width)
    out.print(ablation.ablation_table(summary))
    for line in ablation.study_notes(summary):
        out.print(line, highlight=False)
    if report is None:
        if args.json:
            doc = {"schema": "tbdiff.experiment/1", "ablation": summary.to_json()}
            print(json.dumps(doc, indent=1))
        return EXIT_OK
    line = ablation.verdict_line(summary)
    if line:
        report.verdict = f"{report.verdict}\n\n{line}" if report.verdict else line
    report.extra["ablation"] = summary.to_json()
    if not args.json:
        out.rule(f"Diagnosis (tbdiff compare of the seed models, seed {pair[0].name[4:]})")
    emit_report(report, args)
    return report.exit_code
