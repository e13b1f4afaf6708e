"""Build a comparison Report from two paths: the one-way pipeline, without any printing.

logdir -> events -> graph -> model -> align -> findings (+ scalars, hparams) -> Report.
`app.py` calls `build_report` and hands the result to the renderer or to JSON; tests call it
directly. Each side is read once: scalars, hparams and the graph record come from the same pass,
and only the run the side names is read (`tbdiff.selection`). A side with nothing to compare,
or a comparison that compared nothing, is bad input (TbdiffError naming the side and why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tbdiff import events
from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError
from tbdiff.findings import compare
from tbdiff.findings.evidence import rank_by_evidence
from tbdiff.inputs import Input, check_input
from tbdiff.model import RunInputs, describe
from tbdiff.report import Report, RunRef, hparam_diffs
from tbdiff.selection import best_graph, group_hparams, keras_records, select_run
from tbdiff.verdict import build_verdict

if TYPE_CHECKING:
    import networkx as nx

    from tbdiff.align import Alignment
    from tbdiff.events import RunData
    from tbdiff.findings import Finding
    from tbdiff.model import ModelDescription


@dataclass
class Side:
    """One side of a comparison, as read from disk."""

    letter: str  # "A" or "B", used in every message about this side
    source: Input
    ref: RunRef
    runs: list[RunData] = field(default_factory=list)  # the parts of the selected run
    graph: nx.MultiDiGraph | None = None
    hparams: dict[str, Any] = field(default_factory=dict)
    warnings: list[LogWarning] = field(default_factory=list)

    def error(self, why: str) -> TbdiffError:
        return TbdiffError(f"{self.letter}: {self.source.text}: {why}")


def run_inputs(
    runs: list[RunData], graph: nx.MultiDiGraph | None, hparams: dict[str, Any], feeds: dict
) -> RunInputs:
    """What the model front-ends read for one run: the graph used for alignment, the run's
    latest Keras model config (Keras 3 adds how it was compiled), its hparams, --feed and its
    scalar curves (keyed like the scalar comparison keys them)."""
    from tbdiff.scalars import collect

    keras = None
    for src in keras_records(runs):
        try:
            keras = src.keras_config()
        except TbdiffError:
            continue
        break
    return RunInputs(
        graph=graph,
        keras_config=keras,
        hparams=dict(hparams),
        feeds=dict(feeds),
        scalars=dict(collect(runs)),
    )


def _label(path: Path) -> str:
    name = path.resolve().name if path.name in ("", ".", "..") else path.name
    return name[: -len(path.suffix)] if path.is_file() and path.suffix else name


def load_side(
    path_text: str,
    *,
    letter: str = "A",
    run: str | None = None,
    kind: str = "auto",
    need_graph: bool = True,
    need_scalars: bool = True,
) -> Side:
    """Read one side: the run it names (scalars, hparams) and that run's graph, inlined."""
    try:
        source = check_input(path_text)
    except TbdiffError as exc:
        raise TbdiffError(f"{letter}: {exc}") from None
    side = Side(letter, source, RunRef(path=path_text, run=".", label=_label(source.path)))
    try:
        if source.is_graph:
            _load_graph_file(side, need_graph, run)
        else:
            _load_logs(side, run, kind, need_graph=need_graph, need_scalars=need_scalars)
    except TbdiffError as exc:
        raise TbdiffError(f"{letter}: {exc}") from None
    if side.graph is not None:
        side.ref.graph_source = side.graph.graph.get("source")
        side.ref.nodes = side.graph.number_of_nodes()
        side.ref.functions = int(side.graph.graph.get("functions", 0))
        side.warnings.extend(side.graph.graph.get("warnings", []))
    return side


def _load_graph_file(side: Side, need_graph: bool, run: str | None) -> None:
    from tbdiff import graph as graph_mod  # graph.py pulls numpy decoding only when needed

    if not need_graph:
        raise TbdiffError(f"{side.source.text}: a graph file holds no scalars")
    if run is not None:
        raise TbdiffError(
            f"--run-{side.letter.lower()} {run}: {side.source.text} is a graph file, not a log directory"
        )
    side.graph, _info = graph_mod.graph_from_path(side.source.path)


