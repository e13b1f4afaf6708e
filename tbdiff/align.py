"""Match the nodes and the layers of two graphs built by :mod:`tbdiff.graph`.

Why not names: two programs that build "the same" model name things differently (raw TF
``VisibleLayer/weights`` vs Keras ``VisibleLayer/kernel``, ``Dropout1`` vs ``dropout/cond``,
``Optimizer/Trainer`` vs ``training/TFOptimizer``).  Names are one signal among several, combined
in the spirit of GumTree / HLO-diff:

1. anchors: exact names with the same op, then unique normalised names (``_N`` suffixes and
   framework prefixes such as ``training/`` stripped, ``weights`` ~ ``kernel``), the variables of
   layers paired by :func:`align_layers`, the random ops of paired dropout layers, and
   placeholders that are unique by (op, dtype, shape);
2. propagation from every match to unmatched neighbours along corresponding edges: same
   input/output port, same op; ties broken by leaf name, by the scope the partner's scope maps
   to (majority vote of matched nodes) and by a structural hash;
3. scope pass: unmatched nodes of corresponding scopes with the same op and leaf name, or the only
   node of that op in the scope;
4. structural hashes (own Weisfeiler-Lehman refinement over in/out edges labelled with ports,
   since networkx's WL hash refuses multigraphs) unique on both sides;
5. a relaxed pass: the single unmatched producer on the same input port of a matched pair is
   the same role even when its op differs (``Add`` vs ``BiasAdd``) -> "changed".

Steps 2-5 repeat until nothing new matches (a few rounds).  Matched pairs whose op, dtype,
shape, constant value or attributes differ are "changed" with readable differences.

Complexity: O(k (V + E) log D) time for the structural hashes (k = 3 rounds, D = max degree),
O((V + E) log D) per propagation round (each matched node scans its edges once), O(V + E) for
names, scopes and layer ordering, and O(La * Lb) for the layer sequence alignment (La, Lb =
number of layers, a few hundred at most; a greedy merge is used above 250,000 cells).
Memory O(V + E).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from tbdiff.model import find_layers
from tbdiff.model import names as N
from tbdiff.model.description import Layer
from tbdiff.model.index import graph_index

# --------------------------------------------------------------------------------------------
# result types
# --------------------------------------------------------------------------------------------


@dataclass
class LayerPair:
    """One layer of A paired with one of B (or unpaired: a or b is None)."""

    a: str | None
    b: str | None
    kind: str  # dense | conv | embedding | batch_norm | layer_norm | norm | dropout | variables
    shape_a: list | None
    shape_b: list | None
    status: str  # matched | changed | only_a | only_b


@dataclass
class Alignment:
    pairs: dict[str, str]
    status_a: dict[str, str]
    status_b: dict[str, str]
    changes: dict[str, list[str]]
    layers: list[LayerPair]
    stats: dict[str, Any] = field(default_factory=dict)  # matches per phase, rounds, seconds

    def counts(self) -> dict[str, int]:
        c = {"matched": 0, "changed": 0, "only_a": 0, "only_b": 0}
        for s in self.status_a.values():
            c[s] += 1
        for s in self.status_b.values():
            if s == "only_b":
                c[s] += 1
        return c

    @property
    def reverse(self) -> dict[str, str]:
        return {b: a for a, b in self.pairs.items()}


# --------------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------------

_SUFFIX = re.compile(r"_\d+$")
#: scope prefixes frameworks put in front of a model's names (optimizer scopes included)
_FRAMEWORK = N.OPTIMIZER_SCOPES | {
    "training",
    "loss",
    "metrics",
    "model",
    "sequential",
    "functional",
    "tfoptimizer",
    "optimizer",
}
_LEAF_SYNONYMS = {
    "weights": "kernel",
    "weight": "kernel",
    "w": "kernel",
    "filter": "kernel",
    "filters": "kernel",
    "biases": "bias",
    "b": "bias",
    "scale": "gamma",
    "offset": "beta",
    "embedding": "embeddings",
}


@functools.lru_cache(maxsize=1 << 16)
def normalise_component(c: str) -> str:
    c = c.lower()
    while True:
        s = _SUFFIX.sub("", c)
        if s == c or not s:
            break
        c = s
    return _LEAF_SYNONYMS.get(c, c)


def normalise_name(name: str) -> str:
    """``training/Adam/dense_1/kernel/m_3`` -> ``dense/kernel/m`` (framework prefixes dropped)."""
    parts = [normalise_component(p) for p in name.split("/")]
    while len(parts) > 1 and parts[0] in _FRAMEWORK:
        parts = parts[1:]
    return "/".join(parts)


def _natural_key(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


# --------------------------------------------------------------------------------------------
# compact indexed view of a graph
# --------------------------------------------------------------------------------------------

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class _View:
    """The graph's shared integer index (`model.index`) plus names and structural hashes."""

    def __init__(self, g: nx.MultiDiGraph) -> None:
        ix = graph_index(g)
        self.g = g
        self.names, self.idx, self.op, self.dtype = ix.names, ix.idx, ix.op, ix.dtype
        self.ins, self.outs = ix.ins, ix.outs
        split = [n.rpartition("/") for n in self.names]
        self.rleaf = [x[2] for x in split]
        self.leaf = [normalise_component(x) for x in self.rleaf]
        self.scope = [x[0] for x in split]
        self.norm = [normalise_name(n) for n in self.names]
        self.wl = self._wl_hashes(ix.edges, 3)

    def _wl_hashes(self, cols: list, rounds: int) -> list[int]:
        """Own WL refinement (vectorised): a node's label is mixed with the multiset of
        (neighbour label, ports, edge kind) over its in- and out-edges, via sums of mixed
        64-bit hashes (order-free, so no sorting)."""
        ops: dict[str, int] = {}
        lab = np.array([ops.setdefault(o, len(ops) + 1) for o in self.op], dtype=np.uint64).reshape(
            -1
        )
        lab = _mix(lab * np.uint64(0x9E3779B97F4A7C15))
        if not cols:
            return lab.tolist()
        e = np.array(cols, dtype=np.int64)
        u, v = e[:, 0], e[:, 1]
        edge_code = _mix(
            (e[:, 2] + 2).astype(np.uint64) * np.uint64(1_000_003)
            + (e[:, 3] + 2).astype(np.uint64) * np.uint64(7919)
            + e[:, 4].astype(np.uint64)
        )
        with np.errstate(over="ignore"):
            for r in range(rounds):
                term_in = _mix(lab[u] ^ edge_code)  # producer label seen by the consumer
                term_out = _mix(lab[v] ^ (edge_code * np.uint64(3)))  # consumer seen by producer
                acc_in = np.zeros_like(lab)
                acc_out = np.zeros_like(lab)
                np.add.at(acc_in, v, term_in)
                np.add.at(acc_out, u, term_out)
                lab = _mix(lab ^ _mix(acc_in + np.uint64(r + 1)) ^ (_mix(acc_out) >> np.uint64(1)))
        return lab.tolist()


