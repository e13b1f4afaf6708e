"""Dropout: find every dropout site, work out its *effective drop probability*, compare.

Why this detector matters most: `tf.nn.dropout(x, keep_prob=0.7)` KEEPS 70% of the units,
`keras.layers.Dropout(0.7)` and `tf.nn.dropout(x, rate=0.7)` DROP 70%.  Both graphs look
alike in TensorBoard, yet one network trains with 2.3x more units switched off.

Recognised forms (each reduced to "drop probability p during training"):
- TF >= 1.14 / 2.x ops: ``GreaterEqual(random_uniform, rate)`` feeding SelectV2 (or Cast/Mul);
  ``rate`` is a Const, a placeholder, or ``1 - keep_prob`` (a ``Sub`` from 1) when the
  program used the TF1 ``keep_prob`` argument with a tensor.
- TF <= 1.13 ops: ``Floor(keep_prob + random_uniform)``; keep_prob may be ``1 - rate``.
- Keras graph mode: the above inside the then-branch of an ``If`` (or Switch/Merge cond) on
  ``keras_learning_phase``.
- Keras model configs (TF2 / Keras 3 logs without an op graph): layers of class Dropout.
A probability coming from a placeholder takes the value the run fed (Hints: ``--feed`` or the
hparam ``feed/<placeholder>``); without it the site is reported as fed at run time.
"""

from __future__ import annotations

import weakref
from typing import Any

import networkx as nx

from tbdiff.findings import _trace as T
from tbdiff.findings.base import Context, FeedSpec, Finding, Hints

NAME = "dropout"

_TOL = 0.005  # float32 thresholds (0.30000001) are "equal" within this
_THRESHOLD_OPS = frozenset({"GreaterEqual", "Greater"})
_CONFIG_CLASSES = frozenset({"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"})
_IF_OPS = frozenset({"If", "StatelessIf"})


# ------------------------------------------------------------------------------------------
# detection in one graph
# ------------------------------------------------------------------------------------------


def _is_random(g: nx.MultiDiGraph, n: str | None) -> bool:
    return n is not None and T.has_ancestor_op(g, n, T.RANDOM_OPS, max_depth=4) is not None


def _gate(g: nx.MultiDiGraph, node: str) -> tuple[str | None, str | None]:
    """(placeholder switching this site on/off, how) — Keras learning phase or a traced train fn."""
    # TF2 functional cond: the site is inlined in an If branch; its predicate is input 0.
    caller = g.nodes[node].get("call_site")
    hops = 0
    while caller and caller in g and hops < 8:
        if T.op(g, caller) in _IF_OPS:
            pred = T.input_at(g, caller, 0)
            if pred is not None:
                src = T.resolve(g, pred)
                if T.op(g, src) in T.PLACEHOLDERS:
                    return src, "cond"
        caller = g.nodes[caller].get("call_site")
        hops += 1
    # TF1 Switch/Merge cond: `<...>/cond/pred_id` or `<...>/cond/Switch` next to the site.
    parts = node.split("/")
    for i in range(len(parts) - 1, 0, -1):
        if not parts[i - 1].startswith("cond"):
            continue
        prefix = "/".join(parts[:i])
        for cand, port in ((f"{prefix}/pred_id", 0), (f"{prefix}/Switch", 1)):
            if cand in g:
                pred = T.input_at(g, cand, port)
                if pred is not None:
                    src = T.resolve(g, pred)
                    if T.op(g, src) in T.PLACEHOLDERS:
                        return src, "cond"
    fn = g.nodes[node].get("function") or ""
    if "train_function" in fn or "train_step" in fn:
        return None, "train_function"
    return None, None


def _fed_map(g: nx.MultiDiGraph, placeholders: list[str], hints: Hints) -> dict[str, dict]:
    fed = {}
    for ph in placeholders:
        value, origin = hints.fed_value(ph)
        if value is None:
            # an hparam named like the placeholder itself (e.g. "keep_prob") is its value too
            key = ph.rsplit("/", 1)[-1]
            v = hints.hparams.get(key)
            if isinstance(v, int | float) and not isinstance(v, bool):
                value, origin = float(v), f"hparams:{key}"
        if value is not None:
            fed[ph] = {"value": value, "from": origin}
    return fed


