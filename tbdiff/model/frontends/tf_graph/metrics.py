"""Metrics in an op graph: what each computes and how they run with the training step.

- Keras' compiled metrics run in the same ``session.run`` as the optimizer update (its train
  function fetches ``[loss, *metrics]`` plus the update ops), so in the graph they hang together
  with the training ops; a raw TF program often evaluates accuracy separately. Because of that,
  Keras' *training* accuracy is measured with dropout active.
- What an accuracy computes is read from its ops: argmax equality (categorical), a threshold
  (binary), or plain equality of labels and predictions (Keras `metrics.Accuracy()`).
"""

from __future__ import annotations

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import DropoutSite, Layer, Metric, MetricWiring
from tbdiff.model.index import ancestors, graph_index
from tbdiff.model.numbers import scalar

_COMPARES = frozenset({"Greater", "GreaterEqual", "Less", "LessEqual"})


def _computes(g: nx.MultiDiGraph, equal: str) -> tuple[str | None, float | None]:
    """What the Equal node of an accuracy compares: argmax/argmax (categorical), a threshold
    (binary), an argmax against labels (sparse), or the raw tensors (exact match)."""
    ins = [Q.resolve(g, u) for u in Q.data_inputs(g, equal)]
    seen = []
    for u in ins:
        while Q.op(g, u) in O.RESHAPES | {"Cast"}:
            u = Q.resolve(g, Q.input_at(g, u, 0) or u)
        seen.append(u)
    ops = [Q.op(g, u) for u in seen]
    if ops.count("ArgMax") == 2:
        return "categorical_accuracy", None
    for u in seen:
        if Q.op(g, u) in _COMPARES:
            thr = Q.input_at(g, u, 1)
            return "binary_accuracy", None if thr is None else scalar(Q.value(g, thr))
    if ops.count("ArgMax") == 1:
        return "sparse_categorical_accuracy", None
    return ("exact_match", None) if len(seen) == 2 else (None, None)


_CALL_WRAPPERS = frozenset({"StatefulPartitionedCall", "PartitionedCall", ""})


def _metric_name(g: nx.MultiDiGraph, n: str) -> str:
    """The scope of a hand-written accuracy ("Accuracy" for `Accuracy/Equal`), or "accuracy"
    when the Equal sits at the top of a function (Keras 3 metrics have no scope)."""
    local = Q.local_name(g, n)
    name = Q.layer_name(local) if "/" in local else ""
    return "accuracy" if name.rsplit("/", 1)[-1] in _CALL_WRAPPERS else name


def metrics(g: nx.MultiDiGraph) -> list[Metric]:
    """Keras' `metrics/<name>/...` scopes and argmax-equality accuracies written by hand."""
    groups: dict[str, Metric] = {}
    for n, d in g.nodes(data=True):
        if O.is_gradient_node(n):
            continue
        parts = n.split("/")
        if len(parts) >= 3 and parts[0] == "metrics":
            m = groups.setdefault(f"metrics/{parts[1]}", Metric(parts[1], kind="keras"))
            m.nodes.append(n)
            if d.get("op") == "Equal" and m.computes is None:
                m.computes, m.threshold = _computes(g, n)
        elif d.get("op") == "Equal":
            ins = [Q.resolve(g, u) for u in Q.data_inputs(g, n)]
            if ins and all(Q.op(g, u) == "ArgMax" for u in ins):
                name = _metric_name(g, n)
                m = groups.setdefault(name, Metric(name, "categorical_accuracy", kind="graph"))
                m.nodes.append(n)
    out = []
    for key, m in groups.items():
        m.written_as = key
        m.nodes.sort(key=Q.natural_key)
        out.append(m)
    return out


def _update_ops(g: nx.MultiDiGraph, weights: set[str]) -> list[str]:
    """Optimizer updates: fused kernels, Keras' TF1 assignments under `training*`, and plain
    updates of the model's weights (Keras 3 / Keras >= 2.11 optimizers)."""
    out = sorted({u for var in weights for u in Q.update_targets(g).get(var, [])})
    for n, d in g.nodes(data=True):
        o = str(d.get("op", ""))
        if O.is_gradient_node(n):
            continue
        if O.is_apply(o):
            out.append(n)
        # Keras' own TF1 optimizers (keras.optimizers.SGD ...) update with plain assignments
        elif o in O.ASSIGN_OPS and n.split("/", 1)[0].startswith("training"):
            out.append(n)
    return out


