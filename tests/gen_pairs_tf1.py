"""TF1 graph-mode runs for the model-semantics acceptance pairs (tests/pairs_manifest.py).

Run as `TF_USE_LEGACY_KERAS=1 python tests/gen_pairs_tf1.py OUTDIR` in ONE subprocess per pytest
session (tests/helpers.py `generated`): tf.compat.v1 graph mode (`disable_eager_execution`) and
tf_keras, like the seed case's two programs.

Every run is a log directory OUTDIR/<run> written by the real TF1 writers:
- graph runs: the model is built in its own tf.Graph (reusing the builders of
  gen_pairs_semantics.py and gen_pairs_training.py where they fit, new ones here for batch
  normalisation, sigmoid losses, a missing optimizer and stale layers) and its GraphDef is written
  by `tf.compat.v1.summary.FileWriter(logdir, graph=g)`, with the hparams plugin's
  session_start_info when the run records hparams.
- fit runs ("fit_"): tf_keras fit() in graph mode with its TensorBoard callback (epoch scalars)
  and the complete graph (train function included) added to the callback's writer at the end
  of training, as tbdiff.experiment does for the seed case.
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

tf.compat.v1.disable_eager_execution()
import gen_pairs_semantics as sem  # noqa: E402
import gen_pairs_training as trn  # noqa: E402
import tf_keras  # noqa: E402
from tensorboard.plugins.hparams import summary_v2 as hp_summary  # noqa: E402

v1 = tf.compat.v1
IN, OUT = 784, 10


# ------------------------------------------------------------------------------------------
# new graph builders (raw TF1 and tf_keras graph mode)
# ------------------------------------------------------------------------------------------


def raw_small(
    *,
    opt: str | None = "adam",
    bn: tuple[float, float] | None = None,
    loss: str = "softmax",
    keep_prob: float | None = None,
    names: tuple[str, ...] = ("hidden1", "hidden2", "logits"),
) -> tf.Graph:
    """784-64-64-10 with tf.compat.v1.layers; one concept per argument.

    bn: (momentum, epsilon) of tf.compat.v1.layers.batch_normalization after each hidden dense;
    loss: "softmax" or "sigmoid" (both reduce_mean(*_cross_entropy_with_logits));
    keep_prob: a constant tf.compat.v1.nn.dropout after each hidden layer;
    opt: "adam" or None (the gradients are computed and never applied)."""
    g = tf.Graph()
    with g.as_default():
        v1.set_random_seed(1)
        x = v1.placeholder(tf.float32, [None, IN], name="input")
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        training = v1.placeholder_with_default(False, (), name="is_training") if bn else None
        h = x
        for name in names[:-1]:
            with v1.variable_scope(name):
                h = v1.layers.dense(h, 64, activation=None if bn else tf.nn.relu)
                if bn:
                    h = v1.layers.batch_normalization(
                        h, momentum=bn[0], epsilon=bn[1], training=training
                    )
                    h = tf.nn.relu(h)
            if keep_prob is not None:
                h = v1.nn.dropout(h, keep_prob=keep_prob)
        with v1.variable_scope(names[-1]):
            logits = v1.layers.dense(h, OUT)
        with v1.variable_scope("Loss"):
            xent = {
                "softmax": tf.nn.softmax_cross_entropy_with_logits,
                "sigmoid": tf.nn.sigmoid_cross_entropy_with_logits,
            }[loss]
            total = tf.reduce_mean(xent(labels=y, logits=logits))
        with v1.variable_scope("Optimizer"):
            if opt == "adam":
                with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):
                    v1.train.AdamOptimizer(learning_rate=0.001).minimize(total)
            else:  # the bug: gradients computed, never applied
                v1.gradients(total, v1.trainable_variables())
        with v1.variable_scope("Accuracy"):
            correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
            tf.reduce_mean(tf.cast(correct, tf.float32))
    return g


def _keras_mlp(units: int, bn_eps: float | None = None, n_in: int = IN):
    inp = tf_keras.layers.Input(shape=(n_in,))
    h = tf_keras.layers.Dense(units, activation="relu")(inp)
    if bn_eps is not None:
        h = tf_keras.layers.BatchNormalization(epsilon=bn_eps)(h)
    h = tf_keras.layers.Dense(units, activation="relu")(h)
    return tf_keras.Model(inp, tf_keras.layers.Dense(OUT)(h))


def keras_small(
    *,
    units: int = 64,
    bn_eps: float | None = None,
    sample_weights: bool = False,
    stale_units: int | None = None,
) -> tf.Graph:
    """tf_keras graph mode: 784-units-units-10, CategoricalCrossentropy(from_logits=True),
    tf.compat.v1.train.AdamOptimizer, the train function built as fit() builds it.
    stale_units: an earlier model (built and compiled, never trained) left in the same graph,
    as in a search loop without clear_session()."""
    g = tf.Graph()
    with g.as_default():
        v1.set_random_seed(1)
        if stale_units is not None:
            earlier = _keras_mlp(stale_units)
            earlier.compile(
                loss=tf_keras.losses.CategoricalCrossentropy(from_logits=True),
                optimizer=v1.train.AdamOptimizer(learning_rate=0.001),
            )
        model = _keras_mlp(units, bn_eps)
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        model.compile(
            loss=tf_keras.losses.CategoricalCrossentropy(from_logits=True),
            optimizer=v1.train.AdamOptimizer(learning_rate=0.001),
            target_tensors=[y],
            sample_weight_mode="samplewise" if sample_weights else None,
        )
        model._make_train_function()  # what fit() builds first: gradients, Adam, updates
    return g


# ------------------------------------------------------------------------------------------
# writers
# ------------------------------------------------------------------------------------------


def _hparams_bytes(hparams: dict) -> bytes:
    return hp_summary.hparams_pb(hparams, start_time_secs=0.0).SerializeToString()


def write_graph(out: Path, g: tf.Graph, hparams: dict | None = None) -> dict:
    writer = v1.summary.FileWriter(str(out), graph=g)
    if hparams:
        writer.add_summary(_hparams_bytes(hparams), 0)
    writer.close()
    return {"nodes": len(g.as_graph_def().node)}


def _fit_data(n_in: int = 20, n: int = 512, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype("float32")
    y = np.eye(OUT, dtype="float32")[(x @ rng.normal(size=(n_in, OUT))).argmax(1)]
    return x, y


def fit_runs(out_root: Path, names_units: list[tuple[str, int]], *, metric, epochs: int) -> dict:
    """Models fit one after the other in ONE graph and session (no clear_session()), each with
    its own TensorBoard callback; each log gets the graph as it is at the end of its fit."""
    x, y = _fit_data()
    results = {}
    g = tf.Graph()
    with g.as_default(), v1.Session(graph=g) as sess:
        v1.keras.backend.set_session(sess)
        v1.set_random_seed(1)
        for name, units in names_units:
            model = _keras_mlp(units, n_in=x.shape[1])
            model.compile(
                loss=tf_keras.losses.CategoricalCrossentropy(from_logits=True),
                optimizer=v1.train.AdamOptimizer(learning_rate=0.01),
                metrics=[metric() if callable(metric) else metric],
            )
            tb = tf_keras.callbacks.TensorBoard(
                log_dir=str(out_root / name), write_graph=False, histogram_freq=0, profile_batch=0
            )
            hist = model.fit(
                x,
                y,
                batch_size=64,
                epochs=epochs,
                verbose=0,
                shuffle=False,
                callbacks=[_GraphAtEnd(tb, g), tb],
            )
            results[name] = {k: float(v[-1]) for k, v in hist.history.items()}
    return results


class _GraphAtEnd(tf_keras.callbacks.Callback):
    """Adds the complete graph to the TensorBoard callback's writer before it is closed."""

    def __init__(self, tb, graph: tf.Graph):
        super().__init__()
        self.tb, self.graph = tb, graph

    def on_train_end(self, logs=None):
        if getattr(self.tb, "writer", None) is not None:
            self.tb.writer.add_graph(self.graph)
            self.tb.writer.flush()


