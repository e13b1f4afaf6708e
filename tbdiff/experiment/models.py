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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tbdiff.experiment.mnist import Batcher, Mnist

_TF: Any = None
_KERAS: Any = None


def tf_modules() -> tuple[Any, Any]:
    """Import TensorFlow + tf_keras once, in TF1 graph mode (``TF_USE_LEGACY_KERAS=1``)."""
    global _TF, _KERAS
    if _TF is None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
        import warnings

        import tensorflow as tf
        import tf_keras

        # tf_keras' own deprecation chatter about its v1 training loop is not for our users
        warnings.filterwarnings("ignore", message=".*state_updates.*", category=UserWarning)

        tf.compat.v1.disable_eager_execution()
        tf.get_logger().setLevel("ERROR")
        _TF, _KERAS = tf, tf_keras
    return _TF, _KERAS


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
    keras.backend.clear_session()
    return tf, keras, hooks or Hooks(), _train_set(data, cfg), tf.Graph()


def _common_hparams(cfg: TrainConfig, framework: str, n_train: int) -> dict[str, Any]:
    return {
        "framework": framework,
        "learning_rate": cfg.learning_rate,
        "batch_size": cfg.batch_size,
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "optimizer": "tf.compat.v1.train.AdamOptimizer",
        "n_neurons": cfg.n_neurons,
        "limit_train": cfg.limit_train or 0,
        "n_train": n_train,
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


def train_tensorflow(
    data: Mnist, cfg: TrainConfig, logdir: Path, hooks: Hooks | None = None
) -> ModelResult:
    """The user's ``tensorflow_train`` with per-epoch scalars, hparams and the graph logged."""
    tf, keras, hooks, train, graph = _prepare(data, cfg, hooks)
    n_batches = train.num_examples // cfg.batch_size
    in_shape, out_shape = train.images.shape[1], train.labels.shape[1]
    with graph.as_default():
        tf.compat.v1.set_random_seed(cfg.seed)
        u = _NetworkUtils(tf, keras, cfg, in_shape, out_shape)

        def make_layer(a: Any, w_shape: list[int], b_shape: list[int], act: Any = None) -> Any:
            op = tf.add(tf.matmul(a, u.weight_variable(w_shape)), u.bias_variable(b_shape))
            return op if not act else act(op)

        n = cfg.n_neurons
        x = u.input_placeholder
        widths = [(in_shape, n), (n, n), (n, n), (n, n)]
        for i, (scope, (fan_in, fan_out)) in enumerate(zip(LAYERS[:4], widths, strict=True)):
            with tf.compat.v1.variable_scope(scope):
                x = make_layer(x, [fan_in, fan_out], [fan_out], u.activation)
            x = tf.compat.v1.nn.dropout(x, keep_prob=u.dropout_ph, name=f"Dropout{i + 1}")
        with tf.compat.v1.variable_scope("OutputLayer"):
            output_layer = make_layer(x, [n, out_shape], [out_shape])
        with tf.compat.v1.variable_scope("Loss"):
            tf_loss = u.loss(u.output_placeholder, output_layer)
        with tf.compat.v1.variable_scope("Optimizer"):
            tf_optimizer = u.optimizer.minimize(tf_loss)
        with tf.compat.v1.variable_scope("Accuracy"):
            tf_accuracy = u.accuracy(output_layer, u.output_placeholder)

        hparams = _common_hparams(cfg, "tensorflow", train.num_examples)
        hparams.update({"keep_prob": cfg.keep_prob, f"feed/{u.dropout_ph.op.name}": cfg.keep_prob})
        result = ModelResult("tensorflow", str(logdir), hparams)
        batcher = Batcher(train, seed=cfg.seed)
        inp, out = u.input_placeholder, u.output_placeholder
        test_feed = {inp: data.test.images, out: data.test.labels}
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            # The graph is complete here (optimizer slots and update ops exist): write it once.
            writer = tf.compat.v1.summary.FileWriter(str(logdir), graph=sess.graph)
            writer.add_summary(_hparams_event_bytes(hparams), 0)
            hooks.start("tensorflow", cfg.epochs, n_batches)
            t_all = time.perf_counter()
            for epoch in range(cfg.epochs):
                t0 = time.perf_counter()
                sum_loss, sum_acc = 0.0, 0.0
                for _ in range(n_batches):
                    xb, yb = batcher.next_batch(cfg.batch_size)
                    sess.run(tf_optimizer, {inp: xb, out: yb, u.dropout_ph: cfg.keep_prob})
                    # as the original: a second run without dropout for the training metrics
                    lo, ac = sess.run([tf_loss, tf_accuracy], {inp: xb, out: yb})
                    sum_loss += float(lo)
                    sum_acc += float(ac)
                    hooks.batch()
                test_loss, test_acc = sess.run([tf_loss, tf_accuracy], test_feed)
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
            writer.close()
    hooks.end("tensorflow")
    return result


# ----------------------------------------------------------------------------- Keras


def train_keras(
    data: Mnist, cfg: TrainConfig, logdir: Path, hooks: Hooks | None = None
) -> ModelResult:
    """The user's ``keras_train``: functional MLP, fit on a generator, TensorBoard callback."""
    tf, keras, hooks, train, graph = _prepare(data, cfg, hooks)
    n_batches = train.num_examples // cfg.batch_size
    in_shape, out_shape = train.images.shape[1], train.labels.shape[1]
    hparams = _common_hparams(cfg, "keras", train.num_examples)
    hparams.update({"dropout_rate": cfg.keras_dropout_rate})
    result = ModelResult("keras", str(logdir), hparams)
    with graph.as_default():
        sess = tf.compat.v1.Session(graph=graph)
        tf.compat.v1.keras.backend.set_session(sess)
        tf.compat.v1.set_random_seed(cfg.seed)
        u = _NetworkUtils(tf, keras, cfg, in_shape, out_shape)

        def make_layer(name: str, units: int, input_shape: tuple[int], activation: Any) -> Any:
            return keras.layers.Dense(
                units=units,
                input_shape=input_shape,
                kernel_initializer=u.weight_initializer,
                bias_initializer=u.bias_initializer,
                activation=activation,
                name=name,
            )

        n, rate = cfg.n_neurons, cfg.keras_dropout_rate
        x = make_layer("VisibleLayer", n, (in_shape,), u.activation)(u.input_placeholder)
        for name in LAYERS[1:4]:
            x = keras.layers.Dropout(rate)(x)
            x = make_layer(name, n, (n,), u.activation)(x)
        x = keras.layers.Dropout(rate)(x)
        output_layer = make_layer("OutputLayer", out_shape, (n,), "linear")(x)
        model = keras.Model(u.input_placeholder, output_layer)
        model.compile(
            loss=u.loss,
            optimizer=u.optimizer,
            metrics=[u.accuracy],
            target_tensors=[u.output_placeholder],
        )
        # In graph mode keras.callbacks.TensorBoard resolves to callbacks_v1.TensorBoard. With
        # write_graph=True it would write the graph in set_model, *before* tf_keras 2.21 builds
        # the training function (no gradients, no Adam update ops). So the graph is written
        # once, complete, by our callback at the end of training, into the same writer.
        tensorboard_callback = keras.callbacks.TensorBoard(
            log_dir=str(logdir), write_graph=False, histogram_freq=0, profile_batch=0
        )
        batcher = Batcher(train, seed=cfg.seed)

        # No sample weights, as the user: TF 2.x tf_keras then creates no
        # OutputLayer_sample_weights placeholder (TF 1.x always did). Feeding ones is not an
        # option: the custom loss returns a scalar, which tf_keras cannot weight per sample.
        def batch_generator() -> Any:
            while True:
                yield batcher.next_batch(cfg.batch_size)

        cbs = [
            _keras_callbacks(
                keras, model, data, cfg, hparams, tensorboard_callback, result, hooks, graph
            ),
            tensorboard_callback,
        ]
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


def _keras_callbacks(
    keras: Any,
    model: Any,
    data: Mnist,
    cfg: TrainConfig,
    hparams: dict[str, Any],
    tb: Any,
    result: ModelResult,
    hooks: Hooks,
    graph: Any,
) -> Any:
    """One small callback: test metrics into the epoch logs (so the TensorBoard callback
    writes them as ``epoch_test_accuracy``/``epoch_test_loss``), hparams, timing, progress.

    It must run before the TensorBoard callback in the list, so its additions to ``logs``
    are seen when that callback writes the epoch's scalars.
    """

    class _TestAndProgress(keras.callbacks.Callback):
        t0 = 0.0

        def on_train_begin(self, logs: dict | None = None) -> None:
            self._hparams_written = False

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if not self._hparams_written and getattr(tb, "writer", None) is not None:
                tb.writer.add_summary(_hparams_event_bytes(hparams), 0)
                self._hparams_written = True
            hooks.batch()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs if logs is not None else {}
            logits = model.predict(data.test.images, batch_size=1000, verbose=0)
            test_loss, test_acc = _numpy_eval(logits, data.test.labels)
            logs["test_loss"] = test_loss
            logs["test_accuracy"] = test_acc
            rec = EpochRecord(
                epoch,
                float(logs.get("loss", float("nan"))),
                float(logs.get("accuracy", float("nan"))),
                test_loss,
                test_acc,
                time.perf_counter() - self.t0,
            )
            result.epochs.append(rec)
            hooks.epoch("keras", rec)

        def on_train_end(self, logs: dict | None = None) -> None:
            # runs before the TensorBoard callback's on_train_end closes its writer
            if getattr(tb, "writer", None) is not None:
                tb.writer.add_graph(graph)
                tb.writer.flush()

    return _TestAndProgress()


TRAINERS: dict[str, Callable[..., ModelResult]] = {
    "tensorflow": train_tensorflow,
    "keras": train_keras,
}
