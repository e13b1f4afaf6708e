"""Stale layers: a graph that holds layers the logged training step does not train.

Several Keras models built in one TF1 session without `clear_session()` (a common hparams-search
pattern) all end up in the graph the TensorBoard callback logs. Their layers are not connected
to the trained loss and are not part of the model: the front-end sets them apart
(`ModelDescription.stale_layers`), every other detector compares the model that was trained,
and this one says so.
"""

from __future__ import annotations

from typing import Any

from tbdiff.findings.base import Context, Finding
from tbdiff.model.description import Layer, ModelDescription

NAME = "graph"
LABEL = "stale layers"


def _names(layers: list[Layer]) -> list[str]:
    return [x.name for x in layers]


def _side(d: ModelDescription) -> dict[str, Any]:
    return {
        "stale_layers": _names(d.stale_layers),
        "trained_layers": _names(d.weight_layers),
    }


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    if not a.stale_layers and not b.stale_layers:
        return []
    parts = []
    for side, d in (("A", a), ("B", b)):
        if d.stale_layers:
            parts.append(
                f"{side}'s graph holds {len(d.stale_layers)} layer(s) that are not connected to "
                f"the loss it trains ({', '.join(_names(d.stale_layers))}), typically left by "
                "an earlier model built in the same session without clear_session()"
            )
    who = " and ".join(s for s, d in (("A", a), ("B", b)) if d.stale_layers)
    n = len(a.stale_layers) + len(b.stale_layers)
    return [
        Finding(
            id="graph.stale_layers",
            severity="info",
            title=f"{who}: {n} layer(s) not connected to the trained loss (not part of the model)",
            detail="; ".join(parts) + ". They take no part in training, so tbdiff compares only "
            "the layers upstream of the trained loss (counts, shapes, dropout, init ...).",
            a=_side(a),
            b=_side(b),
            nodes_a=[x.kernel or x.name for x in a.stale_layers][:8],
            nodes_b=[x.kernel or x.name for x in b.stale_layers][:8],
            score=0.05,
        )
    ]


def inspect(d: ModelDescription) -> str | None:
    if not d.stale_layers:
        return None
    return f"{', '.join(_names(d.stale_layers))}: not connected to the trained loss (ignored)"
