"""Names only: nodes that the alignment matched although their names differ.

Two programs building the same model rarely pick the same scope names (``HiddenLayer1`` vs
``dense_1``, ``Dropout1`` vs ``dropout``).  Listing each renamed node as a difference would
bury the real ones, so they are summarised in one info finding: how many, which scope
renames explain them, a few examples.  Needs `ctx.alignment` (tbdiff.align); without one
there is nothing to say.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from tbdiff.findings.base import Context, Finding
from tbdiff.model.query import natural_key

if TYPE_CHECKING:
    from tbdiff.model.description import ModelDescription

NAME = "naming"
LABEL = "naming"
_EXAMPLES = 5


def inspect(d: ModelDescription) -> str | None:
    return None  # renames are a two-run notion


def _scope_renames(renamed: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """Most common (scope in A -> scope in B) rewrites among renamed pairs."""
    c: Counter = Counter()
    for a, b in renamed:
        pa, pb = a.split("/"), b.split("/")
        # the first differing path component is the rename that explains this pair
        for x, y in zip(pa, pb, strict=False):
            if x != y:
                c[(x, y)] += 1
                break
        else:
            c[("/".join(pa), "/".join(pb))] += 1
    return [(x, y, k) for (x, y), k in c.most_common()]


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    al = ctx.alignment
    if al is None or not al.pairs:
        return []
    pairs, status_a = al.pairs, al.status_a
    renamed = sorted(
        ((a, b) for a, b in pairs.items() if a != b and status_a.get(a, "matched") == "matched"),
        key=lambda p: natural_key(p[0]),
    )
    if not renamed:
        return []
    renames = _scope_renames(renamed)
    top = ", ".join(f"{x} -> {y} ({k})" for x, y, k in renames[:_EXAMPLES])
    examples = renamed[:_EXAMPLES]
    detail = (
        f"{len(renamed)} of {len(pairs)} matched nodes have different names in A and B but the "
        f"same op, inputs and attributes; they were paired after normalising names. Most common "
        f"renames: {top}. Names do not change what the model computes."
    )
    return [
        Finding(
            id="naming.only",
            severity="info",
            title=f"{len(renamed)} nodes differ only by name or scope",
            detail=detail,
            a={"renamed": len(renamed), "examples": [a for a, _ in examples]},
            b={"renamed": len(renamed), "examples": [b for _, b in examples]},
            nodes_a=[a for a, _ in examples],
            nodes_b=[b for _, b in examples],
            score=0.01,
        )
    ]
