"""Weight initialisers, read from the subgraph that feeds each variable's initial value.

Initialisers are invisible in TensorBoard's graph view (they hang off `Assign` nodes), yet a
N(0, 1) bias vs a zero bias, or a ±0.05 uniform kernel vs Glorot, changes where training starts.
TF writes every random initialiser as `random * scale + offset` (v1 `random_uniform`, Keras'
stateless ops, `random_normal`, truncated normal), so folding that affine chain back to the random
source gives family and parameters without knowing which API made them. A variable initialised
from another variable (the seed case's Keras kernel whose initializer returns a `get_variable`) is
followed to that variable's initialiser. Kernels are also named by the variance-scaling rule they
match for their own shape (glorot/he/lecun), so models of different width compare by rule.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from tbdiff.model import ops as O
from tbdiff.model import query as Q
from tbdiff.model.description import Init
from tbdiff.model.numbers import rnd, scalar

_TRUNC_STD = 0.87962566103423978  # stddev of a unit normal truncated at ±2 (Keras' correction)


def _fans(shape: list | None) -> tuple[float, float] | None:
    if not shape or len(shape) < 2 or any(s is None for s in shape):
        return None
    rf = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * rf, shape[-1] * rf


def rule(init: Init, shape: list | None) -> str | None:
    """Name of the variance-scaling rule these parameters match for `shape`, if any."""
    fans = _fans(shape)
    params = init.params
    if fans is None or params.get("mean", 0.0) != 0.0:
        return None
    fin, fout = fans
    if init.family == "uniform":
        lo, hi = params["min"], params["max"]
        if not math.isclose(lo, -hi, rel_tol=1e-3):
            return None
        rules = {
            "glorot_uniform": math.sqrt(6 / (fin + fout)),
            "he_uniform": math.sqrt(6 / fin),
            "lecun_uniform": math.sqrt(3 / fin),
        }
        target_value = hi
    elif init.family in ("truncated_normal", "normal"):
        k = _TRUNC_STD if init.family == "truncated_normal" else 1.0
        rules = {
            "glorot_normal": math.sqrt(2 / (fin + fout)) / k,
            "he_normal": math.sqrt(2 / fin) / k,
            "lecun_normal": math.sqrt(1 / fin) / k,
        }
        target_value = params["stddev"]
    else:
        return None
    for name, target in rules.items():
        if math.isclose(target_value, target, rel_tol=2e-3):
            return name
    return None


def _has_qr(g: nx.MultiDiGraph, n: str, budget: int = 60) -> bool:
    seen, stack = {n}, [n]
    while stack and budget > 0:
        m = stack.pop()
        budget -= 1
        if Q.op(g, m) == "Qr":
            return True
        for u in Q.data_inputs(g, m):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return False


def _constant(start: str, v: object) -> Init:
    s = scalar(v)
    if s is None:
        return Init("constant", {}, "constant(tensor)", nodes=[start])
    if s == 0.0:
        return Init("zeros", {}, "zeros", nodes=[start])
    if s == 1.0:
        return Init("ones", {}, "ones", nodes=[start])
    return Init("constant", {"value": rnd(s) or 0.0}, f"constant({rnd(s, 4)})", nodes=[start])


class _Affine:
    """Folds `random * scale + offset` back to the random source."""

    def __init__(self) -> None:
        self.scale, self.offset = 1.0, 0.0

    def step(self, g: nx.MultiDiGraph, o: str, ins: list[str]) -> str | None:
        """Absorb one affine op; the next node to look at, or None when `o` is not affine."""
        if o not in ("Mul", "Add", "AddV2", "Sub", "RealDiv") or len(ins) != 2:
            return None
        ca, cb = (scalar(Q.value(g, x)) for x in ins)
        if (ca is None) == (cb is None):
            return None
        c = ca if ca is not None else cb
        rest = ins[1] if ca is not None else ins[0]
        if o == "Mul":
            self.scale *= c
        elif o in ("Add", "AddV2"):
            self.offset += self.scale * c
        elif o == "Sub" and cb is not None:
            self.offset -= self.scale * cb
        elif o == "Sub":
            self.offset += self.scale * c
            self.scale = -self.scale
        elif o == "RealDiv" and cb is not None and cb != 0:
            self.scale /= cb
        else:
            return None
        return rest


def describe(g: nx.MultiDiGraph, var: str, depth: int = 3) -> Init:
    """The initialiser of variable `var` (family, params, label, evidence nodes)."""
    start = Q.initial_value_node(g, var)
    if start is None:
        return Init("unknown", {}, "unknown (no initializer)")
    const = Q.value(g, start)
    if const is not None:
        return _constant(start, const)
    aff, cur = _Affine(), start
    for _ in range(24):
        cur = Q.resolve(g, cur)
        o = Q.op(g, cur)
        if o in O.VARIABLE_OPS and depth > 0:  # initialised from another variable
            inner = describe(g, cur, depth - 1)
            if aff.scale == 1.0 and aff.offset == 0.0:
                inner.nodes = [start, *inner.nodes]
                return inner
            return Init("unknown", {}, f"affine of {inner.label}", nodes=[start, cur])
        if o in O.UNIFORM_RANDOM:
            lo, hi = sorted((aff.offset, aff.offset + aff.scale))
            p = {"min": rnd(lo) or 0.0, "max": rnd(hi) or 0.0}
            return Init("uniform", p, f"uniform({rnd(lo, 4)}, {rnd(hi, 4)})", nodes=[start, cur])
        if o in O.NORMAL_RANDOM or o in O.TRUNCATED_RANDOM:
            fam = "normal" if o in O.NORMAL_RANDOM else "truncated_normal"
            p = {"mean": rnd(aff.offset) or 0.0, "stddev": rnd(abs(aff.scale)) or 0.0}
            label = f"{fam}({rnd(aff.offset, 4)}, {rnd(abs(aff.scale), 4)})"
            return Init(fam, p, label, nodes=[start, cur])
        ins = Q.data_inputs(g, cur)
        nxt = aff.step(g, o, ins)
        if nxt is not None:
            cur = nxt
            continue
        if o in ("Reshape", "Transpose", "Slice", "StridedSlice") and ins:
            if _has_qr(g, cur):
                break
            cur = ins[0]
            continue
        break
    if _has_qr(g, start):
        return Init("orthogonal", {"gain": rnd(abs(aff.scale)) or 0.0}, "orthogonal", nodes=[start])
    return Init("unknown", {}, f"unknown({Q.op(g, cur)})", nodes=[start, cur])
