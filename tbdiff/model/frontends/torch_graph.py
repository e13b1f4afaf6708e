"""Front-end for PyTorch graphs: `SummaryWriter.add_graph` (and Lightning's `log_graph`).

add_graph writes a GraphDef built from a JIT trace of the model, traced in eval mode:
- node names carry the module path: `Net/Linear[fc0]/input.1`, `Net/Sequential[body]/
  BatchNorm1d[0]/...` (layers are named by it, as `named_modules()` does: `fc0`, `body.0`); an
  op called as a function in `forward` sits in its caller's scope (`Net/input`) and is named
  `F.<op>`;
- ops are `aten::linear`, `aten::dropout`, `aten::batch_norm`, `aten::relu` ...; scalar
  arguments are `prim::Constant` inputs whose value is printed in the attr "attr"
  (`{ value : 0.3}`); parameters are `prim::GetAttr` nodes reading the module object, which is
  not a node of the graph (the "dangling" parameter inputs, ignored by tbdiff.graph);
- only activations have shapes (`_output_shapes`), parameters have none, so a Linear's weight
  shape comes from its input and output widths;
- no backward pass, no optimizer, no loss: those come from the recorded hparams
  (`add_hparams`, Lightning), and the optimizer's unstated settings are PyTorch's defaults
  (`Source("default", "torch.optim.Adam")`).

Facts are stated in tbdiff's conventions (description.py): a Linear's kernel shape is [in, out]
like Keras' Dense; batch-norm momentum 1 - m (PyTorch's m weights the new batch), with the
written number kept; dropout `p` is the probability to drop. A dropout's `train` constant says
how the trace ran it: add_graph traces in eval mode, so a module `nn.Dropout` (or
`F.dropout(x, p, training=self.training)`) shows `train=False`, while `F.dropout(x, p)` keeps
its default `training=True` and stays on at evaluation.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

import networkx as nx

from tbdiff.model.description import (
    GRAPH,
    DropoutSite,
    Init,
    Layer,
    ModelDescription,
    Normalization,
    Optimizer,
    Source,
    Switch,
)
from tbdiff.model.frontends import hparams as HP
from tbdiff.model.inputs import RunInputs
from tbdiff.model.numbers import number, r4

NAME = "torch_graph"

_WEIGHT_OPS = {
    "aten::linear": "dense",
    "aten::addmm": "dense",
    "aten::_convolution": "conv",
    "aten::conv1d": "conv1d",
    "aten::conv2d": "conv2d",
    "aten::conv3d": "conv3d",
    "aten::conv_transpose2d": "conv2d_transpose",
    "aten::embedding": "embedding",
}
_NORM_OPS = {"aten::batch_norm": "batch_norm", "aten::layer_norm": "layer_norm"}
_DROPOUT_OPS = frozenset(
    {"aten::dropout", "aten::dropout_", "aten::feature_dropout", "aten::feature_dropout_"}
)
#: aten activation -> the Keras name of the same function
_ACTIVATIONS = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
    "log_softmax": "log_softmax",
    "gelu": "gelu",
    "elu": "elu",
    "selu": "selu",
    "silu": "silu",
    "leaky_relu": "leaky_relu",
    "softplus": "softplus",
    "hardtanh": "hard_tanh",
}
_PASS = frozenset(
    {"aten::view", "aten::reshape", "aten::flatten", "aten::contiguous", "aten::squeeze"}
)
_VALUE = re.compile(r"value\s*:\s*(.*?)\s*}\s*$", re.S)
_MODULE = re.compile(r"^(\w+)\[(.+)\]$")

#: torch.optim defaults (inspect.signature of torch 2.x) in the description's names;
#: `coupled_weight_decay` is PyTorch's weight_decay of Adam/SGD/RMSprop/Adagrad (added to the
#: gradient, an L2 penalty), `weight_decay` the decoupled one of AdamW (w -= lr * wd * w)
TORCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "adam": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "coupled_weight_decay": 0.0,
        "amsgrad": False,
    },
    "adamw": {
        "learning_rate": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 0.01,
        "amsgrad": False,
    },
    "sgd": {"learning_rate": 1e-3, "momentum": 0.0, "coupled_weight_decay": 0.0, "nesterov": False},
    "rmsprop": {
        "learning_rate": 1e-2,
        "rho": 0.99,
        "epsilon": 1e-8,
        "momentum": 0.0,
        "centered": False,
        "coupled_weight_decay": 0.0,
    },
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-10, "coupled_weight_decay": 0.0},
}
_TORCH_CLASS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}


# ------------------------------------------------------------------------------------------
# graph reading
# ------------------------------------------------------------------------------------------


def handles(g: nx.MultiDiGraph) -> bool:
    """A PyTorch trace: TorchScript ops (`aten::`, `prim::`) or add_graph's `IO Node`s. The
    first nodes decide (TF op names never hold "::"), so huge TF graphs cost nothing."""
    if g.graph.get("source") == "keras_model":
        return False
    for _, op in islice(g.nodes(data="op"), 64):
        if isinstance(op, str) and ("::" in op or op == "IO Node"):
            return True
    return False


def _op(g: nx.MultiDiGraph, n: str) -> str:
    return str(g.nodes[n].get("op") or "")


def _inputs(g: nx.MultiDiGraph, n: str) -> list[str]:
    """Producers of `n`'s inputs in argument order ("" where the producer is not a node)."""
    names = [s.split(":")[0] for s in g.nodes[n].get("inputs") or []]
    return [s if s in g else "" for s in names]


