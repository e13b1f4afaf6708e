"""Dropout: compare the effective drop probability of every dropout layer of two runs.

Why this detector matters most: `tf.nn.dropout(x, keep_prob=0.7)` KEEPS 70% of the units,
`keras.layers.Dropout(0.7)` and `tf.nn.dropout(x, rate=0.7)` DROP 70%. Both graphs look alike in
TensorBoard, yet one network trains with 2.3x more units switched off. The front-ends reduce
every form to `DropoutSite.drop_rate` (probability to drop while training) and keep how the
program wrote it (`written_as` keep_prob / rate / p), so this module only compares.

A rate recorded only as a hyper-parameter (no layer known) is compared as a rate, never counted.
"""

from __future__ import annotations

from typing import Any

from tbdiff.findings.base import Context, Finding, provenance
from tbdiff.model.description import DropoutSite, ModelDescription
from tbdiff.model.numbers import fmt_prob, r4
from tbdiff.words import count

NAME = "dropout"
LABEL = "dropout"

_TOL = 0.005  # float32 thresholds (0.30000001) are "equal" within this


def _describe(site: DropoutSite) -> str:
    """How the program expressed this site, in the user's words."""
    pv = site.written_value
    pv_s = "?" if pv is None else f"{pv:g}"
    fed = ""
    if site.fed:
        ph, info = next(iter(site.fed.items()))
        origin = "--feed" if info.source.origin == "feed" else f"hparam {info.source.where}"
        fed = f", fed through placeholder {ph!r} (value from {origin})"
    if site.framework == "hparams":
        return (
            f"the recorded hyper-parameter {site.source.where}={pv_s} (read as {site.written_as})"
        )
    if site.framework == "torch":
        call = "F.dropout(x, p=" if "F.dropout" in site.layer else "nn.Dropout(p="
        return f"PyTorch {call}{pv_s}) -- p is the probability to DROP, like Keras' rate"
    if site.framework in ("keras", "keras_config"):
        return f"Keras Dropout({pv_s}), a rate, the share to DROP{fed}"
    if site.written_as == "keep_prob":
        return f"tf.nn.dropout(keep_prob={pv_s}), the share to KEEP{fed}"
    if not site.placeholders and site.written_const:
        # TF folds a Python keep_prob into the constant rate = 1 - keep_prob: both look alike
        kp = "?" if pv is None else f"{r4(1 - pv):g}"
        return (
            f"tf.nn.dropout with a constant drop rate of {pv_s} (written as rate={pv_s}, or as "
            f"keep_prob={kp} which TF turns into that constant)"
        )
    return f"tf.nn.dropout(rate={pv_s}), the share to DROP{fed}"


def _form(site: DropoutSite, drop: float | None = None) -> str:
    """How this side's program writes a drop probability (its own one by default), in the words
    of its API: 'keep_prob=0.7', 'Dropout(0.7)', 'rate=0.3', 'p=0.5', 'dropout_rate=0.7'."""
    if drop is None:
        value = site.written_value
    else:
        value = r4(1 - drop) if site.written_as == "keep_prob" else r4(drop)
    v = "?" if value is None else f"{value:g}"
    if site.framework == "hparams":
        return f"{site.source.where}={v}"
    if site.framework in ("keras", "keras_config"):
        return f"Dropout({v})"
    return f"{site.written_as}={v}"


def _layers(sites: list[DropoutSite]) -> list[str]:
    return [s.layer for s in sites]


def _side(sites: list[DropoutSite], drop: Any) -> dict[str, Any]:
    params = {s.written_as for s in sites}
    values = {s.written_value for s in sites}
    out: dict[str, Any] = {
        "drop_rate": drop,
        "keep_prob": None
        if drop is None
        else (r4(1 - drop) if not isinstance(drop, list) else [r4(1 - x) for x in drop]),
        "sites": _layers(sites),
        "argument": params.pop() if len(params) == 1 else sorted(params),
        "argument_value": values.pop() if len(values) == 1 else sorted(v for v in values if v),
    }
    fed = {ph: {"value": f.value, "from": f.origin_text} for s in sites for ph, f in s.fed.items()}
    if fed:
        out["fed"] = fed
    origins = sorted({s.source.label for s in sites})
    out["source"] = origins[0] if len(origins) == 1 else origins
    return out


