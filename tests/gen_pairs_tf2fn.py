"""TF2 function-graph runs for the model-semantics acceptance pairs (tests/pairs_manifest.py).

Run as `TF_USE_LEGACY_KERAS=1 python tests/gen_pairs_tf2fn.py OUTDIR` (eager TF 2.21 with
tf_keras 2.21). One subprocess per pytest session (tests/helpers.py `generated`).

- "k2_" runs: a tf_keras model fit() for 2 steps with `tf_keras.callbacks.TensorBoard(
  write_steps_per_second=True)`. That flag makes the callback run its batch hooks, and its first
  batch hook writes the train function's concrete graph with `tf.summary.graph()` (what TF
  2.2-2.15's callback did by default; 2.21 only does it when batch hooks run). So
  OUTDIR/<run>/train/ holds the Keras model config, the train function graph and the epoch
  scalars, plus the learning rate in the hparams plugin (tf_keras optimizers keep it in a
  variable: the graph has no value for it).
- "fn_" runs: a custom `tf.function` training step (tf.Variable weights, tf.nn.dropout,
  GradientTape, a tf_keras legacy OptimizerV2 applying the gradients: ResourceApply* ops) traced
  with `tf.summary.trace_on/trace_export`, then a few steps with a `loss` scalar.
- "hp_" runs: an eager loop with no graph at all: `loss` scalars and the hparams plugin
  (`hp.hparams`), as an hparams search writes them.
Writes OUTDIR/runs.json and OUTDIR/DONE (a failing run is recorded, the others still run).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from tensorboard.plugins.hparams import api as hp  # noqa: E402

N_IN, N_CLASSES, N = 8, 3, 256


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, N_IN)).astype("float32")
    teacher = rng.normal(size=(N_IN, N_CLASSES))
    y = np.eye(N_CLASSES, dtype="float32")[(x @ teacher).argmax(1)]
    return x, y


X, Y = data()


def trace_on() -> None:
    """tf.summary.trace_on(graph=True) that starts empty. TF 2.21 keeps collecting graphs after
    trace_export/trace_off, so a second trace in one process would also hold every graph run
    in between; an export without a default writer drops what was collected."""
    tf.summary.trace_on(graph=True, profiler=False)
    tf.summary.trace_export(name="discard", step=0)
    tf.summary.trace_on(graph=True, profiler=False)


# ------------------------------------------------------------------------------------------
# tf_keras: callback logs with the train function graph
# ------------------------------------------------------------------------------------------


def k2_model(
    *,
    rate: float = 0.2,
    bn_momentum: float | None = None,
    names: tuple[str | None, str | None, str | None] = (None, None, None),
) -> tf_keras.Model:
    tf_keras.utils.set_random_seed(0)
    hidden, drop, out = names
    inp = tf_keras.Input((N_IN,))
    h = tf_keras.layers.Dense(16, activation="relu", name=hidden)(inp)
    if bn_momentum is not None:
        h = tf_keras.layers.BatchNormalization(momentum=bn_momentum)(h)
    h = tf_keras.layers.Dropout(rate, name=drop)(h)
    o = tf_keras.layers.Dense(N_CLASSES, activation="softmax", name=out)(h)
    return tf_keras.Model(inp, o)


def k2_run(out: Path, model: tf_keras.Model, opt: str = "adam", lr: float = 1e-3) -> dict:
    optimizer = {"adam": tf_keras.optimizers.Adam, "sgd": tf_keras.optimizers.SGD}[opt]
    model.compile(
        optimizer=optimizer(learning_rate=lr), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    tb = tf_keras.callbacks.TensorBoard(
        log_dir=str(out), histogram_freq=0, write_steps_per_second=True
    )
    hist = model.fit(X, Y, batch_size=128, epochs=1, verbose=0, shuffle=False, callbacks=[tb])
    writer = tf.summary.create_file_writer(str(out / "train"))
    with writer.as_default():
        hp.hparams({"learning_rate": lr})
    writer.close()
    return {k: float(v[-1]) for k, v in hist.history.items()}


# ------------------------------------------------------------------------------------------
# custom tf.function training step
# ------------------------------------------------------------------------------------------


def fn_run(
    out: Path,
    *,
    rate: float = 0.2,
    opt: str = "adam",
    loss: str = "xent",
    scopes: tuple[str, str] = ("hidden", "logits"),
    units: int = 16,
    act=tf.nn.relu,
    steps: int = 4,
) -> dict:
    tf.random.set_seed(0)
    init = tf.keras.initializers.GlorotUniform(seed=0)
    with tf.name_scope(scopes[0]):
        w1 = tf.Variable(init((N_IN, units)), name="kernel")
        b1 = tf.Variable(tf.zeros([units]), name="bias")
    with tf.name_scope(scopes[1]):
        w2 = tf.Variable(init((units, N_CLASSES)), name="kernel")
        b2 = tf.Variable(tf.zeros([N_CLASSES]), name="bias")
    variables = [w1, b1, w2, b2]
    optimizer = {
        "adam": tf_keras.optimizers.legacy.Adam,
        "sgd": tf_keras.optimizers.legacy.SGD,
    }[opt](learning_rate=1e-3)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            h = act(tf.matmul(x, w1) + b1)
            h = tf.nn.dropout(h, rate=rate)
            logits = tf.matmul(h, w2) + b2
            if loss == "xent":
                value = tf.reduce_mean(
                    tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)
                )
            else:
                value = tf.reduce_mean(tf.square(logits - y))
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables, strict=True))
        return value

    writer = tf.summary.create_file_writer(str(out))
    x, y = tf.constant(X), tf.constant(Y)
    trace_on()
    try:
        value = train_step(x, y)
    finally:
        with writer.as_default():
            tf.summary.trace_export(name="train_step", step=0)
    with writer.as_default():
        for step in range(steps):
            tf.summary.scalar("loss", value, step=step)
            value = train_step(x, y)
    writer.close()
    return {"loss": float(value)}


# ------------------------------------------------------------------------------------------
# hparams only
# ------------------------------------------------------------------------------------------


def hp_run(out: Path, opt: str, lr: float = 1e-3, steps: int = 5) -> dict:
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential(
        [tf_keras.Input((N_IN,)), tf_keras.layers.Dense(16, "relu"), tf_keras.layers.Dense(3)]
    )
    optimizer = {"adam": tf_keras.optimizers.Adam, "rmsprop": tf_keras.optimizers.RMSprop}[opt](
        learning_rate=lr
    )
    loss_fn = tf_keras.losses.CategoricalCrossentropy(from_logits=True)
    writer = tf.summary.create_file_writer(str(out))
    with writer.as_default():
        hp.hparams({"optimizer": opt, "learning_rate": lr, "units": 16})
        for step in range(steps):
            with tf.GradientTape() as tape:
                value = loss_fn(Y, model(X, training=True))
            grads = tape.gradient(value, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            tf.summary.scalar("loss", value, step=step)
    writer.close()
    return {"loss": float(value)}


def runs() -> dict[str, Callable[[Path], dict]]:
    return {
        "k2_base": lambda o: k2_run(o, k2_model()),
        "k2_sgd": lambda o: k2_run(o, k2_model(), opt="sgd"),
        "k2_drop05": lambda o: k2_run(o, k2_model(rate=0.5)),
        "k2_lr100": lambda o: k2_run(o, k2_model(), lr=0.1),
        "k2_renamed": lambda o: k2_run(o, k2_model(names=("fc1", "drop1", "probs"))),
        "k2_full": lambda o: k2_run(o, k2_model(rate=0.25, bn_momentum=0.9), lr=0.003),
        "fn_base": lambda o: fn_run(o),
        "fn_drop05": lambda o: fn_run(o, rate=0.5),
        "fn_sgd": lambda o: fn_run(o, opt="sgd"),
        "fn_mse": lambda o: fn_run(o, loss="mse"),
        "fn_renamed": lambda o: fn_run(o, scopes=("layer_a", "layer_b")),
        "fn_wide": lambda o: fn_run(o, units=32),
        "fn_tanh": lambda o: fn_run(o, act=tf.nn.tanh),
        "hp_adam": lambda o: hp_run(o, "adam"),
        "hp_rmsprop": lambda o: hp_run(o, "rmsprop"),
    }


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
        except Exception:
            report[name] = {"error": traceback.format_exc(limit=6)[-3000:]}
    (out / "runs.json").write_text(json.dumps(report, indent=1))
    (out / "DONE").write_text("ok\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or None)
