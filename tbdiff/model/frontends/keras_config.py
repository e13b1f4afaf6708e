"""Front-end for Keras 2 and Keras 3 model configs (the `keras` summary, plugin
`graph_keras_model`), including Keras 3's `compile_config` (optimizer, loss, metrics).

TF2 / Keras 3 TensorBoard callbacks log the model as JSON: layer classes with their configs and
the inbound connections; Keras 3 adds how the model was compiled. No ops, so no data-path
evidence beyond the layer order: facts say `Source("keras_config", <layer or key>)`.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from tbdiff.model import names as N
from tbdiff.model.description import (
    DropoutSite,
    Init,
    Layer,
    Loss,
    Metric,
    ModelDescription,
    Normalization,
    Optimizer,
    Penalty,
    Source,
    Switch,
)
from tbdiff.model.inputs import RunInputs
from tbdiff.model.numbers import number, r4, rnd

NAME = "keras_config"

_KINDS = {
    "Dense": "dense",
    "EinsumDense": "dense",
    "Conv1D": "conv1d",
    "Conv2D": "conv2d",
    "Conv3D": "conv3d",
    "DepthwiseConv2D": "depthwise_conv2d",
    "SeparableConv2D": "conv2d",
    "Conv2DTranspose": "conv2d_transpose",
    "Embedding": "embedding",
    "BatchNormalization": "batch_norm",
    "LayerNormalization": "layer_norm",
    "Dropout": "dropout",
    "SpatialDropout1D": "dropout",
    "SpatialDropout2D": "dropout",
    "SpatialDropout3D": "dropout",
}
#: layers whose `rate` is the probability to drop a unit (AlphaDropout/GaussianDropout differ)
_DROPOUT_CLASSES = frozenset(k for k, v in _KINDS.items() if v == "dropout")
_SAME_SHAPE = frozenset(
    {
        "Dropout",
        "AlphaDropout",
        "GaussianDropout",
        "GaussianNoise",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "Softmax",
        "BatchNormalization",
        "LayerNormalization",
    }
)
_ACT_LAYERS = {"ReLU": "relu", "Softmax": "softmax", "LeakyReLU": "leaky_relu"}
# Keras initializer class -> (family, {config key: our param}) or a variance-scaling rule name.
_INITS = {
    "randomuniform": ("uniform", {"minval": "min", "maxval": "max"}),
    "randomnormal": ("normal", {"mean": "mean", "stddev": "stddev"}),
    "truncatednormal": ("truncated_normal", {"mean": "mean", "stddev": "stddev"}),
    "zeros": ("zeros", {}),
    "ones": ("ones", {}),
    "constant": ("constant", {"value": "value"}),
    "orthogonal": ("orthogonal", {"gain": "gain"}),
}
_RULES = {
    "glorotuniform": "glorot_uniform",
    "glorotnormal": "glorot_normal",
    "heuniform": "he_uniform",
    "henormal": "he_normal",
    "lecununiform": "lecun_uniform",
    "lecunnormal": "lecun_normal",
}


def handles(g: nx.MultiDiGraph) -> bool:
    return g.graph.get("source") == "keras_model"


def _attrs(g: nx.MultiDiGraph, n: str) -> dict[str, Any]:
    return g.nodes[n].get("attrs") or {}


def _class_and_config(obj: Any) -> tuple[str, dict[str, Any]]:
    """(class name, config) of a serialised Keras object (`{"class_name", "config"}` or str)."""
    if isinstance(obj, str):
        return obj, {}
    if isinstance(obj, dict):
        cfg = obj.get("config")
        return str(obj.get("class_name", "")), cfg if isinstance(cfg, dict) else {}
    return "", {}


def describe_init(obj: Any, where: str) -> Init:
    """Initializer facts from a layer config entry."""
    name, cfg = _class_and_config(obj)
    key = name.replace("_", "").lower()
    if key in _RULES:
        rule = _RULES[key]
        fam = "uniform" if rule.endswith("uniform") else "truncated_normal"
        return Init(fam, {}, rule, rule=rule, nodes=[where], source=Source("keras_config", where))
    if key in _INITS:
        fam, keys = _INITS[key]
        params = {ours: float(cfg[k]) for k, ours in keys.items() if number(cfg.get(k)) is not None}
        args = ", ".join(f"{rnd(v, 4)}" for v in params.values())
        label = f"{fam}({args})" if args else fam
        return Init(fam, params, label, nodes=[where], source=Source("keras_config", where))
    return Init(
        "unknown", {}, f"unknown({name})", nodes=[where], source=Source("keras_config", where)
    )


def _activation(value: Any) -> str:
    if isinstance(value, dict):  # Keras 3 may serialise activations as objects
        value = (value.get("config") or {}).get("name") or value.get("class_name")
    return str(value or "linear").lower()


def _in_dim(g: nx.MultiDiGraph, n: str) -> int | None:
    """Input width of a layer: the previous Dense's units or the Input's last dim."""
    for _ in range(32):
        preds = [u for u, _, d in g.in_edges(n, data=True) if not d.get("control")]
        if len(preds) != 1:
            return None
        n = preds[0]
        o, a = g.nodes[n].get("op"), _attrs(g, n)
        if o in ("Dense", "EinsumDense"):
            return a.get("units")
        if o == "InputLayer":
            shape = a.get("batch_input_shape") or a.get("batch_shape") or g.nodes[n].get("shape")
            return shape[-1] if shape else None
        if o not in _SAME_SHAPE:
            return None
    return None


def _shape(g: nx.MultiDiGraph, n: str, kind: str) -> list[int | None] | None:
    a = _attrs(g, n)
    out = a.get("units") or a.get("filters")
    if kind == "dense":
        return [_in_dim(g, n), out]
    if kind.startswith(("conv", "depthwise")):
        return [*(a.get("kernel_size") or []), None, out]
    if kind == "embedding":
        return [a.get("input_dim"), a.get("output_dim")]
    return None


def _separate_activation(g: nx.MultiDiGraph, n: str) -> tuple[str, str] | None:
    """(activation, layer) of an Activation/ReLU/Softmax layer right after `n`."""
    nxt = sorted({v for _, v, d in g.out_edges(n, data=True) if not d.get("control")})
    if len(nxt) != 1:
        return None
    o2 = g.nodes[nxt[0]].get("op")
    act = _ACT_LAYERS.get(o2) or (
        _activation(_attrs(g, nxt[0]).get("activation")) if o2 == "Activation" else None
    )
    return (act, nxt[0]) if act else None


def _layer(g: nx.MultiDiGraph, n: str, kind: str, pos: int) -> Layer:
    a = _attrs(g, n)
    src = Source("keras_config", n)
    layer = Layer(name=n, kind=kind, anchors=[n], op=n, position=pos, nodes=[n], source=src)
    if not layer.has_weights and kind != "embedding":
        return layer
    layer.shape = _shape(g, n, kind)
    if kind == "embedding":
        return layer
    layer.kernel = n
    use_bias = a.get("use_bias", True)
    if use_bias:
        out = a.get("units") or a.get("filters")
        layer.bias, layer.bias_shape = n, [out]
    layer.activation = _activation(a.get("activation"))
    if layer.activation == "linear" and (sep := _separate_activation(g, n)):
        layer.activation, layer.activation_op = sep
        layer.nodes.append(sep[1])
    layer.trained_activation = layer.activation
    layer.kernel_init = describe_init(a.get("kernel_initializer", "GlorotUniform"), n)
    layer.bias_init = describe_init(a.get("bias_initializer", "Zeros"), n) if use_bias else None
    return layer


def _order(g: nx.MultiDiGraph) -> list[str]:
    try:
        return list(nx.topological_sort(g))
    except nx.NetworkXUnfeasible:
        return list(g.nodes)


def layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Layers of a Keras layer graph in topological order (weights, norms, dropout)."""
    out = []
    for pos, n in enumerate(_order(g)):
        kind = _KINDS.get(str(g.nodes[n].get("op", "")))
        if kind is not None:
            out.append(_layer(g, n, kind, pos))
    for k, layer in enumerate(x for x in out if x.has_weights):
        layer.index = k
    return out