# --------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------


def _shapes_equal(a: list | None, b: list | None) -> bool:
    if a is None or b is None:
        return a is b
    if len(a) != len(b):
        return False
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _layer_score(la: Layer, lb: Layer) -> float:
    if la.family != lb.family:
        return -1.0
    s = 2.0 if _shapes_equal(la.shape, lb.shape) else 1.0
    if normalise_name(la.name) == normalise_name(lb.name):
        s += 1.0
    return s


def align_layers(la: list[Layer], lb: list[Layer]) -> list[tuple[Layer | None, Layer | None]]:
    """Order-preserving pairing (sequence alignment maximising kind/shape/name agreement)."""
    n, m = len(la), len(lb)
    if n * m > 250_000:
        return _greedy_layers(la, lb)
    score = np.zeros((n + 1, m + 1))
    sim = np.array([[_layer_score(a, b) for b in lb] for a in la]).reshape(n, m)
    for i in range(1, n + 1):
        row, prev = score[i], score[i - 1]
        for j in range(1, m + 1):
            best = max(prev[j], row[j - 1])
            s = sim[i - 1, j - 1]
            if s > 0:
                best = max(best, prev[j - 1] + s)
            row[j] = best
    out: list[tuple[Layer | None, Layer | None]] = []
    i, j = n, m
    while i > 0 and j > 0:
        s = sim[i - 1, j - 1]
        if s > 0 and score[i, j] == score[i - 1, j - 1] + s:
            out.append((la[i - 1], lb[j - 1]))
            i, j = i - 1, j - 1
        elif score[i, j] == score[i - 1, j]:
            out.append((la[i - 1], None))
            i -= 1
        else:
            out.append((None, lb[j - 1]))
            j -= 1
    out.extend((la[k], None) for k in range(i - 1, -1, -1))
    out.extend((None, lb[k]) for k in range(j - 1, -1, -1))
    out.reverse()
    return out


