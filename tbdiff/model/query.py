"""Graph queries for reading meaning from op graphs: the one place that knows the plumbing.

The graph model (tbdiff.graph) keeps TensorFlow's plumbing: values reach an op through
Identity / Cast / ReadVariableOp / Enter chains, and function bodies are inlined with `arg`
edges (caller input -> body consumer) and `ret` edges (body result -> caller). A front-end wants
the *meaning*: "which constant or placeholder decides this threshold, and what is its value?",
"which forward ops consume this variable?". These helpers answer that; op classes come from
`model.ops`. Graphs are not mutated after loading, so whole-graph results are memoised per graph.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import networkx as nx
import numpy as np

from tbdiff.model import ops as O
from tbdiff.model.numbers import scalar

#: edge kinds that are real inputs of the consumer (ret edges feed a caller's *outputs*)
INPUT_KINDS = frozenset({"data", "arg"})
#: edge kinds a value flows along towards its consumers (into bodies and back out of them)
FORWARD_KINDS = frozenset({"data", "arg", "ret"})

_T = TypeVar("_T")
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cached(g: nx.MultiDiGraph, key: str, make: Callable[[], _T]) -> _T:
    """Per-graph memo: front-ends and alignment share whole-graph results."""
    slot = _CACHE.setdefault(g, {})
    if key not in slot:
        slot[key] = make()
    return slot[key]


def op(g: nx.MultiDiGraph, n: str) -> str:
    return str(g.nodes[n].get("op", ""))


def is_op_graph(g: nx.MultiDiGraph) -> bool:
    """An op graph (GraphDef-like), not a layer graph built from a Keras model config."""
    return g.graph.get("source") != "keras_model"


# ---------------------------------------------------------------------------- edges


def data_inputs(g: nx.MultiDiGraph, n: str) -> list[str]:
    """Producers of the data inputs of `n`, ordered by input index (control/ret edges ignored)."""
    ins: list[tuple[int, str]] = []
    for u, _, d in g.in_edges(n, data=True):
        if d.get("control") or d.get("kind", "data") not in INPUT_KINDS:
            continue
        ins.append((int(d.get("dst_port", 0)), u))
    ins.sort()
    return [u for _, u in ins]


def input_at(g: nx.MultiDiGraph, n: str, index: int) -> str | None:
    """Producer feeding input number `index` of `n`, or None."""
    for u, _, d in g.in_edges(n, data=True):
        if d.get("control") or d.get("kind", "data") not in INPUT_KINDS:
            continue
        if int(d.get("dst_port", 0)) == index:
            return u
    return None


def consumers(g: nx.MultiDiGraph, n: str, kinds: frozenset[str] = FORWARD_KINDS) -> list[str]:
    """Nodes that read `n`: by default along data/arg edges and out of function bodies (ret)."""
    out = {
        v
        for _, v, d in g.out_edges(n, data=True)
        if not d.get("control") and d.get("kind", "data") in kinds
    }
    return sorted(out)


def resolve(g: nx.MultiDiGraph, n: str, max_hops: int = 32) -> str:
    """Follow pass-through ops (Identity, Cast, ReadVariableOp, Enter ...) to the real producer."""
    for _ in range(max_hops):
        if op(g, n) not in O.PASS_THROUGH:
            return n
        src = input_at(g, n, 0)
        if src is None:
            return n
        n = src
    return n


def walk_forward(
    g: nx.MultiDiGraph, start: str, depth: int, pass_through: Callable[[str], bool]
) -> Iterator[str]:
    """Forward-pass consumers of `start`, breadth first, at most `depth` hops away.

    Every newly reached node is yielded; the walk continues only past nodes whose op satisfies
    `pass_through` (e.g. reshapes and identities). Gradient nodes are skipped: front-ends
    describe the forward computation. O(visited nodes + their out-edges).
    """
    frontier, seen = [start], {start}
    for _ in range(depth):
        nxt = []
        for m in frontier:
            for c in consumers(g, m):
                if c in seen or O.is_gradient_node(c):
                    continue
                seen.add(c)
                yield c
                if pass_through(op(g, c)):
                    nxt.append(c)
        frontier = nxt


def forward_consumers(g: nx.MultiDiGraph, n: str, limit: int = 6) -> list[str]:
    """Consumers of `n` behind pass-through ops, skipping autodiff nodes."""
    passes = O.PASS_THROUGH.__contains__
    return [c for c in walk_forward(g, n, limit, passes) if op(g, c) not in O.PASS_THROUGH]


def has_ancestor_op(
    g: nx.MultiDiGraph, n: str, ops: Iterable[str], *, max_depth: int = 6
) -> str | None:
    """First node with an op in `ops` found upstream of `n` within `max_depth` data hops."""
    wanted = frozenset(ops)
    frontier, seen = [n], {n}
    for _ in range(max_depth + 1):
        nxt = []
        for cur in frontier:
            if op(g, cur) in wanted:
                return cur
            for u in data_inputs(g, cur):
                if u not in seen:
                    seen.add(u)
                    nxt.append(u)
        frontier = nxt
        if not frontier:
            break
    return None


def random_source(g: nx.MultiDiGraph, n: str | None, *, max_depth: int = 6) -> str | None:
    """The random op `n` is drawn from when `n` is random values scaled/shifted by constants
    (``minval + RandomUniform * range``), else None. A layer op (MatMul, BiasAdd ...) between
    them breaks it: logits computed from a dropout output are not themselves random."""
    if n is None:
        return None
    frontier, seen = [n], {n}
    for _ in range(max_depth + 1):
        nxt = []
        for cur in frontier:
            cur = resolve(g, cur)
            o = op(g, cur)
            if o in O.DROPOUT_RANDOM:
                return cur
            if o not in O.RANDOM_ARITHMETIC:
                continue
            for u in data_inputs(g, cur):
                if u not in seen:
                    seen.add(u)
                    nxt.append(u)
        frontier = nxt
    return None


def data_ancestors(g: nx.MultiDiGraph, n: str) -> set[str]:
    """All nodes upstream of `n` through data/arg edges (control dependencies ignored); an
    If/While/call node's outputs come from its body, so ret edges are followed too."""
    seen: set[str] = set()
    stack = [n]
    while stack:
        cur = stack.pop()
        for u, _, d in g.in_edges(cur, data=True):
            if d.get("control") or u in seen:
                continue
            if d.get("kind", "data") in FORWARD_KINDS:
                seen.add(u)
                stack.append(u)
    return seen


