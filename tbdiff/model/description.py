"""Framework-neutral description of the model one run trained, with the source of every fact.

Front-ends (`tbdiff.model.frontends`) fill these types from what a run recorded: an op graph
(TF1 GraphDef/MetaGraphDef, TF2 function graphs), a Keras model config (with Keras 3's
`compile_config`), recorded hyper-parameters and user `--feed` values. Detectors
(`tbdiff.findings.<concept>`) compare two descriptions and never look at ops, configs or hparams.

Conventions (see shared/spec/conventions.md), so two frameworks' numbers compare directly:
- dropout: `drop_rate` is the probability to DROP a unit while training; how the program wrote
  it (`keep_prob`, `rate`, `p`) is kept in `written_as` / `written_value`;
- dense kernel shape: [in, out] (Keras/TF; a PyTorch Linear weight is [out, in]);
- optimizer weight decay: `weight_decay` is decoupled (AdamW, Keras 3 optimizers: w -= lr * wd *
  w), `coupled_weight_decay` is added to the gradient (PyTorch Adam/SGD weight_decay: an L2
  penalty of wd/2 * sum(w**2));
- batch-norm momentum: Keras/TF1 convention, moving = m * moving + (1 - m) * batch
  (PyTorch's momentum 0.1 is m = 0.9); the written number is kept in `written_momentum`;
- regularisation coefficients: `coef * sum(w**2)` for L2, `coef * sum(|w|)` for L1;
- optimizer hyper-parameter names: learning_rate, beta1, beta2, epsilon, momentum, rho, decay,
  weight_decay, nesterov, amsgrad, centered (plus batch_size / epochs from hparams).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

ORIGINS = ("graph", "keras_config", "hparams", "scalars", "feed", "default")
_ORIGIN_LABEL = {
    "graph": "graph",
    "keras_config": "Keras config",
    "hparams": "hparams",
    "scalars": "logged scalar",  # a value the run logged as a curve (where: its tag)
    "feed": "--feed",
    "default": "default of",  # a framework default the run did not override (where: the API)
}


@dataclass(frozen=True)
class Source:
    """Where a fact came from: an origin in ORIGINS and, optionally, the exact place
    ("default": a framework's documented default for a setting the run did not record, e.g.
    `Source("default", "torch.optim.Adam")`)."""

    origin: str
    where: str = ""  # node name, config path, hparam key or placeholder name

    def __post_init__(self) -> None:
        if self.origin not in _ORIGIN_LABEL:
            raise ValueError(f"unknown fact origin {self.origin!r}")

    @property
    def label(self) -> str:
        """'graph', 'Keras config', 'hparams optimizer', '--feed'."""
        base = _ORIGIN_LABEL[self.origin]
        shown = self.where and self.origin in ("hparams", "scalars", "default")
        return f"{base} {self.where}" if shown else base


GRAPH = Source("graph")
KERAS = Source("keras_config")


# ------------------------------------------------------------------------------------------
# layers
# ------------------------------------------------------------------------------------------

#: layer kinds that carry a weight matrix/kernel (counted by layer.count_mismatch)
WEIGHT_KINDS = frozenset(
    {"dense", "conv1d", "conv2d", "conv3d", "depthwise_conv2d", "conv2d_transpose"}
)
_FAMILY = {k: "conv" for k in WEIGHT_KINDS if k.startswith(("conv", "depthwise"))}


@dataclass
class Init:
    """An initialiser: family (uniform, normal, truncated_normal, zeros, ones, constant,
    orthogonal, unknown), its parameters, a label, and the variance-scaling rule it matches."""

    family: str
    params: dict[str, float] = field(default_factory=dict)
    label: str = ""
    rule: str | None = None
    nodes: list[str] = field(default_factory=list)
    source: Source = field(default_factory=lambda: GRAPH)

    @property
    def known(self) -> bool:
        return self.family != "unknown"

    @property
    def text(self) -> str:
        if self.rule and self.rule != self.label:
            return f"{self.rule} = {self.label}"
        return self.label

    @property
    def rule_or_label(self) -> str:
        return self.rule or self.label


@dataclass
class Layer:
    """One layer, from any front-end. The one layer model of tbdiff: alignment pairs these,
    detectors compare them.

    `kind`: dense, conv1d/2d/3d, depthwise_conv2d, conv2d_transpose, embedding, batch_norm,
    layer_norm, norm, dropout or variables. Graph evidence (`op`, `kernel`, `bias` ...) names
    nodes of the op graph the layer came from; a config layer names its config entry.
    """

    name: str
    kind: str
    shape: list[int | None] | None = None  # main weight shape (kernel), None when unknown
    bias_shape: list[int | None] | None = None
    activation: str = "linear"
    #: the activation training really applies (an output softmax folded into a *WithLogits
    #: loss trains like a linear output)
    trained_activation: str = "linear"
    kernel_init: Init | None = None
    bias_init: Init | None = None
    index: int = 0  # position among the weight layers (data-path order)
    position: float = float("inf")  # data-path depth, orders all layers
    variables: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # dropout: its random op(s)
    op: str | None = None  # MatMul/Conv node, or the config layer
    kernel: str | None = None
    bias: str | None = None
    bias_op: str | None = None
    activation_op: str | None = None
    nodes: list[str] = field(default_factory=list)
    source: Source = GRAPH
    #: facts filled in from another source than the layer's own (e.g. "shape" from a Keras
    #: config when a traced graph holds no shapes)
    filled: dict[str, Source] = field(default_factory=dict)

    @property
    def family(self) -> str:
        """Coarse kind used to pair layers: conv* -> conv, everything else as is."""
        return _FAMILY.get(self.kind, self.kind)

    @property
    def has_weights(self) -> bool:
        return self.kind in WEIGHT_KINDS

    @property
    def units(self) -> int | None:
        return self.shape[-1] if self.shape else None


# ------------------------------------------------------------------------------------------
# dropout and train/eval switching
# ------------------------------------------------------------------------------------------


@dataclass
class Switch:
    """How a dropout site is turned off for evaluation.

    kind: learning_phase (Keras' placeholder), keras_functions (separate train/test functions or
    a layer config: off outside training), keep_prob_placeholder / rate_placeholder (the
    program's own placeholder), train_flag (a traced constant), none (always on).
    """

    kind: str
    node: str | None = None
    op: str | None = None
    default: Any = None
    default_drop_rate: float | None = None
    dropout_at_eval: bool | None = None


@dataclass
class Fed:
    """A value fed to a placeholder at run time, and where tbdiff learnt it."""

    value: float
    source: Source

    @property
    def origin_text(self) -> str:
        """'--feed', 'hparams' (key feed/<ph>) or 'hparams:<key>' (JSON-compatible)."""
        if self.source.origin == "feed":
            return "--feed"
        if self.source.where.startswith("feed/"):
            return "hparams"
        return f"hparams:{self.source.where}"


@dataclass
class DropoutSite:
    """One dropout layer and its effective drop probability while training."""

    layer: str
    node: str
    drop_rate: float | None  # None: fed at run time, value unknown
    written_as: str  # keep_prob | rate | p
    written_value: float | None
    framework: str  # tf | keras | keras_config | hparams | torch ...
    switch: Switch
    written_const: bool = False
    written_node: str | None = None
    default_drop_rate: float | None = None
    placeholders: list[str] = field(default_factory=list)
    fed: dict[str, Fed] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    source: Source = GRAPH

    @property
    def keep_prob(self) -> float | None:
        return None if self.drop_rate is None else round(1.0 - self.drop_rate, 4)

    @property
    def layer_known(self) -> bool:
        """False for a rate recorded only as a hyper-parameter (no layer, count unknown)."""
        return self.source.origin not in ("hparams",)

    @property
    def evidence(self) -> list[str]:
        out = [self.node]
        for extra in [self.written_node, *self.placeholders]:
            if extra and extra not in out:
                out.append(extra)
        return [n for n in out if n]


# ------------------------------------------------------------------------------------------
# normalisation, optimizer, loss, regularisation, metrics, sample weights
# ------------------------------------------------------------------------------------------


@dataclass
class Normalization:
    """A normalisation layer; momentum in the Keras convention (weight of the old average)."""

    layer: str
    kind: str  # batch_norm | layer_norm
    momentum: float | None = None
    epsilon: float | None = None
    axis: Any = None
    written_momentum: float | None = None
    convention: str = "keras"  # how `written_momentum` is meant: keras | torch
    nodes: list[str] = field(default_factory=list)
    source: Source = GRAPH


@dataclass
class LRSchedule:
    """The learning rate as the run logged it over training (a scalar curve such as Keras'
    `lr` / `epoch_learning_rate`, Lightning's `lr-Adam`): where it starts and ends, and the
    steps where it changes.

    shape: constant (never changes), step (changes at a few steps and stays put in between:
    StepLR, ReduceLROnPlateau) or smooth (changes at most logged steps: exponential, cosine,
    warm-up). `changes` holds (step, new value) at each change; `points` the whole curve as
    (step, value), steps increasing, one value per step (the last logged).
    """

    start: float
    end: float
    shape: str  # constant | step | smooth
    changes: list[tuple[int, float]] = field(default_factory=list)
    points: list[tuple[int, float]] = field(default_factory=list)
    source: Source = field(default_factory=lambda: Source("scalars"))

    @property
    def first_step(self) -> int:
        return self.points[0][0]

    @property
    def last_step(self) -> int:
        return self.points[-1][0]

    def at(self, step: int) -> float:
        """The learning rate in force at `step` (the last logged value at or before it)."""
        i = bisect.bisect_right(self.points, (step, math.inf))
        return self.points[max(i - 1, 0)][1]


@dataclass
class Optimizer:
    """The optimizer that updates the weights (type from `model.names`; None: unknown, e.g.
    hparams that record a learning rate but no optimizer name, or only a logged learning-rate
    curve: `schedule`)."""

    type: str | None
    hparams: dict[str, Any] = field(default_factory=dict)
    implementation: str | None = None
    sources: dict[str, Source] = field(default_factory=dict)  # hparam -> where it came from
    nodes: dict[str, str] = field(default_factory=dict)  # hparam -> evidence node
    update_ops: list[str] = field(default_factory=list)
    n_variables: int = 0
    value_kinds: list[str] = field(default_factory=list)
    source: Source = GRAPH
    schedule: LRSchedule | None = None  # the learning rate as logged over training

    @property
    def recorded(self) -> bool:
        """Some source named this optimizer or its settings (not only a logged lr curve)."""
        return bool(self.type or self.hparams or self.update_ops)


@dataclass
class Loss:
    """The training loss. None values are unknown (e.g. a config that does not say).

    kind: categorical_cross_entropy, binary_cross_entropy, mean_squared_error ... (the function);
    whether it takes logits or probabilities is `from_logits`.
    """

    kind: str
    from_logits: bool | None = None
    sparse: bool | None = None
    label_smoothing: float | None = 0.0
    reduction: str | None = None
    op: str | None = None
    nodes: list[str] = field(default_factory=list)
    source: Source = GRAPH

    @property
    def label(self) -> str:
        """The loss as an op graph shows it: softmax_cross_entropy is categorical cross-entropy
        on logits, categorical_cross_entropy_probs on (clipped) probabilities."""
        if self.kind == "categorical_cross_entropy" and self.from_logits is not None:
            return (
                "softmax_cross_entropy" if self.from_logits else "categorical_cross_entropy_probs"
            )
        if self.kind == "binary_cross_entropy" and self.from_logits is not None:
            return "sigmoid_cross_entropy" if self.from_logits else "binary_cross_entropy_probs"
        return self.kind


@dataclass
class Penalty:
    """A weight penalty added to the loss (coef in coef*sum(w**2) / coef*sum(|w|))."""

    layer: int
    scope: str
    role: str  # kernel | bias
    variable: str
    kind: str  # l1 | l2
    coef: float
    expr: str = ""
    nodes: list[str] = field(default_factory=list)
    source: Source = GRAPH


@dataclass
class Decay:
    """Decoupled weight decay applied in the update step."""

    layer: int
    role: str
    variable: str
    coef: float
    op: str | None = None
    source: Source = GRAPH


@dataclass
class Metric:
    """One metric and what it computes.

    computes: categorical_accuracy (argmax equality), sparse_categorical_accuracy,
    binary_accuracy (threshold, see `threshold`), exact_match (labels == predictions, Keras
    `metrics.Accuracy()`), or another metric's name; None when unknown.
    """

    name: str
    computes: str | None = None
    threshold: float | None = None
    written_as: str = ""
    kind: str = "graph"  # keras (compiled metric scope) | graph (hand-written) | config
    nodes: list[str] = field(default_factory=list)
    source: Source = GRAPH


@dataclass
class MetricWiring:
    """How training metrics run: with the optimizer update (coupled) and with dropout on?"""

    coupled: bool | None = None
    coupling: str | None = None  # graph | keras_train_function
    coupling_nodes: list[str] = field(default_factory=list)
    updates: int = 0
    train_mode: str | None = None  # dropout_active | dropout_off | no_dropout | unknown
    train_mode_source: str | None = None  # graph | inferred | hparams:<key>


@dataclass
class SampleWeightInput:
    node: str
    op: str
    output: str | None
    default: list[Any] | None
    all_ones: bool | None
    feeds_loss: bool = True


@dataclass
class SampleWeights:
    weighting: str = "unknown"  # placeholder | constant | none | unknown
    placeholders: list[SampleWeightInput] = field(default_factory=list)
    constants: list[SampleWeightInput] = field(default_factory=list)
    passed: str | None = None  # uniform | non_uniform (from hparams)
    passed_key: str | None = None


@dataclass(frozen=True)
class FeedSpec:
    """What the value fed to a placeholder means in the model, and the range it must lie in
    (checked against `--feed` before any comparison)."""

    placeholder: str
    meaning: str  # e.g. "the keep_prob of dropout Dropout1"
    low: float
    high: float


@dataclass
class Training:
    """Training-loop settings recorded as hyper-parameters (batch size, epochs), and how far
    the run's logged training curves go: `last_step` (their largest step) counted in
    `step_unit` ("batch": one step per optimizer update; "epoch"; None: the logs do not say)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    last_step: int | None = None
    step_unit: str | None = None


# ------------------------------------------------------------------------------------------
# the description of one run
# ------------------------------------------------------------------------------------------


@dataclass
class ModelDescription:
    """What one run's model is and how it was trained, merged from every source it recorded.

    Lists are in data-path order. `None`/empty means "no source said anything", not "absent";
    `has_ops` says whether an op graph was read (so absence in it is meaningful).
    """

    layers: list[Layer] = field(default_factory=list)  # every layer, data-path order
    stale_layers: list[Layer] = field(default_factory=list)  # not connected to the trained loss
    dropout: list[DropoutSite] = field(default_factory=list)
    normalization: list[Normalization] = field(default_factory=list)
    optimizers: list[Optimizer] = field(default_factory=list)  # main optimizer first
    losses: list[Loss] = field(default_factory=list)  # main loss first
    trained: bool | None = None  # the op graph holds a backward pass
    penalties: list[Penalty] = field(default_factory=list)
    decay: list[Decay] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    wiring: MetricWiring | None = None
    sample_weights: SampleWeights | None = None
    training: Training = field(default_factory=Training)
    has_ops: bool = False  # an op graph was read (absence of a fact in it means something)
    config_only: bool = False  # only a layer config describes the model (no ops)
    origins: list[str] = field(default_factory=list)  # front-ends that contributed, in order

    @property
    def is_empty(self) -> bool:
        """No source said anything about the model (a logged learning-rate curve or step count
        alone describes none)."""
        return not (
            self.layers
            or self.dropout
            or any(o.recorded for o in self.optimizers)  # a logged lr curve alone is no model
            or self.losses
            or self.metrics
            or self.normalization
            or self.training.values
        )

    @property
    def feed_specs(self) -> list[FeedSpec]:
        """Placeholders whose fed value sets a fact of this model (a dropout probability)."""
        return [
            FeedSpec(ph, f"the {s.written_as} of dropout {s.layer}", 0.0, 1.0)
            for s in self.dropout
            for ph in s.placeholders
        ]

    @property
    def weight_layers(self) -> list[Layer]:
        return [x for x in self.layers if x.has_weights]

    @property
    def optimizer(self) -> Optimizer | None:
        return self.optimizers[0] if self.optimizers else None

    @property
    def loss(self) -> Loss | None:
        return self.losses[0] if self.losses else None