def _load_logs(side: Side, run: str | None, kind: str, *, need_graph: bool, need_scalars: bool):
    from tbdiff import graph as graph_mod

    text = side.source.text
    walk_warnings: list[LogWarning] = []
    found = events.find_runs(side.source.path, walk_warnings)
    group = select_run(found, run, path=text, flag=f"--run-{side.letter.lower()}")
    side.runs = [events.read_run(r, scalars=need_scalars, graphs=need_graph) for r in group.members]
    side.warnings.extend(walk_warnings)
    for rd in side.runs:
        side.warnings.extend(rd.warnings)
    side.ref.run = group.name
    if group.name != ".":
        side.ref.label = Path(group.name).name
    chosen = best_graph(side.runs, kind) if need_graph else None
    side.hparams = group_hparams(side.runs, chosen[0] if chosen else None)
    if chosen is not None:
        side.graph = graph_mod.load_graph(chosen[1])
    elif need_graph and kind != "auto":
        raise TbdiffError(f"{text}: run {group.name!r} has no {kind} graph")


# ------------------------------------------------------------------ is there anything to compare


def nothing_readable(runs: list[RunData]) -> str | None:
    """Why a side's runs hold nothing readable at all (the reader says), or None."""
    why = events.nothing_readable(runs)
    return None if why is None else f"nothing readable: {why}"


def _contents(side: Side) -> str:
    counts: dict[str, int] = {}
    for rd in side.runs:
        for key, n in rd.counts.items():
            counts[key] = counts.get(key, 0) + n
    n = sum(rd.events for rd in side.runs)
    what = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    return f"{n} event(s)" + (f": {what}" if what else "")


def _check_side(side: Side, *, graphs: bool, scalars: bool) -> None:
    """TbdiffError when this side cannot take part in the requested comparison."""
    if side.source.is_graph:
        return
    why = nothing_readable(side.runs)
    if why:
        raise side.error(why)
    has_scalars = any(rd.scalars for rd in side.runs)
    if graphs and not scalars and side.graph is None:
        raise side.error(f"no graph to compare in run {side.ref.run!r} ({_contents(side)})")
    if scalars and not graphs and not has_scalars:
        raise side.error(f"no scalar summaries in run {side.ref.run!r} ({_contents(side)})")
    if graphs and scalars and side.graph is None and not has_scalars:
        raise side.error(
            f"no graph and no scalar summaries in run {side.ref.run!r} ({_contents(side)})"
        )


def _check_compared(report: Report, a: Side, b: Side, *, models: bool = False) -> None:
    """A comparison that compared nothing is an error, never a silent 'no difference'.
    `models`: both runs' models were described (from hparams or a Keras config) and compared."""
    if report.graph_counts is not None or models:
        return
    if report.scalars is not None and report.scalars.pairs:
        return
    if report.scalars is not None and (report.scalars.unpaired_a or report.scalars.unpaired_b):
        tags_a = ", ".join(report.scalars.unpaired_a[:4]) or "none"
        tags_b = ", ".join(report.scalars.unpaired_b[:4]) or "none"
        raise TbdiffError(
            f"nothing compared: no scalar tag of A pairs with one of B (A: {tags_a}; B: {tags_b});"
            " pair them with --pair A_TAG=B_TAG"
        )
    have = {
        s.letter: ("a graph" if s.graph is not None else "no graph")
        + (" and scalars" if any(rd.scalars for rd in s.runs) else " and no scalars")
        for s in (a, b)
    }
    raise TbdiffError(f"nothing compared: A has {have['A']}, B has {have['B']}")


# ------------------------------------------------------------------ labels


def _identity(side: Side) -> tuple[str, ...]:
    """The resolved path of the side's run, as path components."""
    try:
        base = side.source.path.resolve()
    except OSError:
        base = side.source.path.absolute()
    return (base / side.ref.run).parts if side.ref.run != "." else base.parts


def _event_files(side: Side) -> set[str]:
    """The event files the side read, resolved where they are local."""
    out = set()
    for rd in side.runs:
        for f in rd.files:
            try:
                out.add(str(Path(f).resolve()) if isinstance(f, Path) else str(f))
            except OSError:
                out.add(str(f))
    return out


def _set_labels(a: Side, b: Side) -> LogWarning | None:
    """Short, distinct names for sentences; a warning when A and B are the same run (the same
    path, or a run and one of its own event files)."""
    ia, ib = _identity(a), _identity(b)
    shared = _event_files(a) & _event_files(b)
    if ia == ib or shared:
        a.ref.label, b.ref.label = "A", "B"
        if ia == ib:
            where = a.source.text if a.ref.run == "." else f"{a.source.text} run {a.ref.run}"
            return LogWarning("input.same_path", f"A and B are the same run ({where})")
        return LogWarning(
            "input.same_path",
            f"A and B read the same event file(s) ({', '.join(sorted(shared)[:2])}"
            f"{', ...' if len(shared) > 2 else ''})",
        )
    if a.ref.label != b.ref.label:
        return None
    for depth in range(2, min(len(ia), len(ib)) + 1):
        if ia[-depth] != ib[-depth]:  # the nearest parent that tells them apart
            a.ref.label, b.ref.label = "/".join(ia[-depth:]), "/".join(ib[-depth:])
            return None
    a.ref.label, b.ref.label = "A", "B"
    return None


