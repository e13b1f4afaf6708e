"""Per-example weights of the loss in an op graph.

Keras graphs built by compile()/fit() may carry an ``<output>_sample_weights`` placeholder that
multiplies each example's loss (a plain Placeholder in TF1 Keras, a ``placeholder_with_default``
of ones in tf_keras), or a constant weight when none can be fed.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Loss, SampleWeightInput, SampleWeights

#: ops that hand a traced train step its batch (x, y, sample weights ...)
_DATA_OPS = frozenset({"IteratorGetNext", "IteratorGetNextSync", "OptionalGetValue"})
_PLUMBING = O.RESHAPES | O.PASS_THROUGH | {"BroadcastTo"}


def _feeds_loss(g: nx.MultiDiGraph, n: str) -> bool:
    return any("loss" in d.lower() for d in nx.descendants(g, n))


def _constant_weights(g: nx.MultiDiGraph) -> list[SampleWeightInput]:
    """Keras' `.../weighted_loss/Mul` by a Const: the implicit weight when none can be fed."""
    found = []
    for n, d in g.nodes(data=True):
        if d.get("op") != "Mul" or "weighted_loss" not in n.split("/") or O.is_gradient_node(n):
            continue
        for u in Q.data_inputs(g, n):
            arr = Q.const_array(g, u)
            if arr is not None:
                found.append(
                    SampleWeightInput(
                        node=Q.resolve(g, u),
                        op="Const",
                        output=None,
                        default=arr.reshape(-1).astype(float).tolist()[:8],
                        all_ones=bool(arr.size and np.all(arr == 1.0)),
                    )
                )
    return found


def _source(g: nx.MultiDiGraph, n: str) -> str:
    for _ in range(8):
        if Q.op(g, n) not in _PLUMBING:
            return n
        src = Q.input_at(g, n, 0)
        if src is None:
            return n
        n = src
    return n


def _data_weights(g: nx.MultiDiGraph, loss: Loss | None) -> list[SampleWeightInput]:
    """Per-example loss values multiplied by a tensor of the input batch (Keras 3 and TF2
    train steps: `fit(x, y, sample_weight=w)` hands w to the step with x and y)."""
    if loss is None or loss.op is None or loss.op not in g:
        return []
    found = []
    for c in Q.walk_forward(g, loss.op, 4, _PLUMBING.__contains__):
        if Q.op(g, c) != "Mul":
            continue
        for u in Q.data_inputs(g, c):
            src = _source(g, u)
            fed = Q.op(g, src) in O.FED_INPUTS and g.nodes[src].get("dtype") != "resource"
            if Q.op(g, src) in _DATA_OPS or fed:
                found.append(SampleWeightInput(src, Q.op(g, src), None, None, None))
        break
    return found


def sample_weights(g: nx.MultiDiGraph, loss: Loss | None = None) -> SampleWeights:
    found = []
    for n, d in g.nodes(data=True):
        last = n.rsplit("/", 1)[-1]
        if not last.endswith("sample_weights") or d.get("op") not in O.PLACEHOLDERS:
            continue
        default = Q.placeholder_default(g, n)
        arr = None if default is None else np.asarray(default, dtype=float)
        found.append(
            SampleWeightInput(
                node=n,
                op=str(d.get("op")),
                output=last[: -len("_sample_weights")] or None,
                default=None if arr is None else arr.reshape(-1).tolist()[:8],
                all_ones=None if arr is None else bool(arr.size and np.all(arr == 1.0)),
                feeds_loss=_feeds_loss(g, n),
            )
        )
    constants = _constant_weights(g)
    if not found and not constants:
        data = _data_weights(g, loss)
        if data:
            return SampleWeights(weighting="data", placeholders=data)
    weighting = "placeholder" if found else ("constant" if constants else "none")
    return SampleWeights(weighting=weighting, placeholders=found, constants=constants)