def _evidence(sites: list[DropoutSite]) -> list[str]:
    """The sites' mask tests, then the nodes their probabilities come from."""
    nodes = [s.node for s in sites if s.node]
    for s in sites:
        nodes += [n for n in s.evidence if n not in nodes]
    return nodes


def _uniform(vals: list[Any]) -> Any:
    """A single value when all equal (within tolerance), else the list."""
    known = [v for v in vals if v is not None]
    if known and len(known) == len(vals) and max(known) - min(known) <= _TOL:
        return known[0]
    return vals


def _runtime_fed(all_sites: list[DropoutSite], side: str) -> Finding | None:
    sites = [s for s in all_sites if s.unresolved]
    if not sites:
        return None
    phs = sorted({p for s in sites for p in s.unresolved})
    params = sorted({s.written_as for s in sites})
    defaults = sorted({s.default_drop_rate for s in sites if s.default_drop_rate is not None})
    default_txt = (
        f" When nothing is fed the default gives a drop probability of "
        f"{', '.join(fmt_prob(x) for x in defaults)} (this is what evaluation without a feed uses)."
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


def _convention(
    sa: list[DropoutSite], sb: list[DropoutSite], pa: float, pb: float
) -> tuple[str, str]:
    """(why line, fix) when the two sides use the numbers as complements; ("", "") otherwise."""
    if abs(pa - (1 - pb)) > _TOL:
        return "", ""
    keep_side = next(
        (
            (name, sites)
            for name, sites in (("A", sa), ("B", sb))
            if any(s.written_as == "keep_prob" for s in sites)
        ),
        None,
    )
    if keep_side is None:
        return (
            f"The two drop probabilities are complements ({fmt_prob(pa)} + {fmt_prob(pb)} = "
            "100%): a value meant as a keep probability was probably used as a drop rate "
            "somewhere (the classic keep_prob-vs-rate confusion).",
            "",
        )
    k_name, k_sites = keep_side
    r_name = "B" if k_name == "A" else "A"
    r_sites = sb if k_name == "A" else sa
    kv = k_sites[0].written_value
    kv_s = "?" if kv is None else f"{kv:g}"
    p_keep_side = pa if k_name == "A" else pb  # drop probability of the keep_prob side
    why = (
        f"The classic keep_prob-vs-rate confusion: both write {kv_s}, {k_name} as the share to "
        f"KEEP, {r_name} as the share to DROP."
    )
    why += f" {_form(k_sites[0], 1 - p_keep_side)} in {k_name} would reproduce {r_name} instead."
    fix = f"{_form(r_sites[0], p_keep_side)} in {{{r_name.lower()}}} (rate = 1 - keep_prob)"
    return why, fix


def _site_line(side: str, sites: list[DropoutSite], p: Any) -> str:
    """'A: tf.nn.dropout(keep_prob=0.7), the share to KEEP ...: drops 30%, keeps 70%.'"""
    if not sites:
        return f"{side}: no dropout."
    if isinstance(p, list):
        return f"{side}: {_describe(sites[0])}; per layer it drops {', '.join(map(fmt_prob, p))}."
    return f"{side}: {_describe(sites[0])}: drops {fmt_prob(p)}, keeps {fmt_prob(1 - p)}."


def _pair_sites(
    sa: list[DropoutSite], sb: list[DropoutSite], ctx: Context | None
) -> tuple[list[tuple[DropoutSite, DropoutSite]], bool]:
    """Dropout layer pairs (both sides present): from the alignment's dropout LayerPairs when
    they cover every site, else by position along the data path.  Second value: aligned?"""
    layers = getattr(getattr(ctx, "alignment", None), "layers", None) or []
    lp = [lay for lay in layers if getattr(lay, "kind", None) == "dropout"]
    if lp:
        ia = {s.layer: s for s in sa}
        ib = {s.layer: s for s in sb}
        named_a = {lay.a for lay in lp if lay.a}
        named_b = {lay.b for lay in lp if lay.b}
        if set(ia) <= named_a and set(ib) <= named_b:
            pairs = [(ia[lay.a], ib[lay.b]) for lay in lp if lay.a in ia and lay.b in ib]
            pairs.sort(key=lambda xy: sa.index(xy[0]))
            return pairs, True
    return list(zip(sa, sb, strict=False)), False


def _rate_mismatch(
    sa: list[DropoutSite], sb: list[DropoutSite], ctx: Context | None = None
) -> Finding | None:
    pairs, aligned = _pair_sites(sa, sb, ctx)
    if len(sa) != len(sb) and not aligned:
        # Counts differ (reported separately); still compare rates when each side is uniform.
        ua = _uniform([s.drop_rate for s in sa])
        ub = _uniform([s.drop_rate for s in sb])
        if isinstance(ua, list) or isinstance(ub, list) or abs(ua - ub) <= _TOL:
            return None
        bad = pairs or []
        pa, pb = ua, ub
        shown_a, shown_b = sa, sb
    else:
        bad = [
            (x, y)
            for x, y in pairs
            if x.drop_rate is not None
            and y.drop_rate is not None
            and abs(x.drop_rate - y.drop_rate) > _TOL
        ]
        if not bad:
            return None
        shown_a, shown_b = sa, sb
        pa = _uniform([x.drop_rate for x, _ in bad])
        pb = _uniform([y.drop_rate for _, y in bad])
    uniform = not isinstance(pa, list) and not isinstance(pb, list)
    if uniform:
        title = f"Dropout drops {fmt_prob(pa)} of units in A but {fmt_prob(pb)} in B"
        delta = abs(pa - pb)
    else:
        title = (
            f"Dropout rates differ at {len(bad)} of {max(len(sa), len(sb))} dropout layers "
            f"(A: {', '.join(fmt_prob(x.drop_rate) for x, _ in bad)}; "
            f"B: {', '.join(fmt_prob(y.drop_rate) for _, y in bad)})"
        )
        delta = max(abs(x.drop_rate - y.drop_rate) for x, y in bad)
    pair_txt = ", ".join(f"{x.layer} <-> {y.layer}" for x, y in pairs)
    why, fix = _convention(sa, sb, pa, pb) if uniform else ("", "")
    lines = [
        _site_line("A", sa, pa if uniform else [x.drop_rate for x, _ in bad]),
        _site_line("B", sb, pb if uniform else [y.drop_rate for _, y in bad]),
        f"Layer pairs (data-path order): {pair_txt}." if pair_txt else "",
        why,
        "More dropout regularises harder: the network learns more slowly and usually ends "
        "less accurate, so this alone can explain a gap between the runs.",
    ]
    detail = "\n".join(line for line in lines if line)
    a = _side(shown_a, r4(pa) if uniform else [s.drop_rate for s in shown_a])
    b = _side(shown_b, r4(pb) if uniform else [s.drop_rate for s in shown_b])
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
        fix=fix,
    )