def _site(
    g: nx.MultiDiGraph,
    hints: Hints,
    node: str,
    expr: str,
    *,
    expr_is_keep: bool,
) -> dict[str, Any]:
    """Facts of one site whose drop (or keep, for old TF) probability is the expression `expr`."""
    root = T.resolve(g, expr)
    # Which argument did the program write? `1 - X` means X is the other convention's value.
    param_node, complemented = root, False
    if T.op(g, root) == "Sub":
        ins = T.data_inputs(g, root)
        if (
            len(ins) == 2
            and T.evaluate(g, ins[0]) == 1.0
            and T.op(g, T.resolve(g, ins[0])) == "Const"
        ):
            param_node, complemented = T.resolve(g, ins[1]), True
    expr_kind = "keep_prob" if expr_is_keep else "rate"
    other = "rate" if expr_is_keep else "keep_prob"
    param = other if complemented else expr_kind

    placeholders = T.placeholders_in(g, expr)
    fed = _fed_map(g, placeholders, hints)
    fed_values = {k: v["value"] for k, v in fed.items()}
    unresolved = [p for p in placeholders if p not in fed]
    value = None if unresolved else T.evaluate(g, expr, fed_values)
    default = T.evaluate(g, expr)  # nothing fed: PlaceholderWithDefault defaults apply
    to_drop = (lambda v: None if v is None else 1.0 - v) if expr_is_keep else (lambda v: v)
    drop = to_drop(value)
    param_value = None if unresolved else T.evaluate(g, param_node, fed_values)
    gate, gate_how = _gate(g, node)
    framework = "keras" if gate is not None or gate_how == "train_function" else "tf"
    return {
        "layer": T.layer_name(node, strip=("dropout",)),
        "node": node,
        "framework": framework,
        "param": param,
        "param_node": param_node,
        "param_value": T.r4(param_value),
        "param_is_const": T.op(g, param_node) == "Const",
        "drop_rate": T.r4(drop),
        "keep_prob": T.r4(None if drop is None else 1.0 - drop),
        "default_drop_rate": T.r4(to_drop(default)),
        "placeholders": placeholders,
        "fed": fed,
        "unresolved": unresolved,
        "gate": gate,
        "gate_kind": gate_how,
    }


#: find_sites is used by dropout, learning_phase and metrics on the same graph: compute once
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def find_sites(g: nx.MultiDiGraph, hints: Hints | None = None) -> list[dict[str, Any]]:
    """All dropout sites of `g` in order along the data path (see module docstring)."""
    hints = hints or Hints()
    key = (repr(sorted(hints.hparams.items())), repr(sorted(hints.feeds.items())), len(g))
    per_graph = _CACHE.setdefault(g, {})
    if key not in per_graph:
        per_graph[key] = _find_sites(g, hints)
    return per_graph[key]


def _find_sites(g: nx.MultiDiGraph, hints: Hints) -> list[dict[str, Any]]:
    if g.graph.get("source") == "keras_model":
        return _config_sites(g)
    found: dict[str, dict[str, Any]] = {}
    for n, d in g.nodes(data=True):
        o = d.get("op")
        if o in _THRESHOLD_OPS and not T.is_gradient_node(n):
            x, thr = T.input_at(g, n, 0), T.input_at(g, n, 1)
            if thr is not None and _is_random(g, x) and not _is_random(g, thr):
                found[n] = _site(g, hints, n, thr, expr_is_keep=False)
        elif o == "Floor" and not T.is_gradient_node(n):
            add = T.input_at(g, n, 0)
            if add is None or T.op(g, add) not in ("Add", "AddV2"):
                continue
            ins = T.data_inputs(g, add)
            rnd = [u for u in ins if _is_random(g, u)]
            keep = [u for u in ins if u not in rnd]
            if len(rnd) == 1 and len(keep) == 1:
                found[n] = _site(g, hints, n, keep[0], expr_is_keep=True)
    order = T.order_along_path(g, list(found))
    return [found[n] for n in order]


