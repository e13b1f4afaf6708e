"""Plain-words description of what ONE graph does, from the detectors' facts.

`tbdiff inspect` shows these lines per run, so a user can read "dropout drops 30% (keep_prob
fed 0.7)" or "adam lr=0.001" for a single log directory without comparing anything. Each
function tolerates missing keys: facts from a Keras model config carry less than an op graph.
"""

from __future__ import annotations

from typing import Any


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _dropout(f: dict[str, Any]) -> str | None:
    sites = f.get("sites") or []
    if not sites:
        return "none"
    groups: dict[str, list[str]] = {}  # identical settings are listed once, with their layers
    for s in sites:
        rate = s.get("drop_rate")
        how = f"{s.get('param')}={_num(s.get('param_value'))}" if s.get("param") else ""
        fed = s.get("fed") or {}
        if fed:
            how += " fed, " + ", ".join(f"value from {v.get('from')}" for v in fed.values())
        elif s.get("placeholders") and rate is None:
            how += " fed at run time, value unknown"
        shown = "?" if rate is None else f"{rate * 100:.3g}%"
        key = f"drops {shown}" + (f" ({how})" if how else "")
        groups.setdefault(key, []).append(str(s.get("layer")))
    return "; ".join(f"{', '.join(layers)}: {key}" for key, layers in groups.items())


def _optimizer(f: dict[str, Any]) -> str | None:
    if not f.get("type"):
        return None
    hp = ", ".join(f"{k}={_num(v)}" for k, v in (f.get("hparams") or {}).items())
    return f"{f['type']}" + (f" ({hp})" if hp else "")


def _layers(f: dict[str, Any]) -> str | None:
    layers = f.get("layers") or []
    if not layers:
        return None
    parts = []
    for layer in layers:
        shape = layer.get("kernel_shape")
        act = layer.get("activation") or "linear"
        parts.append(f"{layer.get('scope')} {layer.get('kind')} {shape} {act}")
    return f"{len(layers)} trainable: " + "; ".join(parts)


def _loss(f: dict[str, Any]) -> str | None:
    main = f.get("main")
    if not main:
        return None
    bits = [main.get("kind", "?")]
    if main.get("from_logits"):
        bits.append("from logits")
    if main.get("label_smoothing"):
        bits.append(f"label smoothing {_num(main['label_smoothing'])}")
    if main.get("reduction"):
        bits.append(f"reduction {main['reduction']}")
    return ", ".join(bits)


def _init(f: dict[str, Any]) -> str | None:
    labels = []
    known = False
    for layer in f.get("layers") or []:
        kernel, bias = layer.get("kernel") or {}, layer.get("bias") or {}
        known = known or "unknown" not in (kernel.get("family"), bias.get("family"))
        k, b = kernel.get("label"), bias.get("label")
        labels.append(f"{layer.get('scope')}: kernel {k or '?'}, bias {b or '?'}")
    if not labels or not known:  # graphs without initial values say nothing useful here
        return None
    if len(labels) > 2:  # identical families on every layer are the common case: keep it short
        return f"{labels[0]}; ... ({len(labels)} layers)"
    return "; ".join(labels)


def _learning_phase(f: dict[str, Any]) -> str | None:
    mech = f.get("mechanism")
    if not mech or mech == "none":
        return None
    return str(mech).replace("_", " ")


def _regularization(f: dict[str, Any]) -> str | None:
    terms = f.get("terms") or []
    decay = f.get("weight_decay") or []
    if not terms and not decay:
        return None
    parts = [f"{t.get('kind')} {_num(t.get('coef'))} on {t.get('layer')}" for t in terms]
    parts += [f"weight decay {_num(d.get('coef'))} on {d.get('layer')}" for d in decay]
    return "; ".join(parts)


def _sample_weights(f: dict[str, Any]) -> str | None:
    kind = f.get("weighting")
    if kind in (None, "none"):
        return None
    consts = f.get("constants") or []
    if kind == "constant" and consts and all(c.get("all_ones") for c in consts):
        return "constant 1 (none passed: no effect)"
    if kind == "placeholder":
        names = ", ".join(f.get("placeholders") or [])
        return f"fed per sample ({names})" if names else "fed per sample"
    return str(kind)


_DESCRIBERS = (
    ("layers", _layers),
    ("dropout", _dropout),
    ("learning phase", _learning_phase),
    ("optimizer", _optimizer),
    ("loss", _loss),
    ("init", _init),
    ("regularization", _regularization),
    ("sample weights", _sample_weights),
)
_FACT_KEYS = {"learning phase": "learning_phase", "sample weights": "sample_weights"}


def describe(facts: dict[str, dict]) -> dict[str, str]:
    """One line per concept that the graph shows (concepts with nothing to say are left out)."""
    out: dict[str, str] = {}
    for label, fn in _DESCRIBERS:
        f = facts.get(_FACT_KEYS.get(label, label))
        if not f:
            continue
        try:
            line = fn(f)
        except (
            TypeError,
            ValueError,
            AttributeError,
        ):  # a detector's odd facts must not break inspect
            line = None
        if line:
            out[label] = line
    return out
