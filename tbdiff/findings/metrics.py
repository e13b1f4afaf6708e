"""Metrics: how and when the training metrics are computed.

Two differences between a Keras run and a hand-written TF run that look alarming in
TensorBoard but do not change what is learned:
- Keras' compiled metrics run in the same ``session.run`` as the optimizer update (its train
  function fetches ``[loss, *metrics]`` plus the update ops), so in the graph they hang
  together with the training ops.  A raw TF program often evaluates accuracy separately.
- Because of that, Keras' *training* accuracy is measured with the learning phase = 1, i.e.
  with dropout active, while a separate ``sess.run([loss, accuracy])`` that does not feed the
  dropout placeholder measures it without dropout.  The logged train curves then are not
  comparable (the dropout-active one looks worse); test curves are.
The run's hparams may record ``train_metrics`` = "dropout_active" / "dropout_off".
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from tbdiff.findings import _trace as T
from tbdiff.findings.base import Context, Finding, Hints
from tbdiff.findings.dropout import find_sites

NAME = "metrics"

HINT_KEYS = ("train_metrics", "train_metrics_mode", "metrics/train_mode")
_MODES = ("dropout_active", "dropout_off")
_UPDATE_PREFIXES = ("Apply", "ResourceApply", "ResourceSparseApply", "SparseApply")
_KERAS_ASSIGNS = frozenset(
    {"Assign", "AssignSub", "AssignAdd", "AssignVariableOp", "AssignSubVariableOp"}
)


def _metric_groups(g: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    """Metric name -> {"kind", "nodes"}: Keras' `metrics/<name>/...` scopes and argmax-equality
    accuracies written by hand."""
    groups: dict[str, dict[str, Any]] = {}
    for n, d in g.nodes(data=True):
        if T.is_gradient_node(n):
            continue
        parts = n.split("/")
        if len(parts) >= 3 and parts[0] == "metrics":
            grp = groups.setdefault(f"metrics/{parts[1]}", {"kind": "keras", "nodes": []})
            grp["nodes"].append(n)
        elif d.get("op") == "Equal":
            ins = [T.resolve(g, u) for u in T.data_inputs(g, n)]
            if ins and all(T.op(g, u) == "ArgMax" for u in ins):
                name = T.layer_name(n) or n
                grp = groups.setdefault(name, {"kind": "graph", "nodes": []})
                grp["nodes"].append(n)
    for grp in groups.values():
        grp["nodes"].sort(key=T.natural_key)
    return groups


def _update_ops(g: nx.MultiDiGraph) -> list[str]:
    out = []
    for n, d in g.nodes(data=True):
        o = str(d.get("op", ""))
        if T.is_gradient_node(n):
            continue
        if o.startswith(_UPDATE_PREFIXES):
            out.append(n)
        # Keras' own TF1 optimizers (keras.optimizers.SGD ...) update with plain assignments
        elif o in _KERAS_ASSIGNS and n.split("/", 1)[0].startswith("training"):
            out.append(n)
    return out


def _structural_coupling(
    g: nx.MultiDiGraph, metric_nodes: set[str], updates: set[str]
) -> list[str]:
    """Nodes (e.g. a group NoOp) that depend on both an optimizer update and a metric op."""
    hits = []
    for n, d in g.nodes(data=True):
        # only sinks: what a program fetches (train op, group of updates), not inner NoOps
        if d.get("op") != "NoOp" or T.is_gradient_node(n) or g.out_degree(n):
            continue
        anc = nx.ancestors(g, n)
        if anc & updates and anc & metric_nodes:
            hits.append(n)
    return sorted(hits)


def _is_keras_training_graph(g: nx.MultiDiGraph, updates: list[str]) -> bool:
    """A graph Keras compiled for fit(): optimizer updates under a `training*` scope."""
    return any(u.split("/", 1)[0].startswith("training") for u in updates)


def _hint_mode(hints: Hints) -> tuple[str | None, str | None]:
    for key in HINT_KEYS:
        v = hints.hparams.get(key)
        if isinstance(v, str) and v.strip().lower() in _MODES:
            return v.strip().lower(), key
    return None, None


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """Facts: {"metrics": {name: {"kind","nodes"}}, "coupled", "coupling", "coupling_nodes",
    "train_mode", "train_mode_source"}."""
    if graph.graph.get("source") == "keras_model":  # layer config: no metric or update ops
        return {
            "metrics": {},
            "coupled": None,
            "coupling": None,
            "coupling_nodes": [],
            "updates": 0,
            "train_mode": _hint_mode(hints)[0],
            "train_mode_source": _hint_mode(hints)[1] and f"hparams:{_hint_mode(hints)[1]}",
        }
    groups = _metric_groups(graph)
    updates = _update_ops(graph)
    metric_nodes = {n for grp in groups.values() for n in grp["nodes"]}
    coupling, coupling_nodes = None, []
    if metric_nodes and updates:
        hits = _structural_coupling(graph, metric_nodes, set(updates))
        if hits:
            coupling, coupling_nodes = "graph", hits[:5]
        elif any(g["kind"] == "keras" for g in groups.values()) and _is_keras_training_graph(
            graph, updates
        ):
            coupling = "keras_train_function"
            coupling_nodes = sorted(
                (
                    n
                    for n, d in graph.nodes(data=True)
                    if d.get("op") == "NoOp"
                    and n.split("/")[0].startswith("training")
                    and not T.is_gradient_node(n)
                ),
                key=T.natural_key,
            )[-1:]
    coupled = coupling is not None

    sites = find_sites(graph, hints) if groups else []
    mode, key = _hint_mode(hints)
    source = f"hparams:{key}" if mode else None
    keras_metrics = any(grp["kind"] == "keras" for grp in groups.values())
    if mode is None and groups:
        if not sites:
            mode, source = "no_dropout", "graph"
        elif keras_metrics and all(s["gate"] or s["gate_kind"] for s in sites):
            # Keras fit() computes compiled metrics inside the training step (learning phase 1)
            mode, source = "dropout_active", "graph"
        elif any(s["gate"] is None and not s["placeholders"] and not s["gate_kind"] for s in sites):
            mode, source = "dropout_active", "graph"  # constant dropout, no switch at all
        elif not coupled and all(
            s["default_drop_rate"] == 0.0 for s in sites if not (s["gate"] or s["gate_kind"])
        ):
            mode, source = "dropout_off", "inferred"  # separate run that does not feed dropout
        else:
            mode, source = "unknown", None
    return {
        "metrics": groups,
        "coupled": coupled,
        "coupling": coupling,
        "coupling_nodes": coupling_nodes,
        "updates": len(updates),
        "train_mode": mode,
        "train_mode_source": source,
    }


def _names(f: dict[str, Any]) -> list[str]:
    return sorted(f["metrics"], key=T.natural_key)


def _coupling(fa: dict[str, Any], fb: dict[str, Any]) -> Finding | None:
    if fa["coupled"] is None or fb["coupled"] is None:
        return None  # a model config cannot tell how metrics were run
    if fa["coupled"] == fb["coupled"] or not (
        fa["metrics"] and fb["metrics"] or fa["coupled"] or fb["coupled"]
    ):
        return None
    side = "A" if fa["coupled"] else "B"
    mine = fa if side == "A" else fb
    how = (
        "Keras' train function fetches [loss, metrics] together with the optimizer's update ops "
        "in a single session.run, so the metric ops are wired into the training step"
        if mine["coupling"] == "keras_train_function"
        else "a node of the graph depends on both the optimizer update and the metric ops, so "
        "they run together"
    )
    other = fb if side == "A" else fa
    other_txt = (
        "the other graph computes its metrics separately from the update"
        if other["metrics"]
        else "the other graph has no metric ops"
    )
    detail = (
        f"In {side}, {how}; {other_txt}. This is the 'metrics have an edge to the optimizer' seen "
        "in TensorBoard. It does not change training: a metric only reads the model's output and "
        "the labels, no gradient flows through it. It only means the metric is computed in the "
        "same step as the weight update (see metrics.train_mode for what that does to train curves)."
    )
    return Finding(
        id="metrics.optimizer_coupling",
        severity="info",
        title=f"Metrics run together with the optimizer update in {side} only",
        detail=detail,
        a={"coupled": fa["coupled"], "metrics": _names(fa), "how": fa["coupling"]},
        b={"coupled": fb["coupled"], "metrics": _names(fb), "how": fb["coupling"]},
        nodes_a=[n for g in fa["metrics"].values() for n in g["nodes"][:3]] + fa["coupling_nodes"]
        if fa["coupled"]
        else [],
        nodes_b=[n for g in fb["metrics"].values() for n in g["nodes"][:3]] + fb["coupling_nodes"]
        if fb["coupled"]
        else [],
        score=0.1,
    )


def _train_mode(fa: dict[str, Any], fb: dict[str, Any]) -> Finding | None:
    ma, mb = fa["train_mode"], fb["train_mode"]
    if ma == mb or "dropout_active" not in (ma, mb):
        return None
    if ma in (None, "unknown") or mb in (None, "unknown"):
        return None
    side = "A" if ma == "dropout_active" else "B"
    other = "B" if side == "A" else "A"
    src = fa["train_mode_source"] if side == "A" else fb["train_mode_source"]
    osrc = fb["train_mode_source"] if side == "A" else fa["train_mode_source"]
    hedge = (
        f" ({other}'s mode is inferred from its graph: a separate run that does not feed the "
        "dropout placeholder has no dropout)"
        if osrc == "inferred"
        else ""
    )
    detail = (
        f"{side} computes its training metrics with dropout active (as Keras' fit() does: the "
        f"metric is evaluated in the training step, learning phase = 1), {other} without "
        f"dropout{hedge}. So {side}'s logged train accuracy is measured on a randomly thinned "
        "network and looks lower than its real train accuracy: the train curves of the two runs "
        "are not comparable. This does not change training, and the test/validation accuracy "
        "(always evaluated without dropout) remains comparable."
    )
    return Finding(
        id="metrics.train_mode",
        severity="info",
        title=f"Train metrics are computed with dropout active in {side} only",
        detail=detail,
        a={"train_metrics": ma, "source": fa["train_mode_source"]},
        b={"train_metrics": mb, "source": fb["train_mode_source"]},
        nodes_a=[n for g in fa["metrics"].values() for n in g["nodes"][:2]],
        nodes_b=[n for g in fb["metrics"].values() for n in g["nodes"][:2]],
        score=0.08 if src != "inferred" else 0.06,
    )


def compare(facts_a: dict[str, Any], facts_b: dict[str, Any], ctx: Context) -> list[Finding]:
    return [f for f in (_coupling(facts_a, facts_b), _train_mode(facts_a, facts_b)) if f]
