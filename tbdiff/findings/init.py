"""Weight initialisers of every trainable layer (kernel and bias).

Initialisers are invisible in TensorBoard's graph view, yet a N(0, 1) bias vs a zero bias, or a
±0.05 uniform kernel vs Glorot, changes where training starts. The front-ends read each layer's
`Init` (from the initial-value subgraph of an op graph, or the Keras config) and name kernels by
the variance-scaling rule they match for their own shape, so models of different width or depth
compare by rule.
"""

from __future__ import annotations

import math

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model.description import Init, Layer, ModelDescription

NAME = "init"
LABEL = "init"


def inspect(d: ModelDescription) -> str | None:
    labels = []
    sources: set[str] = set()
    for layer in d.weight_layers:
        k, b = layer.kernel_init, layer.bias_init
        sources |= {i.source.label for i in (k, b) if i is not None and i.known}
        labels.append(f"{layer.name}: kernel {k.label if k else '?'}, bias {b.label if b else '?'}")
    if not labels or not sources:  # graphs without initial values say nothing useful here
        return None
    tag = f" [{', '.join(sorted(sources))}]"
    if len(labels) > 2:  # identical families on every layer are the common case: keep it short
        return f"{labels[0]}; ... ({len(labels)} layers){tag}"
    return "; ".join(labels) + tag


def _init(layer: Layer, role: str) -> Init | None:
    return layer.kernel_init if role == "kernel" else layer.bias_init


def _same(x: Init | None, y: Init | None) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if "unknown" in (x.family, y.family):
        return True  # not readable on one side (e.g. TF2 function graph): cannot tell
    if x.rule and x.rule == y.rule:
        return True
    if x.family != y.family or set(x.params) != set(y.params):
        return False
    return all(
        math.isclose(float(x.params[k]), float(y.params[k]), rel_tol=1e-3, abs_tol=1e-7)
        for k in x.params
    )


def _text(d: Init | None) -> str | None:
    return None if d is None else d.text


def _key(layer: Layer) -> str:
    return f"layer{layer.index}" + (f" ({layer.name})" if layer.name else "")


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    la, lb = a.weight_layers, b.weight_layers
    if not la or not lb:
        return []
    if len(la) == len(lb):
        pairs = list(zip(la, lb, strict=True))
    else:  # depth differs (reported by layers): compare the rule used per role instead
        pairs = []
        for role in ("kernel", "bias"):
            sa = {_rule_or_label(_init(x, role)) for x in la}
            sb = {_rule_or_label(_init(y, role)) for y in lb}
            if sa != sb:
                pairs = [(la[0], lb[0]), (la[-1], lb[-1])]
    fa: dict[str, dict] = {}
    fb: dict[str, dict] = {}
    na: list[str] = []
    nb: list[str] = []
    roles_seen: set[str] = set()
    for x, y in pairs:
        roles = [r for r in ("kernel", "bias") if not _same(_init(x, r), _init(y, r))]
        if not roles:
            continue
        roles_seen.update(roles)
        fa[_key(x)] = {r: _text(_init(x, r)) for r in roles}
        fb[_key(y)] = {r: _text(_init(y, r)) for r in roles}
        for r in roles:
            na += (_init(x, r) or Init("unknown")).nodes[-1:]
            nb += (_init(y, r) or Init("unknown")).nodes[-1:]
    if not fa:
        return []
    src = provenance(
        (i.source for x in la for i in (x.kernel_init, x.bias_init) if i is not None),
        (i.source for y in lb for i in (y.kernel_init, y.bias_init) if i is not None),
    )
    first_a, first_b = next(iter(fa.values())), next(iter(fb.values()))
    summary = "; ".join(f"{r} {first_a[r]} vs {first_b[r]}" for r in first_a)
    defaults = sorted(
        {
            i.source.where
            for x, y in pairs
            for i in (x.kernel_init, x.bias_init, y.kernel_init, y.bias_init)
            if i is not None and i.source.origin == "default"
        }
    )
    return [
        Finding(
            id="init.mismatch",
            severity="warning" if defaults else "critical",
            title=f"Different initialisers in {len(fa)} layer(s) ({'/'.join(sorted(roles_seen))}): "
            f"{summary}" + (f" (framework defaults: {', '.join(defaults)})" if defaults else ""),
            detail=(
                "Training starts from differently distributed weights; this changes early "
                "training and can change the final accuracy (e.g. N(0,1) biases vs zeros, a "
                f"fixed uniform range vs Glorot scaled by the layer's fan-in/out).{src}"
                + (_DEFAULTS_NOTE if defaults else "")
            ),
            a=fa,
            b=fb,
            nodes_a=na[:12],
            nodes_b=nb[:12],
            score=0.3,
            fix=_default_fix(la, lb) if defaults else "",
        )
    ]


def _default_fix(la: list[Layer], lb: list[Layer]) -> str:
    """Re-initialise the side whose initialisers are only PyTorch's defaults like Keras'."""
    side = (
        "{a}"
        if any(x.kernel_init and x.kernel_init.source.origin == "default" for x in la)
        else "{b}"
    )
    return (
        f"nn.init.xavier_uniform_(weight) and nn.init.zeros_(bias) for every Linear in {side} "
        "(Keras' glorot_uniform and zeros)"
    )


_DEFAULTS_NOTE = (
    " Some of these are framework defaults the log does not show being overridden: PyTorch's "
    "nn.Linear/nn.Conv start from weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) "
    "(kaiming_uniform_(a=sqrt(5))), Keras' Dense from glorot_uniform kernels and zero biases. "
    "A port that keeps both defaults starts from different weights; re-initialise one side "
    "(e.g. nn.init.xavier_uniform_ and zeros_) to match, unless the program already does."
)


def _rule_or_label(d: Init | None) -> str | None:
    return None if d is None else d.rule_or_label
