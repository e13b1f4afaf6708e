"""The acceptance pairs of the model-semantics layer (issue 10): which runs, what differs, what
tbdiff must say first. Pure data (no TensorFlow): the tests import it, and so do the generators
(to know which runs each pair needs).

Three generators write the runs, each in ONE subprocess per pytest session (tests/helpers.py
`generated`), each with the real writers:

  gen   script                       writes
  tf1   tests/gen_pairs_tf1.py        TF1 graph mode (tf.compat.v1 + tf_keras, disable_eager_execution):
                                      GraphDefs through `tf.compat.v1.summary.FileWriter`, tf_keras
                                      fit() logs through its TensorBoard callback
  keras3 tests/gen_pairs_keras3.py    Keras 3 (TF backend): `keras.callbacks.TensorBoard` logs
                                      (model config with compile_config, epoch scalars), and train
                                      steps traced with `tf.summary.trace_on/trace_export`
  tf2fn tests/gen_pairs_tf2fn.py      tf_keras 2.21 eager: TensorBoard callback logs plus the train
                                      function's concrete graph via `tf.summary.graph()` (what TF
                                      2.2-2.15's callback wrote), custom `tf.function` training steps
                                      via `tf.summary.trace_export`, hparams-only runs

By hand: `.venv/bin/python tests/gen_pairs_<gen>.py OUTDIR [RUN ...]` (all runs, or only those
named; each script sets TF_USE_LEGACY_KERAS itself, gen_pairs_keras3.py refuses it), then read
OUTDIR/runs.json (per run: seconds, cpu, final metrics, or the error). A run is a log directory
OUTDIR/<run>; a pair compares two runs with
`python -m tbdiff compare OUTDIR/<a> OUTDIR/<b> --json [args]`.

Expectation of a pair:
  first/severity  the id of findings[0] and the severities it may have. `first=None`: no finding
                  above info and exit 0 (renamed-only and equivalent pairs). When the expected
                  severity is info, a `naming.only` finding may precede it (both are info).
  exit            1 when the first finding is critical or warning, else 0 (like diff).
  notes           (id, severity, text) that must appear EXACTLY once (text: a substring of its
                  title + detail, "" for any).
  absent          ids that must not appear at all (false alarms the issue names).
  source          where the first finding's facts come from when it is not the graph
                  ("keras config", "hparams"): the finding must say so (title/detail/a/b).

INSPECT lists what `tbdiff inspect RUN --json` must show for single runs: runs[0]["model"]
maps a concept label to a plain-words line (as today: "layers", "dropout", "optimizer",
"loss", "init"; new: "normalization", "metrics"). Each expected fact is a list of tokens, every
token must be in the line (str: case-insensitive substring, "!x": x must NOT be in it; float:
some number written in the line equals it within 0.1%), and the line must name one of the
accepted sources of the fact ("graph", "keras config", "hparams", "--feed"; "_" counts as a
space). `absent` concepts must not be shown, or say "none".

The severity chosen where the spec leaves it open: metrics.definition_mismatch is a warning (the
logged curves differ because of the measurement: worth an exit code, not a training change);
graph.stale_layers may be info or benign (a note, never above benign).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITIES = ("critical", "warning", "benign", "info")

# The finding vocabulary of ../shared/spec/report.md (test_pairs_manifest.py checks this list
# against the spec when the spec is found beside the repository).
VOCABULARY = (
    "dropout.rate_mismatch",
    "dropout.runtime_fed",
    "dropout.count_mismatch",
    "learning_phase.mechanism",
    "sample_weights.present",
    "metrics.optimizer_coupling",
    "metrics.train_mode",
    "optimizer.type_mismatch",
    "optimizer.hparam_mismatch",
    "layer.count_mismatch",
    "layer.shape_mismatch",
    "activation.mismatch",
    "init.mismatch",
    "loss.mismatch",
    "regularization.mismatch",
    "naming.only",
    "dropout.equivalent",
    "optimizer.missing",
    "optimizer.implementation",
    "normalization.mismatch",
    "metrics.definition_mismatch",
    "graph.stale_layers",
)

GENERATORS = {
    "tf1": "gen_pairs_tf1.py",
    "keras3": "gen_pairs_keras3.py",
    "tf2fn": "gen_pairs_tf2fn.py",
}


@dataclass(frozen=True)
class Pair:
    name: str
    gen: str  # key of GENERATORS: which script writes both runs
    framework: str  # "tf1" | "keras3" | "tf2fn" | "hparams": the vocabulary coverage counted
    writer: str  # which real writer produced the logs
    a: str
    b: str
    differs: str  # what differs, in words
    first: str | None  # expected id of findings[0]; None: nothing above info
    severity: tuple[str, ...] = ()
    notes: tuple[tuple[str, str, str], ...] = ()
    absent: tuple[str, ...] = ()
    source: str | None = None
    args: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return 1 if self.first and set(self.severity) & {"critical", "warning"} else 0

    @property
    def ids(self) -> set[str]:
        """Ids this pair demonstrates (for the vocabulary coverage)."""
        return {i for i in (self.first, *(n[0] for n in self.notes)) if i}


CRIT = ("critical",)
WARN = ("warning",)
BENIGN = ("benign",)
INFO = ("info",)
STALE = ("info", "benign")  # the issue leaves it open: a note, never above benign
RENAMED = (("naming.only", "info", ""),)

_W_TF1_GRAPH = "tf.compat.v1 graph mode, GraphDef via tf.compat.v1.summary.FileWriter"
_W_TF1_KERAS = "tf_keras graph mode (tf.compat.v1), GraphDef via tf.compat.v1.summary.FileWriter"
_W_TF1_FIT = "tf_keras graph mode fit(), TensorBoard callback (v1) + GraphDef via FileWriter"
_W_K3 = "Keras 3 fit(), keras.callbacks.TensorBoard (model config + compile_config, epoch scalars)"
_W_K3_TRACE = (
    "Keras 3 train_on_batch() traced with tf.summary.trace_on/trace_export (function graph)"
)
_W_K3_STEP = "Keras 3 layers + custom tf.function step, tf.summary.trace_export"
_W_K2_FN = "tf_keras 2.21 fit(), TensorBoard callback + tf.summary.graph(train function)"
_W_TF_STEP = "custom tf.function training step (tf.Variable, GradientTape), tf.summary.trace_export"
_W_HP = "custom eager loop, tf.summary scalars + hparams plugin (hp.hparams), no graph"


def P(name, gen, writer, a, b, differs, first=None, severity=(), **kw) -> Pair:
    """One pair; framework = gen except for the hparams-only pair."""
    framework = kw.pop("framework", gen)
    return Pair(name, gen, framework, writer, a, b, differs, first, severity, **kw)


# fmt: off
TF1_PAIRS = [
    # --- dropout ---------------------------------------------------------------------------
    P("tf1_seed", "tf1", _W_TF1_GRAPH + " / " + _W_TF1_KERAS, "tf_keep_ph", "keras_d07",
      "keep_prob=0.7 fed to a placeholder_with_default vs Keras Dropout(0.7) (the seed case)",
      "dropout.rate_mismatch", CRIT, args=("--feed", "PlaceholderWithDefault=0.7")),
    P("tf1_dropout_rate", "tf1", _W_TF1_GRAPH, "tf_rate05", "tf_keep_tensor07",
      "tf.nn.dropout(rate=0.5) vs keep_prob=tf.constant(0.7) (drops 50% vs 30%)",
      "dropout.rate_mismatch", CRIT),
    P("tf1_dropout_count", "tf1", _W_TF1_KERAS, "keras_d03", "keras_d03_3drop",
      "4 vs 3 Dropout(0.3) layers", "dropout.count_mismatch", CRIT),
    P("tf1_runtime_fed", "tf1", _W_TF1_GRAPH + " / " + _W_TF1_KERAS, "tf_keep_ph", "keras_d03",
      "keep_prob fed at run time (value not recorded) vs Keras Dropout(0.3)",
      "dropout.runtime_fed", WARN),
    P("tf1_both_fed_equal", "tf1", _W_TF1_GRAPH, "tf_keep_ph", "tf_keep_ph_twin",
      "the same graph twice: both feed keep_prob through the same PlaceholderWithDefault "
      "(issue 10 item 3: one note, not two warnings)",
      notes=(("dropout.runtime_fed", "info", "--feed"),)),
    P("tf1_both_fed_renamed", "tf1", _W_TF1_GRAPH, "tf_keep_ph", "tf_keep_ph_renamed",
      "both feed keep_prob through the same PlaceholderWithDefault, scopes renamed",
      notes=(("dropout.runtime_fed", "info", "--feed"), *RENAMED)),
    # keep_prob as a tensor: a Python float keep_prob is folded by TF into the same constant
    # rate as rate=0.3 (identical graphs, nothing to tell apart)
    P("tf1_dropout_equivalent", "tf1", _W_TF1_GRAPH, "tf_keep_tensor07", "tf_rate03",
      "keep_prob=tf.constant(0.7) vs rate=0.3: written differently, same effect",
      "dropout.equivalent", INFO),
    P("tf1_sigmoid_loss", "tf1", _W_TF1_GRAPH, "tf_sigmoid_loss", "tf_softmax_loss",
      "reduce_mean(sigmoid_cross_entropy_with_logits) vs reduce_mean(softmax_cross_entropy_"
      "with_logits), both with 2 keep_prob=0.8 dropouts: logistic_loss is no dropout site",
      "loss.mismatch", CRIT,
      absent=("dropout.count_mismatch", "dropout.rate_mismatch", "learning_phase.mechanism")),
    # --- learning phase, sample weights, metrics -------------------------------------------
    P("tf1_learning_phase", "tf1", _W_TF1_GRAPH + " / " + _W_TF1_KERAS, "tf_keep_const07",
      "keras_d03", "constant keep_prob (dropout also at evaluation) vs Keras learning phase",
      "learning_phase.mechanism", WARN),
    P("tf1_sample_weights", "tf1", _W_TF1_KERAS, "keras_xent", "keras_xent_sw",
      "tf_keras compile(sample_weight_mode='samplewise') in B only (default weights 1)",
      "sample_weights.present", BENIGN),
    P("tf1_metrics_coupling", "tf1", _W_TF1_KERAS, "keras_d03", "keras_d03_nometrics",
      "compiled metrics in A's train function only", "metrics.optimizer_coupling", INFO),
    P("tf1_train_mode", "tf1", _W_TF1_KERAS + " + hparams plugin", "keras_d03_hp_active",
      "keras_d03_hp_off", "same graph; hparams train_metrics=dropout_active vs dropout_off",
      "metrics.train_mode", INFO, source="hparams"),
    P("tf1_metrics_definition", "tf1", _W_TF1_FIT, "fit_acc_string", "fit_acc_class",
      "metrics=['accuracy'] vs [tf_keras.metrics.Accuracy()]: epoch_accuracy ~1 vs 0",
      "metrics.definition_mismatch", WARN),
    # --- optimizer -------------------------------------------------------------------------
    P("tf1_opt_type", "tf1", _W_TF1_GRAPH, "raw", "raw_sgd",
      "AdamOptimizer vs GradientDescentOptimizer", "optimizer.type_mismatch", CRIT),
    P("tf1_opt_lr", "tf1", _W_TF1_GRAPH, "raw", "raw_lr01",
      "Adam learning rate 0.001 vs 0.1 (100x)", "optimizer.hparam_mismatch", CRIT),
    P("tf1_opt_missing", "tf1", _W_TF1_GRAPH, "tf_small", "tf_small_noopt",
      "B computes the gradients and never applies them (no optimizer)",
      "optimizer.missing", WARN),
    P("tf1_opt_impl", "tf1", _W_TF1_KERAS, "keras", "keras_adam",
      "tf.compat.v1.train.AdamOptimizer vs tf_keras legacy Adam(epsilon=1e-8)",
      "optimizer.implementation", INFO),
    # --- layers, normalisation ---------------------------------------------------------------
    P("tf1_layer_count", "tf1", _W_TF1_GRAPH, "raw_4hidden", "raw_3hidden",
      "4 vs 3 hidden layers", "layer.count_mismatch", CRIT),
    P("tf1_layer_units", "tf1", _W_TF1_GRAPH, "raw", "raw_128", "hidden units 64 vs 128",
      "layer.shape_mismatch", CRIT),
    P("tf1_activation", "tf1", _W_TF1_GRAPH, "raw", "raw_tanh", "relu vs tanh",
      "activation.mismatch", CRIT),
    P("tf1_init", "tf1", _W_TF1_GRAPH, "raw", "raw_zero_bias", "bias N(0, 1) vs zeros",
      "init.mismatch", CRIT),
    P("tf1_loss", "tf1", _W_TF1_GRAPH, "raw", "raw_mse",
      "softmax cross-entropy vs mean squared error", "loss.mismatch", CRIT),
    P("tf1_regularizer", "tf1", _W_TF1_GRAPH, "raw", "raw_l2",
      "L2 penalty 0.01 in B's loss only", "regularization.mismatch", CRIT),
    P("tf1_bn_momentum", "tf1", _W_TF1_GRAPH, "tf_bn", "tf_bn_m09",
      "tf.compat.v1.layers.batch_normalization momentum 0.99 vs 0.9",
      "normalization.mismatch", CRIT),
    P("tf1_bn_epsilon", "tf1", _W_TF1_KERAS, "keras_bn", "keras_bn_eps1e5",
      "tf_keras BatchNormalization epsilon 1e-3 vs 1e-5", "normalization.mismatch", CRIT),
    P("tf1_bn_one_side", "tf1", _W_TF1_GRAPH, "tf_bn", "tf_nobn",
      "dense -> batch_normalization -> relu in A, dense(relu) in B",
      "normalization.mismatch", CRIT, absent=("layer.count_mismatch",)),
    P("tf1_stale_untrained", "tf1", _W_TF1_KERAS, "keras_stale_untrained", "keras_fresh",
      "A's graph still holds an earlier model (Dense 32-32, built and compiled, never trained; "
      "no clear_session()); B built the trained Dense 16-16 model in a clean graph",
      "graph.stale_layers", STALE, absent=("layer.count_mismatch", "layer.shape_mismatch")),
    P("tf1_stale_search", "tf1", _W_TF1_FIT, "fit_search_2", "fit_fresh",
      "hparams search without clear_session(): A's log also holds the Dense 32-32 model fit "
      "before it in the same graph; B fit the Dense 16-16 model alone",
      "graph.stale_layers", STALE, absent=("layer.count_mismatch", "layer.shape_mismatch")),
    # --- names only ------------------------------------------------------------------------
    P("tf1_renamed_raw", "tf1", _W_TF1_GRAPH, "raw", "raw_renamed",
      "same raw TF MLP, different variable scopes", notes=RENAMED),
    P("tf1_renamed_keras", "tf1", _W_TF1_KERAS, "keras_d03", "keras_d03_renamed",
      "same tf_keras model, different layer names", notes=RENAMED),
]

KC_SRC = {"source": "keras config"}
K3_PAIRS = [
    # --- dropout, learning phase -----------------------------------------------------------
    P("k3_dropout_rate", "keras3", _W_K3, "base", "drop05", "Dropout(0.2) vs Dropout(0.5)",
      "dropout.rate_mismatch", CRIT, **KC_SRC),
    P("k3_dropout_count", "keras3", _W_K3, "base", "drop_input",
      "one vs two Dropout(0.2) layers (B also drops its inputs)", "dropout.count_mismatch",
      CRIT, **KC_SRC),
    P("k3_learning_phase", "keras3", _W_K3, "base", "mc_dropout",
      "Dropout(0.2)(x) vs Dropout(0.2)(x, training=True) (Monte-Carlo dropout, on at evaluation)",
      "learning_phase.mechanism", WARN, **KC_SRC),
    P("k3t_dropout_rate", "keras3", _W_K3_TRACE, "t_base", "t_drop03",
      "Dropout(0.2) vs Dropout(0.3), function graphs only", "dropout.rate_mismatch", CRIT),
    P("k3t_dropout_equivalent", "keras3", _W_K3_TRACE, "t_drop03", "t_keepprob07",
      "keras Dropout(0.3) vs a layer calling tf.compat.v1.nn.dropout(keep_prob=0.7)",
      "dropout.equivalent", INFO),
    P("k3t_runtime_fed", "keras3", _W_K3_STEP, "s_rate_arg", "s_rate_const",
      "tf.nn.dropout rate passed to the step as a tensor argument vs a constant 0.2",
      "dropout.runtime_fed", WARN),
    # --- sample weights, metrics -----------------------------------------------------------
    P("k3t_sample_weights", "keras3", _W_K3_TRACE, "t_base", "t_sample_weight",
      "train_on_batch(x, y) vs train_on_batch(x, y, sample_weight=w) (class 0 weighted 3x)",
      "sample_weights.present", WARN),
    P("k3t_metrics_coupling", "keras3", _W_K3_TRACE, "t_base", "t_nometrics",
      "compile(metrics=['accuracy']) vs no metrics: metric updates in A's train step only",
      "metrics.optimizer_coupling", INFO),
    P("k3t_train_mode", "keras3", _W_K3_TRACE, "t_base", "t_eval_metrics",
      "metrics on the training forward pass (dropout on) vs on self(x, training=False)",
      "metrics.train_mode", INFO),
    P("k3_metrics_definition", "keras3", _W_K3, "acc_string", "acc_class",
      "metrics=['accuracy'] vs [keras.metrics.Accuracy()]: epoch_accuracy ~0.9 vs 0",
      "metrics.definition_mismatch", WARN, **KC_SRC),
    # --- optimizer -------------------------------------------------------------------------
    P("k3_opt_type", "keras3", _W_K3, "base", "sgd", "Adam vs SGD", "optimizer.type_mismatch",
      CRIT, **KC_SRC),
    P("k3_opt_lr", "keras3", _W_K3, "base", "lr100", "Adam learning rate 1e-3 vs 0.1",
      "optimizer.hparam_mismatch", CRIT, **KC_SRC),
    P("k3_opt_beta", "keras3", _W_K3, "base", "beta05", "Adam beta_1 0.9 vs 0.5",
      "optimizer.hparam_mismatch", CRIT, **KC_SRC),
    P("k3_opt_epsilon", "keras3", _W_K3, "base", "eps1e3", "Adam epsilon 1e-7 vs 1e-3",
      "optimizer.hparam_mismatch", CRIT, **KC_SRC),
    P("k3_opt_impl", "keras3", _W_K3, "base", "loss_scale",
      "Adam vs LossScaleOptimizer(Adam): the same update with loss scaling around it",
      "optimizer.implementation", INFO),
    P("k3t_opt_type", "keras3", _W_K3_TRACE, "t_base", "t_sgd",
      "Adam vs SGD, function graphs only (Keras 3 updates are plain variable ops)",
      "optimizer.type_mismatch", CRIT),
    P("k3t_opt_missing", "keras3", _W_K3_TRACE, "t_base", "t_no_apply",
      "B's custom train_step computes the gradients and never applies them",
      "optimizer.missing", WARN),
    # --- loss ------------------------------------------------------------------------------
    P("k3_loss_smoothing", "keras3", _W_K3, "base", "smooth01",
      "'categorical_crossentropy' vs CategoricalCrossentropy(label_smoothing=0.1)",
      "loss.mismatch", CRIT, **KC_SRC),
    P("k3_loss_from_logits", "keras3", _W_K3, "logits_true", "logits_false",
      "linear output; CategoricalCrossentropy(from_logits=True) vs from_logits=False",
      "loss.mismatch", CRIT, **KC_SRC),
    P("k3_loss_kind", "keras3", _W_K3, "base", "mse",
      "categorical cross-entropy vs mean squared error", "loss.mismatch", CRIT, **KC_SRC),
    # --- layers, normalisation, stale layers ----------------------------------------------
    P("k3_activation", "keras3", _W_K3, "base", "tanh", "relu vs tanh", "activation.mismatch",
      CRIT, **KC_SRC),
    P("k3_layer_count", "keras3", _W_K3, "base", "deeper", "one vs two hidden Dense(16)",
      "layer.count_mismatch", CRIT, **KC_SRC),
    P("k3_layer_units", "keras3", _W_K3, "base", "wide", "Dense(16) vs Dense(32)",
      "layer.shape_mismatch", CRIT, **KC_SRC),
    P("k3_init", "keras3", _W_K3, "base", "he_normal",
      "kernel_initializer glorot_uniform vs he_normal", "init.mismatch", CRIT, **KC_SRC),
    P("k3_regularizer", "keras3", _W_K3, "base", "l2", "kernel_regularizer None vs L2(1e-3)",
      "regularization.mismatch", CRIT, **KC_SRC),
    P("k3_bn_momentum", "keras3", _W_K3, "bn", "bn_m09",
      "BatchNormalization momentum 0.99 vs 0.9", "normalization.mismatch", CRIT, **KC_SRC),
    P("k3_bn_epsilon", "keras3", _W_K3, "bn", "bn_eps1e5",
      "BatchNormalization epsilon 1e-3 vs 1e-5", "normalization.mismatch", CRIT, **KC_SRC),
    P("k3_bn_one_side", "keras3", _W_K3, "bn", "base", "BatchNormalization in A only",
      "normalization.mismatch", CRIT, absent=("layer.count_mismatch",), **KC_SRC),
    P("k3_stale", "keras3", _W_K3, "base", "aux_head",
      "B's model also outputs an auxiliary head that has no loss (compile(loss={'out': ...}))",
      "graph.stale_layers", STALE, absent=("layer.count_mismatch",)),
    P("k3t_bn_momentum", "keras3", _W_K3_TRACE, "t_bn", "t_bn_m09",
      "BatchNormalization momentum 0.99 vs 0.9, function graphs only (the moving-average "
      "update's constant)", "normalization.mismatch", CRIT),
    P("k3t_stale", "keras3", _W_K3_TRACE, "t_base", "t_aux_head",
      "as k3_stale, function graphs only: the aux head's ops run but get no gradient",
      "graph.stale_layers", STALE, absent=("layer.count_mismatch",)),
    # --- names only ------------------------------------------------------------------------
    P("k3_renamed", "keras3", _W_K3, "base", "renamed",
      "same model, explicit layer names fc1/drop1/logits", notes=RENAMED),
    P("k3_renamed_auto", "keras3", _W_K3, "base", "base_again",
      "same model built again later in the process: auto names dense_N, dropout_N ...",
      notes=RENAMED),
    P("k3t_renamed", "keras3", _W_K3_TRACE, "t_base", "t_renamed",
      "same model, layer names differ, function graphs only", notes=RENAMED),
]

TF2FN_PAIRS = [
    P("k2fn_opt_type", "tf2fn", _W_K2_FN, "k2_base", "k2_sgd",
      "tf_keras Adam vs SGD (issue 10 acceptance: optimizer.type_mismatch first)",
      "optimizer.type_mismatch", CRIT),
    P("k2fn_dropout_rate", "tf2fn", _W_K2_FN, "k2_base", "k2_drop05",
      "tf_keras Dropout(0.2) vs Dropout(0.5)", "dropout.rate_mismatch", CRIT),
    P("k2fn_opt_lr", "tf2fn", _W_K2_FN + " + hparams plugin", "k2_base", "k2_lr100",
      "Adam learning rate 1e-3 vs 0.1 (a variable in the graph; recorded in the hparams)",
      "optimizer.hparam_mismatch", CRIT, source="hparams"),
    P("k2fn_renamed", "tf2fn", _W_K2_FN, "k2_base", "k2_renamed",
      "same tf_keras model, layer names differ", notes=RENAMED),
    P("fn_dropout_rate", "tf2fn", _W_TF_STEP, "fn_base", "fn_drop05",
      "tf.nn.dropout(rate=0.2) vs rate=0.5", "dropout.rate_mismatch", CRIT),
    P("fn_opt_type", "tf2fn", _W_TF_STEP, "fn_base", "fn_sgd",
      "legacy OptimizerV2 Adam vs SGD applied in the step", "optimizer.type_mismatch", CRIT),
    P("fn_loss", "tf2fn", _W_TF_STEP, "fn_base", "fn_mse",
      "softmax cross-entropy vs mean squared error", "loss.mismatch", CRIT),
    P("fn_layer_units", "tf2fn", _W_TF_STEP, "fn_base", "fn_wide",
      "hidden variables 8x16 vs 8x32", "layer.shape_mismatch", CRIT),
    P("fn_activation", "tf2fn", _W_TF_STEP, "fn_base", "fn_tanh", "tf.nn.relu vs tf.nn.tanh",
      "activation.mismatch", CRIT),
    P("fn_renamed", "tf2fn", _W_TF_STEP, "fn_base", "fn_renamed",
      "same step, variables created under other name scopes"),
    P("hp_optimizer", "tf2fn", _W_HP, "hp_adam", "hp_rmsprop",
      "no graph; hparams optimizer=adam vs rmsprop (an hparams search)",
      "optimizer.type_mismatch", CRIT, source="hparams", framework="hparams"),
]
# fmt: on


PAIRS: list[Pair] = [*TF1_PAIRS, *K3_PAIRS, *TF2FN_PAIRS]


@dataclass(frozen=True)
class Fact:
    tokens: tuple[str | float, ...]  # str: substring ("!x": must not appear); float: a number
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Inspect:
    gen: str
    run: str
    what: str
    facts: dict[str, Fact] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # concepts with nothing to say: not shown, or "none"


F = Fact
KC, G, HP = ("keras config",), ("graph",), ("hparams",)
KC_G = ("keras config", "graph")

# fmt: off
INSPECT = [
    Inspect("keras3", "full",
            "Keras 3 callback logs: Dense(16, relu, he_normal, L2 1e-4) -> BatchNormalization("
            "0.9, 1e-3) -> Dropout(0.25) -> Dense(3, softmax); Adam(0.003), CategoricalCross"
            "entropy(label_smoothing=0.1), metrics=['accuracy']", {
                "layers": F(("dense", 16, 3, "relu", "softmax"), KC),
                "dropout": F(("25%",), KC),
                "normalization": F(("batch", 0.9, 0.001), KC),
                "optimizer": F(("adam", 0.003), KC),
                "loss": F(("entropy", "label smoothing", 0.1), KC),
                "init": F(("he_normal",), KC),
                "metrics": F(("accuracy",), KC),
                "regularization": F(("l2", 1e-4), KC),
            }),
    Inspect("keras3", "t_full",
            "Keras 3 train_on_batch() traced (function graph only), the model of 'full' with "
            "SGD(0.05, momentum=0.9)", {
                "layers": F(("dense", 16, 3), G),
                "dropout": F(("25%",), G),
                "normalization": F(("batch",), G),
                "optimizer": F(("sgd",), G),
                "loss": F(("entropy",), G),
                "metrics": F(("accuracy",), G),
            }),
    Inspect("tf2fn", "k2_full",
            "tf_keras 2.21 callback + train function graph: Dense(16, relu) -> Batch"
            "Normalization(0.9) -> Dropout(0.25) -> Dense(3, softmax); Adam, categorical_"
            "crossentropy, metrics=['accuracy']", {
                "layers": F(("dense", 16, 3, "relu"), KC_G),
                "dropout": F(("25%",), KC_G),
                "normalization": F(("batch", 0.9), KC_G),
                "optimizer": F(("adam",), G),
                "loss": F(("entropy",), G),
                "init": F(("glorot_uniform",), KC),
                "metrics": F(("accuracy",), G),
            }),
    Inspect("tf2fn", "k2_full", "the same run: its learning rate 0.003 is in its hparams only",
            {"optimizer": F((0.003,), HP)}),
    Inspect("tf2fn", "fn_base",
            "custom tf.function step: 8-16-3 MLP, tf.nn.dropout(rate=0.2), softmax cross-"
            "entropy, legacy OptimizerV2 Adam", {
                "layers": F((16, 3), G),
                "dropout": F(("20%",), G),
                "optimizer": F(("adam",), G),
                "loss": F(("softmax",), G),
            }),
    Inspect("tf1", "tf_sigmoid_loss",
            "raw TF1, keep_prob=0.8 dropout after 2 hidden layers, loss reduce_mean(sigmoid_"
            "cross_entropy_with_logits): 2 dropout sites (logistic_loss is none), reduction mean", {
                "dropout": F(("20%", "!?"), G),
                "loss": F(("sigmoid", "mean", "!none"), G),
            }),
    Inspect("tf1", "tf_sigmoid_nodrop", "raw TF1 without dropout, sigmoid loss: no dropout",
            {"loss": F(("sigmoid", "mean", "!none"), G)}, absent=("dropout",)),
    Inspect("tf1", "tf_bn", "raw TF1 tf.compat.v1.layers.batch_normalization(momentum=0.99)",
            {"normalization": F(("batch", 0.99, 0.001), G)}),
    Inspect("tf1", "keras_stale_untrained",
            "tf_keras graph with an earlier, never trained model (Dense 32-32) before the "
            "trained one (Dense 16-16): the layers are the trained model's", {
                "layers": F(("16", "!32"), G),
            }),
]
# fmt: on
