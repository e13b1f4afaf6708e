"""Build a comparison Report from two paths: the one-way pipeline, without any printing.

logdir -> events -> graph -> align -> findings (+ scalars, hparams) -> Report.
`app.py` calls `build_report` and hands the result to the renderer or to JSON; tests call it
directly. Each side is read once: scalars, hparams and the graph record come from the same pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from tbdiff import events
from tbdiff.errors import TbdiffError
from tbdiff.findings import Hints, compare_graphs
from tbdiff.findings.evidence import rank_by_evidence
from tbdiff.report import Report, RunRef, build_verdict, hparam_diffs

GRAPH_FILE_SUFFIXES = (".pb", ".pbtxt", ".pbtext", ".textproto")


@dataclass
class Side:
    """One side of a comparison, as read from disk."""

    ref: RunRef
    runs: list[Any] = field(default_factory=list)  # events.RunData of every run under the path
    run: Any = None  # the RunData whose graph and hparams are used
    graph: nx.MultiDiGraph | None = None
    hparams: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _is_graph_file(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in GRAPH_FILE_SUFFIXES
    return path.is_dir() and (path / "saved_model.pb").is_file()


def _label(path: Path) -> str:
    name = path.resolve().name if path.name in ("", ".") else path.name
    return name[: -len(path.suffix)] if path.is_file() and path.suffix else name


def _select_run(runs: list[Any], wanted: str | None, kind: str) -> Any:
    """The run named by --run, else the run with the most complete graph, else the first."""
    if wanted is not None:
        for rd in runs:
            if rd.name == wanted or rd.name.rstrip("/") == wanted.rstrip("/"):
                return rd
        names = ", ".join(rd.name for rd in runs)
        raise TbdiffError(f"no run named {wanted!r}; runs here: {names}")
    best, best_size = None, -1
    for rd in runs:
        src = rd.best_graph(kind)
        size = -1 if src is None else src.node_count + src.function_count
        if src is not None and src.kind == "keras_model":
            size = 0
        if size > best_size:
            best, best_size = rd, size
    return best if best is not None else (runs[0] if runs else None)


def load_side(
    path_text: str,
    *,
    run: str | None = None,
    kind: str = "auto",
    need_graph: bool = True,
    need_scalars: bool = True,
) -> Side:
    """Read one side: its runs (scalars, hparams) and the selected graph, inlined."""
    from tbdiff import graph as graph_mod  # graph.py pulls numpy decoding only when needed

    path = Path(path_text)
    if not path.exists():
        raise TbdiffError(f"{path_text}: no such file or directory")
    side = Side(ref=RunRef(path=path_text, run=".", label=_label(path)))
    if _is_graph_file(path):
        if not need_graph:
            raise TbdiffError(f"{path_text}: a graph file holds no scalars")
        g, _info = graph_mod.graph_from_path(path)
        side.graph = g
    else:
        runs = events.read_logdir(path, scalars=need_scalars, graphs=need_graph)
        side.runs = runs
        for rd in runs:
            side.warnings.extend(rd.warnings)
        chosen = _select_run(runs, run, kind)
        side.run = chosen
        if chosen is not None:
            side.ref.run = chosen.name
            side.hparams = dict(chosen.hparams)
            for rd in runs:  # hparams recorded by a sibling run (train/validation) still count
                for key, value in rd.hparams.items():
                    side.hparams.setdefault(key, value)
            if need_graph:
                source = chosen.best_graph(kind)
                if source is not None:
                    side.graph = graph_mod.load_graph(source)
                elif kind != "auto":
                    raise TbdiffError(f"{path_text}: run {chosen.name!r} has no {kind} graph")
    if side.graph is not None:
        side.ref.graph_source = side.graph.graph.get("source")
        side.ref.nodes = side.graph.number_of_nodes()
        side.ref.functions = int(side.graph.graph.get("functions", 0))
        side.warnings.extend(side.graph.graph.get("warnings", []))
    elif need_graph:
        side.warnings.append(f"{path_text}: no graph found (only scalars can be compared)")
    return side


def build_report(
    path_a: str,
    path_b: str,
    *,
    run_a: str | None = None,
    run_b: str | None = None,
    kind: str = "auto",
    feeds: dict[str, float] | None = None,
    graphs: bool = True,
    scalars: bool = True,
    forced_pairs: list[tuple[str, str]] | None = None,
    list_nodes: bool = False,
) -> Report:
    """Compare two paths; sections not requested (or not possible) are left empty."""
    a = load_side(path_a, run=run_a, kind=kind, need_graph=graphs, need_scalars=scalars)
    b = load_side(path_b, run=run_b, kind=kind, need_graph=graphs, need_scalars=scalars)
    if a.ref.label == b.ref.label:
        a.ref.label, b.ref.label = "A", "B"
    report = Report(a=a.ref, b=b.ref)
    report.warnings = [*a.warnings, *b.warnings]
    if graphs:
        if a.graph is None or b.graph is None:
            if not scalars:
                missing = a if a.graph is None else b
                why = next((str(w) for w in missing.warnings if "no graph found" not in str(w)), "")
                raise TbdiffError(
                    f"{missing.ref.path}: no graph found to compare" + (f" ({why})" if why else "")
                )
        else:
            from tbdiff.align import align

            alignment = align(a.graph, b.graph)
            report.graph_counts = alignment.counts()
            report.layers = list(alignment.layers)
            feeds = dict(feeds or {})
            report.findings = compare_graphs(
                a.graph,
                b.graph,
                alignment,
                Hints(hparams=a.hparams, feeds=feeds),
                Hints(hparams=b.hparams, feeds=feeds),
            )
            if list_nodes:
                report.node_diffs = _node_diffs(alignment)
    if scalars and a.runs and b.runs:
        from tbdiff.scalars import compare_scalars

        report.scalars = compare_scalars(a.runs, b.runs, forced=list(forced_pairs or []))
        report.warnings.extend(report.scalars.warnings)
        report.findings = rank_by_evidence(report.findings, report.scalars)
    elif scalars and not graphs:
        raise TbdiffError("scalars need two log directories with event files")
    report.hparams = hparam_diffs(a.hparams, b.hparams)
    report.verdict = build_verdict(
        report.findings,
        report.scalars,
        a.ref.label,
        b.ref.label,
        graphs=report.graph_counts is not None,
    )
    return report


def _node_diffs(alignment: Any) -> list[tuple[str, str, str, str]]:
    """Every node that is not a plain match: changed pairs (with what changed), then one-sided."""
    rows: list[tuple[str, str, str, str]] = []
    for na, status in sorted(alignment.status_a.items()):
        if status == "changed":
            what = "; ".join(alignment.changes.get(na, []))
            rows.append(("changed", na, alignment.pairs.get(na, ""), what))
        elif status == "only_a":
            rows.append(("only_a", na, "", ""))
    for nb, status in sorted(alignment.status_b.items()):
        if status == "only_b":
            rows.append(("only_b", "", nb, ""))
    return rows
