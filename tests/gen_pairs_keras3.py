"""Keras 3 (TensorFlow backend) runs for the model-semantics acceptance pairs (tests/pairs_manifest.py).

Run as `python tests/gen_pairs_keras3.py OUTDIR` WITHOUT TF_USE_LEGACY_KERAS (this is Keras 3,
`import keras`, not tf_keras). One subprocess per pytest session (tests/helpers.py `generated`).

Two kinds of runs, each a log directory OUTDIR/<run>:
- callback runs: a tiny model fit() briefly on random 3-class data with `keras.callbacks.
  TensorBoard(histogram_freq=0)`; it writes OUTDIR/<run>/train/ with the model config (summary
  tag "keras", plugin graph_keras_model, `compile_config` included: optimizer, loss, metrics) and
  the epoch scalars. Keras 3.15's callback writes no op graph (its train_function is a plain
  Python function), so these runs hold config + scalars only.
- traced runs ("t_" and "s_"): one `train_on_batch` (or a custom `tf.function` step) between
  `tf.summary.trace_on(graph=True)` and `tf.summary.trace_export`, so OUTDIR/<run>/ holds the
  graphs of that train step and nothing else: the model must be read from ops.
Writes OUTDIR/runs.json (run -> {"seconds", "final"} or {"error"}) and OUTDIR/DONE. A run that
fails is recorded with its error and the others still run, so the tests name what broke.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    raise SystemExit("gen_pairs_keras3.py writes Keras 3 logs: unset TF_USE_LEGACY_KERAS")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

N_IN, N_CLASSES, N = 8, 3, 256


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs, labels from a random linear teacher: learnable to ~0.9 in a few epochs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, N_IN)).astype("float32")
    teacher = rng.normal(size=(N_IN, N_CLASSES))
    y = np.eye(N_CLASSES, dtype="float32")[(x @ teacher).argmax(1)]
    return x, y


X, Y = data()


# ------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------


class KeepProbDropout(keras.layers.Layer):
    """A TF1 port: dropout written with keep_prob inside a Keras 3 model."""

    def __init__(self, keep_prob: float, **kw):
        super().__init__(**kw)
        self.keep_prob = keep_prob

    def call(self, x, training=None):
        if training:
            return tf.compat.v1.nn.dropout(x, keep_prob=self.keep_prob)
        return x


class EvalModeMetrics(keras.Model):
    """Training metrics measured on a second forward pass with dropout off."""

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, y, self(x, training=False), sample_weight)


class NoApply(keras.Model):
    """A custom train_step that computes the gradients and forgets to apply them."""

    def train_step(self, data):
        x, y = data[0], data[1]
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        tape.gradient(loss, self.trainable_variables)  # ... and no optimizer.apply()
        return self.compute_metrics(x, y, y_pred)


def mlp(
    *,
    units: int = 16,
    act: str = "relu",
    n_hidden: int = 1,
    rate: float = 0.2,
    drop_input: bool = False,
    mc: bool = False,
    bn: dict | None = None,
    init: str = "glorot_uniform",
    l2: float = 0.0,
    out_act: str = "softmax",
    names: tuple[str | None, str | None, str | None] = (None, None, None),
    aux: bool = False,
    keep_prob: float | None = None,
    cls: type = keras.Model,
) -> keras.Model:
    """8 -> Dense(units) x n_hidden [-> BN] -> dropout -> Dense(3); one concept per argument."""
    keras.utils.set_random_seed(0)  # same weights for the same architecture, whatever its names
    hidden_name, drop_name, out_name = names
    inp = keras.Input((N_IN,))
    h = keras.layers.Dropout(rate)(inp) if drop_input else inp
    for i in range(n_hidden):
        h = keras.layers.Dense(
            units,
            activation=act,
            kernel_initializer=init,
            kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
            name=hidden_name if i == 0 else None,
        )(h)
    if bn is not None:
        h = keras.layers.BatchNormalization(**bn)(h)
    if keep_prob is not None:
        h = KeepProbDropout(keep_prob, name=drop_name)(h)
    elif mc:
        h = keras.layers.Dropout(rate, name=drop_name)(h, training=True)
    else:
        h = keras.layers.Dropout(rate, name=drop_name)(h)
    out = keras.layers.Dense(N_CLASSES, activation=out_act, name=out_name or None)(h)
    if aux:
        a = keras.layers.Dense(4, activation="relu", name="aux_hidden")(h)
        outputs = {"out": out, "aux": keras.layers.Dense(1, name="aux")(a)}
        return cls(inp, outputs)
    return cls(inp, out)


def adam(lr: float = 1e-3, **kw):
    return keras.optimizers.Adam(learning_rate=lr, **kw)


def compiled(
    model, opt=None, loss="categorical_crossentropy", metrics=("accuracy",), *, eager=True
):
    """compile(); config-only runs fit eagerly (tracing a train function costs seconds and
    changes nothing in the log but compile_config's run_eagerly, equal on both sides of every
    pair); traced runs and the trained metric pair compile as usual."""
    if isinstance(model.output, dict):  # the aux head has no loss: only "out" is trained
        loss, metrics = {"out": loss}, {"out": list(metrics)}
    else:
        metrics = list(metrics)
    model.compile(optimizer=opt or adam(), loss=loss, metrics=metrics, run_eagerly=eager)
    return model


def graph_compiled(*args, **kw):
    return compiled(*args, eager=False, **kw)


def targets(model) -> object:
    if isinstance(model.output, dict):
        return {"out": Y, "aux": np.zeros((N, 1), "float32")}
    return Y


# ------------------------------------------------------------------------------------------
# writers
# ------------------------------------------------------------------------------------------


def callback_run(out: Path, model, *, epochs: int = 1, batch: int = N):
    """fit() with the TensorBoard callback (one step unless told)."""
    hist = model.fit(
        X,
        targets(model),
        batch_size=batch,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(out), histogram_freq=0)],
    )
    return {k: float(v[-1]) for k, v in hist.history.items()}


def trace_on() -> None:
    """tf.summary.trace_on(graph=True) that starts empty. TF 2.21 keeps collecting graphs after
    trace_export/trace_off, so a second trace in one process would also hold every graph run
    in between; an export without a default writer drops what was collected."""
    tf.summary.trace_on(graph=True, profiler=False)
    tf.summary.trace_export(name="discard", step=0)
    tf.summary.trace_on(graph=True, profiler=False)


def traced_run(out: Path, model, *, sample_weight=None):
    """The function graph (with its library) of one Keras 3 train step, via trace_export:
    the first `train_on_batch` (it builds the optimizer and metric variables before it traces
    the step function, so the trace holds the step, not their creation)."""
    y = targets(model)
    writer = tf.summary.create_file_writer(str(out))
    trace_on()
    try:
        logs = model.train_on_batch(X, y, sample_weight=sample_weight, return_dict=True)
    finally:
        with writer.as_default():
            tf.summary.trace_export(name="train_step", step=0)
        writer.close()
    return {k: float(v) for k, v in logs.items()}


def step_run(out: Path, *, rate_arg: bool):
    """Keras 3 layers in a custom tf.function step; dropout rate passed in or constant."""
    keras.utils.set_random_seed(0)
    d1 = keras.layers.Dense(16, activation="relu")
    d2 = keras.layers.Dense(N_CLASSES)
    d1.build((None, N_IN))
    d2.build((None, 16))
    opt = adam()
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    variables = [*d1.trainable_variables, *d2.trainable_variables]

    def forward(x, rate):
        return d2(tf.nn.dropout(d1(x), rate=rate))

    if rate_arg:

        @tf.function
        def step(x, y, rate):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, forward(x, rate))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return loss

        args = (tf.constant(X), tf.constant(Y), tf.constant(0.2))
    else:

        @tf.function
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, forward(x, 0.2))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return loss

        args = (tf.constant(X), tf.constant(Y))
    writer = tf.summary.create_file_writer(str(out))
    trace_on()
    try:
        loss = step(*args)
    finally:
        with writer.as_default():
            tf.summary.trace_export(name="train_step", step=0)
        writer.close()
    return {"loss": float(loss)}


# ------------------------------------------------------------------------------------------
# runs
# ------------------------------------------------------------------------------------------


def _cb(model_fn: Callable[[], keras.Model], **fit) -> Callable[[Path], dict]:
    return lambda out: callback_run(out, model_fn(), **fit)


def _tr(model_fn: Callable[[], keras.Model], **kw) -> Callable[[Path], dict]:
    return lambda out: traced_run(out, model_fn(), **kw)


def _cce(**kw):
    return keras.losses.CategoricalCrossentropy(**kw)


def runs() -> dict[str, Callable[[Path], dict]]:
    """Run name -> writer. Insertion order is build order: "base" first (auto names dense,
    dense_1 ...), "base_again" last (same model, auto names dense_N ...)."""
    bn = {"momentum": 0.99, "epsilon": 1e-3}
    sw = np.where(Y.argmax(1) == 0, 3.0, 1.0).astype("float32")  # class 0 weighted 3x
    r: dict[str, Callable[[Path], dict]] = {
        "base": _cb(lambda: compiled(mlp())),
        "drop05": _cb(lambda: compiled(mlp(rate=0.5))),
        "drop_input": _cb(lambda: compiled(mlp(drop_input=True))),
        "mc_dropout": _cb(lambda: compiled(mlp(mc=True))),
        "sgd": _cb(lambda: compiled(mlp(), keras.optimizers.SGD(learning_rate=1e-3))),
        "lr100": _cb(lambda: compiled(mlp(), adam(0.1))),
        "beta05": _cb(lambda: compiled(mlp(), adam(beta_1=0.5))),
        "eps1e3": _cb(lambda: compiled(mlp(), adam(epsilon=1e-3))),
        "loss_scale": _cb(lambda: compiled(mlp(), keras.optimizers.LossScaleOptimizer(adam()))),
        "smooth01": _cb(lambda: compiled(mlp(), loss=_cce(label_smoothing=0.1))),
        "logits_true": _cb(lambda: compiled(mlp(out_act="linear"), loss=_cce(from_logits=True))),
        "logits_false": _cb(lambda: compiled(mlp(out_act="linear"), loss=_cce(from_logits=False))),
        "mse": _cb(lambda: compiled(mlp(), loss="mean_squared_error")),
        "tanh": _cb(lambda: compiled(mlp(act="tanh"))),
        "deeper": _cb(lambda: compiled(mlp(n_hidden=2))),
        "wide": _cb(lambda: compiled(mlp(units=32))),
        "he_normal": _cb(lambda: compiled(mlp(init="he_normal"))),
        "l2": _cb(lambda: compiled(mlp(l2=1e-3))),
        "bn": _cb(lambda: compiled(mlp(bn=bn))),
        "bn_m09": _cb(lambda: compiled(mlp(bn={**bn, "momentum": 0.9}))),
        "bn_eps1e5": _cb(lambda: compiled(mlp(bn={**bn, "epsilon": 1e-5}))),
        "aux_head": _cb(lambda: compiled(mlp(aux=True))),
        "renamed": _cb(lambda: compiled(mlp(names=("fc1", "drop1", "logits")))),
        # the metric definition pair: trained long enough for the curves to separate
        "acc_string": _cb(
            lambda: compiled(mlp(), adam(0.02), metrics=("accuracy",), eager=False),
            epochs=5,
            batch=16,
        ),
        "acc_class": _cb(
            lambda: compiled(mlp(), adam(0.02), metrics=(keras.metrics.Accuracy(),), eager=False),
            epochs=5,
            batch=16,
        ),
        "full": _cb(
            lambda: compiled(
                mlp(init="he_normal", l2=1e-4, bn={"momentum": 0.9, "epsilon": 1e-3}, rate=0.25),
                adam(0.003),
                loss=_cce(label_smoothing=0.1),
            )
        ),
        # traced: function graphs only
        "t_base": _tr(lambda: graph_compiled(mlp())),
        "t_drop03": _tr(lambda: graph_compiled(mlp(rate=0.3))),
        "t_keepprob07": _tr(lambda: graph_compiled(mlp(keep_prob=0.7))),
        "t_sample_weight": _tr(lambda: graph_compiled(mlp()), sample_weight=sw),
        "t_nometrics": _tr(lambda: graph_compiled(mlp(), metrics=())),
        "t_eval_metrics": _tr(lambda: graph_compiled(mlp(cls=EvalModeMetrics))),
        "t_sgd": _tr(lambda: graph_compiled(mlp(), keras.optimizers.SGD(learning_rate=1e-3))),
        "t_no_apply": _tr(lambda: graph_compiled(mlp(cls=NoApply))),
        "t_aux_head": _tr(lambda: graph_compiled(mlp(aux=True))),
        "t_renamed": _tr(lambda: graph_compiled(mlp(names=("fc1", "drop1", "logits")))),
        "t_bn": _tr(lambda: graph_compiled(mlp(bn=bn))),
        "t_bn_m09": _tr(lambda: graph_compiled(mlp(bn={**bn, "momentum": 0.9}))),
        "t_full": _tr(
            lambda: graph_compiled(
                mlp(init="he_normal", l2=1e-4, bn={"momentum": 0.9, "epsilon": 1e-3}, rate=0.25),
                keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                loss=_cce(label_smoothing=0.1),
            )
        ),
        "s_rate_arg": lambda out: step_run(out, rate_arg=True),
        "s_rate_const": lambda out: step_run(out, rate_arg=False),
    }
    r["base_again"] = _cb(lambda: compiled(mlp()))
    return r


def main(outdir: str, only: list[str] | None = None) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict] = {}
    for name, write in runs().items():
        if only and name not in only:
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            final = write(out / name)
            report[name] = {
                "seconds": round(time.perf_counter() - t0, 2),
                "cpu": round(time.process_time() - c0, 2),
                "final": final,
            }
        except Exception:  # recorded; the pairs that need this run fail with this text
            report[name] = {"error": traceback.format_exc(limit=6)[-3000:]}
    (out / "runs.json").write_text(json.dumps(report, indent=1))
    (out / "DONE").write_text("ok\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or None)
