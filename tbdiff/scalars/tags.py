"""Tag names: what a scalar key means once naming conventions are peeled off.

`parse_tag` turns a key (`run/tag`) into metric, family (train / validation / test), context
and granularity; `curve_role` and `metric_goal` are the one rule for a curve's role (train,
validation, test, or a summary value or counter that is no curve) and for whether higher or
lower is better; `is_loss` tells curves of the objective itself; `curve_name` says a curve in
words; `importance_key` orders curves (accuracy/loss, held-out first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FAMILY_WORDS = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "eval": "validation",
    "evaluation": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
}
_FAMILY_PREFIX = re.compile(
    r"^(train|training|val|valid|validation|eval|evaluation|test|testing|dev)_(?=.)"
)
_FAMILY_SUFFIX = re.compile(r"(?<=.)_(train|training|val|valid|validation|test|testing)$")
_GRAN_PREFIX = re.compile(r"^(epoch|batch)_(?=.)")
# Lightning's `_epoch`/`_step`; Keras' `evaluation_loss_vs_iterations` (what its TensorBoard
# callback writes at the end of every evaluation, model.evaluate included, per optimizer step)
_GRAN_SUFFIX = re.compile(r"(?<=.)_(epoch|step|vs_iterations)$")
_ALIASES = {"acc": "accuracy", "lr": "learning_rate", "err": "error"}

_MAX_WORDS = {
    "accuracy", "precision", "recall", "f1", "auc", "iou", "miou", "map", "bleu", "rouge",
    "r2", "dice", "top1", "top5", "reward", "rewards", "return", "returns", "score", "success",
    "psnr", "ssim", "mrr", "ndcg",
}  # fmt: skip
_MIN_WORDS = {
    "loss", "error", "mse", "mae", "rmse", "mape", "msle", "perplexity", "ppl", "nll", "xent",
    "crossentropy", "entropy", "wer", "cer", "cost", "hinge", "kld", "regret",
}  # fmt: skip
_FAMILY_RANK = {"test": 0, "validation": 1, "train": 2, "": 2}


@dataclass(frozen=True)
class TagName:
    """What a scalar key means once naming conventions are peeled off.

    `family` is "train", "validation", "test" or "" (not said); `coarse` merges the held-out
    families (validation, test -> "heldout") and train with "" (-> "train"), because a bare
    `accuracy` is almost always a training curve and `val_acc` vs `test/accuracy` is the same
    kind of measurement under another name.
    """

    key: str
    metric: str
    family: str
    context: tuple[str, ...]
    gran: str | None  # "epoch" | "batch" | None

    @property
    def coarse(self) -> str:
        return "heldout" if self.family in ("validation", "test") else "train"

    @property
    def goal(self) -> str | None:
        return metric_goal(self.metric)


def _strip_affixes(comp: str) -> tuple[str, str, str | None]:
    """Remove epoch_/batch_ and family prefixes/suffixes; return (rest, family, granularity)."""
    family, gran = "", None
    changed = True
    while changed:
        changed = False
        m = _GRAN_PREFIX.match(comp)
        if m:
            gran, comp, changed = m.group(1), comp[m.end() :], True
        m = _FAMILY_PREFIX.match(comp)
        if m:
            family, comp, changed = _FAMILY_WORDS[m.group(1)], comp[m.end() :], True
        m = _GRAN_SUFFIX.search(comp)
        if m:
            gran = "epoch" if m.group(1) == "epoch" else "batch"
            comp, changed = comp[: m.start()], True
        m = _FAMILY_SUFFIX.search(comp)
        if m:
            family, comp, changed = _FAMILY_WORDS[m.group(1)], comp[: m.start()], True
    return comp, family, gran


def _alias(comp: str) -> str:
    return "_".join(_ALIASES.get(t, t) for t in comp.split("_"))


def parse_tag(key: str) -> TagName:
    """Normalise a scalar key (`run/tag`) into metric name, family, context and granularity.

    Lowercase; split on "/"; strip `epoch_`/`batch_` (and Lightning's `_epoch`/`_step`);
    `val_`/`test_`/`train_` prefixes and family path components (a sub-run named `validation`,
    `train`, `eval`...) set the family; `acc` -> `accuracy`; the last remaining component is
    the metric and earlier components that repeat it (`Accuracy/accuracy`) are dropped.
    """
    family, gran = "", None
    cleaned: list[str] = []
    for raw in key.lower().replace("\\", "/").split("/"):
        comp = re.sub(r"\s+", "_", raw.strip())
        if not comp or comp == ".":
            continue
        if comp in _FAMILY_WORDS:
            family = _FAMILY_WORDS[comp]
            continue
        comp, fam, g = _strip_affixes(comp)
        family = fam or family
        gran = g or gran
        if comp in _FAMILY_WORDS:
            family = _FAMILY_WORDS[comp]
            continue
        if comp:
            cleaned.append(_alias(comp))
    if not cleaned:
        cleaned = [key.lower()]
    metric = cleaned[-1]
    context = tuple(c for c in cleaned[:-1] if c != metric)
    return TagName(key=key, metric=metric, family=family, context=context, gran=gran)


# The roles a curve can have: measured on training, validation or test data; a one-off
# summary value (`hp_metric`, add_hparams' `hparam/*`); or a counter (`epoch`) that measures
# nothing. Summaries carry the verdict only when no curve does; counters never.
ROLES = ("train", "validation", "test", "summary", "counter")
CURVE_ROLES = ("train", "validation", "test")
_COUNTERS = {"epoch", "epochs", "step", "steps", "global_step", "iteration", "iterations", "iter"}
_SUMMARY_PATH = {"hparam", "hparams"}  # add_hparams' metric_dict, as torch's docs name them
_SUMMARY_METRICS = {"hp_metric"}  # Lightning's hyper-parameter metric (-1 until logged)
# Names of the objective itself: its values depend on which loss function is computed.
_LOSS_WORDS = {"cost", "objective", "xent", "nll"}
_LOSS_PARTS = ("loss", "crossentropy", "cross_entropy")


def curve_role(key: str) -> str:
    """ "train", "validation", "test", "summary" or "counter": what a scalar key (`run/tag`)
    measures on, the one rule every part of tbdiff uses (pairing, ordering, the verdict, the
    report).

    A bare `epoch`/`step`/`global_step` is a counter; `hp_metric` and `hparam/...` tags
    (PyTorch Lightning, `SummaryWriter.add_hparams`) are summary values written once per run.
    Otherwise the family words of the tag and of its sub-run path (`validation/`, `eval/`,
    `test/`, `val_acc`, `epoch_test_accuracy`, Keras' `evaluation_*_vs_iterations` that its
    callback writes for every evaluation, `model.evaluate` included); `eval`/`dev` count as
    validation. A key that says none is a training curve, as a bare `accuracy` almost always is.
    """
    name = parse_tag(key)
    parts = {p.strip().lower() for p in key.replace("\\", "/").split("/")}
    last = key.lower().replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].strip()
    if name.metric in _COUNTERS and last in _COUNTERS:
        return "counter"
    if name.metric in _SUMMARY_METRICS or parts & _SUMMARY_PATH:
        return "summary"
    return name.family or "train"


# Lightning's LearningRateMonitor: `lr-Adam`, `lr-Adam/pg1`, `lr-SGD-1` (its momentum is
# `momentum-Adam`, or `lr-Adam-momentum` in old versions: not a learning rate)
_LR_MONITOR = re.compile(r"^lr-[a-z0-9_.]+$")
_LR_NOT = ("momentum", "beta")


def is_learning_rate(key: str) -> bool:
    """Whether a scalar key logs the learning rate itself: Keras' `lr` / `learning_rate`
    (LearningRateScheduler, ReduceLROnPlateau) and `epoch_learning_rate`, `train/lr`,
    Lightning's `lr-Adam` (`lr-Adam/pg1` per parameter group)."""
    if parse_tag(key).metric in ("learning_rate", "learningrate"):
        return True
    parts = [p.strip().lower() for p in key.replace("\\", "/").split("/") if p.strip()]
    return any(_LR_MONITOR.match(p) and not any(w in p for w in _LR_NOT) for p in parts[-2:])


def curve_name(role: str, metric: str) -> str:
    """A curve in words: "test accuracy", "train loss", "epoch counter", "final loss summary"."""
    words = metric.replace("_", " ")
    return f"{words} {role}" if role in ("summary", "counter") else f"{role} {words}"


def is_loss(key: str) -> bool:
    """Whether a key is a curve of the objective (loss, cost, cross-entropy, NLL): its values
    mean different things when the runs minimise different loss functions."""
    metric = parse_tag(key).metric
    tokens = set(re.split(r"[^a-z0-9]+", metric))
    return bool(tokens & _LOSS_WORDS) or any(w in metric for w in _LOSS_PARTS)


def metric_goal(name: str) -> str | None:
    """ "max" for accuracy-like names, "min" for loss/error-like names, None when unknown."""
    tokens = set(re.split(r"[^a-z0-9]+", name.lower()))
    tokens = {_ALIASES.get(t, t) for t in tokens}
    if tokens & _MIN_WORDS or "loss" in name.lower():
        return "min"
    if tokens & _MAX_WORDS or "accuracy" in name.lower():
        return "max"
    return None


_ROLE_RANK = {"summary": 1, "counter": 2}


def importance_key(key: str) -> tuple:
    """Sort key: curves before summary values before counters; then accuracy/loss curves first,
    held-out (test, validation) before train, then name."""
    n = parse_tag(key)
    tokens = set(re.split(r"[^a-z0-9]+", n.metric))
    if "accuracy" in tokens or "accuracy" in n.metric:
        group, within = 0, 0
    elif "loss" in tokens or "loss" in n.metric:
        group, within = 0, 1
    elif n.goal is not None:
        group, within = 1, 0
    else:
        group, within = 2, 0
    kind = _ROLE_RANK.get(curve_role(key), 0)
    return (kind, group, _FAMILY_RANK.get(n.family, 2), within, n.metric, key)
