"""The layer alignment as a two-column SVG: A's layers on the left, B's on the right, in their
own order, a link for every paired layer coloured by its status (matched / changed), and the
unpaired layers (only_a / only_b) marked in their column. Drawn in Python: it is static, needs
no script, and prints.
"""

from __future__ import annotations

from html import escape
from typing import Any

ROW_H = 44  # viewBox units per row
BOX_W = 300
BOX_H = 34
GAP = 200  # room for the links between the columns
WIDTH = 2 * BOX_W + GAP
TOP = 8
MAX_NAME = 34

STATUS_WORDS = {
    "matched": "matched",
    "changed": "changed",
    "only_a": "only in A",
    "only_b": "only in B",
}


def _short(name: str) -> str:
    """Keep both ends of a long scope name (the full name is in the box's tooltip)."""
    if len(name) <= MAX_NAME:
        return name
    head = (MAX_NAME - 1) // 2
    return name[:head] + "\u2026" + name[-(MAX_NAME - 1 - head) :]


def _shape(shape: Any) -> str:
    if not shape:
        return ""
    return "\u00d7".join(str(s) for s in shape)


def _box(x: int, row: int, name: str, kind: str, shape: Any, status: str, side: str) -> str:
    y = TOP + row * ROW_H
    sub = " ".join(p for p in (kind, _shape(shape)) if p)
    if status in ("only_a", "only_b"):
        sub = f"{sub} \u00b7 {STATUS_WORDS[status]}" if sub else STATUS_WORDS[status]
    tip = f"{side}: {name} ({sub})" if sub else f"{side}: {name}"
    return (
        f'<g class="layer status-{escape(status)}"><title>{escape(tip)}</title>'
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="5"/>'
        f'<text x="{x + 10}" y="{y + 15}" class="lname">{escape(_short(name))}</text>'
        f'<text x="{x + 10}" y="{y + 29}" class="lsub">{escape(sub)}</text></g>'
    )


def _link(row_a: int, row_b: int, status: str, tip: str) -> str:
    x1, x2 = BOX_W, BOX_W + GAP
    y1 = TOP + row_a * ROW_H + BOX_H / 2
    y2 = TOP + row_b * ROW_H + BOX_H / 2
    mid = (x1 + x2) / 2
    return (
        f'<path class="link status-{escape(status)}" '
        f'd="M{x1} {y1:g} C{mid:g} {y1:g} {mid:g} {y2:g} {x2} {y2:g}">'
        f"<title>{escape(tip)}</title></path>"
    )


def layer_diagram(layers: list[dict[str, Any]], label_a: str, label_b: str) -> str:
    """The SVG for the report's "layers" list (to_dict form); "" when there are none."""
    if not layers:
        return ""
    row_a = row_b = 0
    boxes: list[str] = []
    links: list[str] = []
    for lp in layers:
        status = str(lp.get("status") or "matched")
        ra = rb = None
        if lp.get("a") is not None:
            ra, row_a = row_a, row_a + 1
            boxes.append(_box(0, ra, lp["a"], lp.get("kind") or "", lp.get("shape_a"), status, "A"))
        if lp.get("b") is not None:
            rb, row_b = row_b, row_b + 1
            x = BOX_W + GAP
            boxes.append(_box(x, rb, lp["b"], lp.get("kind") or "", lp.get("shape_b"), status, "B"))
        if ra is not None and rb is not None:
            tip = f"{lp['a']} \u2194 {lp['b']}: {STATUS_WORDS.get(status, status)}"
            links.append(_link(ra, rb, status, tip))
    height = TOP * 2 + max(row_a, row_b) * ROW_H
    label = (
        f"Layer alignment: {row_a} layers in A ({label_a}), {row_b} in B ({label_b}), "
        f"{len(links)} paired"
    )
    return (
        f'<svg class="layers-diagram" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMin meet">'
        f"{''.join(links)}{''.join(boxes)}</svg>"
    )