def _config_sites(g: nx.MultiDiGraph) -> list[dict[str, Any]]:
    sites = {}
    for n, d in g.nodes(data=True):
        if d.get("op") not in _CONFIG_CLASSES:
            continue
        rate = T.as_scalar((d.get("attrs") or {}).get("rate"))
        sites[n] = {
            "layer": n,
            "node": n,
            "framework": "keras_config",
            "param": "rate",
            "param_node": n,
            "param_value": T.r4(rate),
            "drop_rate": T.r4(rate),
            "keep_prob": T.r4(None if rate is None else 1.0 - rate),
            "default_drop_rate": T.r4(rate),
            "placeholders": [],
            "fed": {},
            "unresolved": [],
            "gate": None,
            "gate_kind": "keras_config",
        }
    return [sites[n] for n in T.order_along_path(g, list(sites))]


def detect(graph: nx.MultiDiGraph, hints: Hints) -> dict[str, Any]:
    """Facts: {"count", "sites": [per-site dict, data-path order], "drop_rates", "unresolved"}."""
    sites = find_sites(graph, hints)
    unresolved = sorted({p for s in sites for p in s["unresolved"]})
    return {
        "count": len(sites),
        "sites": sites,
        "drop_rates": [s["drop_rate"] for s in sites],
        "unresolved": unresolved,
    }


def feed_specs(graph: nx.MultiDiGraph, hints: Hints) -> list[FeedSpec]:
    """Placeholders that set a dropout probability: a fed value must lie in [0, 1]."""
    return [
        FeedSpec(ph, f"the {s['param']} of dropout {s['layer']}", 0.0, 1.0)
        for s in find_sites(graph, hints)
        for ph in s["placeholders"]
    ]


# ------------------------------------------------------------------------------------------
# comparison
# ------------------------------------------------------------------------------------------


def _describe(site: dict[str, Any]) -> str:
    """How the program expressed this site, in the user's words."""
    pv = site["param_value"]
    pv_s = "?" if pv is None else f"{pv:g}"
    fed = ""
    if site["fed"]:
        ph, info = next(iter(site["fed"].items()))
        origin = {"--feed": "--feed", "hparams": f"hparam feed/{ph}"}.get(
            info["from"], f"hparam {str(info['from']).split(':', 1)[-1]}"
        )
        fed = f" (placeholder {ph!r}, value fed at run time, from {origin})"
    if site["framework"] in ("keras", "keras_config"):
        return f"Keras Dropout({pv_s}) -- the argument is the rate, the fraction to DROP{fed}"
    if site["param"] == "keep_prob":
        return f"tf.nn.dropout(keep_prob={pv_s}) -- the fraction to KEEP{fed}"
    if not site["placeholders"] and site.get("param_is_const"):
        # TF folds a Python keep_prob into the constant rate = 1 - keep_prob: both look alike
        kp = "?" if pv is None else f"{T.r4(1 - pv):g}"
        return (
            f"tf.nn.dropout with a constant drop rate of {pv_s} (written as rate={pv_s}, or as "
            f"keep_prob={kp} which TF turns into that constant)"
        )
    return f"tf.nn.dropout(rate={pv_s}) -- the fraction to DROP{fed}"


def _layers(sites: list[dict[str, Any]]) -> list[str]:
    return [s["layer"] for s in sites]


def _side(sites: list[dict[str, Any]], drop: Any) -> dict[str, Any]:
    params = {s["param"] for s in sites}
    values = {s["param_value"] for s in sites}
    out: dict[str, Any] = {
        "drop_rate": drop,
        "keep_prob": None
        if drop is None
        else (T.r4(1 - drop) if not isinstance(drop, list) else [T.r4(1 - x) for x in drop]),
        "sites": _layers(sites),
        "argument": params.pop() if len(params) == 1 else sorted(params),
        "argument_value": values.pop() if len(values) == 1 else sorted(v for v in values if v),
    }
    fed = {ph: info for s in sites for ph, info in s["fed"].items()}
    if fed:
        out["fed"] = fed
    return out


def _evidence(sites: list[dict[str, Any]]) -> list[str]:
    nodes = [s["node"] for s in sites]
    for s in sites:
        for extra in [s["param_node"], *s["placeholders"]]:
            if extra and extra not in nodes:
                nodes.append(extra)
    return nodes