def constant(g: nx.MultiDiGraph, n: str | None) -> Any:
    """The value of a `prim::Constant` argument: float, int, bool-as-int, str or None."""
    if not n or n not in g or _op(g, n) != "prim::Constant":
        return None
    m = _VALUE.search(str((g.nodes[n].get("attrs") or {}).get("attr", "")))
    if m is None:
        return None
    text = m.group(1).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None if text == "None" else text


def _arg(g: nx.MultiDiGraph, n: str, i: int) -> Any:
    ins = _inputs(g, n)
    return constant(g, ins[i]) if i < len(ins) else None


def module_path(node: str) -> tuple[str, str]:
    """(module name as `named_modules()` gives it, module class) of a node: `Net/Linear[fc0]/
    input.1` -> ("fc0", "Linear"), `Net/Sequential[body]/Linear[0]/...` -> ("body.0 (Linear)",
    "Linear"); ("", "") for an op called as a function in the model's own forward."""
    parts = node.split("/")[1:-1]  # drop the model class and the value name
    mods = [m for m in (_MODULE.match(p) for p in parts) if m]
    if not mods:
        return "", ""
    path, cls = ".".join(m.group(2) for m in mods), mods[-1].group(1)
    return (f"{path} ({cls})" if mods[-1].group(2).isdigit() else path), cls


def _shape(g: nx.MultiDiGraph, n: str | None) -> list[int | None] | None:
    if not n or n not in g:
        return None
    s = g.nodes[n].get("shape")
    return list(s) if isinstance(s, list | tuple) else None


def _names(g: nx.MultiDiGraph, order: list[str]) -> dict[str, str]:
    """Layer name of every layer op: its module path (`fc0`), `F.<op>` for a function called
    in the model's own forward; a name used again (a module called twice) gets `#2`, `#3` ..."""
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for n in order:
        path, _ = module_path(n)
        base = path or f"F.{_op(g, n).split('::')[-1].rstrip('_')}"
        seen[base] = seen.get(base, 0) + 1
        out[n] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    return out


def _activation_after(g: nx.MultiDiGraph, n: str) -> tuple[str, str] | None:
    """(activation, node) applied right after `n` (through reshapes), module or function."""
    for _ in range(4):
        nxt = [v for v in g.successors(n)]
        if len(nxt) != 1:
            return None
        n = nxt[0]
        short = _op(g, n).split("::")[-1].rstrip("_")
        if short in _ACTIVATIONS:
            return _ACTIVATIONS[short], n
        if _op(g, n) not in _PASS:
            return None
    return None


