"""The seed case's two MLPs, ported to tf.compat.v1 graph mode + tf_keras, with event logs.

Faithful to the user's program (see shared/spec/seed_case.md): same layer names, initialisers,
optimizer object, loss and metric functions, batch size and dropout arguments - including the
original mistake of passing the keep probability (0.7) to ``keras.layers.Dropout``, whose
argument is the probability to *drop*. Each model is built in its own fresh ``tf.Graph`` and
session so the two graphs written to TensorBoard are exactly what each framework produced.

This is one of the only modules allowed to import TensorFlow; it switches the process to
TF1 graph mode on first use (process-global, which is why the CLI runs it in its own process).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tbdiff.experiment.mnist import Batcher, Mnist

_TF: Any = None
_KERAS: Any = None


def tf_modules() -> tuple[Any, Any]:
    """Import TensorFlow + tf_keras once, in TF1 graph mode (``TF_USE_LEGACY_KERAS=1``).

    TensorFlow's C++ side logs a few lines (absl's "before InitializeLog", oneDNN, CUDA
    probing) while loading, *before* it reads ``TF_CPP_MIN_LOG_LEVEL``; when that level hides
    INFO (tbdiff's default is 3, `--verbose` sets 0) those lines are dropped at the file
    descriptor and replayed only if the import fails.
    """
    global _TF, _KERAS
    if _TF is None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import warnings

        with _quiet_native_stderr(os.environ["TF_CPP_MIN_LOG_LEVEL"] not in ("", "0")):
            import tensorflow as tf
            import tf_keras

            tf.config.list_physical_devices()  # the CUDA probe, now rather than mid-run

        # tf_keras' own deprecation chatter about its v1 training loop is not for our users
        warnings.filterwarnings("ignore", message=".*state_updates.*", category=UserWarning)

        tf.compat.v1.disable_eager_execution()
        tf.get_logger().setLevel("ERROR")
        _TF, _KERAS = tf, tf_keras
    return _TF, _KERAS


@contextmanager
def _quiet_native_stderr(quiet: bool) -> Iterator[None]:
    """Send file descriptor 2 (where C++ logs go) to a temp file; replay it on an error."""
    if not quiet:
        yield
        return
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            tmp.seek(0)
            sys.stderr.write(tmp.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@dataclass
class TrainConfig:
    """Hyper-parameters of the seed case (defaults = the user's values)."""

    epochs: int = 30
    batch_size: int = 100
    learning_rate: float = 0.001
    n_neurons: int = 256
    keep_prob: float = 0.7  # fed to tf.nn.dropout's keep_prob placeholder
    keras_dropout_rate: float = 0.7  # passed to keras Dropout(rate): the original bug
    seed: int = 0
    limit_train: int | None = None
    deterministic: bool = True  # op determinism + one thread per session (see README)


@dataclass(frozen=True)
class ModelSpec:
    """Which variant of the seed case to build: the seed models differ in exactly these knobs.

    `framework` picks the program (raw TF session loop or Keras fit); the other fields are the
    differences tbdiff's findings name between the two seed models, each settable on either
    side, so `--ablate` can move one model toward the other one difference at a time.
    """

    framework: str  # "tensorflow" | "keras"
    drop_rate: float  # fraction of units dropped in training (raw TF: 1 - keep_prob)
    # how dropout is switched off for evaluation: "placeholder" = a keep-prob
    # placeholder_with_default(1.0) fed during training (raw TF); "learning_phase" = Keras'
    # learning-phase placeholder selecting a dropout branch with tf.cond
    switch: str
    sample_weight: bool  # the loss multiplied by Keras' constant sample weight 1
    # train metrics: "separate" = a second run after the update, dropout off (raw TF);
    # "in_step" = fetched with the optimizer update, dropout on (Keras fit)
    train_metrics: str

    @property
    def keep_prob(self) -> float:
        return round(1.0 - self.drop_rate, 10)

    def hparams(self) -> dict[str, Any]:
        return {
            "spec/drop_rate": self.drop_rate,
            "spec/switch": self.switch,
            "spec/sample_weight": self.sample_weight,
            "spec/train_metrics": self.train_metrics,
        }


def seed_spec(framework: str, cfg: TrainConfig) -> ModelSpec:
    """The user's two models: raw TF with keep_prob, Keras with Dropout(keras_dropout_rate)."""
    if framework == "tensorflow":
        return ModelSpec(
            "tensorflow", round(1.0 - cfg.keep_prob, 10), "placeholder", False, "separate"
        )
    return ModelSpec("keras", cfg.keras_dropout_rate, "learning_phase", True, "in_step")


@dataclass
class EpochRecord:
    epoch: int  # 0-based, the step written to the event files
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


@dataclass
class ModelResult:
    framework: str  # "tensorflow" | "keras"
    logdir: str
    hparams: dict[str, Any]
    epochs: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final(self) -> EpochRecord | None:
        return self.epochs[-1] if self.epochs else None

    def to_dict(self) -> dict[str, Any]:
        last = self.final
        return {
            "framework": self.framework,
            "logdir": self.logdir,
            "hparams": self.hparams,
            "test_accuracy": last.test_accuracy if last else None,
            "test_loss": last.test_loss if last else None,
            "train_accuracy": last.train_accuracy if last else None,
            "train_loss": last.train_loss if last else None,
            "seconds": round(self.seconds, 3),
            "seconds_per_epoch": round(self.seconds / max(len(self.epochs), 1), 3),
            "epochs": [asdict(e) for e in self.epochs],
        }


class Hooks:
    """Progress callbacks (no-ops by default); `train.py` plugs a rich progress bar in."""

    def start(self, framework: str, epochs: int, batches: int) -> None: ...

    def batch(self) -> None: ...

    def epoch(self, framework: str, record: EpochRecord) -> None: ...

    def end(self, framework: str) -> None: ...


# ----------------------------------------------------------------------------- helpers


def _numpy_eval(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Softmax cross-entropy mean and accuracy, as the original loss/accuracy functions do."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = float(-(labels * logp).sum(axis=1).mean())
    acc = float((logits.argmax(1) == labels.argmax(1)).mean())
    return loss, acc


def _hparams_event_bytes(hparams: dict[str, Any]) -> bytes:
    """Serialized Summary of the hparams plugin (session_start_info) for a FileWriter."""
    from tensorboard.plugins.hparams import summary_v2

    clean = {k: v for k, v in hparams.items() if isinstance(v, bool | int | float | str)}
    return summary_v2.hparams_pb(clean, start_time_secs=time.time()).SerializeToString()


def _scalars_summary(tf: Any, values: dict[str, float]) -> Any:
    summary = tf.compat.v1.Summary()
    for tag, value in values.items():
        summary.value.add(tag=tag, simple_value=float(value))
    return summary


def _train_set(data: Mnist, cfg: TrainConfig) -> Any:
    train = data.train
    if cfg.limit_train:
        from tbdiff.experiment.mnist import DataSet

        train = DataSet(train.images[: cfg.limit_train], train.labels[: cfg.limit_train])
    return train


def _prepare(data: Mnist, cfg: TrainConfig, hooks: Hooks | None) -> tuple[Any, ...]:
    """What both models start from: TF modules, hooks, the training set and a fresh graph.

    Each model gets its own tf.Graph (and a cleared Keras session), so the two runs and the
    seeds of `--seeds N` never share variables or name scopes.
    """
    tf, keras = tf_modules()
    _set_determinism(tf, cfg.deterministic)
    keras.backend.clear_session()
    return tf, keras, hooks or Hooks(), _train_set(data, cfg), tf.Graph()


def _set_determinism(tf: Any, on: bool) -> None:
    """Op determinism is process-global in TF: switch it to what this model asks for."""
    if on:
        tf.config.experimental.enable_op_determinism()
    else:
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()


def _session(tf: Any, graph: Any, cfg: TrainConfig) -> Any:
    """A session on `graph`; deterministic runs use one thread for ops and one between ops,
    so float reductions are summed in the same order on every run."""
    if not cfg.deterministic:
        return tf.compat.v1.Session(graph=graph)
    conf = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    return tf.compat.v1.Session(graph=graph, config=conf)


def _common_hparams(cfg: TrainConfig, spec: ModelSpec, n_train: int) -> dict[str, Any]:
    return {
        "framework": spec.framework,
        "learning_rate": cfg.learning_rate,
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "optimizer": "tf.compat.v1.train.AdamOptimizer",
        "n_neurons": cfg.n_neurons,
        "limit_train": cfg.limit_train or 0,
        "n_train": n_train,
        "deterministic": cfg.deterministic,
        **spec.hparams(),
    }


class _NetworkUtils:
    """The original ``get_network_utils``: shared pieces both models are built from."""

    def __init__(self, tf: Any, keras: Any, cfg: TrainConfig, in_shape: int, out_shape: int):
        self.input_placeholder = keras.layers.Input(shape=(in_shape,))
        self.output_placeholder = tf.compat.v1.placeholder(
            tf.float32, [None, out_shape], name="output"
        )
        self.dropout_ph = tf.compat.v1.placeholder_with_default(1.0, shape=())
        self.optimizer = tf.compat.v1.train.AdamOptimizer(
            learning_rate=cfg.learning_rate, name="Trainer"
        )
        self.activation = tf.nn.relu
        self._tf = tf

        # Plain functions (not methods): Keras sets attributes on metric functions, and the
        # function names ("loss", "accuracy") become the Keras metric/log names.
        def loss(y_true: Any, y_pred: Any) -> Any:
            return tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
            )

        def accuracy(y_true: Any, y_pred: Any) -> Any:
            correct = tf.equal(tf.argmax(y_true, 1), tf.argmax(y_pred, 1))
            return tf.reduce_mean(tf.cast(correct, tf.float32))

        self.loss, self.accuracy = loss, accuracy

    # Raw TF: the original returns variables (get_variable / tf.Variable), which works there.
    def weight_variable(self, shape: list[int]) -> Any:
        tf = self._tf
        r = float(np.sqrt(6.0 / (shape[0] + shape[1])))
        return tf.compat.v1.get_variable(
            "weights", shape=shape, initializer=tf.compat.v1.random_uniform_initializer(-r, r)
        )

    def bias_variable(self, shape: list[int]) -> Any:
        tf = self._tf
        return tf.compat.v1.Variable(name="bias", initial_value=tf.random.normal(shape))

    # Keras: in graph mode an initializer must return a tensor (same distributions).
    def weight_initializer(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        tf = self._tf
        r = float(np.sqrt(6.0 / (int(shape[0]) + int(shape[1]))))
        return tf.random.uniform(shape, -r, r, dtype=dtype or tf.float32)

    def bias_initializer(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Any:
        tf = self._tf
        return tf.random.normal(shape, dtype=dtype or tf.float32)


LAYERS = ("VisibleLayer", "HiddenLayer1", "HiddenLayer2", "HiddenLayer3", "OutputLayer")


# ----------------------------------------------------------------------------- raw TF


def _tf_dropout(tf: Any, keras: Any, u: _NetworkUtils, spec: ModelSpec) -> tuple[Any, dict]:
    """The dropout function of a raw-TF model, and what its training step must feed."""
    if spec.switch == "placeholder":  # the user's: keep-prob placeholder_with_default(1.0)

        def drop(x: Any, name: str) -> Any:
            return tf.compat.v1.nn.dropout(x, keep_prob=u.dropout_ph, name=name)

        return drop, {u.dropout_ph: spec.keep_prob}
    learning_phase = keras.backend.learning_phase()  # Keras' placeholder_with_default(False)

    def drop_lp(x: Any, name: str) -> Any:
        return tf.compat.v1.cond(
            learning_phase,
            lambda: tf.nn.dropout(x, rate=spec.drop_rate),
            lambda: tf.identity(x),
            name=name,
        )

    return drop_lp, {learning_phase: True}


def _tf_loss(tf: Any, u: _NetworkUtils, spec: ModelSpec, labels: Any, logits: Any) -> Any:
    loss = u.loss(labels, logits)
    if not spec.sample_weight:
        return loss
    # exactly what tf_keras' compile does to a function loss when no sample weights are passed
    from tf_keras.src.utils import losses_utils

    weighted = losses_utils.compute_weighted_loss(
        loss, sample_weight=None, reduction=losses_utils.ReductionV2.NONE
    )
    return losses_utils.reduce_weighted_loss(
        weighted, reduction=losses_utils.ReductionV2.SUM_OVER_BATCH_SIZE
    )


def train_tensorflow(
    data: Mnist,
    cfg: TrainConfig,
    logdir: Path,
    hooks: Hooks | None = None,
    spec: ModelSpec | None = None,
) -> ModelResult:
    """The user's ``tensorflow_train`` with per-epoch scalars, hparams and the graph logged."""
    spec = spec or seed_spec("tensorflow", cfg)
    tf, keras, hooks, train, graph = _prepare(data, cfg, hooks)
    in_shape, out_shape = train.images.shape[1], train.labels.shape[1]
    with graph.as_default():
        tf.compat.v1.set_random_seed(cfg.seed)
        u = _NetworkUtils(tf, keras, cfg, in_shape, out_shape)
        drop, train_feed = _tf_dropout(tf, keras, u, spec)

        def make_layer(a: Any, w_shape: list[int], b_shape: list[int], act: Any = None) -> Any:
            op = tf.add(tf.matmul(a, u.weight_variable(w_shape)), u.bias_variable(b_shape))
            return op if not act else act(op)

        n = cfg.n_neurons
        x = u.input_placeholder
        widths = [(in_shape, n), (n, n), (n, n), (n, n)]
        for i, (scope, (fan_in, fan_out)) in enumerate(zip(LAYERS[:4], widths, strict=True)):
            with tf.compat.v1.variable_scope(scope):
                x = make_layer(x, [fan_in, fan_out], [fan_out], u.activation)
            x = drop(x, f"Dropout{i + 1}")
        with tf.compat.v1.variable_scope("OutputLayer"):
            output_layer = make_layer(x, [n, out_shape], [out_shape])
        with tf.compat.v1.variable_scope("Loss"):
            tf_loss = _tf_loss(tf, u, spec, u.output_placeholder, output_layer)
        with tf.compat.v1.variable_scope("Optimizer"):
            tf_optimizer = u.optimizer.minimize(tf_loss)
        with tf.compat.v1.variable_scope("Accuracy"):
            tf_accuracy = u.accuracy(output_layer, u.output_placeholder)

        hparams = _common_hparams(cfg, spec, train.num_examples)
        if spec.switch == "placeholder":
            hparams.update(
                {"keep_prob": spec.keep_prob, f"feed/{u.dropout_ph.op.name}": spec.keep_prob}
            )
        else:
            hparams["dropout_rate"] = spec.drop_rate
        result = ModelResult("tensorflow", str(logdir), hparams)
        step = _TfStep(tf_optimizer, tf_loss, tf_accuracy, train_feed, spec.train_metrics)
        with _session(tf, graph, cfg) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            # The graph is complete here (optimizer slots and update ops exist): write it once.
            writer = tf.compat.v1.summary.FileWriter(str(logdir), graph=sess.graph)
            writer.add_summary(_hparams_event_bytes(hparams), 0)
            _tf_epochs(tf, sess, writer, u, step, data, train, cfg, result, hooks)
            writer.close()
    hooks.end("tensorflow")
    return result


@dataclass
class _TfStep:
    optimizer: Any
    loss: Any
    accuracy: Any
    feed: dict  # what the training step feeds besides the batch (dropout on)
    train_metrics: str

    def run(self, sess: Any, batch: dict) -> tuple[float, float]:
        """One update; the batch's loss and accuracy as the spec computes them."""
        if self.train_metrics == "in_step":  # as Keras: fetched with the update, dropout on
            _, lo, ac = sess.run([self.optimizer, self.loss, self.accuracy], {**batch, **self.feed})
            return float(lo), float(ac)
        sess.run(self.optimizer, {**batch, **self.feed})
        # as the original: a second run without dropout for the training metrics
        lo, ac = sess.run([self.loss, self.accuracy], batch)
        return float(lo), float(ac)


def _tf_epochs(
    tf: Any,
    sess: Any,
    writer: Any,
    u: _NetworkUtils,
    step: _TfStep,
    data: Mnist,
    train: Any,
    cfg: TrainConfig,
    result: ModelResult,
    hooks: Hooks,
) -> None:
    n_batches = train.num_examples // cfg.batch_size
    batcher = Batcher(train, seed=cfg.seed)
    inp, out = u.input_placeholder, u.output_placeholder
    test_feed = {inp: data.test.images, out: data.test.labels}
    hooks.start("tensorflow", cfg.epochs, n_batches)
    t_all = time.perf_counter()
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        sum_loss, sum_acc = 0.0, 0.0
        for _ in range(n_batches):
            xb, yb = batcher.next_batch(cfg.batch_size)
            lo, ac = step.run(sess, {inp: xb, out: yb})
            sum_loss += lo
            sum_acc += ac
            hooks.batch()
        test_loss, test_acc = sess.run([step.loss, step.accuracy], test_feed)
        rec = EpochRecord(
            epoch,
            sum_loss / n_batches,
            sum_acc / n_batches,
            float(test_loss),
            float(test_acc),
            time.perf_counter() - t0,
        )
        writer.add_summary(
            _scalars_summary(
                tf,
                {
                    "train/loss": rec.train_loss,
                    "train/accuracy": rec.train_accuracy,
                    "test/loss": rec.test_loss,
                    "test/accuracy": rec.test_accuracy,
                },
            ),
            epoch,
        )
        writer.flush()
        result.epochs.append(rec)
        hooks.epoch("tensorflow", rec)
    result.seconds = time.perf_counter() - t_all


# ----------------------------------------------------------------------------- Keras


class _UnweightedLoss:
    """A loss object without ``__name__`` or ``reduction``: tf_keras' compile then calls it
    as-is (its "custom callable class" path) instead of multiplying it by sample weights."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return self.fn(y_true, y_pred)


class _Feeds(dict):
    """Values tf_keras feeds on every call of its train/test/predict functions (compile's
    ``feed_dict``: the same dict object, so changing a value takes effect on the next call).
    `evaluating()` switches the keep-prob placeholder back to 1.0 for the evaluation passes."""

    def __init__(self, ph: Any = None, keep: float = 1.0) -> None:
        super().__init__({ph: keep} if ph is not None else {})
        self.ph, self.keep = ph, keep

    def __enter__(self) -> _Feeds:
        if self.ph is not None:
            self[self.ph] = 1.0
        return self

    def __exit__(self, *exc: object) -> None:
        if self.ph is not None:
            self[self.ph] = self.keep


def _keras_model(
    tf: Any, keras: Any, u: _NetworkUtils, spec: ModelSpec, n: int, shapes: tuple
) -> tuple[Any, _Feeds]:
    """The user's functional MLP; dropout as the spec says (Keras layers or keep-prob feed)."""
    in_shape, out_shape = shapes

    def make_layer(name: str, units: int, input_shape: tuple[int], activation: Any) -> Any:
        return keras.layers.Dense(
            units=units,
            input_shape=input_shape,
            kernel_initializer=u.weight_initializer,
            bias_initializer=u.bias_initializer,
            activation=activation,
            name=name,
        )

    if spec.switch == "learning_phase":
        feeds = _Feeds()

        def dropout() -> Any:
            return keras.layers.Dropout(spec.drop_rate)

    else:  # raw TF's mechanism inside Keras: tf.nn.dropout on a fed keep-prob placeholder
        feeds = _Feeds(u.dropout_ph, spec.keep_prob)

        def dropout() -> Any:
            return keras.layers.Lambda(lambda t: tf.compat.v1.nn.dropout(t, keep_prob=u.dropout_ph))

    x = make_layer("VisibleLayer", n, (in_shape,), u.activation)(u.input_placeholder)
    for name in LAYERS[1:4]:
        x = dropout()(x)
        x = make_layer(name, n, (n,), u.activation)(x)
    x = dropout()(x)
    output_layer = make_layer("OutputLayer", out_shape, (n,), "linear")(x)
    return keras.Model(u.input_placeholder, output_layer), feeds


def train_keras(
    data: Mnist,
    cfg: TrainConfig,
    logdir: Path,
    hooks: Hooks | None = None,
    spec: ModelSpec | None = None,
) -> ModelResult:
    """The user's ``keras_train``: functional MLP, fit on a generator, TensorBoard callback."""
    spec = spec or seed_spec("keras", cfg)
    tf, keras, hooks, train, graph = _prepare(data, cfg, hooks)
    n_batches = train.num_examples // cfg.batch_size
    shapes = (train.images.shape[1], train.labels.shape[1])
    hparams = _common_hparams(cfg, spec, train.num_examples)
    hparams.update({"dropout_rate": spec.drop_rate})
    result = ModelResult("keras", str(logdir), hparams)
    with graph.as_default():
        sess = _session(tf, graph, cfg)
        tf.compat.v1.keras.backend.set_session(sess)
        tf.compat.v1.set_random_seed(cfg.seed)
        u = _NetworkUtils(tf, keras, cfg, *shapes)
        model, feeds = _keras_model(tf, keras, u, spec, cfg.n_neurons, shapes)
        if feeds:
            hparams.pop("dropout_rate")
            hparams.update(
                {"keep_prob": spec.keep_prob, f"feed/{u.dropout_ph.op.name}": spec.keep_prob}
            )
        # No sample weights, as the user: TF 2.x tf_keras then creates no
        # OutputLayer_sample_weights placeholder (TF 1.x always did) but multiplies the loss
        # by a constant 1 - unless the loss is an object Keras calls as-is.
        model.compile(
            loss=u.loss if spec.sample_weight else _UnweightedLoss(u.loss),
            optimizer=u.optimizer,
            metrics=[u.accuracy] if spec.train_metrics == "in_step" else [],
            target_tensors=[u.output_placeholder],
            **({"feed_dict": feeds} if feeds else {}),
        )
        # In graph mode keras.callbacks.TensorBoard resolves to callbacks_v1.TensorBoard. With
        # write_graph=True it would write the graph in set_model, *before* tf_keras 2.21 builds
        # the training function (no gradients, no Adam update ops). So the graph is written
        # once, complete, by our callback at the end of training, into the same writer.
        tensorboard_callback = keras.callbacks.TensorBoard(
            log_dir=str(logdir), write_graph=False, histogram_freq=0, profile_batch=0
        )
        batcher = Batcher(train, seed=cfg.seed)
        last: list[Any] = [None]

        def batch_generator() -> Any:
            while True:
                last[0] = batcher.next_batch(cfg.batch_size)
                yield last[0]

        ctx = _KerasContext(
            model, data, cfg, spec, hparams, tensorboard_callback, result, hooks, graph, feeds, last
        )
        cbs = [_keras_callbacks(keras, ctx), tensorboard_callback]
        hooks.start("keras", cfg.epochs, n_batches)
        t_all = time.perf_counter()
        model.fit(
            batch_generator(),
            epochs=cfg.epochs,
            steps_per_epoch=n_batches,
            callbacks=cbs,
            verbose=0,
            workers=0,
        )
        result.seconds = time.perf_counter() - t_all
        sess.close()
    keras.backend.clear_session()
    hooks.end("keras")
    return result


@dataclass
class _KerasContext:
    model: Any
    data: Mnist
    cfg: TrainConfig
    spec: ModelSpec
    hparams: dict[str, Any]
    tb: Any
    result: ModelResult
    hooks: Hooks
    graph: Any
    feeds: _Feeds
    last: list[Any]  # the batch the generator handed out last


def _keras_callbacks(keras: Any, c: _KerasContext) -> Any:
    """One small callback: test metrics into the epoch logs (so the TensorBoard callback
    writes them as ``epoch_test_accuracy``/``epoch_test_loss``), hparams, timing, progress;
    with ``train_metrics="separate"`` also raw TF's train metrics (a pass without dropout
    over each batch after its update).

    It must run before the TensorBoard callback in the list, so its additions to ``logs``
    are seen when that callback writes the epoch's scalars.
    """
    separate = c.spec.train_metrics == "separate"

    class _TestAndProgress(keras.callbacks.Callback):
        t0 = 0.0
        sums = [0.0, 0.0, 0]

        def on_train_begin(self, logs: dict | None = None) -> None:
            self._hparams_written = False

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.t0 = time.perf_counter()
            self.sums = [0.0, 0.0, 0]

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if not self._hparams_written and getattr(c.tb, "writer", None) is not None:
                c.tb.writer.add_summary(_hparams_event_bytes(c.hparams), 0)
                self._hparams_written = True
            if separate:
                xb, yb = c.last[0]
                with c.feeds:
                    lo, ac = _numpy_eval(c.model.predict_on_batch(xb), yb)
                self.sums = [self.sums[0] + lo, self.sums[1] + ac, self.sums[2] + 1]
            c.hooks.batch()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs if logs is not None else {}
            with c.feeds:
                logits = c.model.predict(c.data.test.images, batch_size=1000, verbose=0)
            test_loss, test_acc = _numpy_eval(logits, c.data.test.labels)
            logs["test_loss"] = test_loss
            logs["test_accuracy"] = test_acc
            if separate and self.sums[2]:
                logs["loss"] = self.sums[0] / self.sums[2]
                logs["accuracy"] = self.sums[1] / self.sums[2]
            rec = EpochRecord(
                epoch,
                float(logs.get("loss", float("nan"))),
                float(logs.get("accuracy", float("nan"))),
                test_loss,
                test_acc,
                time.perf_counter() - self.t0,
            )
            c.result.epochs.append(rec)
            c.hooks.epoch("keras", rec)

        def on_train_end(self, logs: dict | None = None) -> None:
            # runs before the TensorBoard callback's on_train_end closes its writer
            if getattr(c.tb, "writer", None) is not None:
                c.tb.writer.add_graph(c.graph)
                c.tb.writer.flush()

    return _TestAndProgress()


TRAINERS: dict[str, Callable[..., ModelResult]] = {
    "tensorflow": train_tensorflow,
    "keras": train_keras,
}