def _uniform(vals: list[Any]) -> Any:
    """A single value when all equal (within tolerance), else the list."""
    known = [v for v in vals if v is not None]
    if known and len(known) == len(vals) and max(known) - min(known) <= _TOL:
        return known[0]
    return vals


def _runtime_fed(facts: dict[str, Any], side: str) -> Finding | None:
    sites = [s for s in facts["sites"] if s["unresolved"]]
    if not sites:
        return None
    phs = sorted({p for s in sites for p in s["unresolved"]})
    params = sorted({s["param"] for s in sites})
    defaults = sorted({s["default_drop_rate"] for s in sites if s["default_drop_rate"] is not None})
    default_txt = (
        f" When nothing is fed the default gives a drop probability of "
        f"{', '.join(T.fmt_prob(x) for x in defaults)} (this is what evaluation without a feed uses)."
        if defaults
        else ""
    )
    param = params[0] if len(params) == 1 else "keep_prob/rate"
    detail = (
        f"{len(sites)} dropout layer(s) in {side} ({', '.join(_layers(sites))}) take their "
        f"{param} from placeholder {', '.join(repr(p) for p in phs)}, whose value is fed at run "
        f"time and is not stored in the graph, so the effective dropout of {side} cannot be read "
        f"from the logs.{default_txt} Watch the convention: tf.nn.dropout's keep_prob is the "
        "probability to KEEP a unit (keep_prob=0.7 drops 30%), while keras.layers.Dropout(rate) "
        "and tf.nn.dropout(rate=...) take the probability to DROP (Dropout(0.7) drops 70%). "
        f"Give the fed value with --feed {phs[0]}=VALUE (or log it as the hparam "
        f"'feed/{phs[0]}') to compare the effective rates."
    )
    facts_side = {
        "placeholders": phs,
        "argument": param,
        "default_drop_rate": defaults[0] if len(defaults) == 1 else defaults,
        "sites": _layers(sites),
    }
    return Finding(
        id="dropout.runtime_fed",
        severity="warning",
        title=f"Dropout {param} in {side} is fed at run time ({', '.join(phs)}); value unknown",
        detail=detail,
        a=facts_side if side == "A" else None,
        b=facts_side if side == "B" else None,
        nodes_a=_evidence(sites) if side == "A" else [],
        nodes_b=_evidence(sites) if side == "B" else [],
        score=0.5,
    )


def _convention_text(sa: list[dict], sb: list[dict], pa: float, pb: float) -> str:
    """Explain keep_prob vs rate when the two sides use the numbers as complements."""
    if abs(pa - (1 - pb)) > _TOL:
        return ""
    keep_side = next(
        (
            (name, sites)
            for name, sites in (("A", sa), ("B", sb))
            if any(s["param"] == "keep_prob" for s in sites)
        ),
        None,
    )
    if keep_side is None:
        return (
            f" The two drop probabilities are complements ({T.fmt_prob(pa)} + {T.fmt_prob(pb)} = "
            "100%): a value meant as a keep probability was probably used as a drop rate "
            "somewhere (the classic keep_prob-vs-rate confusion)."
        )
    k_name, k_sites = keep_side
    r_name = "B" if k_name == "A" else "A"
    keep_value = k_sites[0]["param_value"]
    p_keep_side = pa if k_name == "A" else pb  # drop probability of the keep_prob side
    p_rate_side = pb if k_name == "A" else pa
    kv = "?" if keep_value is None else f"{keep_value:g}"
    return (
        f" This is the classic keep_prob-vs-rate confusion: {k_name} passes {kv} as tf.nn.dropout's "
        f"keep_prob, which KEEPS {T.fmt_prob(keep_value)} of the units, while {r_name} passes the "
        f"same number as a rate, which DROPS {T.fmt_prob(p_rate_side)}. To make {r_name} match "
        f"{k_name}, use Dropout({T.r4(p_keep_side):g}) (rate = 1 - keep_prob) in {r_name}; or "
        f"keep_prob={T.r4(1 - p_rate_side):g} in {k_name} to reproduce {r_name}."
    )


