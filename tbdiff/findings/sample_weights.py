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


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """Facts: {"placeholders": [{"node","op","output","default","all_ones","feeds_loss"}],
    "passed": "uniform"|"non_uniform"|None, "passed_key": hparam key or None}."""
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
    passed, key = _passed(hints)
    return {"placeholders": found, "passed": passed, "passed_key": key}


def _side(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "sample_weights": [p["node"] for p in f["placeholders"]],
        "default": [p["default"] for p in f["placeholders"]] or None,
        "passed": f["passed"],
    }


def compare(facts_a: dict[str, Any], facts_b: dict[str, Any], ctx: Context) -> list[Finding]:
    pa, pb = facts_a["placeholders"], facts_b["placeholders"]
    na = facts_a["passed"] == "non_uniform"
    nb = facts_b["passed"] == "non_uniform"
    if bool(pa) == bool(pb) and na == nb:
        return []
    if not pa and not pb:
        return []
    side = "A" if pa else "B"
    if pa and pb:
        side = "A" if na else "B"
    mine = facts_a if side == "A" else facts_b
    ph = mine["placeholders"]
    names = ", ".join(repr(p["node"]) for p in ph)
    kinds = []
    for p in ph:
        if p["op"] == "PlaceholderWithDefault":
            ones = "ones" if p["all_ones"] else f"{p['default']}"
            kinds.append(f"{p['node']!r} is a placeholder_with_default({ones})")
        else:
            kinds.append(
                f"{p['node']!r} is a plain placeholder that Keras' fit() feeds with ones "
                "when no sample_weight/class_weight is passed"
            )
    non_uniform = na or nb
    if non_uniform:
        key = mine["passed_key"]
        detail = (
            f"The loss of {side} multiplies every example's loss by a per-sample weight "
            f"({'; '.join(kinds)}), and the run's hparams ({key}) say non-uniform weights were "
            "passed: some examples count more than others, which changes the gradient and what "
            "the model learns. The other run weights all examples equally."
        )
        sev, title, score = "warning", f"{side} trains with non-uniform sample weights", 4.0
    else:
        known = mine["passed"] == "uniform"
        detail = (
            f"The loss of {side} takes per-sample weights ({'; '.join(kinds)}). Keras creates this "
            "input for every compiled output; when fit() is called without sample_weight or "
            "class_weight it is filled with 1.0 for every example, and multiplying each loss by 1 "
            "changes nothing, so this extra input to the loss is harmless"
            + (
                " (the run's hparams confirm no weights were passed)."
                if known
                else ". It would matter only if the program passed sample_weight=/class_weight= "
                "to fit(), which the logs do not record."
            )
        )
        sev, title, score = (
            "benign",
            f"Loss takes per-sample weights in {side} only (all ones unless passed)",
            1.0,
        )
    return [
        Finding(
            id="sample_weights.present",
            severity=sev,
            title=title,
            detail=detail,
            a=_side(facts_a),
            b=_side(facts_b),
            nodes_a=[p["node"] for p in pa],
            nodes_b=[p["node"] for p in pb],
            score=score,
        )
    ]