# ------------------------------------------------------------------------------------------
# runs
# ------------------------------------------------------------------------------------------

RENAMED = ("fc1", "fc2", "fc3", "fc4")


def graph_runs() -> dict[str, Callable[[], tf.Graph]]:
    return {
        # gen_pairs_semantics builders (784-256x4 MLPs, the seed case's shapes)
        "tf_keep_ph": lambda: sem.raw_tf("keep_ph")[0],
        "tf_keep_ph_renamed": lambda: sem.raw_tf("keep_ph", scopes=RENAMED, out_scope="logits")[0],
        "tf_rate05": lambda: sem.raw_tf("rate", 0.5)[0],
        "tf_rate03": lambda: sem.raw_tf("rate", 0.3)[0],
        "tf_keep_tensor07": lambda: sem.raw_tf("keep_tensor", 0.7)[0],
        "tf_keep_const07": lambda: sem.raw_tf("keep_const", 0.7)[0],
        "keras_d07": lambda: sem.keras_model(0.7)[0],
        "keras_d03": lambda: sem.keras_model(0.3)[0],
        "keras_d03_3drop": lambda: sem.keras_model(0.3, n_dropout=3)[0],
        "keras_d03_nometrics": lambda: sem.keras_model(0.3, metrics=False)[0],
        "keras_d03_renamed": lambda: sem.keras_model(0.3, names=RENAMED, out_name="logits")[0],
        # gen_pairs_training builders (784-64-64-10)
        "raw": trn.raw_mlp,
        "raw_sgd": lambda: trn.raw_mlp(opt="sgd"),
        "raw_lr01": lambda: trn.raw_mlp(lr=0.1),
        "raw_4hidden": lambda: trn.raw_mlp(hidden=(64,) * 4),
        "raw_3hidden": lambda: trn.raw_mlp(hidden=(64,) * 3),
        "raw_128": lambda: trn.raw_mlp(hidden=(128, 128)),
        "raw_tanh": lambda: trn.raw_mlp(act=tf.nn.tanh),
        "raw_zero_bias": lambda: trn.raw_mlp(bias="zeros"),
        "raw_mse": lambda: trn.raw_mlp(loss="mse"),
        "raw_l2": lambda: trn.raw_mlp(l2=0.01),
        "raw_renamed": lambda: trn.raw_mlp(names=("Dense0", "Dense{i}", "Logits")),
        "keras": trn.keras_mlp,
        "keras_adam": lambda: trn.keras_mlp(opt="keras_adam"),
        # new builders
        "tf_small": raw_small,
        "tf_small_noopt": lambda: raw_small(opt=None),
        "tf_bn": lambda: raw_small(bn=(0.99, 1e-3)),
        "tf_bn_m09": lambda: raw_small(bn=(0.9, 1e-3)),
        "tf_sigmoid_loss": lambda: raw_small(loss="sigmoid", keep_prob=0.8),
        "tf_softmax_loss": lambda: raw_small(loss="softmax", keep_prob=0.8),
        "tf_sigmoid_nodrop": lambda: raw_small(loss="sigmoid"),
        "keras_xent": keras_small,
        "keras_xent_sw": lambda: keras_small(sample_weights=True),
        "keras_bn": lambda: keras_small(bn_eps=1e-3),
        "keras_bn_eps1e5": lambda: keras_small(bn_eps=1e-5),
        "keras_stale_untrained": lambda: keras_small(units=16, stale_units=32),
        "keras_fresh": lambda: keras_small(units=16),
    }


