"""Metrics: what each metric computes, and how and when the training metrics run.

- Keras `metrics.Accuracy()` is exact equality of labels and predictions; `"accuracy"` is
  resolved at compile time to binary (threshold 0.5), categorical or sparse categorical
  accuracy. Both log a curve named `accuracy`: on probabilities the first stays near 0, the
  second reaches 0.9, and nothing about training differs (`metrics.definition_mismatch`).
- Keras' compiled metrics run in the same step as the optimizer update, so in the graph they
  hang together with the training ops (`metrics.optimizer_coupling`, info), and Keras' *training*
  accuracy is measured with dropout active (`metrics.train_mode`, info): train curves of a Keras
  and a hand-written run are then not comparable, test curves are.
"""

from __future__ import annotations

from tbdiff.findings.base import Context, Finding
from tbdiff.model.description import Metric, ModelDescription
from tbdiff.model.query import natural_key

NAME = "metrics"
LABEL = "metrics"

_ALIASES = {"acc": "accuracy"}
_PLAIN = {
    "exact_match": "exact equality of labels and predictions (metrics.Accuracy())",
    "binary_accuracy": "binary accuracy (prediction thresholded at {thr})",
    "categorical_accuracy": "categorical accuracy (argmax of prediction == argmax of label)",
    "sparse_categorical_accuracy": "sparse categorical accuracy (argmax of prediction == label)",
}


def _what(m: Metric) -> str:
    text = _PLAIN.get(m.computes or "", m.computes or "unknown")
    return text.format(thr=m.threshold if m.threshold is not None else 0.5)


def _names(ms: list[Metric]) -> list[str]:
    return sorted((m.written_as or m.name for m in ms), key=natural_key)


def _nodes(ms: list[Metric], k: int) -> list[str]:
    return [n for m in ms for n in m.nodes[:k]]


def _definition(a: ModelDescription, b: ModelDescription) -> list[Finding]:
    by_b = {_ALIASES.get(m.name, m.name): m for m in b.metrics}
    out = []
    for x in a.metrics:
        y = by_b.get(_ALIASES.get(x.name, x.name))
        if y is None or x.computes is None or y.computes is None:
            continue
        if x.computes == y.computes and (x.threshold or 0.5) == (y.threshold or 0.5):
            continue
        out.append(_definition_finding(x, y))
    return out


def _definition_finding(x: Metric, y: Metric) -> Finding:
    name = _ALIASES.get(x.name, x.name)
    exact = {"exact_match"} & {x.computes, y.computes}
    detail = (
        f"Both runs log a metric named '{name}', but A's ({x.written_as or x.name}, from "
        f"{x.source.label}) computes {_what(x)} and B's ({y.written_as or y.name}, from "
        f"{y.source.label}) computes {_what(y)}. The two curves measure different things, so "
        "their gap says nothing about how well either model learns; compare a metric computed "
        "the same way (e.g. the loss, or the same accuracy class) instead."
    )
    if exact:
        detail += (
            " Exact equality compares a probability such as 0.93 with the label 1, so it is "
            "almost never true for a model that outputs probabilities or logits: that curve "
            "stays near 0 while the model may be learning well."
        )
    f = Finding(
        id="metrics.definition_mismatch",
        severity="warning",
        title=f"'{name}' is computed differently: {x.computes} in A, {y.computes} in B",
        detail=detail,
        a={
            "metric": name,
            "computes": x.computes,
            "written_as": x.written_as,
            "source": x.source.label,
        },
        b={
            "metric": name,
            "computes": y.computes,
            "written_as": y.written_as,
            "source": y.source.label,
        },
        nodes_a=x.nodes[:4],
        nodes_b=y.nodes[:4],
        score=1.0,
        verdict=f"the '{name}' curves are measured differently ({{a}}: {x.computes}, "
        f"{{b}}: {y.computes}), not learned differently",
    )
    if x.computes == "exact_match" and y.computes != "exact_match":
        f.predicts = 1
    elif y.computes == "exact_match" and x.computes != "exact_match":
        f.predicts = -1
    return f


def inspect(d: ModelDescription) -> str | None:
    if not d.metrics:
        return None
    parts = []
    for m in d.metrics:
        what = m.computes or "?"
        parts.append(f"{m.written_as or m.name}: {what} [{m.source.label}]")
    return "; ".join(parts)


def _coupling(a: ModelDescription, b: ModelDescription) -> Finding | None:
    fa, fb = a.wiring, b.wiring
    if fa is None or fb is None:
        return None
    if fa.coupled is None or fb.coupled is None:
        return None  # a model config cannot tell how metrics were run
    if fa.coupled == fb.coupled or not (a.metrics and b.metrics or fa.coupled or fb.coupled):
        return None
    side = "A" if fa.coupled else "B"
    mine = fa if side == "A" else fb
    how = {
        "keras_train_function": "Keras' train function fetches [loss, metrics] together with "
        "the optimizer's update ops in a single session.run, so the metric ops are wired into "
        "the training step",
        "train_step": "the metrics are updated inside the same traced training step "
        "(tf.function) as the optimizer update",
    }.get(
        mine.coupling or "",
        "a node of the graph depends on both the optimizer update and the metric ops, so they "
        "run together",
    )
    other_txt = (
        "the other graph computes its metrics separately from the update"
        if (b.metrics if side == "A" else a.metrics)
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
        a={"coupled": fa.coupled, "metrics": _names(a.metrics), "how": fa.coupling},
        b={"coupled": fb.coupled, "metrics": _names(b.metrics), "how": fb.coupling},
        nodes_a=_nodes(a.metrics, 3) + fa.coupling_nodes if fa.coupled else [],
        nodes_b=_nodes(b.metrics, 3) + fb.coupling_nodes if fb.coupled else [],
        score=0.1,
    )


def _train_mode(a: ModelDescription, b: ModelDescription) -> Finding | None:
    fa, fb = a.wiring, b.wiring
    if fa is None or fb is None:
        return None
    ma, mb = fa.train_mode, fb.train_mode
    if ma == mb or "dropout_active" not in (ma, mb):
        return None
    if ma in (None, "unknown") or mb in (None, "unknown"):
        return None
    side = "A" if ma == "dropout_active" else "B"
    other = "B" if side == "A" else "A"
    src = fa.train_mode_source if side == "A" else fb.train_mode_source
    osrc = fb.train_mode_source if side == "A" else fa.train_mode_source
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
        a={"train_metrics": ma, "source": fa.train_mode_source},
        b={"train_metrics": mb, "source": fb.train_mode_source},
        nodes_a=_nodes(a.metrics, 2),
        nodes_b=_nodes(b.metrics, 2),
        score=0.08 if src != "inferred" else 0.06,
        curve_note="measured with dropout active in {" + side.lower() + "}",
    )


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    found = [f for f in (_coupling(a, b), _train_mode(a, b)) if f]
    return _definition(a, b) + found
