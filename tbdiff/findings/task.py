"""What the two models are for: evidently different models, not two versions of one.

tbdiff explains why two runs of "the same" model behave differently. Pointed at two unrelated
models (a regression network and a 10-class classifier, say) every detector still finds
differences, and the first of them (a dropout layer, a depth) would read as the explanation.
This detector looks at what two versions of one model share however they were written (raw TF
vs Keras, Keras vs PyTorch): the task (classification or regression, from the output activation,
the loss family and the metrics), the number of outputs, the number of inputs of the first
layer, and most weight layers pairing in data-path order with the same kind and shape. When at
least two of these differ, the runs look like different models and this finding comes first:
critical, so the exit code says the comparison is not one of two versions of a model (a CI gate
pointed at an unrelated run must not pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model import names as N
from tbdiff.model.description import Layer, ModelDescription

NAME = "task"
LABEL = "task"

#: how many independent kinds of evidence must differ before two models count as different
MIN_EVIDENCE = 2
#: share of the larger model's weight layers that must pair with the same kind and shape
MIN_SHARED_LAYERS = 0.5
#: ranks first among critical findings (the others score at most ~1.3 after re-ranking)
_SCORE = 3.0
_SQUASH = ("softmax", "sigmoid")


def inspect(d: ModelDescription) -> str | None:
    return None  # "different models" is a two-run notion; the layers line shows the model


@dataclass(frozen=True)
class Shape:
    """The facts about one model that two versions of it share."""

    task: str | None  # classification | regression | None (cannot tell)
    outputs: int | None
    inputs: int | None  # fan-in of the first weight layer (channels for a convolution)
    first_family: str | None
    activation: str | None  # of the output layer
    loss: str | None
    layers: list[Layer]

    @property
    def short(self) -> str:
        """'a regression model (1 output, mean squared error)', 'a 10-class classifier
        (softmax output)'."""
        n = self.outputs
        loss = self.loss.replace("_", " ") if self.loss else None
        if self.task == "regression":
            what = ", ".join(x for x in (_outputs(n), loss) if x)
            return f"a regression model ({what})" if what else "a regression model"
        if self.task == "classification":
            if n == 1 or self.activation == "sigmoid":
                return f"a binary classifier ({_outputs(n) or self.activation or 'output'})"
            kind = f"{n}-class classifier" if n else "classifier"
            how = f"{self.activation} output" if self.activation in _SQUASH else loss
            return f"a {kind} ({how})" if how else f"a {kind}"
        return f"a model with {_outputs(n)}" if n else "a model"


def _outputs(n: int | None) -> str:
    return "" if n is None else f"{n} output{'s' if n != 1 else ''}"


def shape_of(d: ModelDescription) -> Shape:
    layers = d.weight_layers
    first, last = (layers[0], layers[-1]) if layers else (None, None)
    loss = d.loss.kind if d.loss else None
    return Shape(
        task=_task(d, last.activation if last else None, loss),
        outputs=last.units if last else None,
        inputs=_fan_in(first),
        first_family=first.family if first else None,
        activation=last.activation if last else None,
        loss=loss,
        layers=layers,
    )


def _task(d: ModelDescription, activation: str | None, loss: str | None) -> str | None:
    """classification: a softmax/sigmoid output, a cross-entropy-like loss or an accuracy metric;
    regression: a regression loss or metric and none of those; None: nothing says."""
    metrics = [(m.computes or m.name).lower() for m in d.metrics]
    loss_task = N.LOSS_TASKS.get(loss or "")
    if activation in _SQUASH or loss_task == "classification" or any("acc" in m for m in metrics):
        return "classification"
    if loss_task == "regression" or any(m in N.REGRESSION_METRICS for m in metrics):
        return "regression"
    return None


def _fan_in(layer: Layer | None) -> int | None:
    """Inputs of a dense layer ([in, out]), input channels of a convolution ([..., in, out])."""
    if layer is None or not layer.shape or len(layer.shape) < 2:
        return None
    value = layer.shape[-2]
    return value if isinstance(value, int) else None


