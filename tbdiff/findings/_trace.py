"""Small graph queries shared by the semantic detectors (dropout, learning phase, metrics ...).

The graph model (tbdiff.graph) keeps TensorFlow's plumbing: values reach an op through
Identity / Cast / ReadVariableOp / Enter chains, and function bodies are inlined with `arg`
edges (caller input -> body consumer) and `ret` edges (body result -> caller).  A detector
wants the *meaning*: "which constant or placeholder decides this threshold, and what is its
value?".  These helpers answer that without any detector re-implementing edge bookkeeping.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np

#: ops that forward their first input unchanged (for our purposes)
PASS_THROUGH = frozenset(
    {
        "Identity",
        "IdentityN",
        "Cast",
        "ReadVariableOp",
        "Enter",
        "RefEnter",
        "StopGradient",
        "Snapshot",
        "Switch",
        "RefSwitch",
        "PreventGradient",
        "EnsureShape",
        "CheckNumerics",
    }
)
PLACEHOLDERS = frozenset({"Placeholder", "PlaceholderWithDefault", "PlaceholderV2"})
#: edge kinds that are real inputs of the consumer (ret edges feed a caller's *outputs*)
INPUT_KINDS = frozenset({"data", "arg"})
#: random sources used by dropout implementations across TF versions
RANDOM_OPS = frozenset(
    {
        "RandomUniform",
        "StatelessRandomUniform",
        "StatelessRandomUniformV2",
        "StatelessRandomUniformFullInt",
        "RandomUniformInt",
        "StatelessRandomBinomial",
    }
)

_GRAD_RE = re.compile(r"(^|/)(gradients(_\d+)?|[^/]*_grad)(/|$)", re.IGNORECASE)


def is_gradient_node(name: str) -> bool:
    """True for nodes of a backward pass (``gradients/...`` or ``..._grad/...`` scopes)."""
    return bool(_GRAD_RE.search(name))


def op(g: nx.MultiDiGraph, n: str) -> str:
    return str(g.nodes[n].get("op", ""))


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


def consumers(g: nx.MultiDiGraph, n: str, *, data_only: bool = True) -> list[str]:
    """Nodes that read `n` (through data/arg edges unless `data_only` is False)."""
    out = []
    for _, v, d in g.out_edges(n, data=True):
        if data_only and (d.get("control") or d.get("kind", "data") not in INPUT_KINDS):
            continue
        out.append(v)
    return sorted(set(out))


def resolve(g: nx.MultiDiGraph, n: str, max_hops: int = 32) -> str:
    """Follow pass-through ops (Identity, Cast, ReadVariableOp, Enter ...) to the real producer."""
    seen = 0
    while op(g, n) in PASS_THROUGH and seen < max_hops:
        src = input_at(g, n, 0)
        if src is None:
            break
        n = src
        seen += 1
    return n


def as_scalar(value: Any) -> float | None:
    """A Python float for scalar-like constant values (0-d or single-element arrays, bools)."""
    if value is None or isinstance(value, str | bytes):
        return None
    if isinstance(value, bool | int | float | np.bool_ | np.number):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        return float(value.reshape(-1)[0])
    if isinstance(value, list | tuple) and len(value) == 1:
        return as_scalar(value[0])
    return None


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


_BINARY: dict[str, Callable[[float, float], float]] = {
    "Sub": lambda a, b: a - b,
    "Add": lambda a, b: a + b,
    "AddV2": lambda a, b: a + b,
    "Mul": lambda a, b: a * b,
    "RealDiv": lambda a, b: a / b,
    "Div": lambda a, b: a / b,
    "DivNoNan": lambda a, b: 0.0 if b == 0 else a / b,
    "TrueDiv": lambda a, b: a / b,
    "Maximum": max,
    "Minimum": min,
}
_UNARY: dict[str, Callable[[float], float]] = {
    "Neg": lambda a: -a,
    "Reciprocal": lambda a: 1.0 / a,
    "Inv": lambda a: 1.0 / a,
}


def evaluate(
    g: nx.MultiDiGraph,
    n: str,
    fed: Mapping[str, float] | None = None,
    *,
    depth: int = 24,
) -> float | None:
    """Value of the scalar expression ending at `n`, or None when it cannot be known.

    Constants give their value; a placeholder in `fed` gives the fed value; an unfed
    PlaceholderWithDefault gives its default; a plain Placeholder (must be fed) gives None.
    Arithmetic (Sub/Add/Mul/Div, Neg ...) is folded so `1 - keep_prob` works.
    """
    if depth <= 0 or n not in g:
        return None
    n = resolve(g, n)
    o = op(g, n)
    if fed is not None and n in fed and o in PLACEHOLDERS:
        return float(fed[n])
    if o == "Const":
        return as_scalar(g.nodes[n].get("value"))
    if o == "PlaceholderWithDefault":
        src = input_at(g, n, 0)
        return None if src is None else evaluate(g, src, fed, depth=depth - 1)
    if o in _BINARY:
        ins = data_inputs(g, n)
        if len(ins) < 2:
            return None
        a = evaluate(g, ins[0], fed, depth=depth - 1)
        b = evaluate(g, ins[1], fed, depth=depth - 1)
        if a is None or b is None:
            return None
        try:
            r = _BINARY[o](a, b)
        except ZeroDivisionError:
            return None
        return r if math.isfinite(r) else None
    if o in _UNARY:
        ins = data_inputs(g, n)
        a = evaluate(g, ins[0], fed, depth=depth - 1) if ins else None
        return None if a is None else _UNARY[o](a)
    return None


def placeholders_in(g: nx.MultiDiGraph, n: str, *, depth: int = 24) -> list[str]:
    """Placeholders the scalar expression at `n` depends on (through arithmetic only)."""
    found: list[str] = []
    stack = [(n, depth)]
    seen: set[str] = set()
    while stack:
        cur, d = stack.pop()
        if cur in seen or d <= 0 or cur not in g:
            continue
        seen.add(cur)
        cur = resolve(g, cur)
        o = op(g, cur)
        if o in PLACEHOLDERS:
            found.append(cur)
            continue
        if o in _BINARY or o in _UNARY:
            stack.extend((u, d - 1) for u in data_inputs(g, cur))
    return sorted(set(found))


def placeholder_default(g: nx.MultiDiGraph, n: str) -> Any:
    """Default value of a PlaceholderWithDefault (scalar float or array), None for Placeholder."""
    if op(g, n) != "PlaceholderWithDefault":
        return None
    src = input_at(g, n, 0)
    if src is None:
        return None
    s = evaluate(g, src)
    if s is not None:
        return s
    return const_array(g, src)


def has_ancestor_op(
    g: nx.MultiDiGraph, n: str, ops: Iterable[str], *, max_depth: int = 6
) -> str | None:
    """First node with an op in `ops` found upstream of `n` within `max_depth` data hops."""
    wanted = frozenset(ops)
    frontier = [n]
    seen = {n}
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


def data_ancestors(g: nx.MultiDiGraph, n: str) -> set[str]:
    """All nodes upstream of `n` through data/arg edges (control dependencies ignored)."""
    seen: set[str] = set()
    stack = [n]
    while stack:
        cur = stack.pop()
        for u in data_inputs(g, cur):
            if u not in seen:
                seen.add(u)
                stack.append(u)
        # an If/While/call node's outputs come from its body: follow ret edges too
        for u, _, d in g.in_edges(cur, data=True):
            if d.get("kind") == "ret" and u not in seen:
                seen.add(u)
                stack.append(u)
    return seen


def any_ancestors(g: nx.MultiDiGraph, n: str) -> set[str]:
    """All nodes upstream of `n` through any edge (data, control, arg, ret)."""
    return nx.ancestors(g, n)


def order_along_path(g: nx.MultiDiGraph, nodes: list[str]) -> list[str]:
    """Sort `nodes` by position along the data path: a node after every node upstream of it.

    Uses, for each node, how many of the others are its data ancestors; ties (parallel
    branches) fall back to a natural sort of the names so `dropout_10` follows `dropout_9`.
    """
    wanted = set(nodes)
    rank = {}
    for n in nodes:
        rank[n] = len(data_ancestors(g, n) & (wanted - {n}))
    return sorted(nodes, key=lambda n: (rank[n], natural_key(n)))


def natural_key(s: str) -> tuple:
    """Sort key that orders embedded numbers numerically (dropout_2 < dropout_10)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s))


_WRAPPER_PARTS = frozenset({"cond", "then", "else", "call", "body"})


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


def fmt_prob(p: float | None) -> str:
    """0.3 -> '30%' (one decimal only when needed)."""
    if p is None:
        return "unknown"
    pct = round(p * 100, 1)
    return f"{pct:g}%"


def r4(x: float | None) -> float | None:
    """Round float32-ish values for reports (0.30000001192 -> 0.3)."""
    return None if x is None else round(float(x), 4)