def _count_mismatch(
    sa: list[DropoutSite], sb: list[DropoutSite], ctx: Context | None = None
) -> Finding | None:
    if len(sa) == len(sb):
        return None
    pairs, aligned = _pair_sites(sa, sb, ctx)
    unpaired = ""
    if aligned:
        pa = {id(x) for x, _ in pairs}
        pb = {id(y) for _, y in pairs}
        only_a = [s.layer for s in sa if id(s) not in pa]
        only_b = [s.layer for s in sb if id(s) not in pb]
        bits = [
            f"only in A: {', '.join(only_a)}" if only_a else "",
            f"only in B: {', '.join(only_b)}" if only_b else "",
        ]
        unpaired = " Unpaired after alignment -- " + "; ".join(b for b in bits if b) + "."

    def listing(sites: list[DropoutSite]) -> str:
        if not sites:
            return "none"
        return ", ".join(f"{s.layer} ({fmt_prob(s.drop_rate)})" for s in sites)

    if not sa or not sb:
        who, has = ("A", "B") if not sa else ("B", "A")
        title = f"{has} uses dropout ({count(max(len(sa), len(sb)), 'layer')}) but {who} has none"
    else:
        title = f"A has {len(sa)} dropout layers, B has {len(sb)}"
    detail = (
        f"Dropout layers in data-path order -- A: {listing(sa)}; B: {listing(sb)}.{unpaired} Each dropout "
        "layer regularises the layer after it; a missing or extra one changes how strongly the "
        "network is regularised and what it learns, which shows up as a train/test accuracy gap."
        + provenance((s.source for s in sa), (s.source for s in sb))
    )
    return Finding(
        id="dropout.count_mismatch",
        severity="critical",
        title=title,
        detail=detail,
        a={"count": len(sa), "sites": _layers(sa), "drop_rates": [s.drop_rate for s in sa]},
        b={"count": len(sb), "sites": _layers(sb), "drop_rates": [s.drop_rate for s in sb]},
        nodes_a=[s.node for s in sa],
        nodes_b=[s.node for s in sb],
        score=0.95 if not sa or not sb else min(0.9, 0.7 + 0.05 * abs(len(sa) - len(sb))),
    )