def _greedy_layers(la: list[Layer], lb: list[Layer]) -> list[tuple[Layer | None, Layer | None]]:
    out: list[tuple[Layer | None, Layer | None]] = []
    i = j = 0
    while i < len(la) and j < len(lb):
        if _layer_score(la[i], lb[j]) > 0:
            out.append((la[i], lb[j]))
            i, j = i + 1, j + 1
        elif j + 1 < len(lb) and _layer_score(la[i], lb[j + 1]) > 0:
            out.append((None, lb[j]))
            j += 1
        else:
            out.append((la[i], None))
            i += 1
    out.extend((x, None) for x in la[i:])
    out.extend((None, y) for y in lb[j:])
    return out


# --------------------------------------------------------------------------------------------
# node matching
# --------------------------------------------------------------------------------------------


class _Matcher:
    def __init__(self, va: _View, vb: _View) -> None:
        self.va, self.vb = va, vb
        self.ma = [-1] * len(va.names)
        self.mb = [-1] * len(vb.names)
        self.queue: deque[tuple[int, int]] = deque()
        self.scope_votes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.stats: dict[str, int] = defaultdict(int)
        self.phase = ""

    def match(self, a: int, b: int) -> bool:
        if self.ma[a] != -1 or self.mb[b] != -1:
            return False
        self.ma[a], self.mb[b] = b, a
        self.queue.append((a, b))
        self.scope_votes[self.va.scope[a]][self.vb.scope[b]] += 1
        self.stats[self.phase] += 1
        return True

    def mapped_scope(self, sa: str) -> str | None:
        votes = self.scope_votes.get(sa)
        if not votes:
            return None
        return max(votes.items(), key=lambda kv: kv[1])[0]

    # -- candidate disambiguation -----------------------------------------------------------
    def pair_candidates(self, la: list[int], lb: list[int]) -> None:
        la = [a for a in dict.fromkeys(la) if self.ma[a] == -1]
        lb = [b for b in dict.fromkeys(lb) if self.mb[b] == -1]
        if not la or not lb:
            return
        if len(la) == 1 and len(lb) == 1:
            self.match(la[0], lb[0])
            return
        va, vb = self.va, self.vb
        for key_a, key_b in (
            (lambda a: va.rleaf[a], lambda b: vb.rleaf[b]),
            (lambda a: va.leaf[a], lambda b: vb.leaf[b]),
            (
                lambda a: (va.rleaf[a], self.mapped_scope(va.scope[a])),
                lambda b: (vb.rleaf[b], vb.scope[b]),
            ),
            (
                lambda a: (va.leaf[a], self.mapped_scope(va.scope[a])),
                lambda b: (vb.leaf[b], vb.scope[b]),
            ),
            (lambda a: self.mapped_scope(va.scope[a]), lambda b: vb.scope[b]),
            (lambda a: va.wl[a], lambda b: vb.wl[b]),
            (lambda a: (va.wl[a], va.leaf[a]), lambda b: (vb.wl[b], vb.leaf[b])),
        ):
            ga: dict[Any, list[int]] = defaultdict(list)
            gb: dict[Any, list[int]] = defaultdict(list)
            for a in la:
                ga[key_a(a)].append(a)
            for b in lb:
                gb[key_b(b)].append(b)
            for k, xs in ga.items():
                ys = gb.get(k)
                if ys and len(xs) == 1 and len(ys) == 1:
                    self.match(xs[0], ys[0])
            la = [a for a in la if self.ma[a] == -1]
            lb = [b for b in lb if self.mb[b] == -1]
            if not la or not lb:
                return

    # -- propagation ------------------------------------------------------------------------
    def propagate(self) -> None:
        va, vb = self.va, self.vb
        while self.queue:
            a, b = self.queue.popleft()
            for side in ("in", "out"):
                ea = va.ins[a] if side == "in" else va.outs[a]
                eb = vb.ins[b] if side == "in" else vb.outs[b]
                if not ea or not eb:
                    continue
                ga: dict[tuple, list[int]] = defaultdict(list)
                for n, p, dp, k in ea:
                    if self.ma[n] == -1:
                        ga[(p, dp, k, va.op[n])].append(n)
                if not ga:
                    continue
                gb: dict[tuple, list[int]] = defaultdict(list)
                for n, p, dp, k in eb:
                    if self.mb[n] == -1:
                        gb[(p, dp, k, vb.op[n])].append(n)
                for key, xs in ga.items():
                    ys = gb.get(key)
                    if ys:
                        self.pair_candidates(xs, ys)

    def relaxed(self) -> int:
        """Ops may differ: the single unmatched data producer on the same input port of a
        matched pair, or the single unmatched consumer on the same (output, input) ports,
        plays the same role (``Add`` vs ``BiasAdd``, ``ApplyMomentum`` vs ``ApplyAdam``)."""
        va, vb = self.va, self.vb
        n = 0
        for a, b in enumerate(self.ma):
            if b == -1:
                continue
            for side in (0, 1):
                ea = va.ins[a] if side == 0 else va.outs[a]
                eb = vb.ins[b] if side == 0 else vb.outs[b]
                pa: dict[tuple[int, int], list[int]] = defaultdict(list)
                for u, p, dp, k in ea:
                    if k == 0:
                        pa[(p, dp)].append(u)
                if not pa:
                    continue
                pb: dict[tuple[int, int], list[int]] = defaultdict(list)
                for u, p, dp, k in eb:
                    if k == 0:
                        pb[(p, dp)].append(u)
                for key, xs in pa.items():
                    ys = pb.get(key)
                    if not ys:
                        continue
                    xs = [x for x in xs if self.ma[x] == -1]
                    ys = [y for y in ys if self.mb[y] == -1]
                    if len(xs) == 1 and len(ys) == 1:
                        ta, tb = va.dtype[xs[0]], vb.dtype[ys[0]]
                        # consumers are weaker evidence: their dtypes must be known and agree
                        if ta and tb and ta != tb or side == 1 and not (ta and tb):
                            continue
                        n += self.match(xs[0], ys[0])
        return n

    def scope_pass(self) -> int:
        va, vb = self.va, self.vb
        by_scope_b: dict[tuple[str, str], list[int]] = defaultdict(list)
        for b, m in enumerate(self.mb):
            if m == -1:
                by_scope_b[(vb.scope[b], vb.op[b])].append(b)
        by_scope_a: dict[tuple[str, str], list[int]] = defaultdict(list)
        for a, m in enumerate(self.ma):
            if m == -1:
                sb = self.mapped_scope(va.scope[a])
                if sb is not None:
                    by_scope_a[(sb, va.op[a])].append(a)
        before = sum(self.stats.values())
        for key, xs in by_scope_a.items():
            ys = by_scope_b.get(key)
            if ys:
                self.pair_candidates(xs, ys)
        return sum(self.stats.values()) - before

    def unique_pass(self, key_a, key_b) -> int:
        ga: dict[Any, list[int]] = defaultdict(list)
        gb: dict[Any, list[int]] = defaultdict(list)
        for a, m in enumerate(self.ma):
            if m == -1:
                k = key_a(a)
                if k is not None:
                    ga[k].append(a)
        for b, m in enumerate(self.mb):
            if m == -1:
                k = key_b(b)
                if k is not None:
                    gb[k].append(b)
        n = 0
        for k, xs in ga.items():
            ys = gb.get(k)
            if ys and len(xs) == 1 and len(ys) == 1:
                n += self.match(xs[0], ys[0])
        return n


