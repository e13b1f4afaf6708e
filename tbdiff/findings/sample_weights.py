"""Sample weights: a per-example weight input to the loss that exists in one graph only.

Keras graphs built by compile()/fit() may carry an ``<output>_sample_weights`` placeholder
that multiplies each example's loss (a plain Placeholder in TF1 Keras, a
``placeholder_with_default`` of ones in tf_keras).  When fit() gets no ``sample_weight`` /
``class_weight``, Keras feeds ones, and a weight of 1 for every example changes nothing.
It only matters if the run passed non-uniform weights — which the run's hparams may record.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from tbdiff.findings import _trace as T
from tbdiff.findings.base import Context, Finding, Hints

NAME = "sample_weights"

#: hparams keys that may say what was passed to fit(); values like "none"/"ones"/"non_uniform"
HINT_KEYS = ("sample_weights", "sample_weight", "class_weight", "class_weights")
_UNIFORM = {"", "none", "null", "false", "0", "ones", "uniform", "1", "1.0", "no", "off"}


def _passed(hints: Hints) -> tuple[str | None, str | None]:
    """('non_uniform' | 'uniform' | None, hparam key) from the run's hparams."""
    for key in HINT_KEYS:
        if key not in hints.hparams:
            continue
        v = hints.hparams[key]
        s = str(v).strip().lower()
        if isinstance(v, bool):
            return ("non_uniform" if v and key.startswith("class") else "uniform"), key
        if s in _UNIFORM:
            return "uniform", key
        return "non_uniform", key
    return None, None


def _feeds_loss(g: nx.MultiDiGraph, n: str) -> bool:
    return any("loss" in d.lower() for d in nx.descendants(g, n))


