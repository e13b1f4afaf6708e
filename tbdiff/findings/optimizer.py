"""Optimizer type and hyper-parameters (plus batch size and epochs recorded as hparams).

The front-ends name the optimizer in one vocabulary (`model.names`: a tf.train.AdamOptimizer
wrapped by Keras, a Keras `Adam` config, an hparam `optimizer: adam` and a PyTorch `Adam` are all
`adam`; momentum SGD is `sgd` with a `momentum`), so this module compares types and values and
says where each value came from (graph, Keras config, hparams). How the learning rate changes
during training (a logged schedule, Keras' legacy `decay`) is `findings.lr_schedule`'s.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from tbdiff.findings.base import Context, Finding
from tbdiff.model.description import ModelDescription, Optimizer, Source
from tbdiff.model.numbers import fmt_num

NAME = "optimizer"
LABEL = "optimizer"

_LR = "learning_rate"
# Hyper-parameters whose absence means "off" (0), so a missing one equals an explicit 0.
_ZERO_DEFAULT = (
    "decay",
    "weight_decay",
    "coupled_weight_decay",
    "momentum",
    "l1",
    "l2",
    "l2_shrinkage",
)
#: types that are one algorithm (AdamW is Adam with decoupled weight decay, which Keras 3's
#: Adam also takes): compared by their hyper-parameters, weight decay included
_SAME_ALGORITHM = {"adamw": "adam"}
_WD = ("weight_decay", "coupled_weight_decay")
_FLAGS = ("nesterov", "amsgrad", "centered")
# Two epsilons both below this only guard a division; a difference is numerically negligible.
_TINY_EPSILON = 1e-5


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
    if name in ("batch_size", "epochs") and fa > 0 and fb > 0:
        return min(0.6, 0.1 + 0.15 * abs(math.log2(fa / fb)))
    return min(0.5, 0.1 + 0.3 * abs(fa - fb) / max(abs(fa), abs(fb), 1e-12))


def _complete(o: Optimizer) -> bool:
    """A fused kernel or a config lists every hyper-parameter; recorded hparams, and plain-op
    update steps whose settings live in captured variables, may leave some out."""
    return o.source.origin not in ("hparams", "scalars") and "captured" not in o.value_kinds


def _values(d: ModelDescription) -> tuple[dict[str, Any], dict[str, Source]]:
    """Comparable values of one run: optimizer hyper-parameters, then batch size / epochs."""
    o = d.optimizer
    vals: dict[str, Any] = dict(o.hparams) if o else {}
    srcs: dict[str, Source] = {k: o.sources.get(k, o.source) for k in vals} if o else {}
    for k, v in d.training.values.items():
        vals.setdefault(k, v)
        srcs.setdefault(k, d.training.sources[k])
    return vals, srcs


def _diffs(a: ModelDescription, b: ModelDescription) -> dict[str, tuple[Any, Any]]:
    (ha, _), (hb, _) = _values(a), _values(b)
    full_a = a.optimizer is not None and _complete(a.optimizer)
    full_b = b.optimizer is not None and _complete(b.optimizer)
    diffs: dict[str, tuple[Any, Any]] = {}
    for name in sorted(set(ha) | set(hb)):
        va, vb = ha.get(name), hb.get(name)
        if name not in ha or name not in hb:
            zero_ok = (name not in ha and full_a) or (name not in hb and full_b)
            if name in _FLAGS and zero_ok:
                va, vb = bool(va), bool(vb)
            elif name in _ZERO_DEFAULT and zero_ok:
                va, vb = (0.0 if va is None else va), (0.0 if vb is None else vb)
            else:
                continue  # not stated on one side: not comparable
        if not _close(va, vb):
            diffs[name] = (va, vb)
    return diffs


def _where(d: ModelDescription, keys: list[str]) -> str:
    _, srcs = _values(d)
    labels = sorted({srcs[k].label for k in keys if k in srcs})
    return ", ".join(labels) or "defaults"


def _nodes(d: ModelDescription, keys: list[str] | None = None) -> list[str]:
    o = d.optimizer
    if o is None:
        return []
    ev = [o.nodes[k] for k in keys or [] if k in o.nodes]
    return ev or list(o.update_ops[:4])


def _missing(a: ModelDescription, b: ModelDescription) -> Finding:
    side = "A" if a.optimizer is None else "B"
    d = a if side == "A" else b
    forward_only = d.config_only or d.trained is None  # a config or a forward trace
    return Finding(
        id="optimizer.missing",
        severity="info" if forward_only else "warning",
        title=f"No optimizer update ops found in graph {side}"
        if not forward_only
        else f"No optimizer recorded in {side}",
        detail=(
            "One run shows no training step (an inference/eval graph, or the training function "
            "was not logged) and records no optimizer, so optimizers cannot be compared."
            if not forward_only
            else f"{side} logged its model (a config, or a forward trace such as PyTorch's "
            "add_graph) but no optimizer: record it as hparams (add_hparams / Lightning's "
            "save_hyperparameters) to compare it."
        ),
        a={"type": a.optimizer.type if a.optimizer else None},
        b={"type": b.optimizer.type if b.optimizer else None},
        nodes_a=_nodes(a),
        nodes_b=_nodes(b),
        score=0.1,
    )


def _type_mismatch(a: ModelDescription, b: ModelDescription) -> Finding:
    oa, ob = a.optimizer, b.optimizer
    assert oa is not None and ob is not None
    ta, tb = oa.type, ob.type
    return Finding(
        id="optimizer.type_mismatch",
        severity="critical",
        title=f"Different optimizers: {ta} vs {tb}",
        detail=(
            "The weights are updated by different algorithms, which changes convergence speed "
            "and the solution reached.\n"
            f"A: {ta} (from {oa.source.label}){_settings(oa.hparams)}.\n"
            f"B: {tb} (from {ob.source.label}){_settings(ob.hparams)}."
        ),
        a={"type": ta, **oa.hparams, "source": oa.source.label},
        b={"type": tb, **ob.hparams, "source": ob.source.label},
        nodes_a=_nodes(a),
        nodes_b=_nodes(b),
        score=0.8,
        verdict=f"the runs use different optimizers ({{a}}: {ta}, {{b}}: {tb})",
        fix=f"{ta} in {{b}} too, with {{a}}'s settings",
    )


def _decay_mode(
    a: ModelDescription, b: ModelDescription, diffs: dict[str, tuple[Any, Any]]
) -> Finding | None:
    """Weight decay applied in different ways (decoupled in one run, added to the gradient in
    the other): one finding in plain words, taking both weight-decay differences."""
    if not all(k in diffs for k in _WD):
        return None
    (da, db), (ca, cb) = diffs.pop("weight_decay"), diffs.pop("coupled_weight_decay")
    coupled_side = "B" if cb else "A"
    wd = cb or ca
    dec = db if coupled_side == "A" else da
    same = _close(wd, dec)
    title = (
        f"Weight decay {fmt_num(wd)} is applied differently: decoupled (AdamW style) in "
        f"{'A' if coupled_side == 'B' else 'B'}, added to the gradient (L2) in {coupled_side}"
    )
    detail = (
        f"{'The same number means different things. ' if same else ''}Decoupled weight "
        "decay (Keras 3 optimizers' weight_decay, torch.optim.AdamW) shrinks every weight by "
        f"lr * wd after the update; PyTorch's Adam/SGD weight_decay adds wd * w to the "
        f"gradient before the adaptive scaling, so with Adam the decay of weights with large "
        f"gradients is much weaker. To reproduce the decoupled run in PyTorch use "
        f"torch.optim.AdamW(weight_decay={fmt_num(dec or wd)}); for the coupled one in Keras "
        f"use a kernel_regularizer L2({fmt_num(wd / 2)}) (= wd / 2)."
    )
    where = f" Values from: A {_where(a, list(_WD))}; B {_where(b, list(_WD))}."
    return Finding(
        id="optimizer.hparam_mismatch",
        severity="critical",
        title=title,
        detail=detail + where,
        a={"weight_decay": da, "coupled_weight_decay": ca},
        b={"weight_decay": db, "coupled_weight_decay": cb},
        nodes_a=_nodes(a, list(_WD)),
        nodes_b=_nodes(b, list(_WD)),
        score=0.5 + (0.1 if same else 0.0),
        verdict=f"weight decay is decoupled in one run and coupled (L2) in the other "
        f"(wd={fmt_num(wd)})",
        fix=f"decoupled weight decay in {{{coupled_side.lower()}}} too (torch.optim.AdamW("
        f"weight_decay={fmt_num(dec or wd)}) instead of Adam(weight_decay=...))",
    )


def _settings(hparams: dict[str, Any]) -> str:
    """' with learning_rate=0.001, beta1=0.9' (empty when none were read)."""
    return (" with " + ", ".join(f"{k}={v}" for k, v in hparams.items())) if hparams else ""


def _hparam_findings(a: ModelDescription, b: ModelDescription) -> list[Finding]:
    diffs = _diffs(a, b)
    if None not in diffs.get("decay", (None,)):
        del diffs["decay"]  # its effect over the run's updates is graded by `lr_schedule`
    mode = _decay_mode(a, b, diffs)
    tiny = {
        k: v
        for k, v in diffs.items()
        if k == "epsilon"
        and None not in v
        and max(abs(float(v[0])), abs(float(v[1]))) < _TINY_EPSILON
    }
    unknown = {k: v for k, v in diffs.items() if k not in tiny and None in v}
    real = {k: v for k, v in diffs.items() if k not in tiny and k not in unknown}
    typ = (a.optimizer and a.optimizer.type) or (b.optimizer and b.optimizer.type) or "optimizer"
    found = []
    for group, sev in ((real, "critical"), (unknown, "warning"), (tiny, "benign")):
        if group:
            found.append(_hparam_finding(a, b, typ, group, sev))
    return ([mode] if mode else []) + found


def _hparam_finding(
    a: ModelDescription,
    b: ModelDescription,
    typ: str,
    group: dict[str, tuple[Any, Any]],
    sev: str,
) -> Finding:
    keys = list(group)
    text = ", ".join(f"{k} {va} vs {vb}" for k, (va, vb) in group.items())
    where = f" Values from: A {_where(a, keys)}; B {_where(b, keys)}."
    if sev == "critical":
        title = f"{typ} hyper-parameters differ: {text}"
        detail = (
            "Same optimizer, different settings: the step size / averaging of the updates "
            "(or the batch size and number of epochs) differs, so training follows a different "
            "trajectory."
        )
        score = max(_score(k, *v) for k, v in group.items())
    elif sev == "warning":
        title = f"{typ} hyper-parameters not readable on one side: {text}"
        detail = (
            "A value is computed, fed or captured at run time (schedule, placeholder, TF2 "
            "function) in one run, so the logs alone cannot tell whether the settings match; "
            "pass --feed or record it as an hparam."
        )
        score = 0.3
    else:
        (va, vb) = group["epsilon"]
        title = f"{typ} epsilon differs: {va} vs {vb} (numerically negligible)"
        detail = (
            "Epsilon only guards the division by the second-moment estimate; values this small "
            "(e.g. Keras' 1e-7 vs the 1e-8 default of tf.train and PyTorch) do not change "
            "training noticeably."
        )
        score = 0.05
    f = Finding(
        id="optimizer.hparam_mismatch",
        severity=sev,
        title=title,
        detail=detail + where,
        a={k: v[0] for k, v in group.items()},
        b={k: v[1] for k, v in group.items()},
        nodes_a=_nodes(a, keys),
        nodes_b=_nodes(b, keys),
        score=score,
    )
    if sev == "critical" and _LR in group and None not in group[_LR]:
        la, lb = group[_LR]
        f.verdict = f"the learning rates differ ({{a}}: {la:g}, {{b}}: {lb:g})"
    if sev == "critical":
        same = ", ".join(f"{k}={va}" for k, (va, _) in group.items() if va is not None)
        f.fix = f"the same settings in {{b}} as in {{a}} ({same})" if same else ""
    return f


def _implementation(a: ModelDescription, b: ModelDescription) -> Finding | None:
    oa, ob = a.optimizer, b.optimizer
    if oa is None or ob is None or oa.source.origin != ob.source.origin:
        return None
    ia, ib = oa.implementation, ob.implementation
    if ia == ib or ia is None or ib is None:
        return None
    how = (
        "Both graphs run the same update rule (same kernel op and values); only how the "
        "hyper-parameters are stored differs (constants vs Keras variables)."
        if oa.source.origin == "graph"
        else "Both runs configure the same optimizer with the same values; one wraps it "
        "differently (e.g. a LossScaleOptimizer for mixed precision), which does not change "
        "the update rule."
    )
    return Finding(
        id="optimizer.implementation",
        severity="info",
        title=f"Same {oa.type} optimizer, different implementation: {ia} vs {ib}",
        detail=how,
        a={"implementation": ia, "apply_op": oa.update_ops[0] if oa.update_ops else None},
        b={"implementation": ib, "apply_op": ob.update_ops[0] if ob.update_ops else None},
        nodes_a=_nodes(a),
        nodes_b=_nodes(b),
        score=0.0,
    )


def _recorded(d: ModelDescription) -> ModelDescription:
    """`d` without an optimizer known only from a logged learning-rate curve (no type, no
    settings): for this detector that run records no optimizer."""
    if d.optimizer is None or d.optimizer.recorded:
        return d
    return dataclasses.replace(d, optimizers=d.optimizers[1:])


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    a, b = _recorded(a), _recorded(b)
    oa, ob = a.optimizer, b.optimizer
    if oa is None and ob is None:
        return _hparam_findings(a, b)  # batch size / epochs recorded without an optimizer
    if oa is None or ob is None:
        return [_missing(a, b), *_hparam_findings(a, b)]
    ta, tb = (
        _SAME_ALGORITHM.get(oa.type or "", oa.type),
        _SAME_ALGORITHM.get(ob.type or "", ob.type),
    )
    if ta and tb and ta != tb:
        return [_type_mismatch(a, b)]
    impl = _implementation(a, b)
    return _hparam_findings(a, b) + ([impl] if impl else [])


def inspect(d: ModelDescription) -> str | None:
    """'adam (learning_rate=0.001, beta1=0.9) [graph]; batch_size=100, epochs=30 [hparams]'."""
    parts = []
    o = _recorded(d).optimizer
    if o is not None:
        shown, defaults = [], {}
        for k, v in o.hparams.items():
            if v is None:
                continue
            src = o.sources.get(k, o.source)
            if src.origin == "default":  # listed once, after what the run recorded
                defaults.setdefault(src.label, []).append(f"{k}={fmt_num(v)}")
                continue
            tag = f" [{src.label}]" if src.origin != o.source.origin or not o.type else ""
            shown.append(f"{k}={fmt_num(v)}{tag}")
        shown += [f"{', '.join(v)} [{label}]" for label, v in defaults.items()]
        hp = f" ({', '.join(shown)})" if shown else ""
        if o.type:
            parts.append(f"{o.type}{hp} [{o.source.label}]")
        else:
            parts.append(f"type not recorded{hp}")
    if d.training.values:
        vals = ", ".join(f"{k}={fmt_num(v)}" for k, v in sorted(d.training.values.items()))
        labels = sorted({s.label for s in d.training.sources.values()})
        parts.append(f"{vals} [{', '.join(labels)}]")
    return "; ".join(parts) or None