def _equivalent(sa: list[DropoutSite], sb: list[DropoutSite]) -> Finding | None:
    """Same effective dropout written differently (keep_prob vs rate, TF vs Keras): info only."""
    if not sa or len(sa) != len(sb):
        return None
    if any(
        x.drop_rate is None or y.drop_rate is None or abs(x.drop_rate - y.drop_rate) > _TOL
        for x, y in zip(sa, sb, strict=True)
    ):
        return None
    forms_a = {(s.framework == "tf", s.written_as) for s in sa}
    forms_b = {(s.framework == "tf", s.written_as) for s in sb}
    if forms_a == forms_b:
        return None
    p = _uniform([s.drop_rate for s in sa])
    rate_txt = fmt_prob(p) if not isinstance(p, list) else "the same fraction"
    return Finding(
        id="dropout.equivalent",
        severity="info",
        title=f"Dropout is written differently but drops {rate_txt} of units in both",
        detail=f"A uses {_describe(sa[0])}; B uses {_describe(sb[0])}. The effective drop "
        "probabilities agree at every dropout layer, so dropout does not explain a difference.",
        a=_side(sa, p if not isinstance(p, list) else [s.drop_rate for s in sa]),
        b=_side(sb, p if not isinstance(p, list) else [s.drop_rate for s in sb]),
        nodes_a=[s.node for s in sa],
        nodes_b=[s.node for s in sb],
        score=0.05,
    )


def _same_unknown(ua: list[DropoutSite], ub: list[DropoutSite], ctx: Context) -> bool:
    """Both runs feed the same placeholder(s) in the same way: one unknown, not two problems."""
    if len(ua) != len(ub):
        return False
    pairs = getattr(ctx.alignment, "pairs", None) or {}
    for x, y in zip(ua, ub, strict=True):
        if (x.written_as, x.default_drop_rate) != (y.written_as, y.default_drop_rate):
            return False
        if len(x.unresolved) != len(y.unresolved):
            return False
        for pa, pb in zip(x.unresolved, y.unresolved, strict=True):
            if pa != pb and pairs.get(pa) != pb:
                return False
    return True


def _unknown_both(ua: list[DropoutSite], ub: list[DropoutSite]) -> Finding:
    phs_a = sorted({p for s in ua for p in s.unresolved})
    phs_b = sorted({p for s in ub for p in s.unresolved})
    param = ua[0].written_as
    same = phs_a == phs_b
    names = ", ".join(phs_a) if same else f"{', '.join(phs_a)} / {', '.join(phs_b)}"
    detail = (
        f"Both runs take the dropout {param} of their {len(ua)} dropout layer(s) from the "
        f"placeholder {names} in the same way, and the value fed at run time is stored in "
        "neither log, so the effective dropout cannot be read on either side. The graphs agree; "
        "if the programs fed different values, that would not show here. Pass "
        f"--feed {phs_a[0]}=VALUE (or log the hparam 'feed/{phs_a[0]}') to compare the rates."
    )

    def side(sites: list[DropoutSite], phs: list[str]) -> dict[str, Any]:
        return {"placeholders": phs, "argument": param, "sites": _layers(sites)}

    return Finding(
        id="dropout.runtime_fed",
        severity="info",
        title=f"Dropout {param} is fed at run time in both runs ({names}); value unknown",
        detail=detail,
        a=side(ua, phs_a),
        b=side(ub, phs_b),
        nodes_a=_evidence(ua),
        nodes_b=_evidence(ub),
        score=0.02,
    )


