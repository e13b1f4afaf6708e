"""Front-end for recorded hyper-parameters (TF hparams plugin, PyTorch `add_hparams`, Lightning).

Hparams name facts a graph may lack: the optimizer (PyTorch graphs hold none; many runs record
only hparams), its learning rate and betas, the dropout rate, batch size and epochs. They count
like graph facts under the same finding ids when the graph lacks them (`model.merge` decides),
and every fact names the key it came from (`Source("hparams", key)`).

Keys are matched after normalisation (lower case, separators dropped, last path component), so
`learning_rate`, `lr`, `hparams/learning-rate` and `optimizer.lr` all give the learning rate.
"""

from __future__ import annotations

import re
from typing import Any

from tbdiff.model import names as N
from tbdiff.model.description import (
    DropoutSite,
    Loss,
    MetricWiring,
    ModelDescription,
    Optimizer,
    SampleWeights,
    Source,
    Switch,
    Training,
)
from tbdiff.model.inputs import RunInputs
from tbdiff.model.numbers import number, r4

NAME = "hparams"

_OPTIMIZER_KEYS = ("optimizer", "optim", "opt", "optimizername", "optimizertype", "optimizerclass")
#: normalised key -> optimizer hyper-parameter
_OPTIMIZER_HPARAMS = {
    "learningrate": "learning_rate",
    "lr": "learning_rate",
    "initlr": "learning_rate",
    "initiallearningrate": "learning_rate",
    "baselr": "learning_rate",
    "momentum": "momentum",
    "beta1": "beta1",
    "adambeta1": "beta1",
    "beta2": "beta2",
    "adambeta2": "beta2",
    "epsilon": "epsilon",
    "eps": "epsilon",
    "adamepsilon": "epsilon",
    "weightdecay": "weight_decay",
    "wd": "weight_decay",
    "rho": "rho",
    "nesterov": "nesterov",
}
#: normalised key -> True when the value is a keep probability
_LOSS_KEYS = ("loss", "lossfn", "lossfunction", "criterion", "objective")
_DROPOUT_KEYS = {
    "dropout": False,
    "dropoutrate": False,
    "droprate": False,
    "dropoutp": False,
    "pdropout": False,
    "dropoutprob": False,
    "keepprob": True,
    "dropoutkeepprob": True,
}
_TRAINING_KEYS = {
    "batchsize": "batch_size",
    "bs": "batch_size",
    "trainbatchsize": "batch_size",
    "perdevicetrainbatchsize": "batch_size",
    "epochs": "epochs",
    "numepochs": "epochs",
    "nepochs": "epochs",
    "maxepochs": "epochs",
}
TRAIN_METRICS_KEYS = ("train_metrics", "train_metrics_mode", "metrics/train_mode")
_MODES = ("dropout_active", "dropout_off")
SAMPLE_WEIGHT_KEYS = ("sample_weights", "sample_weight", "class_weight", "class_weights")
_UNIFORM = {"", "none", "null", "false", "0", "ones", "uniform", "1", "1.0", "no", "off"}


def normalise_key(key: str) -> str:
    """`hparams/Learning-Rate` -> `learningrate`, `optimizer.lr` -> `lr`."""
    last = re.split(r"[/.]", key)[-1]
    return re.sub(r"[^a-z0-9]", "", last.lower())


def recorded(hparams: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(normalised key, original key, value) of every hparam that is not a placeholder feed."""
    return [(normalise_key(k), k, v) for k, v in hparams.items() if not k.startswith("feed/")]


def optimizer(items: list[tuple[str, str, Any]]) -> Optimizer | None:
    """The optimizer the recorded items name (type and settings; None when they name none)."""
    typ, typ_key = None, ""
    for norm, key, v in items:
        if norm in _OPTIMIZER_KEYS and (t := N.optimizer_type(v)) is not None:
            typ, typ_key = t, key
            break
    hp: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for norm, key, v in items:
        name = _OPTIMIZER_HPARAMS.get(norm)
        if name is None or name in hp:
            continue
        val: Any = v if isinstance(v, bool) else number(v)
        if val is not None:
            hp[name], sources[name] = val, Source("hparams", key)
    if typ is None and not hp:
        return None
    return Optimizer(
        type=typ,
        hparams=hp,
        implementation=None,
        sources=sources,
        source=Source("hparams", typ_key),
    )


def _dropout(items: list[tuple[str, str, Any]]) -> list[DropoutSite]:
    for norm, key, v in items:
        if norm not in _DROPOUT_KEYS:
            continue
        p = number(v)
        if p is None or not 0.0 <= p <= 1.0:
            continue
        keep = _DROPOUT_KEYS[norm]
        drop = r4(1.0 - p if keep else p)
        return [
            DropoutSite(
                layer=f"hparam {key}",
                node="",
                drop_rate=drop,
                written_as="keep_prob" if keep else "rate",
                written_value=r4(p),
                framework="hparams",
                switch=Switch("unknown"),
                default_drop_rate=drop,
                source=Source("hparams", key),
            )
        ]
    return []


def loss(items: list[tuple[str, str, Any]]) -> Loss | None:
    """The loss a recorded name gives (`CrossEntropyLoss`, `categorical_crossentropy` ...):
    its kind and whether it takes logits; settings it does not name stay unknown (None)."""
    for norm, key, v in items:
        if norm not in _LOSS_KEYS or not isinstance(v, str):
            continue
        kind = N.loss_kind(v)
        if kind is not None:
            return Loss(
                kind=kind[0],
                from_logits=kind[1],
                sparse=kind[2],
                label_smoothing=None,
                reduction=None,
                nodes=[],
                source=Source("hparams", key),
            )
    return None


def _training(items: list[tuple[str, str, Any]]) -> Training:
    out = Training()
    for norm, key, v in items:
        name = _TRAINING_KEYS.get(norm)
        val = number(v)
        if name and name not in out.values and val is not None:
            out.values[name] = int(val) if float(val).is_integer() else val
            out.sources[name] = Source("hparams", key)
    return out


def _train_mode(hparams: dict[str, Any]) -> MetricWiring | None:
    for key in TRAIN_METRICS_KEYS:
        v = hparams.get(key)
        if isinstance(v, str) and v.strip().lower() in _MODES:
            return MetricWiring(train_mode=v.strip().lower(), train_mode_source=f"hparams:{key}")
    return None


def _sample_weights(hparams: dict[str, Any]) -> SampleWeights | None:
    """What the run says it passed to fit(): 'uniform' / 'non_uniform' weights."""
    for key in SAMPLE_WEIGHT_KEYS:
        if key not in hparams:
            continue
        v = hparams[key]
        if isinstance(v, bool):
            passed = "non_uniform" if v and key.startswith("class") else "uniform"
        else:
            passed = "uniform" if str(v).strip().lower() in _UNIFORM else "non_uniform"
        return SampleWeights(weighting="unknown", passed=passed, passed_key=key)
    return None


def describe(inputs: RunInputs) -> ModelDescription | None:
    if not inputs.hparams:
        return None
    items = recorded(inputs.hparams)
    opt = optimizer(items)
    return ModelDescription(
        dropout=_dropout(items),
        optimizers=[opt] if opt is not None else [],
        losses=[found] if (found := loss(items)) is not None else [],
        wiring=_train_mode(inputs.hparams),
        sample_weights=_sample_weights(inputs.hparams),
        training=_training(items),
        origins=[NAME],
    )