# ------------------------------------------------------------------ the report


def _scope(graphs: bool, scalars: bool) -> str:
    """Which command's comparison this is (it decides `Report.exit_code`)."""
    return "compare" if graphs and scalars else ("graphs" if graphs else "scalars")


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
    a = load_side(path_a, letter="A", run=run_a, kind=kind, need_graph=graphs, need_scalars=scalars)
    b = load_side(path_b, letter="B", run=run_b, kind=kind, need_graph=graphs, need_scalars=scalars)
    for side in (a, b):
        _check_side(side, graphs=graphs, scalars=scalars)
    same = _set_labels(a, b)
    report = Report(a=a.ref, b=b.ref, scope=_scope(graphs, scalars))
    report.warnings = [*([same] if same else []), *a.warnings, *b.warnings]
    models = False
    if graphs:
        models = _compare_graph_sides(report, a, b, dict(feeds or {}), list_nodes)
        report.models_compared = models
    if scalars and a.runs and b.runs:
        from tbdiff.scalars import compare_scalars

        report.scalars = compare_scalars(a.runs, b.runs, forced=list(forced_pairs or []))
        report.warnings.extend(report.scalars.warnings)
        report.findings = rank_by_evidence(report.findings, report.scalars)
    _check_compared(report, a, b, models=models)
    report.hparams = hparam_diffs(a.hparams, b.hparams)
    report.verdict = build_verdict(
        report.findings,
        report.scalars,
        a.ref.label,
        b.ref.label,
        graphs=report.graph_counts is not None or models,
    )
    return report


def _compare_graph_sides(
    report: Report, a: Side, b: Side, feeds: dict[str, float], list_nodes: bool
) -> bool:
    """Describe both runs' models (graph, Keras config, hparams, --feed), align the graphs when
    both have one, and compare. Two runs without a graph still compare what they recorded
    (hparams, Keras config); True when models were compared."""
    from tbdiff.feeds import check_feeds

    model_a = describe(run_inputs(a.runs, a.graph, a.hparams, feeds))
    model_b = describe(run_inputs(b.runs, b.graph, b.hparams, feeds))
    check_feeds(feeds, {"A": (a.graph, model_a), "B": (b.graph, model_b)})
    report.warnings.extend(_missing_graphs(a, b))
    compared = compare_models(model_a, model_b, a.graph, b.graph)
    if compared is None:
        return False
    report.findings, alignment = compared
    if alignment is not None:
        report.graph_counts = alignment.counts()
        report.layers = list(alignment.layers)
        if list_nodes:
            report.node_diffs = _node_diffs(alignment)
    return True


def _missing_graphs(a: Side, b: Side) -> list[LogWarning]:
    """One warning for the side without a graph, or one for both."""
    lacking = [side for side in (a, b) if side.graph is None]
    if not lacking:
        return []
    what = "only scalars"
    if len(lacking) == 2 and a.hparams and b.hparams:
        what += " and recorded hyper-parameters"
    if len(lacking) == 1:
        who, path = f"{lacking[0].letter} has no graph", lacking[0].source.text
    else:
        who, path = "neither run has a graph", None
    return [LogWarning("graph.missing", f"{who}: {what} were compared", path=path)]


def compare_models(
    model_a: ModelDescription,
    model_b: ModelDescription,
    graph_a: nx.MultiDiGraph | None,
    graph_b: nx.MultiDiGraph | None,
) -> tuple[list[Finding], Alignment | None] | None:
    """The findings between two runs' models, with the alignment of their graphs when both have
    one. Without graphs, what they recorded (hparams, Keras config) is compared; None when the
    models are not comparable (a graph against recorded hparams alone, or nothing described)."""
    if graph_a is None or graph_b is None:
        if graph_a is not None or graph_b is not None or model_a.is_empty or model_b.is_empty:
            return None
        return compare(model_a, model_b, None), None
    from tbdiff.align import align

    alignment = align(graph_a, graph_b, model_a.layers or None, model_b.layers or None)
    return compare(model_a, model_b, alignment), alignment


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
