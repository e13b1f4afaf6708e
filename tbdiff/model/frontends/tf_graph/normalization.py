"""Normalisation layers of an op graph: batch norm momentum and epsilon (Keras convention)."""

from __future__ import annotations

import networkx as nx

from tbdiff.model.description import Layer, Normalization


def normalizations(g: nx.MultiDiGraph, layers: list[Layer]) -> list[Normalization]:
    return []
