"""The model-semantics layer: what each run's model is, from whatever the run recorded.

    graph (networkx) + Keras config + hparams + --feed  --front-ends-->  ModelDescription

`describe(inputs)` asks every front-end (`model.frontends`) what its source says and merges the
answers with the source of each fact (`model.merge`); `find_layers(g)` gives the layers of one
graph for alignment. Detectors (`tbdiff.findings`) compare two descriptions.

Modules: `description` (the framework-neutral types), `ops` (the op vocabulary), `names`
(optimizer/loss/metric names), `query` (graph queries), `index` (integer adjacency for whole-graph
passes), `inputs` (what a run recorded), `merge`, `frontends/` (one module per source kind).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from tbdiff.model.description import Layer, ModelDescription, Source
from tbdiff.model.frontends import FRONTENDS, graph_owner
from tbdiff.model.inputs import RunInputs
from tbdiff.model.merge import merge

if TYPE_CHECKING:
    import networkx as nx


def describe(inputs: RunInputs) -> ModelDescription:
    """The run's model description, merged from every front-end that has something to say;
    the run's graph is read by the one front-end that owns it."""
    owner = graph_owner(inputs.graph) if inputs.graph is not None else None
    without_graph = dataclasses.replace(inputs, graph=None)
    parts = [fe.describe(inputs if fe is owner else without_graph) for fe in FRONTENDS]
    found = [p for p in parts if p is not None]
    return merge(found) if found else ModelDescription()


def find_layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Every layer of `g` in data-path order, from the front-end that reads this graph."""
    owner = graph_owner(g)
    return owner.layers(g) if owner is not None else []


__all__ = ["Layer", "ModelDescription", "RunInputs", "Source", "describe", "find_layers"]
