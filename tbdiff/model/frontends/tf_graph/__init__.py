"""Front-end for TensorFlow op graphs: TF1 GraphDef/MetaGraphDef and TF2 function graphs.

tbdiff.graph inlines function libraries (Keras train functions, `tf.function` steps, If/While
bodies) into one flat graph, so TF1 and TF2 graphs are read by the same op patterns: one module
per concept in this package, assembled into a `ModelDescription` here. Every fact it states
comes from the graph (`Source("graph")`); values fed to placeholders come from `--feed` or the
recorded hparams (`RunInputs.fed_value`) and say so.
"""

from __future__ import annotations

import dataclasses

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Layer, Loss, ModelDescription
from tbdiff.model.frontends.tf_graph import dropout as D
from tbdiff.model.frontends.tf_graph import init as I
from tbdiff.model.frontends.tf_graph import loss as LS
from tbdiff.model.frontends.tf_graph import metrics as M
from tbdiff.model.frontends.tf_graph import normalization as NZ
from tbdiff.model.frontends.tf_graph import optimizer as OPT
from tbdiff.model.frontends.tf_graph import regularization as R
from tbdiff.model.frontends.tf_graph import sample_weights as SW
from tbdiff.model.frontends.tf_graph import shapes as S
from tbdiff.model.frontends.tf_graph import training as TR
from tbdiff.model.frontends.tf_graph.layers import find_layers
from tbdiff.model.inputs import RunInputs

NAME = "tf_graph"


def handles(g: nx.MultiDiGraph) -> bool:
    """Any op graph (a front-end registered before this one claims graphs it knows better)."""
    return Q.is_op_graph(g)


def layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Every layer of `g`'s model (stale ones included): what alignment pairs."""
    return find_layers(Q.main_unit(g))


def _feeds_logits_loss(g: nx.MultiDiGraph, n: str | None) -> bool:
    """True when tensor `n` (a pre-activation) reaches a *WithLogits loss op directly."""
    if n is None:
        return False
    passes = O.RESHAPES | O.PASS_THROUGH
    return any(Q.op(g, c) in O.XENT_OPS for c in Q.walk_forward(g, n, 4, passes.__contains__))


def _with_model_facts(g: nx.MultiDiGraph, layer: Layer) -> Layer:
    """A (copied) layer with its initialisers and trained activation."""
    if not layer.has_weights:
        return layer
    if layer.kernel:
        k = I.describe(g, layer.kernel)
        k.rule = I.rule(k, layer.shape)
        layer.kernel_init = k
    if layer.bias:
        layer.bias_init = I.describe(g, layer.bias)
    folded = layer.activation == "softmax" and _feeds_logits_loss(g, layer.bias_op or layer.op)
    layer.trained_activation = "linear" if folded else layer.activation
    return layer


def describe(inputs: RunInputs) -> ModelDescription | None:
    if inputs.graph is None or not handles(inputs.graph):
        return None
    g = Q.main_unit(inputs.graph)
    all_layers = [dataclasses.replace(x) for x in find_layers(g)]
    S.fill_kernel_shapes(g, all_layers)  # traced functions record no shapes
    all_layers = [_with_model_facts(g, x) for x in all_layers]
    losses: list[Loss] = LS.losses(g)
    live, stale, losses = TR.trained_model(g, all_layers, losses)
    for k, layer in enumerate(x for x in live if x.has_weights):
        layer.index = k
    stale_dropout = {x.name for x in stale if x.kind == "dropout"}
    sites = [s for s in D.sites(g, inputs) if s.layer not in stale_dropout]
    penalties, decay = R.penalties(g, live)
    found_metrics = M.metrics(g)
    return ModelDescription(
        layers=live,
        stale_layers=stale,
        dropout=sites,
        normalization=NZ.normalizations(g),
        optimizers=OPT.optimizers(g, inputs, live),
        losses=losses,
        trained=Q.has_backward(g),
        penalties=penalties,
        decay=decay,
        metrics=found_metrics,
        wiring=M.wiring(g, found_metrics, sites, live),
        sample_weights=SW.sample_weights(g, losses[0] if losses else None),
        has_ops=True,
        origins=[NAME],
    )