def order_along_path(g: nx.MultiDiGraph, nodes: list[str]) -> list[str]:
    """Sort `nodes` by position along the data path: a node after every node upstream of it.

    Uses, for each node, how many of the others are its data ancestors; ties (parallel
    branches) fall back to a natural sort of the names so `dropout_10` follows `dropout_9`.
    """
    wanted = set(nodes)
    rank = {n: len(data_ancestors(g, n) & (wanted - {n})) for n in nodes}
    return sorted(nodes, key=lambda n: (rank[n], natural_key(n)))


# ---------------------------------------------------------------------------- values

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "Sub": np.subtract,
    "Add": np.add,
    "AddV2": np.add,
    "Mul": np.multiply,
    "RealDiv": np.divide,
    "Div": np.divide,
    "TrueDiv": np.divide,
    "DivNoNan": lambda a, b: np.where(b == 0, 0.0, np.divide(a, np.where(b == 0, 1.0, b))),
    "Maximum": np.maximum,
    "Minimum": np.minimum,
    "Pow": np.power,
}
_UNARY: dict[str, Callable[[Any], Any]] = {
    "Neg": np.negative,
    "Reciprocal": lambda a: 1.0 / a,
    "Inv": lambda a: 1.0 / a,
    "Sqrt": np.sqrt,
    "Rsqrt": lambda a: 1.0 / np.sqrt(a),
    "Square": np.square,
}
#: ops `value` folds; `placeholders_in` looks through the same arithmetic
ARITHMETIC = frozenset(_BINARY) | frozenset(_UNARY)