def _switch(kwargs: dict[str, Any]) -> Switch:
    """Keras switches dropout off outside training, unless the layer is called with
    `training=True` (Monte-Carlo dropout: also on at evaluation)."""
    if kwargs.get("training") is True:
        return Switch("none", dropout_at_eval=True)
    return Switch("keras_functions", dropout_at_eval=False)


def _dropout(g: nx.MultiDiGraph, kwargs: dict[str, dict[str, Any]]) -> list[DropoutSite]:
    out = []
    for n in _order(g):
        if g.nodes[n].get("op") not in _DROPOUT_CLASSES:
            continue
        rate = r4(number(_attrs(g, n).get("rate")))
        out.append(
            DropoutSite(
                layer=n,
                node=n,
                drop_rate=rate,
                written_as="rate",
                written_value=rate,
                framework="keras_config",
                switch=_switch(kwargs.get(n, {})),
                written_const=True,
                written_node=n,
                default_drop_rate=rate,
                source=Source("keras_config", n),
            )
        )
    return out


def _normalizations(g: nx.MultiDiGraph) -> list[Normalization]:
    out = []
    for n in _order(g):
        op = g.nodes[n].get("op")
        if op not in ("BatchNormalization", "LayerNormalization"):
            continue
        a = _attrs(g, n)
        bn = op == "BatchNormalization"
        momentum = number(a.get("momentum")) if bn else None
        out.append(
            Normalization(
                layer=n,
                kind="batch_norm" if bn else "layer_norm",
                momentum=momentum,
                epsilon=number(a.get("epsilon")),
                axis=a.get("axis"),
                written_momentum=momentum,
                nodes=[n],
                source=Source("keras_config", n),
            )
        )
    return out


