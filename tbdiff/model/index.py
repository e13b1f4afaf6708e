"""Integer-indexed adjacency of an op graph, for whole-graph passes (layer finding, alignment).

networkx attribute lookups are too slow in hot loops over 100k-node graphs, so passes that visit
every node (ordering along the data path, grouping variables into layers, matching nodes) work on
this compact view. It is built once per graph and shared (memoised on the graph).

Complexity: O(V + E) time and memory.
"""

from __future__ import annotations

import gc
from collections import deque

import networkx as nx

from tbdiff.model import ops as O
from tbdiff.model.query import cached

#: edge kind codes: data and arg edges are data flow (0), control 1, ret (body -> caller) 2
KIND_CODE = {"data": 0, "arg": 0, "control": 1, "ret": 2}


class GraphIndex:
    """Node names, ops, dtypes and in/out edge lists as (node index, port, dst_port, kind)."""

    def __init__(self, g: nx.MultiDiGraph) -> None:
        self.g = g
        self.names: list[str] = list(g.nodes)
        self.idx = idx = {n: i for i, n in enumerate(self.names)}
        data = [d for _, d in g.nodes(data=True)]
        self.op = [d.get("op", "") for d in data]
        self.dtype = [(d.get("dtype") or "").removesuffix("_ref") for d in data]
        n = len(self.names)
        self.ins: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n)]
        self.outs: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n)]
        #: every edge once as (u, v, port, dst_port, kind) for vectorised passes
        self.edges: list[tuple[int, int, int, int, int]] = []
        kind_code = KIND_CODE
        # g._succ: the adjacency dict networkx keeps (u -> v -> key -> attrs); g.edges() is
        # several times slower for multigraphs.
        for u, nbrs in g._succ.items():
            ui = idx[u]
            outs = self.outs[ui]
            for v, keydict in nbrs.items():
                vi = idx[v]
                ins = self.ins[vi]
                for d in keydict.values():
                    try:  # graphs from tbdiff.graph carry all three
                        k, p, dp = kind_code[d["kind"]], d["port"], d["dst_port"]
                    except KeyError:
                        k = 1 if d.get("control") else 0
                        p, dp = d.get("port", 0), d.get("dst_port", 0)
                    ins.append((ui, p, dp, k))
                    outs.append((vi, p, dp, k))
                    self.edges.append((ui, vi, p, dp, k))
        self._depth: list[float] | None = None

    def depth(self) -> list[float]:
        """Longest-path depth over data edges (Kahn's algorithm; loop back edges dropped).

        Longest rather than shortest path because the backward pass reaches every weight in a
        few hops from the labels, while the forward use of layer k always comes after layer
        k-1. No scope names are used, so renamed graphs order the same way. Nodes on a cycle we
        do not know keep the depth reached so far.
        """
        if self._depth is not None:
            return self._depth
        n = len(self.names)
        indeg = [0] * n
        back = O.BACK_EDGE_OPS
        for i in range(n):
            if self.op[i] in back:
                continue
            for w, _p, _dp, k in self.outs[i]:
                if k != 1:
                    indeg[w] += 1
        depth = [0.0] * n
        q = deque(i for i in range(n) if indeg[i] == 0)
        while q:
            u = q.popleft()
            if self.op[u] in back:
                continue
            du = depth[u] + 1
            for w, _p, _dp, k in self.outs[u]:
                if k == 1:
                    continue
                if depth[w] < du:
                    depth[w] = du
                indeg[w] -= 1
                if indeg[w] == 0:
                    q.append(w)
        self._depth = depth
        return depth


def _build(g: nx.MultiDiGraph) -> GraphIndex:
    """The cyclic GC rescans the live graphs every few thousand allocations; building millions
    of small tuples with it paused is about a third faster (nothing here forms cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        return GraphIndex(g)
    finally:
        if was:
            gc.enable()


def graph_index(g: nx.MultiDiGraph) -> GraphIndex:
    """The (memoised) index of `g`."""
    return cached(g, "index", lambda: _build(g))


def ancestors(ix: GraphIndex, starts: list[int]) -> set[int]:
    """Nodes upstream of `starts` along data, arg and ret edges (control edges ignored)."""
    seen: set[int] = set()
    stack = list(starts)
    while stack:
        cur = stack.pop()
        for u, _p, _dp, k in ix.ins[cur]:
            if k != 1 and u not in seen:
                seen.add(u)
                stack.append(u)
    return seen