def value(
    g: nx.MultiDiGraph, n: str, fed: Mapping[str, float] | None = None, depth: int = 24
) -> Any:
    """Value of the small constant expression ending at `n` (float or array), None if unknown.

    Constants give their value; a placeholder in `fed` gives the fed value; a
    PlaceholderWithDefault gives its default, a plain Placeholder (must be fed) None; a variable
    gives its initial value (what hyper-parameter variables of Keras optimizers hold); `Fill`
    and arithmetic are folded, so `1 - keep_prob`, a uniform range `max - min` and an l2 penalty
    `2.0 * l2` all evaluate.
    """
    if depth <= 0 or n not in g:
        return None
    o = op(g, n)
    if fed is not None and n in fed and o in O.FED_INPUTS:
        return float(fed[n])
    if o == "Const":
        v = g.nodes[n].get("value")
        return None if v is None or isinstance(v, str | bytes) else v
    if o in O.PASS_THROUGH or o == "PlaceholderWithDefault":
        src = input_at(g, n, 0)
        return None if src is None else value(g, src, fed, depth - 1)
    if o in O.VARIABLE_OPS:
        init = initial_value_node(g, n)
        return None if init is None else value(g, init, fed, depth - 1)
    if o == "Fill":
        src = input_at(g, n, 1)
        return None if src is None else value(g, src, fed, depth - 1)
    fold = _BINARY.get(o) or _UNARY.get(o)
    if fold is None:
        return None
    ins = data_inputs(g, n)
    arity = 2 if o in _BINARY else 1
    if len(ins) < arity:
        return None
    vals = [value(g, i, fed, depth - 1) for i in ins[:arity]]
    if any(v is None for v in vals):
        return None
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fold(*[np.asarray(v, dtype=np.float64) for v in vals]))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if out.dtype.kind not in "biuf" or not np.all(np.isfinite(out)):
        return None
    return float(out) if out.ndim == 0 else out


def evaluate(g: nx.MultiDiGraph, n: str, fed: Mapping[str, float] | None = None) -> float | None:
    """`value` as one float (a scalar, or an array whose elements are all equal)."""
    return scalar(value(g, n, fed))


def const_array(g: nx.MultiDiGraph, n: str) -> np.ndarray | None:
    """Numeric value of a Const (after pass-through ops) as an array, or None."""
    n = resolve(g, n)
    if op(g, n) != "Const":
        return None
    v = g.nodes[n].get("value")
    if v is None or isinstance(v, str | bytes):
        return None
    try:
        arr = np.asarray(v)
    except (TypeError, ValueError):
        return None
    return arr if arr.dtype.kind in "biuf" else None


def placeholders_in(g: nx.MultiDiGraph, n: str, *, depth: int = 24) -> list[str]:
    """Placeholders the scalar expression at `n` depends on (through arithmetic only)."""
    found: set[str] = set()
    stack = [(n, depth)]
    seen: set[str] = set()
    while stack:
        cur, d = stack.pop()
        if cur in seen or d <= 0 or cur not in g:
            continue
        seen.add(cur)
        cur = resolve(g, cur)
        o = op(g, cur)
        if o in O.FED_INPUTS and g.nodes[cur].get("dtype") != "resource":
            found.add(cur)
        elif o in ARITHMETIC:
            stack.extend((u, d - 1) for u in data_inputs(g, cur))
    return sorted(found)


def placeholder_default(g: nx.MultiDiGraph, n: str) -> Any:
    """Default value of a PlaceholderWithDefault (scalar float or array), None for Placeholder."""
    if op(g, n) != "PlaceholderWithDefault":
        return None
    src = input_at(g, n, 0)
    if src is None:
        return None
    s = evaluate(g, src)
    return s if s is not None else const_array(g, src)


def initial_value_node(g: nx.MultiDiGraph, var: str) -> str | None:
    """The tensor a variable is initialised from (input 1 of its initializer Assign)."""
    best = None
    for _, c, d in g.out_edges(var, data=True):
        if d.get("control") or d.get("dst_port", 0) != 0:
            continue
        if op(g, c) in ("Assign", "AssignVariableOp"):
            val = input_at(g, c, 1)
            if val is None:
                continue
            if c == f"{var}/Assign" or "Initializer" in val or "initial_value" in val:
                return val
            best = best or val
    return best


# ---------------------------------------------------------------------------- variables


