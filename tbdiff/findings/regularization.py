"""Weight penalties added to the loss (L2/L1) and decoupled weight decay in the update step.

Why: a `0.01 * tf.nn.l2_loss(w)` in one model and a Keras `kernel_regularizer=l2(0.001)` (which
TF writes as `0.002 * L2Loss(w)`) in the other look alike in TensorBoard but pull the weights
towards zero with different strength. Penalties are found from the variable side — L2Loss,
Square+Sum or Abs+Sum of a trained layer's kernel/bias read — and kept only if differentiated, so
a weight-norm summary or Keras' second, unused copy of the regulariser ops is not counted. All
coefficients are normalised to the Keras convention `coef * sum(w**2)` (`coef * sum(|w|)` for L1).
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from tbdiff.findings import _layers as L
from tbdiff.findings.base import Context, Finding, Hints

NAME = "regularization"

_PENALTY = {"L2Loss": ("l2", 0.5), "Square": ("l2", 1.0), "Abs": ("l1", 1.0)}
_PASS = frozenset({"Sum", "Identity", "Cast", "Reshape"})


def _coefficient(g: nx.MultiDiGraph, start: str) -> tuple[float, list[str]]:
    """Product of constant factors applied to a penalty before it joins the loss."""
    coef, cur, path = 1.0, start, [start]
    for _ in range(10):
        cons = [c for c in L.data_consumers(g, cur) if not L.is_gradient_node(c)]
        cons = [c for c in cons if L.is_trained_on(g, c)] or cons
        if len(cons) != 1:
            break
        nxt = cons[0]
        o = L.op(g, nxt)
        if o == "Mul":
            others = [x for x in L.data_inputs(g, nxt) if x != cur]
            c = L.scalar(L.const_value(g, others[0])) if others else None
            if c is None:
                break
            coef *= c
        elif o == "AddN" or o in ("Add", "AddV2"):
            # a sum of penalties is still the penalty; a sum with the data loss ends it
            if not all(_is_penalty(g, x) for x in L.data_inputs(g, nxt)):
                break
        elif o not in _PASS:
            break
        cur = nxt
        path.append(cur)
    return coef, path


def _is_penalty(g: nx.MultiDiGraph, n: str, depth: int = 6) -> bool:
    if depth <= 0:
        return False
    o = L.op(g, n)
    if o in _PENALTY:
        ins = L.data_inputs(g, n)
        return bool(ins) and L.var_source(g, ins[0]) is not None
    if o == "Const":
        return True
    if o in ("Mul", "AddN", "Add", "AddV2", *_PASS):
        return all(_is_penalty(g, x, depth - 1) for x in L.data_inputs(g, n))
    return False


def _weight_decay(g: nx.MultiDiGraph, var: str) -> tuple[float, str] | None:
    """Decoupled decay: an AssignSub of `c * var` (or `c * lr * var`) onto the variable."""
    for upd in L.apply_targets(g).get(var, []):
        if L.op(g, upd) not in ("AssignSub", "AssignSubVariableOp"):
            continue
        val = L.through(g, L.input_at(g, upd, 1) or upd)
        if L.op(g, val) != "Mul":
            continue
        ins = L.data_inputs(g, val)
        reads = [x for x in ins if L.var_source(g, x) == var]
        consts = [L.scalar(L.const_value(g, x)) for x in ins if x not in reads]
        if reads and consts and all(c is not None for c in consts):
            return L.rnd(math.prod(consts)) or 0.0, upd
    return None


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """{"terms": [{layer, role, variable, kind, coef, expr, nodes}], "weight_decay": [...]}."""
    if L.is_keras_config(graph):
        return _keras_config_terms(graph)
    roles: dict[str, tuple[int, str, str]] = {}
    for layer in L.layers(graph):
        roles[layer.kernel] = (layer.index, "kernel", layer.scope)
        if layer.bias:
            roles[layer.bias] = (layer.index, "bias", layer.scope)
    terms, decay = [], []
    for var, (idx, role, scope) in roles.items():
        for c in L.forward_consumers(graph, var):
            o = L.op(graph, c)
            if o not in _PENALTY or not L.is_trained_on(graph, c):
                continue
            kind, norm = _PENALTY[o]
            raw, path = _coefficient(graph, c)
            if o in ("Square", "Abs") and not any(L.op(graph, p) == "Sum" for p in path):
                continue  # an element-wise square that is not summed is not a penalty
            terms.append(
                {
                    "layer": idx,
                    "scope": scope,
                    "role": role,
                    "variable": var,
                    "kind": kind,
                    "coef": L.rnd(raw * norm),
                    "expr": f"{L.rnd(raw, 4)} * {'l2_loss' if o == 'L2Loss' else o.lower()}(w)",
                    "nodes": path[:4],
                }
            )
        wd = _weight_decay(graph, var)
        if wd is not None:
            decay.append({"layer": idx, "role": role, "variable": var, "coef": wd[0], "op": wd[1]})
    terms.sort(key=lambda t: (t["layer"], t["role"], t["kind"]))
    decay.sort(key=lambda t: (t["layer"], t["role"]))
    return {"terms": terms, "weight_decay": decay, "n_layers": len(L.layers(graph))}


def _keras_config_terms(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Penalties declared in a Keras model config (`kernel_regularizer` / `bias_regularizer`)."""
    terms = []
    layers = L.layers(graph)
    for layer in layers:
        attrs = graph.nodes[layer.op].get("attrs") or {}
        for role in ("kernel", "bias"):
            reg = attrs.get(f"{role}_regularizer")
            if not isinstance(reg, dict):
                continue
            cfg = reg.get("config") or {}
            for kind in ("l1", "l2"):
                coef = cfg.get(kind)
                if coef:
                    terms.append(
                        {
                            "layer": layer.index,
                            "scope": layer.scope,
                            "role": role,
                            "variable": layer.op,
                            "kind": kind,
                            "coef": L.rnd(float(coef)),
                            "expr": f"{reg.get('class_name')}({kind}={coef})",
                            "nodes": [layer.op],
                        }
                    )
    return {"terms": terms, "weight_decay": [], "n_layers": len(layers)}