def _penalties(g: nx.MultiDiGraph, found: list[Layer]) -> list[Penalty]:
    """Penalties declared in the config (`kernel_regularizer` / `bias_regularizer`)."""
    terms = []
    for layer in found:
        if not layer.has_weights:
            continue
        attrs = _attrs(g, layer.name)
        for role in ("kernel", "bias"):
            reg = attrs.get(f"{role}_regularizer")
            cls, cfg = _class_and_config(reg)
            if not cls:
                continue
            for kind in ("l1", "l2"):
                coef = number(cfg.get(kind))
                if coef:
                    expr = f"{cls}({kind}={coef})"
                    src = Source("keras_config", layer.name)
                    terms.append(
                        Penalty(
                            layer.index,
                            layer.name,
                            role,
                            layer.name,
                            kind,
                            rnd(coef) or 0.0,
                            expr,
                            [layer.name],
                            src,
                        )
                    )
    return terms


def _optimizer(compiled: dict[str, Any]) -> Optimizer | None:
    cls, cfg = _class_and_config(compiled.get("optimizer"))
    wrapper = ""
    inner = cfg.get("inner_optimizer") or cfg.get("optimizer")
    if N.optimizer_type(cls) is None and isinstance(inner, dict):  # LossScaleOptimizer ...
        wrapper = cls
        cls, cfg = _class_and_config(inner)
    typ = N.optimizer_type(cls)
    if typ is None:
        return None
    hp: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for key, v in cfg.items():
        name = N.OPTIMIZER_HPARAMS.get(key)
        val = v if isinstance(v, bool) else rnd(number(v))
        if name is None or val is None:
            continue
        hp[name], sources[name] = val, Source("keras_config", f"optimizer.{key}")
    if typ == "sgd" and not hp.get("nesterov"):
        hp.pop("nesterov", None)
    return Optimizer(
        type=typ,
        hparams=hp,
        implementation=f"keras {wrapper}({cls})" if wrapper else f"keras {cls}",
        sources=sources,
        source=Source("keras_config", "optimizer"),
    )


def _loss(compiled: dict[str, Any]) -> Loss | None:
    obj = compiled.get("loss")
    if isinstance(obj, dict) and "class_name" not in obj:  # per-output losses
        obj = next(iter(obj.values()), None)
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    cls, cfg = _class_and_config(obj)
    kind = N.loss_kind(cls)
    if kind is None:
        return Loss(cls or "unknown", source=Source("keras_config", "loss")) if cls else None
    reduction = cfg.get("reduction", "sum_over_batch_size")
    logits = cfg.get("from_logits", kind[1])
    return Loss(
        kind=kind[0],
        from_logits=logits if isinstance(logits, bool) else kind[1],
        sparse=kind[2],
        label_smoothing=number(cfg.get("label_smoothing")) or 0.0,
        reduction="sum_over_batch_size" if reduction in (None, "auto") else str(reduction),
        nodes=["loss"],
        source=Source("keras_config", "loss"),
    )


def _flat_metrics(obj: Any) -> list[Any]:
    if isinstance(obj, dict) and "class_name" not in obj:  # per-output metrics
        return [m for v in obj.values() for m in _flat_metrics(v)]
    if isinstance(obj, list | tuple):
        return [m for v in obj for m in _flat_metrics(v)]
    return [] if obj is None else [obj]


def _metrics(compiled: dict[str, Any], loss: Loss | None, out_units: int | None) -> list[Metric]:
    """What each compiled metric computes; "accuracy" is resolved as Keras does at compile time
    (binary for one output unit or a binary loss, sparse for sparse labels, else categorical)."""
    out = []
    for i, obj in enumerate(_flat_metrics(compiled.get("metrics"))):
        cls, cfg = _class_and_config(obj)
        where = Source("keras_config", f"metrics[{i}]")
        if isinstance(obj, str) and obj.lower() in N.ACCURACY_ALIASES:
            binary_loss = loss is not None and loss.kind.startswith("binary")
            if out_units == 1 or (out_units is None and binary_loss):
                computes, thr = "binary_accuracy", 0.5
            elif loss is not None and loss.sparse:
                computes, thr = "sparse_categorical_accuracy", None
            else:
                computes, thr = "categorical_accuracy", None
            out.append(Metric("accuracy", computes, thr, f'"{obj}"', "config", [], where))
            continue
        key = cls.replace("_", "").lower()
        computes = N.METRIC_COMPUTES.get(key, cls.lower() or None)
        name = str(cfg.get("name") or (cls if isinstance(obj, str) else cls.lower()))
        thr = number(cfg.get("threshold")) if computes == "binary_accuracy" else None
        if computes == "binary_accuracy" and thr is None:
            thr = 0.5
        written = f'"{obj}"' if isinstance(obj, str) else f"metrics.{cls}()"
        out.append(Metric(name, computes, thr, written, "config", [], where))
    return out