def _weight_layer(g: nx.MultiDiGraph, n: str, kind: str, name: str, pos: int) -> Layer:
    ins = _inputs(g, n)
    op = _op(g, n)
    if op == "aten::addmm":  # older traces: addmm(bias, x, weight.t())
        x, w, b = (ins + ["", "", ""])[1], (ins + ["", "", ""])[2], ins[0] if ins else ""
    elif op == "aten::embedding":
        w, x, b = (ins + ["", ""])[0], (ins + ["", ""])[1], ""
    else:
        x, w, b = (ins + ["", "", ""])[:3]
    in_shape, out_shape = _shape(g, x), _shape(g, n)
    if kind == "conv":
        rank = len(out_shape) if out_shape else 4
        kind = "conv2d_transpose" if _arg(g, n, 6) == 1 else f"conv{max(1, rank - 2)}d"
    c_in = in_shape[1 if kind.startswith("conv") else -1] if in_shape else None
    c_out = out_shape[1 if kind.startswith("conv") else -1] if out_shape else None
    if kind.startswith("conv"):
        shape: list[int | None] | None = [*([None] * (len(out_shape or [0] * 4) - 2)), c_in, c_out]
    elif kind == "embedding":
        shape = [None, c_out]
    else:
        shape = [c_in, c_out]
    b = b if b and _op(g, b) == "prim::GetAttr" else ""
    layer = Layer(
        name=name,
        kind=kind,
        shape=shape,
        bias_shape=[c_out] if b else None,
        index=0,
        position=float(pos),
        variables=[v for v in (w, b) if v],
        anchors=[n],
        op=n,
        kernel=w or n,
        bias=b or None,
        nodes=[n],
        source=GRAPH,
    )
    act = _activation_after(g, n)
    if act is not None:
        layer.activation, layer.activation_op = act
        layer.nodes.append(act[1])
    layer.trained_activation = layer.activation
    _default_init(layer, module_path(n)[1])
    return layer


def _default_init(layer: Layer, cls: str) -> None:
    """PyTorch's reset_parameters() of Linear/Conv: weight kaiming_uniform_(a=sqrt(5)) and bias,
    both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) -- what the model starts from unless the program
    re-initialised it (a trace cannot show that)."""
    known = layer.shape is not None and all(isinstance(d, int) for d in layer.shape)
    if not known or layer.kind == "embedding":  # a conv's kernel size is not in the trace
        return
    fan_in = 1
    for d in (layer.shape or [])[:-1]:
        fan_in *= int(d or 1)
    bound = round(fan_in**-0.5, 6)
    src = Source("default", f"nn.{cls or 'Linear'}")
    for role in ("kernel", "bias"):
        if role == "bias" and layer.bias is None:
            continue
        init = Init(
            "uniform",
            {"min": -bound, "max": bound},
            f"uniform(-{bound:.4g}, {bound:.4g})",
            rule="pytorch_default",
            source=src,
        )
        setattr(layer, f"{role}_init", init)


def _simple_layer(g: nx.MultiDiGraph, n: str, kind: str, name: str, pos: int) -> Layer:
    ins = [v for v in _inputs(g, n)[1:] if v and _op(g, v) == "prim::GetAttr"]
    return Layer(
        name=name,
        kind=kind,
        position=float(pos),
        variables=ins,
        anchors=[n],
        op=n,
        nodes=[n],
        source=GRAPH,
    )


def _layer_ops(g: nx.MultiDiGraph) -> list[tuple[int, str, str]]:
    """(position, node, kind) of every layer op, in trace (= data-path) order."""
    out = []
    for pos, n in enumerate(g.nodes):
        op = _op(g, n)
        kind = _WEIGHT_OPS.get(op) or _NORM_OPS.get(op)
        if kind is None and op in _DROPOUT_OPS:
            kind = "dropout"
        if kind is not None:
            out.append((pos, n, kind))
    return out


def layers(g: nx.MultiDiGraph) -> list[Layer]:
    """Linear/Conv/Embedding, BatchNorm/LayerNorm and Dropout layers, data-path order."""
    found = _layer_ops(g)
    names = _names(g, [n for _, n, _ in found])
    out = []
    for pos, n, kind in found:
        if kind in ("batch_norm", "layer_norm", "dropout"):
            out.append(_simple_layer(g, n, kind, names[n], pos))
        else:
            out.append(_weight_layer(g, n, kind, names[n], pos))
    for k, layer in enumerate(x for x in out if x.has_weights):
        layer.index = k
    return out


# ------------------------------------------------------------------------------------------
# model facts
# ------------------------------------------------------------------------------------------


def _dropout(g: nx.MultiDiGraph, found: list[Layer]) -> list[DropoutSite]:
    out = []
    for layer in found:
        if layer.kind != "dropout" or layer.op is None:
            continue
        ins = _inputs(g, layer.op)
        p, train = _arg(g, layer.op, 1), _arg(g, layer.op, 2)
        p = r4(float(p)) if isinstance(p, int | float) else None
        on = bool(train) if isinstance(train, int) else None
        out.append(
            DropoutSite(
                layer=layer.name,
                node=layer.op,
                drop_rate=p,
                written_as="p",
                written_value=p,
                framework="torch",
                switch=Switch(
                    "train_flag",  # one mechanism for every module: model.train()/eval()
                    default=on,
                    dropout_at_eval=on,
                ),
                written_const=True,
                written_node=ins[1] if len(ins) > 1 else None,
                default_drop_rate=p,
                source=GRAPH,
            )
        )
    return out