def _by_slot(items: list[dict], with_kind: bool) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for t in items:
        key = (t["layer"], t["role"], t["kind"]) if with_kind else (t["layer"], t["role"])
        out[key] = out.get(key, 0.0) + float(t["coef"])
    return out


def _fmt(slots: dict[tuple, float]) -> dict[str, float]:
    return {" ".join(str(k) for k in key): L.rnd(v) or 0.0 for key, v in sorted(slots.items())}


def compare(facts_a: dict, facts_b: dict, ctx: Context) -> list[Finding]:
    found: list[Finding] = []
    if not facts_a.get("n_layers") or not facts_b.get("n_layers"):
        return found  # no trained layers recognised on one side: nothing to compare
    for what, key, with_kind in (
        ("weight penalty", "terms", True),
        ("decoupled weight decay", "weight_decay", False),
    ):
        sa, sb = _by_slot(facts_a[key], with_kind), _by_slot(facts_b[key], with_kind)
        diff = {
            k
            for k in set(sa) | set(sb)
            if not math.isclose(sa.get(k, 0.0), sb.get(k, 0.0), rel_tol=1e-3, abs_tol=1e-12)
        }
        if not diff:
            continue
        da = {k: sa.get(k, 0.0) for k in diff}
        db = {k: sb.get(k, 0.0) for k in diff}
        biggest = max(abs(da[k] - db[k]) for k in diff)
        only = "A" if not sb else ("B" if not sa else None)
        title = (
            f"{what.capitalize()} only in {only}: {_summary(facts_a[key] or facts_b[key])}"
            if only
            else f"Different {what} coefficients"
        )
        found.append(
            Finding(
                id="regularization.mismatch",
                severity="critical",
                title=title,
                detail=(
                    "A weight penalty pulls weights towards zero; a different strength changes "
                    "the solution reached (coefficients normalised to coef * sum(w**2) for L2, "
                    "coef * sum(|w|) for L1; keys are 'layer role kind')."
                ),
                a=_fmt(da),
                b=_fmt(db),
                nodes_a=[n for t in facts_a[key] for n in (t.get("nodes") or [t.get("op")])[:1]],
                nodes_b=[n for t in facts_b[key] for n in (t.get("nodes") or [t.get("op")])[:1]],
                score=min(0.6, 0.2 + 10 * biggest),
            )
        )
    return found


def _summary(items: list[dict]) -> str:
    kinds = sorted({f"{t.get('kind', 'decay')} {t['coef']}" for t in items})
    return ", ".join(kinds)