# --------------------------------------------------------------------------------------------
# differences of a matched pair
# --------------------------------------------------------------------------------------------

#: Attributes that differ between any two graphs without meaning anything.
IGNORED_ATTRS = {
    "name",  # a Keras layer config repeats the layer's name
    "shared_name",
    "container",
    "seed",
    "seed2",
    "debug_name",
    "allowed_devices",
    "then_branch",
    "else_branch",
    "body",
    "cond",
    "f",
    "branches",
    "config",
    "config_proto",
    "executor_type",
}


def _fmt(x: Any) -> str:
    if isinstance(x, np.ndarray):
        if x.size <= 6:
            return np.array2string(x, separator=", ")
        return f"array{list(x.shape)}"
    if isinstance(x, float):
        return f"{x:g}"
    s = repr(x)
    return s if len(s) <= 60 else s[:57] + "..."


def _values_equal(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is y
    if isinstance(x, float | int) and isinstance(y, float | int):
        return math.isclose(x, y, rel_tol=1e-6) or (x != x and y != y)
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    xa, ya = np.asarray(x), np.asarray(y)
    if xa.shape != ya.shape:
        return False
    if xa.dtype.kind in "fc" or ya.dtype.kind in "fc":
        try:
            return bool(np.allclose(xa, ya, rtol=1e-6, atol=0, equal_nan=True))
        except TypeError:
            return False
    return bool(np.array_equal(xa, ya))


def node_differences(da: dict, db: dict) -> list[str]:
    """Readable differences of two matched nodes (op, dtype, shape, value, attributes)."""
    out = []
    if da.get("op") != db.get("op"):
        out.append(f"op: {da.get('op')} -> {db.get('op')}")
    if da.get("dtype") != db.get("dtype"):
        a, b = da.get("dtype"), db.get("dtype")
        if not (a and b and a.removesuffix("_ref") == b.removesuffix("_ref")):
            out.append(f"dtype: {a} -> {b}")
    if not _shapes_equal(da.get("shape"), db.get("shape")) or (
        (da.get("shape") is None) != (db.get("shape") is None)
    ):
        out.append(f"shape: {da.get('shape')} -> {db.get('shape')}")
    if not _values_equal(da.get("value"), db.get("value")):
        out.append(f"value: {_fmt(da.get('value'))} -> {_fmt(db.get('value'))}")
    if da.get("op") == db.get("op"):
        aa, ab = da.get("attrs") or {}, db.get("attrs") or {}
        for k in sorted(set(aa) | set(ab)):
            if k.startswith("_") or k in IGNORED_ATTRS:
                continue
            x, y = aa.get(k), ab.get(k)
            if isinstance(x, np.ndarray | float) or isinstance(y, np.ndarray | float):
                same = _values_equal(x, y)
            else:
                same = x == y
            if not same:
                out.append(f"attr {k}: {_fmt(x)} -> {_fmt(y)}")
    return out


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def _anchor_layers(m: _Matcher, pairs: list[tuple[Layer | None, Layer | None]]) -> None:
    va, vb = m.va, m.vb
    for la, lb in pairs:
        if la is None or lb is None:
            continue
        if la.kind == "dropout" or (not la.variables and la.anchors):
            xs = [va.idx[n] for n in la.anchors if n in va.idx]
            ys = [vb.idx[n] for n in lb.anchors if n in vb.idx]
            m.pair_candidates(xs, ys)
            continue
        xs = [va.idx[n] for n in la.variables if n in va.idx]
        ys = [vb.idx[n] for n in lb.variables if n in vb.idx]
        m.pair_candidates(xs, ys)
        # leftovers by rank then shape order (e.g. "w" vs "kernel_var")
        xs = sorted((x for x in xs if m.ma[x] == -1), key=lambda i: _natural_key(va.names[i]))
        ys = sorted((y for y in ys if m.mb[y] == -1), key=lambda i: _natural_key(vb.names[i]))
        if len(xs) == len(ys):
            ranks_a = [len(va.g.nodes[va.names[x]]["shape"] or []) for x in xs]
            ranks_b = [len(vb.g.nodes[vb.names[y]]["shape"] or []) for y in ys]
            if sorted(ranks_a) == sorted(ranks_b) and len(set(ranks_a)) == len(ranks_a):
                for x in xs:
                    r = len(va.g.nodes[va.names[x]]["shape"] or [])
                    m.match(x, ys[ranks_b.index(r)])


@contextlib.contextmanager
def _gc_paused():
    """The cyclic GC rescans the (large) live graphs on every few thousand allocations; pausing
    it while building millions of small tuples cuts the run time by about a third."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def align(
    ga: nx.MultiDiGraph,
    gb: nx.MultiDiGraph,
    layers_a: list[Layer] | None = None,
    layers_b: list[Layer] | None = None,
) -> Alignment:
    """Match nodes and layers of graph A to graph B (see the module docstring).

    `layers_a/b` are the layers to pair (a run's model description: the trained model); by
    default every layer the front-end reading each graph finds (`model.find_layers`).
    """
    with _gc_paused():
        la = find_layers(ga) if layers_a is None else layers_a
        lb = find_layers(gb) if layers_b is None else layers_b
        return _align(ga, gb, la, lb)


def _align(ga: nx.MultiDiGraph, gb: nx.MultiDiGraph, la: list[Layer], lb: list[Layer]) -> Alignment:
    clock = time.perf_counter
    t0 = clock()
    seconds: dict[str, float] = {}
    va, vb = _View(ga), _View(gb)
    m = _Matcher(va, vb)
    seconds["index"] = clock() - t0

    t = clock()
    if (ga.graph.get("source") == "keras_model") != (gb.graph.get("source") == "keras_model"):
        # a layer graph against an op graph: only the layer alignment is meaningful
        return _result(ga, gb, va, vb, m, align_layers(la, lb), seconds, t0)
    m.phase = "exact_name"
    for a, name in enumerate(va.names):
        b = vb.idx.get(name)
        if b is not None and va.op[a] == vb.op[b]:
            m.match(a, b)
    m.phase = "normalised_name"
    m.unique_pass(lambda a: (va.norm[a], va.op[a]), lambda b: (vb.norm[b], vb.op[b]))
    seconds["names"] = clock() - t

    t = clock()
    layer_pairs = align_layers(la, lb)
    m.phase = "layers"
    _anchor_layers(m, layer_pairs)

    m.phase = "placeholders"
    placeholder_ops = ("Placeholder", "PlaceholderWithDefault", "PlaceholderV2")

    def ph_key(v: _View, i: int) -> Any:
        if v.op[i] not in placeholder_ops:
            return None
        d = v.g.nodes[v.names[i]]
        return (v.op[i], d.get("dtype"), str(d.get("shape")))

    m.unique_pass(lambda a: ph_key(va, a), lambda b: ph_key(vb, b))
    seconds["layers"] = clock() - t

    t = clock()
    rounds = 0
    for rounds in range(1, 7):  # noqa: B007 (reported in stats)
        m.phase = "propagation"
        m.propagate()
        m.phase = "scope"
        n = m.scope_pass()
        m.propagate()
        m.phase = "wl_hash"
        n += m.unique_pass(lambda a: (va.wl[a], va.op[a]), lambda b: (vb.wl[b], vb.op[b]))
        m.propagate()
        m.phase = "relaxed"
        n += m.relaxed()
        m.phase = "propagation"
        m.propagate()
        if n == 0:
            break
    m.phase = "name_op_changed"
    m.unique_pass(lambda a: va.norm[a], lambda b: vb.norm[b])
    m.stats["rounds"] = rounds
    seconds["matching"] = clock() - t
    return _result(ga, gb, va, vb, m, layer_pairs, seconds, t0)


def _result(ga, gb, va: _View, vb: _View, m: _Matcher, layer_pairs, seconds, t0) -> Alignment:
    clock = time.perf_counter
    t = clock()
    pairs: dict[str, str] = {}
    status_a: dict[str, str] = {}
    status_b: dict[str, str] = {}
    changes: dict[str, list[str]] = {}
    for a, b in enumerate(m.ma):
        na = va.names[a]
        if b == -1:
            status_a[na] = "only_a"
            continue
        nb = vb.names[b]
        pairs[na] = nb
        diff = node_differences(ga.nodes[na], gb.nodes[nb])
        st = "changed" if diff else "matched"
        status_a[na] = status_b[nb] = st
        if diff:
            changes[na] = diff
    for b, a in enumerate(m.mb):
        if a == -1:
            status_b[vb.names[b]] = "only_b"

    out_layers = []
    for la, lb in layer_pairs:
        if la is not None and lb is not None:
            st = "matched" if _shapes_equal(la.shape, lb.shape) else "changed"
            out_layers.append(LayerPair(la.name, lb.name, la.family, la.shape, lb.shape, st))
        elif la is not None:
            out_layers.append(LayerPair(la.name, None, la.family, la.shape, None, "only_a"))
        elif lb is not None:
            out_layers.append(LayerPair(None, lb.name, lb.family, None, lb.shape, "only_b"))
    seconds["differences"] = clock() - t
    seconds["total"] = clock() - t0
    stats: dict[str, Any] = dict(m.stats)
    stats["seconds"] = {k: round(x, 4) for k, x in seconds.items()}
    return Alignment(pairs, status_a, status_b, changes, out_layers, stats)
