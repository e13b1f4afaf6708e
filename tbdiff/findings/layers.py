"""Trainable layers and their activations: count, weight shapes, activation per layer.

"The same MLP" built twice can silently differ in depth, width or non-linearity, each of which
changes what the model can learn. The front-ends find layers along the data path (raw
`tf.matmul + tf.add + tf.nn.relu` and a Keras `Dense(activation="relu")` give the same layer) or
in a Keras config. An output softmax whose *pre-activation* feeds a cross-entropy-with-logits
loss trains exactly like a linear output + logits loss (`Layer.trained_activation`), so it is
reported as benign, not as an activation difference.
"""

from __future__ import annotations

from typing import Any

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model.description import Layer, ModelDescription

NAME = "layers"
LABEL = "layers"


def inspect(d: ModelDescription) -> str | None:
    layers = d.weight_layers
    if not layers:
        return None
    parts = [f"{x.name} {x.kind} {x.shape} {x.activation or 'linear'}" for x in layers]
    sources = sorted({x.source.label for x in layers})
    filled = sorted({f"{k} from {s.label}" for x in layers for k, s in x.filled.items()})
    tag = ", ".join(sources + filled)
    return f"{len(layers)} trainable: " + "; ".join(parts) + f" [{tag}]"


def _desc(layer: Layer) -> str:
    return f"{layer.kind} {layer.shape}"


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    la, lb = a.weight_layers, b.weight_layers
    if not la or not lb:
        return []  # no layers recognised on one side (e.g. no graph ops): not comparable
    src = provenance((x.source for x in la), (y.source for y in lb))
    if len(la) != len(lb):
        return [_count_mismatch(la, lb, src)]  # per-layer pairing is meaningless then
    return _shape_findings(la, lb, src) + _activation_findings(la, lb, src)


def _count_mismatch(la: list[Layer], lb: list[Layer], src: str) -> Finding:
    return Finding(
        id="layer.count_mismatch",
        severity="critical",
        title=f"Different number of trainable layers: {len(la)} vs {len(lb)}",
        detail=(
            "The two models do not have the same depth, so they have different capacity "
            "and optimisation behaviour. Layers in data-path order:\n"
            f"A: {'; '.join(_desc(x) for x in la)}.\n"
            f"B: {'; '.join(_desc(x) for x in lb)}.{src}"
        ),
        a={"count": len(la), "shapes": [x.shape for x in la]},
        b={"count": len(lb), "shapes": [x.shape for x in lb]},
        nodes_a=[x.kernel for x in la],
        nodes_b=[x.kernel for x in lb],
        score=min(1.0, 0.5 + 0.1 * abs(len(la) - len(lb))),
    )


def _shape_findings(la: list[Layer], lb: list[Layer], src: str) -> list[Finding]:
    found: list[Finding] = []
    shape_diffs = [
        (x, y)
        for x, y in zip(la, lb, strict=True)
        if not _same_shape(x.shape, y.shape)
        or (x.bias is None) != (y.bias is None)
        or not _same_shape(x.bias_shape, y.bias_shape)
    ]
    if shape_diffs:
        pairs = ", ".join(f"layer {x.index}: {x.shape} vs {y.shape}" for x, y in shape_diffs)
        found.append(
            Finding(
                id="layer.shape_mismatch",
                severity="critical",
                title=f"Different weight shapes in {len(shape_diffs)} layer(s): {pairs}",
                detail=(
                    "Layers at the same depth have different widths (units) or kernel shapes, "
                    f"so the models have different capacity.{src}"
                ),
                a={x.name or str(x.index): _shape_facts(x) for x, _ in shape_diffs},
                b={y.name or str(y.index): _shape_facts(y) for _, y in shape_diffs},
                nodes_a=[x.kernel for x, _ in shape_diffs],
                nodes_b=[y.kernel for _, y in shape_diffs],
                score=0.4 + 0.05 * len(shape_diffs),
            )
        )
    return found


def _activation_findings(la: list[Layer], lb: list[Layer], src: str) -> list[Finding]:
    found: list[Finding] = []
    act_diffs = [(x, y) for x, y in zip(la, lb, strict=True) if x.activation != y.activation]
    real = [(x, y) for x, y in act_diffs if x.trained_activation != y.trained_activation]
    folded = [p for p in act_diffs if p not in real]
    if real:
        pairs = ", ".join(f"layer {x.index}: {x.activation} vs {y.activation}" for x, y in real)
        found.append(
            Finding(
                id="activation.mismatch",
                severity="critical",
                title=f"Different activation functions: {pairs}",
                detail=(
                    "The non-linearity applied after these layers differs, which changes what "
                    f"the network computes and how gradients flow.{src}"
                ),
                a={x.name or str(x.index): x.trained_activation for x, _ in real},
                b={y.name or str(y.index): y.trained_activation for _, y in real},
                nodes_a=[x.activation_op or x.bias_op or x.op for x, _ in real],
                nodes_b=[y.activation_op or y.bias_op or y.op for _, y in real],
                score=0.5 + 0.05 * len(real),
            )
        )
    if folded:
        # both train a softmax, one in the model, one in its loss (PyTorch CrossEntropyLoss):
        # written differently, same effect
        in_loss = all(x.trained_activation != "linear" for p in folded for x in p)
        found.append(
            Finding(
                id="activation.mismatch",
                severity="info" if in_loss else "benign",
                title="Output softmax in one model, in the other model's loss (same function)"
                if in_loss
                else "Output softmax in one model only, but its loss uses the logits",
                detail=(
                    "One model ends in a Softmax layer, the other is linear and its loss "
                    "applies the softmax itself (cross-entropy on logits), so both train the "
                    "same function."
                    if in_loss
                    else "One model ends in a Softmax layer, the other is linear; the loss of "
                    "the softmax model is computed from the pre-softmax logits, so training is "
                    "the same and the softmax only affects predictions (argmax unchanged)."
                ),
                a={x.name or str(x.index): x.activation for x, _ in folded},
                b={y.name or str(y.index): y.activation for _, y in folded},
                nodes_a=[x.activation_op or x.bias_op or x.op for x, _ in folded],
                nodes_b=[y.activation_op or y.bias_op or y.op for _, y in folded],
                score=0.1,
            )
        )
    return found


def _same_shape(a: list | None, b: list | None) -> bool:
    """Equal shapes; an unknown shape or dimension (None: a traced function graph, a Keras
    config) matches any."""
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def _shape_facts(layer: Layer) -> dict[str, Any]:
    return {
        "units": layer.units,
        "kernel_shape": layer.shape,
        "bias_shape": layer.bias_shape,
    }