# Runs that write another run's graph again: the same model logged twice (the "twin" side of
# an otherwise-equal pair; the same graph with different recorded hparams).
SAME_GRAPH = {"tf_keep_ph_twin": "tf_keep_ph", "tf_nobn": "tf_small"}
HPARAMS = {
    "keras_d03_hp_active": ("keras_d03", {"train_metrics": "dropout_active"}),
    "keras_d03_hp_off": ("keras_d03", {"train_metrics": "dropout_off"}),
}


def fit_groups(out: Path) -> dict[str, Callable[[], dict]]:
    """Group name -> writer of several fit runs (names in the group's result)."""
    acc = tf_keras.metrics.Accuracy
    return {
        "metrics_definition": lambda: {
            **fit_runs(out, [("fit_acc_string", 32)], metric="accuracy", epochs=10),
            **fit_runs(out, [("fit_acc_class", 32)], metric=acc, epochs=10),
        },
        "search": lambda: {
            **fit_runs(
                out, [("fit_search_1", 32), ("fit_search_2", 16)], metric="accuracy", epochs=2
            ),
            **fit_runs(out, [("fit_fresh", 16)], metric="accuracy", epochs=2),
        },
    }


def _timed(report: dict, name: str, write: Callable[[], dict]) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        final = write()
        report[name] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "cpu": round(time.process_time() - c0, 2),
            "final": final,
        }
    except Exception:
        report[name] = {"error": traceback.format_exc(limit=6)[-3000:]}


def main(outdir: str, only: list[str] | None = None) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict] = {}
    builders = graph_runs()
    graphs: dict[str, tf.Graph] = {}

    def graph(name: str) -> tf.Graph:
        if name not in graphs:
            graphs[name] = builders[name]()
        return graphs[name]

    jobs = {name: (name, None) for name in builders}
    jobs.update({name: (base, None) for name, base in SAME_GRAPH.items()})
    jobs.update(HPARAMS)
    for name, (base, hparams) in jobs.items():
        if not only or name in only:
            _timed(
                report, name, lambda b=base, h=hparams, n=name: write_graph(out / n, graph(b), h)
            )
    for group, write in fit_groups(out).items():
        if not only or group in only:
            _timed(report, group, write)
            ok = report[group]
            for run, final in (ok.get("final") or {}).items():
                report[run] = {"final": final, "group": group}
    (out / "runs.json").write_text(json.dumps(report, indent=1))
    (out / "DONE").write_text("ok\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or None)
