"""Optimizer type and hyper-parameters, read from the update ops the optimizer put in the graph.

Why from the update ops: the class name a user passed is not in the graph, but every TF optimizer
(tf.compat.v1.train.*, Keras OptimizerV2 via its fused kernels) emits one Apply*/ResourceApply* op
per trained variable whose inputs *are* the hyper-parameters (Const for tf.train, a hyper-parameter
variable initialised from a Const for Keras). So a tf.train.AdamOptimizer wrapped by Keras and one
used directly give the same facts, and a Keras Adam with the same values compares equal in type and
values (only an info note on the implementation). Keras optimizers that update with plain ops
(no fused kernel) are recognised from their hyper-parameter variables (`<Class>/learning_rate` ...).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import networkx as nx

from tbdiff.findings import _layers as L
from tbdiff.findings.base import Context, Finding, Hints

NAME = "optimizer"

# fused kernel (without Resource/Sparse prefix) -> (type, {input index: hparam})
_LR = "learning_rate"
_APPLY: dict[str, tuple[str, dict[int, str]]] = {
    "ApplyAdam": ("adam", {5: _LR, 6: "beta1", 7: "beta2", 8: "epsilon"}),
    "ApplyAdamWithAmsgrad": ("adam", {6: _LR, 7: "beta1", 8: "beta2", 9: "epsilon"}),
    "ApplyGradientDescent": ("sgd", {1: _LR}),
    "ApplyMomentum": ("momentum", {2: _LR, 4: "momentum"}),
    "ApplyKerasMomentum": ("momentum", {2: _LR, 4: "momentum"}),
    "ApplyRMSProp": ("rmsprop", {3: _LR, 4: "rho", 5: "momentum", 6: "epsilon"}),
    "ApplyCenteredRMSProp": ("rmsprop", {4: _LR, 5: "rho", 6: "momentum", 7: "epsilon"}),
    "ApplyAdagrad": ("adagrad", {2: _LR}),
    "ApplyAdagradV2": ("adagrad", {2: _LR, 3: "epsilon"}),
    "ApplyAdadelta": ("adadelta", {3: _LR, 4: "rho", 5: "epsilon"}),
    "ApplyFtrl": ("ftrl", {4: _LR, 5: "l1", 6: "l2", 7: "lr_power"}),
    "ApplyFtrlV2": ("ftrl", {4: _LR, 5: "l1", 6: "l2", 7: "l2_shrinkage", 8: "lr_power"}),
    "ApplyAdaMax": ("adamax", {4: _LR, 5: "beta1", 6: "beta2", 7: "epsilon"}),
    "ApplyProximalGradientDescent": ("proximal_sgd", {1: _LR, 2: "l1", 3: "l2"}),
    "ApplyProximalAdagrad": ("proximal_adagrad", {2: _LR, 3: "l1", 4: "l2"}),
}
# Sparse kernels insert `indices` after grad; only where that shifts hyper-parameter inputs.
_SPARSE: dict[str, tuple[str, dict[int, str]]] = {
    "SparseApplyMomentum": ("momentum", {2: _LR, 5: "momentum"}),
    "SparseApplyKerasMomentum": ("momentum", {2: _LR, 5: "momentum"}),
    "SparseApplyFtrl": ("ftrl", {5: _LR, 6: "l1", 7: "l2", 8: "lr_power"}),
    "SparseApplyFtrlV2": ("ftrl", {5: _LR, 6: "l1", 7: "l2", 8: "l2_shrinkage", 9: "lr_power"}),
    "SparseApplyProximalGradientDescent": ("proximal_sgd", {1: _LR, 2: "l1", 3: "l2"}),
    "SparseApplyAdagradV2": ("adagrad", {2: _LR, 3: "epsilon"}),
}
# Keras OptimizerV2 hyper-parameter variable names -> our names.
_KERAS_HYPER = {
    "learning_rate": _LR,
    "lr": _LR,
    "beta_1": "beta1",
    "beta_2": "beta2",
    "momentum": "momentum",
    "rho": "rho",
    "decay": "decay",
    "epsilon": "epsilon",
    "weight_decay": "weight_decay",
    "initial_accumulator_value": "initial_accumulator_value",
    "learning_rate_power": "lr_power",
    "l1_regularization_strength": "l1",
    "l2_regularization_strength": "l2",
}
_KERAS_CLASSES = {
    "adam": "adam",
    "adamw": "adamw",
    "sgd": "sgd",
    "rmsprop": "rmsprop",
    "adagrad": "adagrad",
    "adadelta": "adadelta",
    "adamax": "adamax",
    "nadam": "nadam",
    "ftrl": "ftrl",
    "lion": "lion",
    "adafactor": "adafactor",
}
# Hyper-parameters whose absence means "off" (0), so a missing one equals an explicit 0.
_ZERO_DEFAULT = ("decay", "weight_decay", "momentum", "l1", "l2", "l2_shrinkage")
# Two epsilons both below this only guard a division; a difference is numerically negligible.
_TINY_EPSILON = 1e-5


def _kernel(op_type: str) -> tuple[str, dict[int, str]] | None:
    base = op_type[len("Resource") :] if op_type.startswith("Resource") else op_type
    if base in _SPARSE:
        return _SPARSE[base]
    if base.startswith("Sparse"):
        base = base[len("Sparse") :]
    return _APPLY.get(base)


def _hparam_value(g: nx.MultiDiGraph, n: str, hints: Hints) -> tuple[Any, str, str]:
    """(value, source kind, evidence node) of one hyper-parameter input tensor."""
    src = L.through(g, n)
    o = L.op(g, src)
    if o == "Const":
        return L.rnd(L.scalar(L.const_value(g, src))), "const", src
    if o in L.VARIABLE_OPS:
        return L.rnd(L.scalar(L.const_value(g, src))), "variable", src
    if o in ("Placeholder", "PlaceholderV2", "PlaceholderWithDefault"):
        fed, _how = hints.fed_value(src)
        if fed is not None:
            return L.rnd(fed), "fed", src
        if o == "PlaceholderWithDefault":
            return L.rnd(L.scalar(L.const_value(g, src))), "placeholder_default", src
        return None, "fed_at_runtime", src
    v = L.scalar(L.const_value(g, src))
    return (L.rnd(v), "computed", src) if v is not None else (None, f"dynamic:{o}", src)


def _keras_hyper_vars(g: nx.MultiDiGraph) -> dict[str, dict[str, str]]:
    """Optimizer scope (e.g. 'training/Adam') -> {hparam: variable} for Keras hyper variables."""
    out: dict[str, dict[str, str]] = {}
    for var in L.variables(g):
        parts = var.split("/")
        if len(parts) < 2 or parts[-1] not in _KERAS_HYPER:
            continue
        cls = parts[-2].split("_")[0].lower()
        if cls in _KERAS_CLASSES:
            out.setdefault("/".join(parts[:-1]), {})[_KERAS_HYPER[parts[-1]]] = var
    return out


def _plain_update_type(g: nx.MultiDiGraph) -> tuple[str, list[str]] | None:
    """Optimizer class from the scope of plain update ops writing layer weights (Keras 3)."""
    weights = {v for layer in L.layers(g) for v in (layer.kernel, layer.bias) if v}
    votes: Counter = Counter()
    ops: dict[str, list[str]] = {}
    for var, updates in L.apply_targets(g).items():
        if var not in weights:
            continue
        for upd in updates:
            for comp in reversed(g.nodes[upd].get("scope") or ()):
                cls = re.sub(r"_\d+$", "", comp).lower()
                if cls in _KERAS_CLASSES:
                    votes[_KERAS_CLASSES[cls]] += 1
                    ops.setdefault(_KERAS_CLASSES[cls], []).append(upd)
                    break
    if not votes:
        return None
    typ = votes.most_common(1)[0][0]
    return typ, sorted(ops[typ])


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """{"type", "hparams", "implementation", "optimizers": [...]} (main optimizer first)."""
    groups: dict[tuple, dict[str, Any]] = {}
    for n, d in graph.nodes(data=True):
        kern = _kernel(d.get("op", ""))
        if kern is None or L.input_at(graph, n, 0) is None:
            continue
        typ, slots = kern
        hp: dict[str, Any] = {}
        src: dict[str, str] = {}
        kinds: set[str] = set()
        for idx, hname in slots.items():
            inp = L.input_at(graph, n, idx)
            if inp is None:
                continue
            val, kind, ev = _hparam_value(graph, inp, hints)
            hp[hname] = val
            src[hname] = ev
            kinds.add(kind)
        attrs = d.get("attrs") or {}
        if attrs.get("use_nesterov"):
            hp["nesterov"] = True
        if "Amsgrad" in d["op"]:
            hp["amsgrad"] = True
        if "Centered" in d["op"]:
            hp["centered"] = True
        key = (typ, tuple(sorted((k, repr(v)) for k, v in hp.items())))
        grp = groups.setdefault(
            key,
            {
                "type": typ,
                "hparams": hp,
                "sources": src,
                "value_kinds": set(),
                "apply_op": d["op"],
                "apply_ops": [],
                "variables": [],
            },
        )
        grp["value_kinds"] |= kinds
        grp["apply_ops"].append(n)
        grp["variables"].append(L.through(graph, L.input_at(graph, n, 0) or n))
    hyper = _keras_hyper_vars(graph)
    optimizers = sorted(groups.values(), key=lambda x: -len(x["apply_ops"]))
    for grp in optimizers:
        keras = "variable" in grp["value_kinds"]
        grp["implementation"] = "keras_optimizer_v2" if keras else "tf.compat.v1.train"
        if keras:  # Keras' decay / weight_decay hyper variables are not kernel inputs
            for hvars in hyper.values():
                if set(grp["sources"].values()) & set(hvars.values()):
                    for hname, var in hvars.items():
                        grp["hparams"].setdefault(hname, L.rnd(L.scalar(L.const_value(graph, var))))
                        grp["sources"].setdefault(hname, var)
        grp["value_kinds"] = sorted(grp["value_kinds"])
        grp["n_variables"] = len(grp["variables"])
        grp["apply_ops"] = sorted(grp["apply_ops"])[:8]
        grp["variables"] = sorted(grp["variables"])[:8]
    if not optimizers:  # Keras optimizer implemented with plain ops: only its hyper variables
        for scope, hvars in sorted(hyper.items()):
            cls = scope.split("/")[-1].split("_")[0].lower()
            optimizers.append(
                {
                    "type": _KERAS_CLASSES[cls],
                    "hparams": {
                        h: L.rnd(L.scalar(L.const_value(graph, v))) for h, v in hvars.items()
                    },
                    "sources": dict(hvars),
                    "value_kinds": ["variable"],
                    "apply_op": None,
                    "apply_ops": [],
                    "variables": [],
                    "n_variables": 0,
                    "implementation": "keras_plain_ops",
                }
            )
    if not optimizers:  # TF2 function graph: hyper variables are captured, only scopes remain
        guess = _plain_update_type(graph)
        if guess:
            optimizers.append(
                {
                    "type": guess[0],
                    "hparams": {},
                    "sources": {},
                    "value_kinds": ["captured"],
                    "apply_op": L.op(graph, guess[1][0]),
                    "apply_ops": guess[1][:8],
                    "variables": [],
                    "n_variables": len(guess[1]),
                    "implementation": "keras_plain_ops",
                }
            )
    main = optimizers[0] if optimizers else None
    return {
        "type": main["type"] if main else None,
        "hparams": dict(main["hparams"]) if main else {},
        "implementation": main["implementation"] if main else None,
        "optimizers": optimizers,
        "config_only": L.is_keras_config(graph),
    }


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-4, abs_tol=1e-12)


def _score(name: str, a: Any, b: Any) -> float:
    """Expected effect size in 0..1: lr by its ratio, betas/momentum/rho by their 1-x ratio."""
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return 0.2
    if name == _LR and fa > 0 and fb > 0:
        return min(0.9, 0.15 + 0.25 * abs(math.log10(fa / fb)))
    if name in ("beta1", "beta2", "momentum", "rho") and fa < 1 and fb < 1:
        return min(0.6, 0.1 + 0.2 * abs(math.log10((1 - fa) / (1 - fb))))
    return min(0.5, 0.1 + 0.3 * abs(fa - fb) / max(abs(fa), abs(fb), 1e-12))


def compare(facts_a: dict, facts_b: dict, ctx: Context) -> list[Finding]:
    ta, tb = facts_a.get("type"), facts_b.get("type")
    if ta is None and tb is None:
        return []
    oa = facts_a["optimizers"][0] if facts_a["optimizers"] else {}
    ob = facts_b["optimizers"][0] if facts_b["optimizers"] else {}
    nodes_a, nodes_b = list(oa.get("apply_ops", [])[:4]), list(ob.get("apply_ops", [])[:4])
    if ta is None or tb is None:
        side = "A" if ta is None else "B"
        config_only = (facts_a if ta is None else facts_b).get("config_only")
        return [
            Finding(
                id="optimizer.missing",
                severity="info" if config_only else "warning",
                title=f"No optimizer update ops found in graph {side}",
                detail=(
                    "One graph has no training step (an inference/eval graph, or the training "
                    "function was not logged), so optimizers cannot be compared."
                ),
                a={"type": ta},
                b={"type": tb},
                nodes_a=nodes_a,
                nodes_b=nodes_b,
                score=0.1,
            )
        ]
    if ta != tb:
        return [
            Finding(
                id="optimizer.type_mismatch",
                severity="critical",
                title=f"Different optimizers: {ta} vs {tb}",
                detail=(
                    "The weights are updated by different algorithms, which changes convergence "
                    "speed and the solution reached. Hyper-parameters: "
                    f"A {facts_a['hparams']}, B {facts_b['hparams']}."
                ),
                a={"type": ta, **facts_a["hparams"]},
                b={"type": tb, **facts_b["hparams"]},
                nodes_a=nodes_a,
                nodes_b=nodes_b,
                score=0.8,
            )
        ]
    found: list[Finding] = []
    ha, hb = facts_a["hparams"], facts_b["hparams"]
    diffs: dict[str, tuple[Any, Any]] = {}
    for name in sorted(set(ha) | set(hb)):
        default = 0.0 if name in _ZERO_DEFAULT else None
        va, vb = ha.get(name, default), hb.get(name, default)
        if name not in ha or name not in hb:
            if name not in _ZERO_DEFAULT and name not in ("nesterov", "amsgrad", "centered"):
                continue  # not an input of one side's kernel: not comparable
            if name in ("nesterov", "amsgrad", "centered"):
                va, vb = bool(va), bool(vb)
        if not _close(va, vb):
            diffs[name] = (va, vb)
    tiny = {
        k: v
        for k, v in diffs.items()
        if k == "epsilon"
        and None not in v
        and max(abs(float(v[0])), abs(float(v[1]))) < _TINY_EPSILON
    }
    unknown = {k: v for k, v in diffs.items() if k not in tiny and None in v}
    real = {k: v for k, v in diffs.items() if k not in tiny and k not in unknown}
    src_a, src_b = oa.get("sources", {}), ob.get("sources", {})

    def ev(keys, src):
        return [src[k] for k in keys if k in src] or None

    if real:
        text = ", ".join(f"{k} {va} vs {vb}" for k, (va, vb) in real.items())
        found.append(
            Finding(
                id="optimizer.hparam_mismatch",
                severity="critical",
                title=f"{ta} hyper-parameters differ: {text}",
                detail=(
                    "Same optimizer, different settings: the step size / averaging of the "
                    "updates differs, so training follows a different trajectory."
                ),
                a={k: v[0] for k, v in real.items()},
                b={k: v[1] for k, v in real.items()},
                nodes_a=ev(real, src_a) or nodes_a,
                nodes_b=ev(real, src_b) or nodes_b,
                score=max(_score(k, *v) for k, v in real.items()),
            )
        )
    if unknown:
        text = ", ".join(f"{k} {va} vs {vb}" for k, (va, vb) in unknown.items())
        found.append(
            Finding(
                id="optimizer.hparam_mismatch",
                severity="warning",
                title=f"{ta} hyper-parameters not readable on one side: {text}",
                detail=(
                    "A value is computed or fed at run time (schedule, placeholder) in one "
                    "graph, so the logs alone cannot tell whether the settings match; pass "
                    "--feed or record it as an hparam."
                ),
                a={k: v[0] for k, v in unknown.items()},
                b={k: v[1] for k, v in unknown.items()},
                nodes_a=ev(unknown, src_a) or nodes_a,
                nodes_b=ev(unknown, src_b) or nodes_b,
                score=0.3,
            )
        )
    if tiny:
        found.append(
            Finding(
                id="optimizer.hparam_mismatch",
                severity="benign",
                title=(
                    f"{ta} epsilon differs: {tiny['epsilon'][0]} vs {tiny['epsilon'][1]} "
                    "(numerically negligible)"
                ),
                detail=(
                    "Epsilon only guards the division by the second-moment estimate; values "
                    "this small (e.g. Keras' 1e-7 vs tf.train's 1e-8 default) do not change "
                    "training noticeably."
                ),
                a={"epsilon": tiny["epsilon"][0]},
                b={"epsilon": tiny["epsilon"][1]},
                nodes_a=ev(tiny, src_a) or nodes_a,
                nodes_b=ev(tiny, src_b) or nodes_b,
                score=0.05,
            )
        )
    ia, ib = facts_a.get("implementation"), facts_b.get("implementation")
    if ia != ib:
        found.append(
            Finding(
                id="optimizer.implementation",
                severity="info",
                title=f"Same {ta} optimizer, different implementation: {ia} vs {ib}",
                detail=(
                    "Both graphs run the same update rule (same kernel op and values); only "
                    "how the hyper-parameters are stored differs (constants vs Keras variables)."
                ),
                a={"implementation": ia, "apply_op": oa.get("apply_op")},
                b={"implementation": ib, "apply_op": ob.get("apply_op")},
                nodes_a=nodes_a,
                nodes_b=nodes_b,
                score=0.0,
            )
        )
    return found