def _pair_sites(
    sa: list[dict], sb: list[dict], ctx: Context | None
) -> tuple[list[tuple[dict, dict]], bool]:
    """Dropout layer pairs (both sides present): from the alignment's dropout LayerPairs when
    they cover every site, else by position along the data path.  Second value: aligned?"""
    layers = getattr(getattr(ctx, "alignment", None), "layers", None) or []
    lp = [lay for lay in layers if getattr(lay, "kind", None) == "dropout"]
    if lp:
        ia = {s["layer"]: s for s in sa}
        ib = {s["layer"]: s for s in sb}
        named_a = {lay.a for lay in lp if lay.a}
        named_b = {lay.b for lay in lp if lay.b}
        if set(ia) <= named_a and set(ib) <= named_b:
            pairs = [(ia[lay.a], ib[lay.b]) for lay in lp if lay.a in ia and lay.b in ib]
            pairs.sort(key=lambda xy: sa.index(xy[0]))
            return pairs, True
    return list(zip(sa, sb, strict=False)), False


def _rate_mismatch(sa: list[dict], sb: list[dict], ctx: Context | None = None) -> Finding | None:
    pairs, aligned = _pair_sites(sa, sb, ctx)
    if len(sa) != len(sb) and not aligned:
        # Counts differ (reported separately); still compare rates when each side is uniform.
        ua = _uniform([s["drop_rate"] for s in sa])
        ub = _uniform([s["drop_rate"] for s in sb])
        if isinstance(ua, list) or isinstance(ub, list) or abs(ua - ub) <= _TOL:
            return None
        bad = pairs or []
        pa, pb = ua, ub
        shown_a, shown_b = sa, sb
    else:
        bad = [
            (x, y)
            for x, y in pairs
            if x["drop_rate"] is not None
            and y["drop_rate"] is not None
            and abs(x["drop_rate"] - y["drop_rate"]) > _TOL
        ]
        if not bad:
            return None
        shown_a, shown_b = sa, sb
        pa = _uniform([x["drop_rate"] for x, _ in bad])
        pb = _uniform([y["drop_rate"] for _, y in bad])
    uniform = not isinstance(pa, list) and not isinstance(pb, list)
    if uniform:
        title = f"Dropout drops {T.fmt_prob(pa)} of units in A but {T.fmt_prob(pb)} in B"
        delta = abs(pa - pb)
    else:
        title = (
            f"Dropout rates differ at {len(bad)} of {max(len(sa), len(sb))} dropout layers "
            f"(A: {', '.join(T.fmt_prob(x['drop_rate']) for x, _ in bad)}; "
            f"B: {', '.join(T.fmt_prob(y['drop_rate']) for _, y in bad)})"
        )
        delta = max(abs(x["drop_rate"] - y["drop_rate"]) for x, y in bad)
    pair_txt = ", ".join(f"{x['layer']} <-> {y['layer']}" for x, y in pairs)
    how_a = _describe(sa[0]) if sa else "no dropout"
    how_b = _describe(sb[0]) if sb else "no dropout"
    detail = (
        f"A uses {how_a}; B uses {how_b}. "
        + (
            f"So A drops {T.fmt_prob(pa)} (keeps {T.fmt_prob(1 - pa)}) and B drops "
            f"{T.fmt_prob(pb)} (keeps {T.fmt_prob(1 - pb)}) of the units at every training step"
            if uniform
            else "The effective drop probabilities differ per layer"
        )
        + f" -- dropout layer pairs in data-path order: {pair_txt}."
        + (_convention_text(sa, sb, pa, pb) if uniform else "")
        + " A higher drop probability is a much stronger regulariser: the network trains with "
        "fewer active units, learns more slowly and usually ends with lower accuracy, so this "
        "alone can explain a gap between the two runs."
    )
    a = _side(shown_a, T.r4(pa) if uniform else [s["drop_rate"] for s in shown_a])
    b = _side(shown_b, T.r4(pb) if uniform else [s["drop_rate"] for s in shown_b])
    return Finding(
        id="dropout.rate_mismatch",
        severity="critical",
        title=title,
        detail=detail,
        a=a,
        b=b,
        nodes_a=_evidence(shown_a),
        nodes_b=_evidence(shown_b),
        score=min(1.0, 0.6 + delta),
    )


