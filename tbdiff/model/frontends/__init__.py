"""Front-ends: one module (or sub-package) per kind of source a run can record.

A front-end module provides
    NAME: str
    describe(inputs: RunInputs) -> ModelDescription | None   # what this source says, or None
and, if it reads graphs (what alignment works on),
    handles(g: nx.MultiDiGraph) -> bool                     # this graph is mine
    layers(g: nx.MultiDiGraph) -> list[Layer]                # every layer of it, data-path order

Adding a front-end = writing the module and listing it in `FRONTENDS` below. The order is the
precedence of facts: when two sources state the same fact, the earlier front-end's wins (an op
graph is more precise than a config, a config than recorded hparams). A run's graph goes to the
first front-end whose `handles` claims it, and only to that one (the others see the run without
it), so a specific op-graph reader (e.g. PyTorch `aten::` graphs) goes before `tf_graph`, which
accepts any op graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tbdiff.model.frontends import hparams, keras_config, scalars, tf_graph, torch_graph

if TYPE_CHECKING:
    import networkx as nx

    from tbdiff.model.description import Layer, ModelDescription
    from tbdiff.model.inputs import RunInputs


class Frontend(Protocol):
    NAME: str

    def describe(self, inputs: RunInputs) -> ModelDescription | None: ...


class GraphFrontend(Frontend, Protocol):
    def handles(self, g: nx.MultiDiGraph) -> bool: ...

    def layers(self, g: nx.MultiDiGraph) -> list[Layer]: ...


FRONTENDS: tuple[Frontend, ...] = (torch_graph, tf_graph, keras_config, hparams, scalars)


def graph_owner(g: nx.MultiDiGraph) -> GraphFrontend | None:
    """The front-end that reads graph `g` (the first in `FRONTENDS` that claims it)."""
    for fe in FRONTENDS:
        handles = getattr(fe, "handles", None)
        if handles is not None and handles(g):
            return fe  # type: ignore[return-value]
    return None
