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
from tbdiff.model.description import SampleWeightInput, SampleWeights


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


def sample_weights(g: nx.MultiDiGraph) -> SampleWeights:
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
    weighting = "placeholder" if found else ("constant" if constants else "none")
    return SampleWeights(weighting=weighting, placeholders=found, constants=constants)