def _count_mismatch(sa: list[dict], sb: list[dict], ctx: Context | None = None) -> Finding | None:
    if len(sa) == len(sb):
        return None
    pairs, aligned = _pair_sites(sa, sb, ctx)
    unpaired = ""
    if aligned:
        pa = {id(x) for x, _ in pairs}
        pb = {id(y) for _, y in pairs}
        only_a = [s["layer"] for s in sa if id(s) not in pa]
        only_b = [s["layer"] for s in sb if id(s) not in pb]
        bits = [
            f"only in A: {', '.join(only_a)}" if only_a else "",
            f"only in B: {', '.join(only_b)}" if only_b else "",
        ]
        unpaired = " Unpaired after alignment -- " + "; ".join(b for b in bits if b) + "."

    def listing(sites: list[dict]) -> str:
        if not sites:
            return "none"
        return ", ".join(f"{s['layer']} ({T.fmt_prob(s['drop_rate'])})" for s in sites)

    if not sa or not sb:
        who, has = ("A", "B") if not sa else ("B", "A")
        title = f"{has} uses dropout ({max(len(sa), len(sb))} layers) but {who} has none"
    else:
        title = f"A has {len(sa)} dropout layers, B has {len(sb)}"
    detail = (
        f"Dropout layers in data-path order -- A: {listing(sa)}; B: {listing(sb)}.{unpaired} Each dropout "
        "layer regularises the layer after it; a missing or extra one changes how strongly the "
        "network is regularised and what it learns, which shows up as a train/test accuracy gap."
    )
    return Finding(
        id="dropout.count_mismatch",
        severity="critical",
        title=title,
        detail=detail,
        a={"count": len(sa), "sites": _layers(sa), "drop_rates": [s["drop_rate"] for s in sa]},
        b={"count": len(sb), "sites": _layers(sb), "drop_rates": [s["drop_rate"] for s in sb]},
        nodes_a=[s["node"] for s in sa],
        nodes_b=[s["node"] for s in sb],
        score=0.95 if not sa or not sb else min(0.9, 0.7 + 0.05 * abs(len(sa) - len(sb))),
    )


def _equivalent(sa: list[dict], sb: list[dict]) -> Finding | None:
    """Same effective dropout written differently (keep_prob vs rate, TF vs Keras): info only."""
    if not sa or len(sa) != len(sb):
        return None
    if any(
        x["drop_rate"] is None
        or y["drop_rate"] is None
        or abs(x["drop_rate"] - y["drop_rate"]) > _TOL
        for x, y in zip(sa, sb, strict=True)
    ):
        return None
    forms_a = {(s["framework"] == "tf", s["param"]) for s in sa}
    forms_b = {(s["framework"] == "tf", s["param"]) for s in sb}
    if forms_a == forms_b:
        return None
    p = _uniform([s["drop_rate"] for s in sa])
    rate_txt = T.fmt_prob(p) if not isinstance(p, list) else "the same fraction"
    return Finding(
        id="dropout.equivalent",
        severity="info",
        title=f"Dropout is written differently but drops {rate_txt} of units in both",
        detail=f"A uses {_describe(sa[0])}; B uses {_describe(sb[0])}. The effective drop "
        "probabilities agree at every dropout layer, so dropout does not explain a difference.",
        a=_side(sa, p if not isinstance(p, list) else [s["drop_rate"] for s in sa]),
        b=_side(sb, p if not isinstance(p, list) else [s["drop_rate"] for s in sb]),
        nodes_a=[s["node"] for s in sa],
        nodes_b=[s["node"] for s in sb],
        score=0.05,
    )


def compare(facts_a: dict[str, Any], facts_b: dict[str, Any], ctx: Context) -> list[Finding]:
    sa, sb = facts_a["sites"], facts_b["sites"]
    out: list[Finding] = []
    for facts, side in ((facts_a, "A"), (facts_b, "B")):
        f = _runtime_fed(facts, side)
        if f:
            out.append(f)
    for f in (_count_mismatch(sa, sb, ctx), _rate_mismatch(sa, sb, ctx), _equivalent(sa, sb)):
        if f:
            out.append(f)
    return out
