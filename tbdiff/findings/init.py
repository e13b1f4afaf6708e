"""Weight initialisers of every trainable layer, read from the subgraph that feeds each variable's
initial value.

Why: initialisers are invisible in TensorBoard's graph view (they hang off `Assign` nodes), yet a
N(0, 1) bias vs a zero bias, or a ±0.05 uniform kernel vs Glorot, changes where training starts.
TF writes every random initialiser as `random * scale + offset` (v1 `random_uniform`, Keras'
stateless ops, `random_normal`, truncated normal), so folding that affine chain back to the random
source gives family and parameters without knowing which API made them. A variable initialised
from another variable (the seed case's Keras kernel whose initializer returns a `get_variable`) is
followed to that variable's initialiser. Kernels are also named by the rule they match for their
own shape (glorot/he/lecun), so models of different width or depth compare by rule.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

from tbdiff.findings import _layers as L
from tbdiff.findings.base import Context, Finding, Hints

NAME = "init"

_UNIFORM = frozenset({"RandomUniform", "StatelessRandomUniform", "StatelessRandomUniformV2"})
_NORMAL = frozenset({"RandomStandardNormal", "StatelessRandomNormal", "StatelessRandomNormalV2"})
_TRUNC = frozenset({"TruncatedNormal", "StatelessTruncatedNormal", "StatelessTruncatedNormalV2"})
_TRUNC_STD = 0.87962566103423978  # stddev of a unit normal truncated at ±2 (Keras' correction)


def _fans(shape: list | None) -> tuple[float, float] | None:
    if not shape or len(shape) < 2 or any(s is None for s in shape):
        return None
    rf = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * rf, shape[-1] * rf


def _rule(family: str, params: dict[str, float], shape: list | None) -> str | None:
    """Name of the variance-scaling rule these parameters match for `shape`, if any."""
    fans = _fans(shape)
    if fans is None or params.get("mean", 0.0) != 0.0:
        return None
    fin, fout = fans
    if family == "uniform":
        lo, hi = params["min"], params["max"]
        if not math.isclose(lo, -hi, rel_tol=1e-3):
            return None
        rules = {
            "glorot_uniform": math.sqrt(6 / (fin + fout)),
            "he_uniform": math.sqrt(6 / fin),
            "lecun_uniform": math.sqrt(3 / fin),
        }
        value = hi
    elif family in ("truncated_normal", "normal"):
        k = _TRUNC_STD if family == "truncated_normal" else 1.0
        rules = {
            "glorot_normal": math.sqrt(2 / (fin + fout)) / k,
            "he_normal": math.sqrt(2 / fin) / k,
            "lecun_normal": math.sqrt(1 / fin) / k,
        }
        value = params["stddev"]
    else:
        return None
    for name, target in rules.items():
        if math.isclose(value, target, rel_tol=2e-3):
            return name
    return None


def _has_qr(g: nx.MultiDiGraph, n: str, budget: int = 60) -> bool:
    seen, stack = {n}, [n]
    while stack and budget > 0:
        m = stack.pop()
        budget -= 1
        if L.op(g, m) == "Qr":
            return True
        for u in L.data_inputs(g, m):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return False


def describe(g: nx.MultiDiGraph, var: str, depth: int = 3) -> dict[str, Any]:
    """{"family", "params", "label", "nodes"} of the initial value of variable `var`."""
    start = L.initial_value_node(g, var)
    if start is None:
        return {"family": "unknown", "params": {}, "label": "unknown (no initializer)", "nodes": []}
    const = L.const_value(g, start)
    if const is not None:
        s = L.scalar(const)
        if s is None:
            return _d("constant", {}, "constant(tensor)", [start])
        if s == 0.0:
            return _d("zeros", {}, "zeros", [start])
        if s == 1.0:
            return _d("ones", {}, "ones", [start])
        return _d("constant", {"value": L.rnd(s)}, f"constant({L.rnd(s, 4)})", [start])
    scale, offset, cur = 1.0, 0.0, start
    for _ in range(24):
        cur = L.through(g, cur)
        o = L.op(g, cur)
        if o in L.VARIABLE_OPS and depth > 0:  # initialised from another variable
            inner = describe(g, cur, depth - 1)
            if scale == 1.0 and offset == 0.0:
                inner["nodes"] = [start, *inner["nodes"]]
                return inner
            return _d("unknown", {}, f"affine of {inner['label']}", [start, cur])
        if o in _UNIFORM:
            lo, hi = sorted((offset, offset + scale))
            p = {"min": L.rnd(lo), "max": L.rnd(hi)}
            return _d("uniform", p, f"uniform({L.rnd(lo, 4)}, {L.rnd(hi, 4)})", [start, cur])
        if o in _NORMAL or o in _TRUNC:
            fam = "normal" if o in _NORMAL else "truncated_normal"
            p = {"mean": L.rnd(offset), "stddev": L.rnd(abs(scale))}
            label = f"{fam}({L.rnd(offset, 4)}, {L.rnd(abs(scale), 4)})"
            return _d(fam, p, label, [start, cur])
        ins = L.data_inputs(g, cur)
        if o in ("Mul", "Add", "AddV2", "Sub", "RealDiv") and len(ins) == 2:
            ca, cb = (L.scalar(L.const_value(g, x)) for x in ins)
            if o == "Mul" and (ca is None) != (cb is None):
                scale *= ca if ca is not None else cb
                cur = ins[1] if ca is not None else ins[0]
                continue
            if o in ("Add", "AddV2") and (ca is None) != (cb is None):
                offset += scale * (ca if ca is not None else cb)
                cur = ins[1] if ca is not None else ins[0]
                continue
            if o == "Sub" and (ca is None) != (cb is None):
                if cb is not None:
                    offset -= scale * cb
                    cur = ins[0]
                else:
                    offset += scale * ca
                    scale = -scale
                    cur = ins[1]
                continue
            if o == "RealDiv" and cb is not None and ca is None and cb != 0:
                scale /= cb
                cur = ins[0]
                continue
        if o in ("Reshape", "Transpose", "Slice", "StridedSlice") and ins:
            if _has_qr(g, cur):
                break
            cur = ins[0]
            continue
        break
    if _has_qr(g, start):
        return _d("orthogonal", {"gain": L.rnd(abs(scale))}, "orthogonal", [start])
    return _d("unknown", {}, f"unknown({L.op(g, cur)})", [start, cur])


def _d(family: str, params: dict, label: str, nodes: list[str]) -> dict[str, Any]:
    return {"family": family, "params": params, "label": label, "nodes": nodes}


# Keras initializer class -> (family, {config key: our param}) or a variance-scaling rule name.
_KERAS_INIT = {
    "randomuniform": ("uniform", {"minval": "min", "maxval": "max"}),
    "randomnormal": ("normal", {"mean": "mean", "stddev": "stddev"}),
    "truncatednormal": ("truncated_normal", {"mean": "mean", "stddev": "stddev"}),
    "zeros": ("zeros", {}),
    "ones": ("ones", {}),
    "constant": ("constant", {"value": "value"}),
    "orthogonal": ("orthogonal", {"gain": "gain"}),
}
_KERAS_RULES = {
    "glorotuniform": "glorot_uniform",
    "glorotnormal": "glorot_normal",
    "heuniform": "he_uniform",
    "henormal": "he_normal",
    "lecununiform": "lecun_uniform",
    "lecunnormal": "lecun_normal",
}


def describe_keras(config: Any) -> dict[str, Any]:
    """Initializer facts from a Keras layer config entry (`{"class_name", "config"}` or str)."""
    if isinstance(config, str):
        name, cfg = config, {}
    elif isinstance(config, dict):
        name, cfg = str(config.get("class_name", "")), config.get("config") or {}
    else:
        return _d("unknown", {}, "unknown", [])
    key = name.replace("_", "").lower()
    if key in _KERAS_RULES:
        rule = _KERAS_RULES[key]
        fam = "uniform" if rule.endswith("uniform") else "truncated_normal"
        return {**_d(fam, {}, rule, []), "rule": rule}
    if key in _KERAS_INIT:
        fam, keys = _KERAS_INIT[key]
        params = {ours: float(cfg[k]) for k, ours in keys.items() if k in cfg}
        args = ", ".join(f"{L.rnd(v, 4)}" for v in params.values())
        return _d(fam, params, f"{fam}({args})" if args else fam, [])
    return _d("unknown", {}, f"unknown({name})", [])


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """{"layers": [{"index", "scope", "kernel": {...,"rule"}, "bias": {...} | None}]}."""
    out = []
    if L.is_keras_config(graph):
        for layer in L.layers(graph):
            attrs = graph.nodes[layer.op].get("attrs") or {}
            k = describe_keras(attrs.get("kernel_initializer", "GlorotUniform"))
            k.setdefault("rule", None)
            b = describe_keras(attrs.get("bias_initializer", "Zeros")) if layer.bias else None
            for d in (k, b):
                if d is not None:
                    d["nodes"] = [layer.op]
            out.append({"index": layer.index, "scope": layer.scope, "kernel": k, "bias": b})
        return {"layers": out}
    for layer in L.layers(graph):
        k = describe(graph, layer.kernel)
        k["rule"] = _rule(k["family"], k["params"], layer.kernel_shape)
        b = describe(graph, layer.bias) if layer.bias else None
        out.append({"index": layer.index, "scope": layer.scope, "kernel": k, "bias": b})
    return {"layers": out}


def _same(x: dict | None, y: dict | None) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if "unknown" in (x["family"], y["family"]):
        return True  # not readable on one side (e.g. TF2 function graph): cannot tell
    if x.get("rule") and x.get("rule") == y.get("rule"):
        return True
    if x["family"] != y["family"] or set(x["params"]) != set(y["params"]):
        return False
    return all(
        math.isclose(float(x["params"][k]), float(y["params"][k]), rel_tol=1e-3, abs_tol=1e-7)
        for k in x["params"]
    )


def _text(d: dict | None) -> str | None:
    if d is None:
        return None
    if d.get("rule") and d["rule"] != d["label"]:
        return f"{d['rule']} = {d['label']}"
    return d["label"]


def _key(layer: dict) -> str:
    return f"layer{layer['index']}" + (f" ({layer['scope']})" if layer["scope"] else "")


def compare(facts_a: dict, facts_b: dict, ctx: Context) -> list[Finding]:
    la, lb = facts_a["layers"], facts_b["layers"]
    if not la or not lb:
        return []
    if len(la) == len(lb):
        pairs = list(zip(la, lb, strict=True))
    else:  # depth differs (reported by layers): compare the rule used per role instead
        pairs = []
        for role in ("kernel", "bias"):
            sa = {_rule_or_label(x[role]) for x in la}
            sb = {_rule_or_label(y[role]) for y in lb}
            if sa != sb:
                pairs = [(la[0], lb[0]), (la[-1], lb[-1])]
    a: dict[str, dict] = {}
    b: dict[str, dict] = {}
    na: list[str] = []
    nb: list[str] = []
    roles_seen: set[str] = set()
    for x, y in pairs:
        roles = [r for r in ("kernel", "bias") if not _same(x[r], y[r])]
        if not roles:
            continue
        roles_seen.update(roles)
        a[_key(x)] = {r: _text(x[r]) for r in roles}
        b[_key(y)] = {r: _text(y[r]) for r in roles}
        for r in roles:
            na += (x[r] or {}).get("nodes", [])[-1:]
            nb += (y[r] or {}).get("nodes", [])[-1:]
    if not a:
        return []
    first_a, first_b = next(iter(a.values())), next(iter(b.values()))
    summary = "; ".join(f"{r} {first_a[r]} vs {first_b[r]}" for r in first_a)
    return [
        Finding(
            id="init.mismatch",
            severity="critical",
            title=f"Different initialisers in {len(a)} layer(s) ({'/'.join(sorted(roles_seen))}): "
            f"{summary}",
            detail=(
                "Training starts from differently distributed weights; this changes early "
                "training and can change the final accuracy (e.g. N(0,1) biases vs zeros, a "
                "fixed uniform range vs Glorot scaled by the layer's fan-in/out)."
            ),
            a=a,
            b=b,
            nodes_a=na[:12],
            nodes_b=nb[:12],
            score=0.3,
        )
    ]


def _rule_or_label(d: dict | None) -> str | None:
    return None if d is None else (d.get("rule") or d["label"])