def _normalizations(g: nx.MultiDiGraph, found: list[Layer]) -> list[Normalization]:
    out = []
    for layer in found:
        if layer.kind not in ("batch_norm", "layer_norm") or layer.op is None:
            continue
        if layer.kind == "batch_norm":  # (x, w, b, mean, var, training, momentum, eps, cudnn)
            m, eps = _arg(g, layer.op, 6), _arg(g, layer.op, 7)
            # momentum=None (a cumulative average) is traced in eval mode as 0.0: unknown
            written = float(m) if isinstance(m, int | float) and m else None
            momentum = None if written is None else r4(1.0 - written)
        else:  # layer_norm(x, normalized_shape, w, b, eps, cudnn)
            written = momentum = None
            eps = _arg(g, layer.op, 4)
        out.append(
            Normalization(
                layer=layer.name,
                kind=layer.kind,
                momentum=momentum,
                epsilon=float(eps) if isinstance(eps, int | float) else None,
                written_momentum=written,
                convention="torch",
                nodes=[layer.op],
                source=GRAPH,
            )
        )
    return out


def optimizer(hparams: dict[str, Any]) -> Optimizer | None:
    """The optimizer the hparams name, read as torch.optim: PyTorch's `weight_decay` of
    Adam/SGD/RMSprop/Adagrad is coupled (unless `decoupled_weight_decay`), and what the hparams
    leave out is the torch.optim default, which says so."""
    opt = HP.optimizer(HP.recorded(hparams)) if hparams else None
    if opt is None or opt.type is None:
        return opt
    hp, sources = dict(opt.hparams), dict(opt.sources)
    for k, v in hparams.items():  # RMSprop's alpha is Keras' rho
        alpha = number(v) if HP.normalise_key(k) == "alpha" else None
        if opt.type == "rmsprop" and alpha is not None and "rho" not in hp:
            hp["rho"], sources["rho"] = alpha, Source("hparams", k)
    decoupled = opt.type == "adamw" or any(
        HP.normalise_key(k) == "decoupledweightdecay" and v is True for k, v in hparams.items()
    )
    defaults = dict(TORCH_DEFAULTS.get(opt.type, {}))
    if "weight_decay" in hp and decoupled:
        defaults["coupled_weight_decay"] = 0.0
    elif "weight_decay" in hp:  # read as coupled: no decoupled decay at all
        hp["coupled_weight_decay"], hp["weight_decay"] = hp["weight_decay"], 0.0
        sources["coupled_weight_decay"] = sources["weight_decay"]
    elif "coupled_weight_decay" in defaults:
        defaults["weight_decay"] = 0.0
    cls = f"torch.optim.{_TORCH_CLASS.get(opt.type, opt.type)}"
    for k, v in defaults.items():
        if k not in hp:
            hp[k], sources[k] = v, Source("default", cls)
    opt.hparams, opt.sources = hp, sources
    opt.implementation = cls
    return opt


def _logits_output(found: list[Layer], hparams: dict[str, Any]) -> None:
    """A linear output trained with a loss that applies the softmax/sigmoid itself
    (CrossEntropyLoss, BCEWithLogitsLoss) trains like that activation's output; a softmax
    output fed to such a loss gets it twice."""
    loss = HP.loss(HP.recorded(hparams)) if hparams else None
    weights = [x for x in found if x.has_weights]
    if loss is None or not loss.from_logits or not weights:
        return
    squash = {"categorical_cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}
    inside = squash.get(loss.kind)
    last = weights[-1]
    if last.activation == "linear" and inside:
        last.trained_activation = inside
    elif inside and last.activation == inside:  # a softmax output fed to CrossEntropyLoss
        last.trained_activation = f"double_{inside}"


def describe(inputs: RunInputs) -> ModelDescription | None:
    g = inputs.graph
    if g is None or not handles(g):
        return None
    found = layers(g)
    _logits_output(found, inputs.hparams)
    opt = optimizer(inputs.hparams)
    return ModelDescription(
        layers=found,
        dropout=_dropout(g, found),
        normalization=_normalizations(g, found),
        optimizers=[opt] if opt is not None else [],
        trained=None,  # a forward trace: the training step is not in it
        has_ops=True,
        origins=[NAME],
    )
