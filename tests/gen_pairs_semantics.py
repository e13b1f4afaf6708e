"""Build the graph pairs used by test_findings_semantics.py and save each GraphDef as .pb.

Run as `python tests/gen_pairs_semantics.py OUTDIR` (ONE subprocess per pytest session: TF
graph mode is process-global and importing TF costs seconds).  Every model is built in its
own tf.Graph with tf.compat.v1 graph mode and tf_keras (TF_USE_LEGACY_KERAS=1), exactly the
way the seed case's two programs build theirs, so the detectors see the ops TF really emits.
Writes OUTDIR/<name>.pb for each model and OUTDIR/manifest.json (name -> facts the tests need).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()
import tf_keras as keras  # noqa: E402

v1 = tf.compat.v1

N_IN, N_HIDDEN, N_OUT = 784, 256, 10
LAYERS = ("VisibleLayer", "HiddenLayer1", "HiddenLayer2", "HiddenLayer3")


# ------------------------------------------------------------------------------------------
# raw TF (the seed's tensorflow_train graph, parameterised)
# ------------------------------------------------------------------------------------------


def raw_tf(
    mode: str,
    value: float = 0.7,
    *,
    scopes: tuple[str, ...] = LAYERS,
    out_scope: str = "OutputLayer",
    n_dropout: int = 4,
    loss_fn: str = "softmax",
) -> tuple[tf.Graph, dict]:
    """loss_fn: softmax or sigmoid cross-entropy on the logits (reduce_mean of either).
    mode: keep_ph (placeholder_with_default(1.0) fed keep_prob), keep_plain_ph (plain
    placeholder keep_prob), keep_const (python float keep_prob), keep_tensor (tf.constant
    keep_prob), rate (TF2 rate=), none (no dropout)."""
    g = tf.Graph()
    info: dict = {}
    with g.as_default():
        v1.set_random_seed(1)
        x = v1.placeholder(tf.float32, [None, N_IN], name="input")
        y = v1.placeholder(tf.float32, [None, N_OUT], name="output")
        ph = None
        if mode == "keep_ph":
            ph = v1.placeholder_with_default(1.0, shape=())
        elif mode == "keep_plain_ph":
            ph = v1.placeholder(tf.float32, shape=(), name="keep_prob")
        elif mode == "keep_tensor":
            ph = tf.constant(value, name="keep_prob")
        if ph is not None:
            info["placeholder"] = ph.op.name

        def weight(shape):
            r = float(np.sqrt(6.0 / (shape[0] + shape[1])))
            return v1.get_variable(
                "weights", shape=shape, initializer=v1.random_uniform_initializer(-r, r)
            )

        def bias(shape):
            return tf.Variable(name="bias", initial_value=v1.random_normal(shape))

        def layer(a, wshape, act=True):
            op = tf.add(tf.matmul(a, weight(wshape)), bias([wshape[1]]))
            return tf.nn.relu(op) if act else op

        h = x
        n_in = N_IN
        for i, scope in enumerate(scopes):
            with v1.variable_scope(scope):
                h = layer(h, [n_in, N_HIDDEN])
            n_in = N_HIDDEN
            if i >= n_dropout:
                continue
            name = f"Dropout{i + 1}"
            if mode in ("keep_ph", "keep_plain_ph", "keep_tensor"):
                h = v1.nn.dropout(h, keep_prob=ph, name=name)
            elif mode == "keep_const":
                h = v1.nn.dropout(h, keep_prob=value, name=name)
            elif mode == "rate":
                h = tf.nn.dropout(h, rate=value, name=name)
        with v1.variable_scope(out_scope):
            logits = layer(h, [N_HIDDEN, N_OUT], act=False)
        with v1.variable_scope("Loss"):
            xent = (
                tf.nn.sigmoid_cross_entropy_with_logits
                if loss_fn == "sigmoid"
                else tf.nn.softmax_cross_entropy_with_logits
            )
            loss = tf.reduce_mean(xent(labels=y, logits=logits))
        with v1.variable_scope("Optimizer"):
            v1.train.AdamOptimizer(learning_rate=0.001, name="Trainer").minimize(loss)
        with v1.variable_scope("Accuracy"):
            correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
            tf.reduce_mean(tf.cast(correct, tf.float32))
    return g, info


# ------------------------------------------------------------------------------------------
# Keras (the seed's keras_train graph, parameterised)
# ------------------------------------------------------------------------------------------


def keras_model(
    rate: float = 0.7,
    *,
    n_dropout: int = 4,
    names: tuple[str, ...] = LAYERS,
    out_name: str = "OutputLayer",
    metrics: bool = True,
    sample_weights: bool = False,
    target_tensors: bool = True,
    earlier_model: bool = False,
) -> tuple[tf.Graph, dict]:
    """earlier_model: first build, compile and make the train function of another model (Dense
    32 -> Dense 10) in the same graph, as an hparams search without clear_session() does."""
    g = tf.Graph()
    with g.as_default():
        v1.set_random_seed(1)
        if earlier_model:
            x0 = keras.layers.Input(shape=(N_IN,))
            h0 = keras.layers.Dense(32, activation="relu")(x0)
            m0 = keras.Model(x0, keras.layers.Dense(N_OUT)(h0))
            m0.compile(loss="mse", optimizer=v1.train.AdamOptimizer(learning_rate=0.001))
            m0._make_train_function()
        inp = keras.layers.Input(shape=(N_IN,))
        out_ph = v1.placeholder(tf.float32, [None, N_OUT], name="output")
        h = inp
        for i, name in enumerate(names):
            h = keras.layers.Dense(
                N_HIDDEN,
                activation="relu",
                name=name,
                kernel_initializer="glorot_uniform",
                bias_initializer=keras.initializers.RandomNormal(stddev=1.0),
            )(h)
            if i < n_dropout:
                h = keras.layers.Dropout(rate)(h)
        out = keras.layers.Dense(
            N_OUT,
            name=out_name,
            bias_initializer=keras.initializers.RandomNormal(stddev=1.0),
        )(h)
        model = keras.Model(inp, out)

        def loss(y_true, y_pred):
            return tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
            )

        def accuracy(y_true, y_pred):
            correct = tf.equal(tf.argmax(y_true, 1), tf.argmax(y_pred, 1))
            return tf.reduce_mean(tf.cast(correct, tf.float32))

        kwargs: dict = {}
        if target_tensors:
            kwargs["target_tensors"] = [out_ph]
        if sample_weights:
            kwargs["sample_weight_mode"] = "samplewise"
        model.compile(
            loss=keras.losses.CategoricalCrossentropy(from_logits=True) if sample_weights else loss,
            optimizer=v1.train.AdamOptimizer(learning_rate=0.001, name="Trainer"),
            metrics=[accuracy] if metrics else [],
            **kwargs,
        )
        model._make_train_function()  # what fit() builds first: gradients, Adam, metric updates
    return g, {}


def build_all() -> dict[str, tuple[tf.Graph, dict]]:
    renamed = ("fc1", "fc2", "fc3", "fc4")
    return {
        # the seed pair
        "tf_keep_ph": raw_tf("keep_ph"),
        "keras_d07": keras_model(0.7),
        # equivalent dropout written differently
        "tf_keep_const07": raw_tf("keep_const", 0.7),
        "keras_d03": keras_model(0.3),
        # TF2 rate= vs TF1 keep_prob tensor with different effective rates
        "tf_rate05": raw_tf("rate", 0.5),
        "tf_keep_tensor07": raw_tf("keep_tensor", 0.7),
        # plain (must-feed) keep_prob placeholder
        "tf_keep_plain_ph": raw_tf("keep_plain_ph"),
        # 4 vs 3 dropout layers
        "keras_d03_3drop": keras_model(0.3, n_dropout=3),
        # no dropout at all
        "tf_nodrop": raw_tf("none"),
        # sample weights / metrics variants of keras_d03
        "keras_d03_sw": keras_model(0.3, sample_weights=True),
        "keras_d03_nometrics": keras_model(0.3, metrics=False),
        # identical models, renamed scopes
        "tf_keep_const07_renamed": raw_tf("keep_const", 0.7, scopes=renamed, out_scope="logits"),
        "keras_d03_renamed": keras_model(0.3, names=renamed, out_name="logits"),
        # issue 10 item 3: both feed keep_prob through the same placeholder_with_default
        "tf_keep_ph_twin": raw_tf("keep_ph"),
        "tf_keep_ph_renamed": raw_tf("keep_ph", scopes=renamed, out_scope="logits"),
        # sigmoid cross-entropy: its logistic_loss is no dropout site, its reduction is a mean
        "tf_keep_const07_sigmoid": raw_tf("keep_const", 0.7, loss_fn="sigmoid"),
        # a graph still holding an earlier model (no clear_session())
        "keras_d03_stale": keras_model(0.3, earlier_model=True),
    }


def main(outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, (g, info) in build_all().items():
        gd = g.as_graph_def()
        (out / f"{name}.pb").write_bytes(gd.SerializeToString())
        manifest[name] = {**info, "nodes": len(gd.node), "functions": len(gd.library.function)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
