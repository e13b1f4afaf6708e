"""Optimizer type and hyper-parameters, read from the update ops the optimizer put in the graph.

Why from the update ops: the class name a user passed is not in the graph, but every TF optimizer
(tf.compat.v1.train.*, Keras OptimizerV2 via its fused kernels) emits one Apply*/ResourceApply* op
per trained variable whose inputs *are* the hyper-parameters (Const for tf.train, a hyper-parameter
variable initialised from a Const for Keras). So a tf.train.AdamOptimizer wrapped by Keras and one
used directly give the same facts. Keras optimizers that update with plain ops (no fused kernel)
are recognised from their hyper-parameter variables (`<Class>/learning_rate` ...) or, in TF2
function graphs where those are captured, from the scope of the ops updating the weights.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import networkx as nx

from tbdiff.model import names as N
from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Layer, Optimizer, Source
from tbdiff.model.inputs import RunInputs
from tbdiff.model.numbers import rnd, scalar


def _hparam_value(g: nx.MultiDiGraph, n: str, inputs: RunInputs) -> tuple[Any, str, str]:
    """(value, source kind, evidence node) of one hyper-parameter input tensor."""
    src = Q.resolve(g, n)
    o = Q.op(g, src)
    if o == "Const":
        return rnd(scalar(Q.value(g, src))), "const", src
    if o in O.VARIABLE_OPS:
        return rnd(scalar(Q.value(g, src))), "variable", src
    if o in O.PLACEHOLDERS and g.nodes[src].get("dtype") != "resource":
        fed = inputs.fed_value(src)
        if fed is not None:
            return rnd(fed.value), "fed", src
        if o == "PlaceholderWithDefault":
            return rnd(scalar(Q.value(g, src))), "placeholder_default", src
        return None, "fed_at_runtime", src
    if o == "Placeholder":  # a captured variable of a TF2 function graph: value not stored
        return None, "captured", src
    v = scalar(Q.value(g, src))
    return (rnd(v), "computed", src) if v is not None else (None, f"dynamic:{o}", src)


def _keras_hyper_vars(g: nx.MultiDiGraph) -> dict[str, dict[str, str]]:
    """Optimizer scope (e.g. 'training/Adam') -> {hparam: variable} for Keras hyper variables."""
    out: dict[str, dict[str, str]] = {}
    for var in Q.variables(g):
        parts = var.split("/")
        if len(parts) < 2 or parts[-1] not in N.OPTIMIZER_HPARAMS:
            continue
        typ = N.optimizer_type(re.sub(r"_\d+$", "", parts[-2]))
        if typ is not None:
            out.setdefault("/".join(parts[:-1]), {})[N.OPTIMIZER_HPARAMS[parts[-1]]] = var
    return out


def _kernel_groups(g: nx.MultiDiGraph, inputs: RunInputs) -> list[dict[str, Any]]:
    groups: dict[tuple, dict[str, Any]] = {}
    for n, d in g.nodes(data=True):
        kern = O.apply_kernel(d.get("op", ""))
        if kern is None or Q.input_at(g, n, 0) is None:
            continue
        typ, slots = kern
        hp: dict[str, Any] = {}
        src: dict[str, str] = {}
        kinds: set[str] = set()
        for idx, hname in slots.items():
            inp = Q.input_at(g, n, idx)
            if inp is None:
                continue
            val, kind, ev = _hparam_value(g, inp, inputs)
            hp[hname], src[hname] = val, ev
            kinds.add(kind)
        attrs = d.get("attrs") or {}
        if attrs.get("use_nesterov"):
            hp["nesterov"] = True
        for flag in ("Amsgrad", "Centered"):
            if flag in d["op"]:
                hp[flag.lower()] = True
        key = (typ, tuple(sorted((k, repr(v)) for k, v in hp.items())))
        grp = groups.setdefault(
            key, {"type": typ, "hparams": hp, "nodes": src, "kinds": set(), "ops": [], "vars": []}
        )
        grp["kinds"] |= kinds
        grp["ops"].append(n)
        grp["vars"].append(Q.resolve(g, Q.input_at(g, n, 0) or n))
    return sorted(groups.values(), key=lambda x: -len(x["ops"]))


def _from_kernels(g: nx.MultiDiGraph, inputs: RunInputs) -> list[Optimizer]:
    hyper = _keras_hyper_vars(g)
    out = []
    for grp in _kernel_groups(g, inputs):
        keras = "variable" in grp["kinds"] or "captured" in grp["kinds"]
        hp, nodes = grp["hparams"], grp["nodes"]
        if keras:  # Keras' decay / weight_decay hyper variables are not kernel inputs
            for hvars in hyper.values():
                if set(nodes.values()) & set(hvars.values()):
                    for hname, var in hvars.items():
                        hp.setdefault(hname, rnd(scalar(Q.value(g, var))))
                        nodes.setdefault(hname, var)
        out.append(
            Optimizer(
                type=grp["type"],
                hparams=hp,
                implementation="keras_optimizer_v2" if keras else "tf.compat.v1.train",
                sources={k: Source("graph", v) for k, v in nodes.items()},
                nodes=nodes,
                update_ops=sorted(grp["ops"])[:8],
                n_variables=len(grp["vars"]),
                value_kinds=sorted(grp["kinds"]),
            )
        )
    return out


def _from_hyper_vars(g: nx.MultiDiGraph) -> list[Optimizer]:
    """Keras optimizer implemented with plain ops: only its hyper variables show its class."""
    out = []
    for scope, hvars in sorted(_keras_hyper_vars(g).items()):
        typ = N.optimizer_type(re.sub(r"_\d+$", "", scope.split("/")[-1]))
        if typ is None:
            continue
        out.append(
            Optimizer(
                type=typ,
                hparams={h: rnd(scalar(Q.value(g, v))) for h, v in hvars.items()},
                implementation="keras_plain_ops",
                sources={h: Source("graph", v) for h, v in hvars.items()},
                nodes=dict(hvars),
                value_kinds=["variable"],
            )
        )
    return out


def _plain_hparams(g: nx.MultiDiGraph, scope: str, typ: str) -> dict[str, Any]:
    """Constants a plain-ops update step bakes in: Adam's beta powers (`Pow(beta, step)`) and
    the epsilon added to `sqrt(v)`; the learning rate stays in a captured variable."""
    bases, eps = [], []
    for n in g.nodes:
        if not n.startswith(scope + "/") or O.is_gradient_node(n):
            continue
        o = Q.op(g, n)
        if o == "Pow" and typ in ("adam", "adamw", "adamax", "nadam"):
            b = scalar(Q.value(g, Q.input_at(g, n, 0) or n))
            if b is not None and 0.0 < b < 1.0:
                bases.append(b)
        elif o in ("Add", "AddV2"):
            ins = [Q.resolve(g, x) for x in Q.data_inputs(g, n)]
            if any(Q.op(g, x) == "Sqrt" for x in ins):
                eps += [c for x in ins if (c := scalar(Q.value(g, x))) is not None and c < 0.1]
    out: dict[str, Any] = {}
    if len(set(bases)) == 2:
        out["beta1"], out["beta2"] = (rnd(x) for x in sorted(set(bases)))
    if len(set(eps)) == 1:
        out["epsilon"] = rnd(eps[0])
    return out


def _from_update_scopes(g: nx.MultiDiGraph, layers: list[Layer]) -> list[Optimizer]:
    """TF2 function graph: hyper variables are captured, only the update ops' scopes remain."""
    weights = {v for layer in layers if layer.has_weights for v in (layer.kernel, layer.bias) if v}
    votes: Counter = Counter()
    ops: dict[str, list[str]] = {}
    scopes: dict[str, str] = {}
    for var, updates in Q.update_targets(g).items():
        if var not in weights:
            continue
        for upd in updates:
            parts = list(g.nodes[upd].get("scope") or ())
            for i in range(len(parts) - 1, -1, -1):
                typ = N.optimizer_type(re.sub(r"_\d+$", "", parts[i]))
                if typ is not None:
                    votes[typ] += 1
                    ops.setdefault(typ, []).append(upd)
                    scopes.setdefault(typ, "/".join(parts[: i + 1]))
                    break
    if not votes:
        return []
    typ = votes.most_common(1)[0][0]
    hp = _plain_hparams(g, scopes[typ], typ)
    return [
        Optimizer(
            type=typ,
            hparams=hp,
            implementation="keras_plain_ops",
            sources={k: Source("graph", scopes[typ]) for k in hp},
            update_ops=sorted(ops[typ])[:8],
            n_variables=len(ops[typ]),
            value_kinds=["captured"],
        )
    ]


def optimizers(g: nx.MultiDiGraph, inputs: RunInputs, layers: list[Layer]) -> list[Optimizer]:
    """Optimizers found in `g`, the one updating the most variables first."""
    return _from_kernels(g, inputs) or _from_hyper_vars(g) or _from_update_scopes(g, layers)