def _constant_weights(g: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """Keras' `.../weighted_loss/Mul` by a Const: the implicit weight when none can be fed."""
    found = []
    for n, d in g.nodes(data=True):
        if d.get("op") != "Mul" or "weighted_loss" not in n.split("/") or T.is_gradient_node(n):
            continue
        for u in T.data_inputs(g, n):
            arr = T.const_array(g, u)
            if arr is not None:
                src = T.resolve(g, u)
                found.append(
                    {
                        "node": src,
                        "op": "Const",
                        "output": None,
                        "default": arr.reshape(-1).astype(float).tolist()[:8],
                        "all_ones": bool(arr.size and np.all(arr == 1.0)),
                        "feeds_loss": True,
                    }
                )
    return found


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """Facts: {"weighting": "placeholder"|"constant"|"none"|"unknown", "placeholders": [...],
    "constants": [...], "passed": "uniform"|"non_uniform"|None, "passed_key"}; each entry is
    {"node","op","output","default","all_ones","feeds_loss"}."""
    if graph.graph.get("source") == "keras_model":  # a layer config has no loss ops to inspect
        return {
            "weighting": "unknown",
            "placeholders": [],
            "constants": [],
            "passed": None,
            "passed_key": None,
        }
    found = []
    for n, d in graph.nodes(data=True):
        last = n.rsplit("/", 1)[-1]
        if not last.endswith("sample_weights") or d.get("op") not in T.PLACEHOLDERS:
            continue
        default = T.placeholder_default(graph, n)
        arr = None if default is None else np.asarray(default, dtype=float)
        found.append(
            {
                "node": n,
                "op": d.get("op"),
                "output": last[: -len("_sample_weights")] or None,
                "default": None if arr is None else arr.reshape(-1).tolist()[:8],
                "all_ones": None if arr is None else bool(arr.size and np.all(arr == 1.0)),
                "feeds_loss": _feeds_loss(graph, n),
            }
        )
    constants = _constant_weights(graph)
    passed, key = _passed(hints)
    weighting = "placeholder" if found else ("constant" if constants else "none")
    return {
        "weighting": weighting,
        "placeholders": found,
        "constants": constants,
        "passed": passed,
        "passed_key": key,
    }


def _side(f: dict[str, Any]) -> dict[str, Any]:
    entries = f["placeholders"] or f["constants"]
    return {
        "weighting": f["weighting"],
        "sample_weights": [p["node"] for p in entries],
        "default": [p["default"] for p in entries] or None,
        "passed": f["passed"],
    }


def _explain(f: dict[str, Any]) -> str:
    if f["weighting"] == "none":
        return "no per-sample weighting of the loss"
    if f["weighting"] == "constant":
        vals = sorted({v for c in f["constants"] for v in c["default"]})
        return (
            "the loss is multiplied by a constant sample weight "
            f"{', '.join(f'{v:g}' for v in vals)} ({', '.join(c['node'] for c in f['constants'])}), "
            "which Keras inserts when no sample weights can be passed"
        )
    kinds = []
    for p in f["placeholders"]:
        if p["op"] == "PlaceholderWithDefault":
            ones = "ones" if p["all_ones"] else f"{p['default']}"
            kinds.append(f"{p['node']!r}, a placeholder_with_default({ones})")
        else:
            kinds.append(
                f"{p['node']!r}, a plain placeholder that Keras' fit() feeds with ones when no "
                "sample_weight/class_weight is passed"
            )
    return "the loss takes per-sample weights from " + "; ".join(kinds)


def _evidence(f: dict[str, Any]) -> list[str]:
    return [p["node"] for p in (f["placeholders"] or f["constants"])]


def compare(facts_a: dict[str, Any], facts_b: dict[str, Any], ctx: Context) -> list[Finding]:
    wa, wb = facts_a["weighting"], facts_b["weighting"]
    if "unknown" in (wa, wb):
        return []
    na = wa == "placeholder" and facts_a["passed"] == "non_uniform"
    nb = wb == "placeholder" and facts_b["passed"] == "non_uniform"
    ca = wa == "constant" and not all(c["all_ones"] for c in facts_a["constants"])
    cb = wb == "constant" and not all(c["all_ones"] for c in facts_b["constants"])
    if wa == wb and na == nb and ca == cb:
        return []
    how = f"A: {_explain(facts_a)}. B: {_explain(facts_b)}."
    if na or nb:
        side = "A" if na else "B"
        key = (facts_a if na else facts_b)["passed_key"]
        sev, score = "warning", 0.4
        title = f"{side} trains with non-uniform sample weights"
        detail = (
            f"{how} The run's hparams ({key}) say non-uniform weights were passed to {side}: some "
            "examples count more than others in the loss, which changes the gradients and what the "
            "model learns, while the other run weights all examples equally."
        )
    elif ca or cb:
        side = "A" if ca else "B"
        sev, score = "warning", 0.3
        title = f"{side}'s loss is scaled by a constant sample weight other than 1"
        detail = (
            f"{how} A constant weight scales the whole loss and thus every gradient; with SGD "
            "that acts like a different learning rate, with Adam it mostly cancels out."
        )
    else:
        side = "B" if wa == "none" or (wa == "constant" and wb == "placeholder") else "A"
        sev, score = "benign", 0.1
        mine = facts_b if side == "B" else facts_a
        if mine["weighting"] == "placeholder":
            title = f"Loss takes per-sample weights in {side} only (all ones unless passed)"
        else:
            title = f"{side}'s loss is multiplied by a constant sample weight of 1 (no effect)"
        known = mine["passed"] == "uniform"
        detail = (
            f"{how} Keras weights every example's loss by a sample weight; when fit() is called "
            "without sample_weight or class_weight the weight is 1.0 for every example, and "
            "multiplying a loss by 1 changes nothing, so this extra input to the loss is harmless"
            + (
                " (the run's hparams confirm no weights were passed)."
                if known
                else (
                    ". It would only matter if the program passed sample_weight=/class_weight= "
                    "to fit(), which these logs do not record."
                    if mine["weighting"] == "placeholder"
                    else "."
                )
            )
        )
    return [
        Finding(
            id="sample_weights.present",
            severity=sev,
            title=title,
            detail=detail,
            a=_side(facts_a),
            b=_side(facts_b),
            nodes_a=_evidence(facts_a),
            nodes_b=_evidence(facts_b),
            score=score,
        )
    ]