def _structural_coupling(
    g: nx.MultiDiGraph, metric_nodes: set[str], updates: set[str]
) -> list[str]:
    """Nodes (e.g. a group NoOp) that depend on both an optimizer update and a metric op."""
    hits = []
    for n, d in g.nodes(data=True):
        # only sinks: what a program fetches (train op, group of updates), not inner NoOps
        if d.get("op") != "NoOp" or O.is_gradient_node(n) or g.out_degree(n):
            continue
        anc = nx.ancestors(g, n)
        if anc & updates and anc & metric_nodes:
            hits.append(n)
    return sorted(hits)


def _measured_after_dropout(
    g: nx.MultiDiGraph, found: list[Metric], sites: list[DropoutSite]
) -> bool | None:
    """In a traced train step (dropout always on while it runs): does the metric read a forward
    pass through a dropout site? None outside train functions (TF1 graphs switch dropout)."""
    if not all(s.switch.kind == "keras_functions" for s in sites):
        return None
    ix = graph_index(g)
    starts = [ix.idx[n] for m in found for n in m.nodes if n in ix.idx]
    up = ancestors(ix, starts)
    return any(ix.idx.get(s.node, -1) in up for s in sites)


def _train_mode(
    g: nx.MultiDiGraph, found: list[Metric], sites: list[DropoutSite], coupled: bool
) -> tuple[str | None, str | None]:
    """Whether training metrics are measured with dropout on, as far as the graph tells."""
    if not found:
        return None, None
    if not sites:
        return "no_dropout", "graph"
    after = _measured_after_dropout(g, found, sites)
    if after is not None:
        return ("dropout_active" if after else "dropout_off"), "graph"
    keras_metrics = any(m.kind == "keras" for m in found)
    gated = [s.switch.kind in ("learning_phase", "keras_functions") for s in sites]
    if keras_metrics and all(gated):
        # Keras fit() computes compiled metrics inside the training step (learning phase 1)
        return "dropout_active", "graph"
    if any(s.switch.kind == "none" for s in sites):
        return "dropout_active", "graph"  # constant dropout, no switch at all
    if not coupled and all(
        s.default_drop_rate == 0.0 for s, gd in zip(sites, gated, strict=True) if not gd
    ):
        return "dropout_off", "inferred"  # separate run that does not feed dropout
    return "unknown", None


def wiring(
    g: nx.MultiDiGraph, found: list[Metric], sites: list[DropoutSite], layers: list[Layer]
) -> MetricWiring:
    """How the metrics run: with the optimizer update or separately, with dropout on or off."""
    weights = {v for x in layers if x.has_weights for v in (x.kernel, x.bias) if v}
    updates = _update_ops(g, weights)
    metric_nodes = {n for m in found for n in m.nodes}
    coupling, coupling_nodes = None, []
    if metric_nodes and updates:
        hits = _structural_coupling(g, metric_nodes, set(updates))
        train_metric = next((n for n in metric_nodes if Q.in_train_function(g, n)), None)
        if hits:
            coupling, coupling_nodes = "graph", hits[:5]
        elif train_metric and any(Q.in_train_function(g, u) for u in updates):
            coupling, coupling_nodes = "train_step", [train_metric]
        elif any(m.kind == "keras" for m in found) and any(
            u.split("/", 1)[0].startswith("training") for u in updates
        ):
            coupling = "keras_train_function"
            coupling_nodes = sorted(
                (
                    n
                    for n, d in g.nodes(data=True)
                    if d.get("op") == "NoOp"
                    and n.split("/")[0].startswith("training")
                    and not O.is_gradient_node(n)
                ),
                key=Q.natural_key,
            )[-1:]
    mode, source = _train_mode(g, found, sites, coupling is not None)
    return MetricWiring(
        coupled=coupling is not None,
        coupling=coupling,
        coupling_nodes=coupling_nodes,
        updates=len(updates),
        train_mode=mode,
        train_mode_source=source,
    )