def _config(inputs: RunInputs) -> tuple[nx.MultiDiGraph | None, dict[str, Any]]:
    """The layer graph and the raw model config of this run, whichever the inputs carry."""
    from tbdiff.graph import graph_from_keras_config

    cfg = inputs.keras_config
    if isinstance(cfg, str):
        try:
            cfg = json.loads(cfg)
        except json.JSONDecodeError:
            cfg = None
    g = inputs.graph if inputs.graph is not None and handles(inputs.graph) else None
    if g is None and isinstance(cfg, dict):
        g = graph_from_keras_config(cfg)
    return g, cfg if isinstance(cfg, dict) else {}


def _call_kwargs(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Layer name -> keyword arguments of its (first) call, e.g. `training=True`."""
    model = cfg.get("config")
    out: dict[str, dict[str, Any]] = {}
    for layer in (model.get("layers") or []) if isinstance(model, dict) else []:
        name = layer.get("name") or (layer.get("config") or {}).get("name")
        for node in layer.get("inbound_nodes") or []:
            if isinstance(node, dict) and isinstance(node.get("kwargs"), dict):
                out[str(name)] = node["kwargs"]  # Keras 3
            elif isinstance(node, list) and node and isinstance(node[0], list):
                last = node[0][-1] if len(node[0]) > 3 else None  # Keras 2
                if isinstance(last, dict):
                    out[str(name)] = last
            break
    return out


def _output_map(cfg: dict[str, Any]) -> dict[Any, str]:
    """Output name or index -> output layer (`output_layers` of a Functional config)."""
    model = cfg.get("config")
    outs = model.get("output_layers") if isinstance(model, dict) else None
    if isinstance(outs, dict):
        return {k: v[0] for k, v in outs.items() if isinstance(v, list) and v}
    if isinstance(outs, list) and outs and isinstance(outs[0], str):
        return {0: outs[0]}
    if isinstance(outs, list):
        return {i: o[0] for i, o in enumerate(outs) if isinstance(o, list) and o}
    return {}


def _trained_outputs(cfg: dict[str, Any], compiled: dict[str, Any]) -> set[str] | None:
    """Output layers that have a loss, when compile gave some outputs none (else None)."""
    outputs = _output_map(cfg)
    loss = compiled.get("loss")
    if isinstance(loss, dict) and "class_name" not in loss:
        trained = {outputs[k] for k, v in loss.items() if v is not None and k in outputs}
    elif isinstance(loss, list) and len(outputs) > 1:
        trained = {outputs[i] for i, v in enumerate(loss) if v is not None and i in outputs}
    else:
        return None
    return trained if trained and trained != set(outputs.values()) else None


def _split_stale(
    g: nx.MultiDiGraph, found: list[Layer], trained: set[str] | None
) -> tuple[list[Layer], list[Layer]]:
    """(layers upstream of a trained output, weight layers that only feed untrained outputs)."""
    if not trained:
        return found, []
    live = set(trained)
    for t in trained:
        if t in g:
            live |= nx.ancestors(g, t)
    stale = [x for x in found if x.name not in live]
    if not any(x.has_weights for x in stale):
        return found, []
    kept = [x for x in found if x.name in live]
    for k, layer in enumerate(x for x in kept if x.has_weights):
        layer.index = k
    return kept, stale


def describe(inputs: RunInputs) -> ModelDescription | None:
    g, cfg = _config(inputs)
    compiled = cfg.get("compile_config") or (g.graph.get("compile_config") if g else None) or {}
    if g is None and not compiled:
        return None
    found, stale = _split_stale(g, layers(g), _trained_outputs(cfg, compiled)) if g else ([], [])
    loss = _loss(compiled)
    opt = _optimizer(compiled)
    weights = [x for x in found if x.has_weights]
    live = {x.name for x in found}
    return ModelDescription(
        layers=found,
        stale_layers=stale,
        dropout=[s for s in _dropout(g, _call_kwargs(cfg)) if s.layer in live] if g else [],
        normalization=[n for n in _normalizations(g) if n.layer in live] if g else [],
        optimizers=[opt] if opt else [],
        losses=[loss] if loss else [],
        penalties=_penalties(g, found) if g is not None else [],
        metrics=_metrics(compiled, loss, weights[-1].units if weights else None),
        config_only=True,
        origins=[NAME],
    )
