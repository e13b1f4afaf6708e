"""Learning phase: how each graph switches dropout off for evaluation.

Keras feeds a boolean ``keras_learning_phase`` placeholder (default False) into every
Dropout's cond; a hand-written TF program usually makes its own switch, e.g.
``keep_prob = placeholder_with_default(1.0)`` fed 0.7 only in the training ``sess.run``.
In TensorBoard the two look completely different (Keras' placeholder fans out to every
dropout layer), yet they do the same thing.  What does matter is a graph with *no* switch:
its dropout stays on when the test accuracy is computed.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from tbdiff.findings import _trace as T
from tbdiff.findings.base import Context, Finding, Hints
from tbdiff.findings.dropout import find_sites

NAME = "learning_phase"


def _plain(v: Any) -> Any:
    """JSON-able form of a placeholder default (numpy arrays -> lists)."""
    return v.tolist() if hasattr(v, "tolist") else v


def _switch_of(g: nx.MultiDiGraph, site: dict[str, Any]) -> dict[str, Any]:
    """How this dropout site is turned off at evaluation (one 'switch' record)."""
    if site["gate"]:
        ph = site["gate"]
        default = T.placeholder_default(g, ph)
        on_at_eval = bool(default) if default is not None else None
        if default is None and "learning_phase" in ph:
            on_at_eval = False  # old Keras: a plain placeholder, fed 0 by evaluate()/predict()
        return {
            "node": ph,
            "kind": "learning_phase",
            "op": T.op(g, ph),
            "default": default if default is None else bool(default),
            "dropout_at_eval": on_at_eval,
        }
    if site["gate_kind"] in ("train_function", "keras_config"):
        # TF2 Keras traces separate train/test functions; dropout only exists in training.
        return {
            "node": None,
            "kind": "keras_functions",
            "op": None,
            "default": None,
            "dropout_at_eval": False,
        }
    if site["placeholders"]:
        ph = site["placeholders"][0]
        default = site["default_drop_rate"]
        return {
            "node": ph,
            "kind": site["param"] + "_placeholder",
            "op": T.op(g, ph),
            "default": _plain(T.placeholder_default(g, ph)),
            "default_drop_rate": default,
            # plain Placeholder: whatever the program feeds at evaluation (not in the logs)
            "dropout_at_eval": None if default is None else default > 0,
        }
    return {"node": None, "kind": "none", "op": None, "default": None, "dropout_at_eval": True}


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """Facts: {"mechanism", "switches": [...], "always_on": [layers], "dropout_layers": n}."""
    sites = find_sites(graph, hints)
    switches: dict[tuple, dict[str, Any]] = {}
    always_on: list[str] = []
    always_on_nodes: list[str] = []
    for s in sites:
        sw = _switch_of(graph, s)
        if sw["kind"] == "none":
            always_on.append(s["layer"])
            always_on_nodes.append(s["node"])
            continue
        key = (sw["kind"], sw["node"])
        switches.setdefault(key, {**sw, "controls": []})["controls"].append(s["layer"])
    lp_nodes = sorted(
        n
        for n, d in graph.nodes(data=True)
        if n.rsplit("/", 1)[-1] == "keras_learning_phase" and d.get("op") in T.PLACEHOLDERS
    )
    kinds = {k for k, _ in switches}
    if not sites:
        mechanism = "no_dropout"
    elif kinds & {"learning_phase", "keras_functions"}:
        mechanism = "keras_learning_phase" if "learning_phase" in kinds else "keras_functions"
    elif kinds:
        mechanism = "placeholder"
    else:
        mechanism = "none"
    return {
        "mechanism": mechanism,
        "switches": list(switches.values()),
        "always_on": always_on,
        "always_on_nodes": always_on_nodes,
        "dropout_layers": len(sites),
        "learning_phase_nodes": lp_nodes,
    }


def _family(mechanism: str) -> str:
    """Keras' learning-phase placeholder (graph mode) and its separate train/test functions
    (TF2, model configs) are the same mechanism seen through different logs."""
    return "keras" if mechanism in ("keras_learning_phase", "keras_functions") else mechanism


def _how(f: dict[str, Any]) -> str:
    parts = []
    for sw in f["switches"]:
        if sw["kind"] == "learning_phase":
            parts.append(
                f"Keras' boolean {sw['node']!r} placeholder (default {sw['default']}; fit() feeds "
                f"True while training) gates {len(sw['controls'])} dropout layer(s)"
            )
        elif sw["kind"] == "keras_functions":
            parts.append("Keras runs dropout only inside its training function")
        else:
            arg = sw["kind"].replace("_placeholder", "")
            d = sw.get("default")
            dflt = (
                f"placeholder_with_default({d!r})"
                if isinstance(d, float)
                else "a placeholder without default (must be fed in every run)"
            )
            parts.append(
                f"its own {arg} switch {sw['node']!r}, {dflt}, used by "
                f"{len(sw['controls'])} dropout layer(s)"
            )
    if f["always_on"]:
        parts.append(
            f"{len(f['always_on'])} dropout layer(s) with a constant rate and no switch "
            f"({', '.join(f['always_on'])})"
        )
    return "; ".join(parts) or "no dropout"


def _on_at_eval(f: dict[str, Any]) -> bool | None:
    """True if some dropout runs during evaluation, None if that depends on run-time feeds."""
    if f["always_on"] or any(sw["dropout_at_eval"] for sw in f["switches"]):
        return True
    if any(sw["dropout_at_eval"] is None for sw in f["switches"]):
        return None
    return False


def _side(f: dict[str, Any], on: bool | None) -> dict[str, Any]:
    return {
        "mechanism": f["mechanism"],
        "switches": [sw["node"] for sw in f["switches"] if sw["node"]],
        "dropout_at_eval": on,
        "always_on": f["always_on"],
    }


def compare(facts_a: dict[str, Any], facts_b: dict[str, Any], ctx: Context) -> list[Finding]:
    ma, mb = facts_a["mechanism"], facts_b["mechanism"]
    if "no_dropout" in (ma, mb):
        return []  # nothing to switch on one side: dropout.count_mismatch says what matters
    on_a, on_b = _on_at_eval(facts_a), _on_at_eval(facts_b)
    if _family(ma) == _family(mb) and on_a == on_b:
        return []
    nodes_a = [sw["node"] for sw in facts_a["switches"] if sw["node"]] + facts_a["always_on_nodes"]
    nodes_b = [sw["node"] for sw in facts_b["switches"] if sw["node"]] + facts_b["always_on_nodes"]
    a, b = _side(facts_a, on_a), _side(facts_b, on_b)
    how = f"A: {_how(facts_a)}. B: {_how(facts_b)}."
    if on_a is False and on_b is False:
        return [
            Finding(
                id="learning_phase.mechanism",
                severity="benign",
                title="Dropout is switched off for evaluation by different mechanisms (equivalent)",
                detail=f"{how} Both graphs train with dropout and evaluate without it by default, "
                "so the different wiring (Keras' learning-phase placeholder connected to every "
                "dropout layer vs a hand-made placeholder) does not change what is learned or "
                "measured.",
                a=a,
                b=b,
                nodes_a=nodes_a,
                nodes_b=nodes_b,
                score=0.1,
            )
        ]
    if True in (on_a, on_b):
        side = "A" if on_a else "B"
        other_off = (on_b if side == "A" else on_a) is False
        detail = (
            f"{how} In {side} dropout is "
            + (
                "always active (nothing turns it off)"
                if (facts_a if side == "A" else facts_b)["always_on"]
                else "active unless the program feeds otherwise"
            )
            + ", i.e. also while the "
            "test/validation accuracy is computed, so that accuracy is measured on a randomly "
            "thinned network and is lower and noisier than the model's real accuracy"
            + (" -- the other graph evaluates without dropout." if other_off else ".")
            + " Training itself is unaffected."
        )
        return [
            Finding(
                id="learning_phase.mechanism",
                severity="warning",
                title=f"{side} has no train/eval switch: its dropout is also on at evaluation",
                detail=detail,
                a=a,
                b=b,
                nodes_a=nodes_a,
                nodes_b=nodes_b,
                score=0.3,
            )
        ]
    side = "A" if on_a is None else "B"
    return [
        Finding(
            id="learning_phase.mechanism",
            severity="warning",
            title=f"Whether {side} evaluates with dropout depends on what its program feeds",
            detail=f"{how} {side}'s dropout switch is a placeholder without a default, so each "
            "sess.run must feed it; the graph cannot tell whether evaluation fed 'no dropout' "
            "(keep_prob=1.0 / rate=0.0). If it fed the training value, test accuracy was measured "
            "with dropout on.",
            a=a,
            b=b,
            nodes_a=nodes_a,
            nodes_b=nodes_b,
            score=0.2,
        )
    ]