def _counted(sites: list[DropoutSite]) -> bool:
    return all(s.layer_known for s in sites)


def _predicts_rate(f: Finding, sa: list[DropoutSite], sb: list[DropoutSite]) -> None:
    """More dropout, lower (train) accuracy; the verdict phrase names how each side wrote it."""
    ra, rb = (f.a or {}).get("drop_rate"), (f.b or {}).get("drop_rate")
    if isinstance(ra, int | float) and isinstance(rb, int | float) and ra != rb:
        f.predicts = 1 if rb < ra else -1
        (hi, hs), (lo, ls) = (("{a}", sa), ("{b}", sb)) if ra > rb else (("{b}", sb), ("{a}", sa))
        phrase = f"{hi} drops {fmt_prob(max(ra, rb))} of units, {lo} drops {fmt_prob(min(ra, rb))}"
        if hs and ls and "keep_prob" in (hs[0].written_as, ls[0].written_as):
            # the keep-vs-drop convention is the point: say what each written number means
            phrase += f": {_means(ls[0], min(ra, rb))}, {_means(hs[0], max(ra, rb))}"
        f.verdict = phrase


def _means(site: DropoutSite, drop: float) -> str:
    """'keep_prob=0.7 keeps 70%' / 'Dropout(0.7) drops 70%'."""
    if site.written_as == "keep_prob":
        return f"{_form(site)} keeps {fmt_prob(1 - drop)}"
    return f"{_form(site)} drops {fmt_prob(drop)}"


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    sa, sb = a.dropout, b.dropout
    out: list[Finding] = []
    ua, ub = [s for s in sa if s.unresolved], [s for s in sb if s.unresolved]
    if ua and ub and _same_unknown(ua, ub, ctx):
        out.append(_unknown_both(ua, ub))
    else:
        out += [f for f in (_runtime_fed(sa, "A"), _runtime_fed(sb, "B")) if f]
    counted = _counted(sa) and _counted(sb)
    count = _count_mismatch(sa, sb, ctx) if counted else None
    if count is not None:
        ca, cb = len(sa), len(sb)
        count.predicts = 1 if cb < ca else -1
    rate = _rate_mismatch(sa, sb, ctx if counted else None)
    if rate is not None:
        _predicts_rate(rate, sa, sb)
    out += [f for f in (count, rate, _equivalent(sa, sb) if counted else None) if f]
    return out


def inspect(d: ModelDescription) -> str | None:
    """'Dropout1, Dropout2: drops 30% (keep_prob=0.7 fed, value from hparams) [graph]'."""
    if not d.dropout:
        return "none" if d.has_ops or d.config_only else None
    groups: dict[str, list[str]] = {}  # identical settings are listed once, with their layers
    for s in d.dropout:
        how = f"{s.written_as}={_num(s.written_value)}" if s.written_as else ""
        if s.fed:
            how += " fed, " + ", ".join(f"value from {f.origin_text}" for f in s.fed.values())
        elif s.placeholders and s.drop_rate is None:
            how += " fed at run time, value unknown"
        if s.switch.kind == "train_flag" and s.switch.dropout_at_eval:
            how += ", training=True: also on at evaluation"
        shown = "?" if s.drop_rate is None else f"{s.drop_rate * 100:.3g}%"
        key = f"drops {shown}" + (f" ({how})" if how else "") + f" [{s.source.label}]"
        groups.setdefault(key, []).append(s.layer)
    return "; ".join(f"{', '.join(layers)}: {key}" for key, layers in groups.items())


def _num(v: float | None) -> str:
    return "?" if v is None else f"{v:.4g}"