def is_variable(g: nx.MultiDiGraph, n: str) -> bool:
    """Variable ops, and resource placeholders / arguments (variables captured by a TF2
    function graph)."""
    d = g.nodes[n]
    o = d.get("op")
    if o in O.VARIABLE_OPS:
        return True
    return (o == "Placeholder" or o in O.ARG_OPS) and d.get("dtype") == "resource"


def placeholders(g: nx.MultiDiGraph) -> list[str]:
    """Names of the graph's placeholders (what `--feed NAME=VALUE` can name)."""
    return sorted(n for n, d in g.nodes(data=True) if d.get("op") in O.PLACEHOLDERS)


def variables(g: nx.MultiDiGraph) -> list[str]:
    return cached(g, "variables", lambda: [n for n in g.nodes if is_variable(g, n)])


def var_shape(g: nx.MultiDiGraph, var: str) -> list[int | None] | None:
    """A variable's shape; for a resource placeholder, the shape its reads produce."""
    if op(g, var) in O.VARIABLE_OPS:
        return g.nodes[var].get("shape")
    for c in consumers(g, var):
        if op(g, c) == "ReadVariableOp" and g.nodes[c].get("shape") is not None:
            return g.nodes[c]["shape"]
        # captured into a function body: the read is one arg edge further
        for c2 in consumers(g, c) if op(g, c) in O.PASS_THROUGH else ():
            if op(g, c2) == "ReadVariableOp" and g.nodes[c2].get("shape") is not None:
                return g.nodes[c2]["shape"]
    return None


def var_source(g: nx.MultiDiGraph, n: str) -> str | None:
    """The variable a tensor is a plain read of, else None."""
    src = resolve(g, n)
    return src if is_variable(g, src) else None


def _is_initializer(g: nx.MultiDiGraph, assign: str, var: str) -> bool:
    val = input_at(g, assign, 1)
    if assign == f"{var}/Assign" or val is None:
        return True
    return "Initializer" in val or "initial_value" in val or op(g, resolve(g, val)) == "Const"