def shared_layers(la: list[Layer], lb: list[Layer]) -> int:
    """Weight layers that pair in data-path order with the same kind and shape (an unknown
    dimension matches any)."""
    from tbdiff.align import align_layers  # networkx/numpy: only when two models are compared

    return sum(
        1
        for x, y in align_layers(la, lb)
        if x is not None and y is not None and x.family == y.family and _same(x.shape, y.shape)
    )


def _same(a: list | None, b: list | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def evidence(sa: Shape, sb: Shape) -> list[str]:
    """Each kind of evidence that the two models differ, in words ('outputs 1 vs 10')."""
    found: list[str] = []
    if sa.task and sb.task and sa.task != sb.task:
        found.append(f"task {sa.task} vs {sb.task}")
    if sa.outputs and sb.outputs and sa.outputs != sb.outputs:
        found.append(f"outputs {sa.outputs} vs {sb.outputs}")
    same_first = sa.first_family == sb.first_family
    if same_first and sa.inputs and sb.inputs and sa.inputs != sb.inputs:
        found.append(f"inputs of the first {sa.first_family} layer {sa.inputs} vs {sb.inputs}")
    most = max(len(sa.layers), len(sb.layers))
    if sa.layers and sb.layers:
        shared = shared_layers(sa.layers, sb.layers)
        if shared < MIN_SHARED_LAYERS * most:
            found.append(f"{shared} of {most} weight layers pair with the same kind and shape")
    return found


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    sa, sb = shape_of(a), shape_of(b)
    found = evidence(sa, sb)
    if len(found) < MIN_EVIDENCE:
        return []
    return [_different_models(sa, sb, found, a, b)]


def _layers_text(s: Shape, limit: int = 4) -> str:
    parts = [f"{x.kind} {x.shape}" for x in s.layers[:limit]]
    if len(s.layers) > limit:
        parts.append(f"... ({len(s.layers)} weight layers, last {s.layers[-1].shape})")
    out = "; ".join(parts) or "no weight layers recognised"
    if s.activation in _SQUASH:
        out += f" ({s.activation} output)"
    return out + (f"; {s.loss.replace('_', ' ')} loss" if s.loss else "; no loss recorded")


def _facts(s: Shape) -> dict[str, Any]:
    return {
        "task": s.task,
        "outputs": s.outputs,
        "inputs": s.inputs,
        "weight_layers": len(s.layers),
        "loss": s.loss,
    }


def _different_models(
    sa: Shape, sb: Shape, found: list[str], a: ModelDescription, b: ModelDescription
) -> Finding:
    src = provenance((x.source for x in sa.layers), (y.source for y in sb.layers))
    return Finding(
        id="model.unrelated",
        severity="critical",
        title=f"These look like different models: A is {sa.short}, B {sb.short}",
        detail=(
            f"Evidence: {'; '.join(found)}.\n"
            f"A: {_layers_text(sa)}.\n"
            f"B: {_layers_text(sb)}.\n"
            "Two versions of one model share their task, inputs, outputs and most layers, "
            "however they are written; these do not, so the differences below compare parts "
            "of two different models and do not explain why the runs behave differently, and "
            "their curves measure different things. Check that the paths name two runs of the "
            f"same model.{src}"
        ),
        a=_facts(sa),
        b=_facts(sb),
        nodes_a=[x.kernel for x in sa.layers if x.kernel][-1:],
        nodes_b=[y.kernel for y in sb.layers if y.kernel][-1:],
        score=_SCORE,
        verdict=f"{{a}} and {{b}} look like different models, not two versions of one: {{a}} is "
        f"{sa.short}, {{b}} {sb.short}; no difference between them explains their curves",
        losses_differ=True,
        fix="compare {a} with a run of the same model",
    )
