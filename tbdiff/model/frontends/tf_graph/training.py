"""Which layers the logged training step trains, and which are left over from earlier models.

Several Keras models built in one TF1 session without `clear_session()` (a common hparams-search
pattern) all live in the graph the TensorBoard callback logs. Only the layers upstream of the
trained loss are the model of this run; the others are stale. When the graph holds several
trained losses over disjoint sets of layers (one per model), the model trained last is the one
whose loss was created last (a GraphDef lists nodes in creation order).
"""

from __future__ import annotations

import networkx as nx

from tbdiff.model import query as Q
from tbdiff.model.description import Layer, Loss
from tbdiff.model.index import ancestors, graph_index


def _members(layer: Layer) -> list[str]:
    return layer.variables or layer.anchors


def trained_model(
    g: nx.MultiDiGraph, layers: list[Layer], losses: list[Loss]
) -> tuple[list[Layer], list[Layer], list[Loss]]:
    """(live layers, stale layers, losses of the trained model), all in their original order."""
    if not losses or not Q.has_backward(g) or not layers:
        return layers, [], losses
    ix = graph_index(g)
    reach: list[set[str]] = []  # per loss: names of the layers upstream of it
    for loss in losses:
        if loss.op not in ix.idx:
            reach.append({x.name for x in layers})
            continue
        up = ancestors(ix, [ix.idx[loss.op]])
        reach.append({x.name for x in layers if any(ix.idx.get(m, -1) in up for m in _members(x))})
    chosen = max(range(len(losses)), key=lambda i: ix.idx.get(losses[i].op or "", -1))
    model = set(reach[chosen])
    # losses sharing layers with the chosen one belong to the same model (auxiliary losses)
    keep = [i for i in range(len(losses)) if reach[i] & model or not reach[i]]
    for i in keep:
        model |= reach[i]
    if not model:
        return layers, [], losses
    stale = [x for x in layers if x.name not in model]
    if not any(x.has_weights for x in stale):
        return layers, [], [losses[i] for i in keep]  # one model: nothing is left over
    live = [x for x in layers if x.name in model]
    return live, stale, [losses[i] for i in keep]