def update_targets(g: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Variable -> ops that update it as a training step does (Apply*, AssignSub/Add*, and
    Assign* that are not the variable's initializer), memoised."""

    def make() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for n, d in g.nodes(data=True):
            o = d.get("op", "")
            if not (O.is_apply(o) or o in O.ASSIGN_OPS) or O.is_gradient_node(n):
                continue
            tgt = input_at(g, n, 0)
            if tgt is None:
                continue
            var = resolve(g, tgt)
            if o in ("Assign", "AssignVariableOp") and _is_initializer(g, n, var):
                continue
            out.setdefault(var, []).append(n)
        return out

    return cached(g, "update_targets", make)


# ---------------------------------------------------------------------------- gradients


def differentiated(g: nx.MultiDiGraph) -> frozenset[str]:
    """Forward node names that have a gradient node (`.../gradients/<name>_grad/...`).

    A loss or penalty that is really trained on is differentiated; a metric or a summary of the
    same ops is not. Empty for inference-only graphs (callers then accept every candidate).
    """

    def make() -> frozenset[str]:
        out = {m.group(1) for n in g.nodes if (m := O.GRAD_OF.search(n))}
        for n in g.nodes:
            if "gradient_tape/" in n and (m := O.TAPE_OF.match(n)):
                out.add(m.group(1) + m.group(2))
        return frozenset(out)

    return cached(g, "differentiated", make)


def has_backward(g: nx.MultiDiGraph) -> bool:
    return bool(differentiated(g))


def is_trained_on(g: nx.MultiDiGraph, n: str) -> bool:
    """True if `n` takes part in the backward pass (or the graph has none at all).

    TF1 names gradients after the forward op (`gradients/<name>_grad/`); TF2 tapes use scope
    names that do not always match, so a gradient node consuming `n` directly also counts.
    """
    diff = differentiated(g)
    if not diff or n in diff:
        return True
    if any(O.is_gradient_node(c) for c in consumers(g, n)):
        return True
    # a gradient reads the op's inputs (d square(x) = 2x): tape gradients of ops at the top of a
    # function are named after the function's scope, not after the op
    return any(
        O.is_gradient_node(c) for u in data_inputs(g, n) for c in consumers(g, resolve(g, u))
    )


def _trace_unit(g: nx.MultiDiGraph, n: str) -> str:
    """The `graph_N` sub-graph of a traced run a node belongs to ("" elsewhere)."""
    if g.graph.get("source") == "run_metadata" and _TRACE_UNIT.match(n):
        return n.split("/", 1)[0]
    return ""


def _units(g: nx.MultiDiGraph, n: str) -> list[str]:
    """The functions a node runs in: its inlined function body and every body that calls it
    (innermost first), then its trace sub-graph (or "" for the top level)."""
    out = []
    cur: str | None = n
    for _ in range(32):
        if cur is None or cur not in g:
            break
        fn = g.nodes[cur].get("function")
        if fn:
            out.append(str(fn))
        cur = g.nodes[cur].get("call_site")
    out.append(_trace_unit(g, n))
    return out


def main_unit(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The part of `g` that is the run's model: a traced run (`trace_export`) holds every
    function it ran (variable creation, summaries, the train step, sometimes a retrace of it)
    as `graph_N` sub-graphs; its model is the last train step traced (or the largest function
    when none trains). Other graphs are returned whole. Memoised."""

    def make() -> nx.MultiDiGraph:
        if g.graph.get("source") != "run_metadata":
            return g
        units: dict[str, list[str]] = {}
        for n in g.nodes:
            units.setdefault(_trace_unit(g, n), []).append(n)
        if len(units) <= 1:
            return g
        train = [u for u in units if any("gradient_tape/" in n for n in units[u])]

        def number(u: str) -> int:
            tail = u.rpartition("_")[2]
            return int(tail) if tail.isdigit() else -1

        best = max(train, key=number) if train else max(units, key=lambda u: len(units[u]))
        return g.subgraph(units[best]).copy()

    return cached(g, "main_unit", make)


def in_train_function(g: nx.MultiDiGraph, n: str) -> bool:
    """True when `n` is part of a traced TF2 function that also computes tape gradients (a
    train step): whatever it does happens while training only."""

    def make() -> frozenset[str]:
        return frozenset(u for m in g.nodes if "gradient_tape/" in m for u in _units(g, m)[:1])

    train = cached(g, "train_units", make)
    return any(u in train for u in _units(g, n))


# ---------------------------------------------------------------------------- names

_TRACE_UNIT = re.compile(r"^graph_\d+/")


def local_name(g: nx.MultiDiGraph, n: str) -> str:
    """`n` without the `graph_N/` wrapper a traced run (`trace_export`) puts around each
    function it ran."""
    if g.graph.get("source") == "run_metadata":
        return _TRACE_UNIT.sub("", n, count=1)
    return n


_WRAPPER_PARTS = frozenset({"cond", "then", "else", "call", "body"})


def natural_key(s: str) -> tuple:
    """Sort key that orders embedded numbers numerically (dropout_2 < dropout_10)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s))


def layer_name(name: str, *, strip: Iterable[str] = ()) -> str:
    """Human layer name of an op inside a layer, e.g. ``dropout_1/cond/then/dropout/GreaterEqual``
    -> ``dropout_1``, ``Dropout1/GreaterEqual`` -> ``Dropout1`` and
    ``StatefulPartitionedCall/call/model/dropout/dropout/GreaterEqual`` -> ``model/dropout``.

    Drops the op's own name and trailing wrapper scopes (cond/then/else/call/body), at most one
    inner scope named in `strip` (the scope an op like tf.nn.dropout opens inside its layer),
    and everything up to the last function-call wrapper.
    """
    extra = {s.lower() for s in strip}
    parts = name.split("/")[:-1] or name.split("/")

    def is_wrapper(c: str) -> bool:
        return c.lower() in _WRAPPER_PARTS or re.sub(r"_\d+$", "", c).lower() in _WRAPPER_PARTS

    def strip_wrappers() -> None:
        while len(parts) > 1 and is_wrapper(parts[-1]):
            parts.pop()

    strip_wrappers()
    if len(parts) > 1 and parts[-1].lower() in extra:
        parts.pop()
        strip_wrappers()
    calls = [i for i, c in enumerate(parts[:-1]) if c.lower() == "call"]
    if calls:
        parts = parts[calls[-1] + 1 :]
    return "/".join(parts)


def top_scope(name: str) -> str:
    return name.split("/", 1)[0]
