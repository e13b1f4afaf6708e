"""Build the graph pairs for the training-concept detector tests and save each GraphDef as .pb.

Run as `python tests/gen_pairs_training.py OUTDIR` in ONE subprocess per pytest session: TF graph
mode is process-global and importing TensorFlow costs seconds, so every model is built here in its
own tf.Graph() and the tests only read the .pb files (the analysis code never imports TensorFlow).

Each pair differs in exactly one training concept (optimizer, layers, activation, init, loss,
regularisation); the models are small MLPs (784-64-64-10) so building all of them stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

tf.compat.v1.disable_eager_execution()
v1 = tf.compat.v1

IN, OUT = 784, 10


def _seed_kernel_init(shape, dtype=None, partition_info=None):
    """The seed case's kernel initialiser: a get_variable with uniform ±sqrt(6/(in+out))."""
    r = float(np.sqrt(6.0 / (shape[0] + shape[1])))
    return v1.get_variable(
        "weights", shape=shape, dtype=dtype, initializer=v1.random_uniform_initializer(-r, r)
    )


def _keras_seed_kernel_init(shape, dtype=None, partition_info=None):
    """Keras layers open no variable scope, so give each get_variable a unique one."""
    with v1.variable_scope(None, default_name="kernel_init"):
        return _seed_kernel_init(shape, dtype)


def _seed_bias_init(shape, dtype=None, partition_info=None):
    """The seed case's bias initialiser: a tf.Variable from tf.random_normal (N(0, 1))."""
    return tf.Variable(name="bias", initial_value=v1.random_normal(shape))


def _v1_optimizer(kind: str, lr: float, **kw):
    if kind == "adam":
        return v1.train.AdamOptimizer(learning_rate=lr, name="Trainer", **kw)
    if kind == "sgd":
        return v1.train.GradientDescentOptimizer(learning_rate=lr, name="Trainer")
    if kind == "momentum":
        return v1.train.MomentumOptimizer(learning_rate=lr, name="Trainer", **kw)
    if kind == "rmsprop":
        return v1.train.RMSPropOptimizer(learning_rate=lr, name="Trainer", **kw)
    raise ValueError(kind)


def raw_mlp(
    *,
    hidden=(64, 64),
    act=tf.nn.relu,
    kernel="seed",
    bias="normal",
    opt="adam",
    lr=0.001,
    opt_kw=None,
    loss="xent",
    l2=0.0,
    names=("VisibleLayer", "HiddenLayer{i}", "OutputLayer"),
) -> tf.Graph:
    """The seed case's raw TF1 MLP (no dropout), parameterised by one concept at a time."""
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, IN], name="input")
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        sizes = [IN, *hidden, OUT]
        h = x
        weights = []
        for i in range(len(sizes) - 1):
            if i == 0:
                scope = names[0]
            elif i == len(sizes) - 2:
                scope = names[2]
            else:
                scope = names[1].format(i=i)
            with v1.variable_scope(scope):
                shape = [sizes[i], sizes[i + 1]]
                if kernel == "seed":
                    w = _seed_kernel_init(shape, tf.float32)
                else:
                    w = v1.get_variable("weights", shape=shape, initializer=kernel)
                if bias == "normal":
                    b = _seed_bias_init([sizes[i + 1]])
                else:
                    b = tf.Variable(name="bias", initial_value=tf.zeros([sizes[i + 1]]))
                weights.append(w)
                h = tf.add(tf.matmul(h, w), b)
                if i < len(sizes) - 2:
                    h = act(h)
        with v1.variable_scope("Loss"):
            if loss == "xent":
                tf_loss = tf.reduce_mean(
                    tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=h)
                )
            elif loss == "mse":
                tf_loss = tf.reduce_mean(tf.math.squared_difference(h, y))
            else:
                raise ValueError(loss)
            if l2:
                tf_loss = tf_loss + l2 * tf.add_n([tf.nn.l2_loss(w) for w in weights])
        with v1.variable_scope("Optimizer"):
            train = _v1_optimizer(opt, lr, **(opt_kw or {})).minimize(tf_loss)
        with v1.variable_scope("Accuracy"):
            correct = tf.equal(tf.argmax(h, 1), tf.argmax(y, 1))
            tf.reduce_mean(tf.cast(correct, tf.float32))
        del train
    return g


def keras_mlp(
    *,
    hidden=(64, 64),
    act="relu",
    kernel="seed",
    bias="seed",
    opt="v1adam",
    lr=0.001,
    loss=None,
    l2=0.0,
    out_act="linear",
) -> tf.Graph:
    """The seed case's tf_keras MLP (graph mode, no dropout) with one concept changed at a time."""
    g = tf.Graph()
    with g.as_default():
        inp = tf_keras.layers.Input(shape=(IN,))
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        sizes = [*hidden, OUT]
        h = inp
        for i, units in enumerate(sizes):
            last = i == len(sizes) - 1
            name = "VisibleLayer" if i == 0 else ("OutputLayer" if last else f"HiddenLayer{i}")
            h = tf_keras.layers.Dense(
                units,
                activation=out_act if last else act,
                kernel_initializer=_keras_seed_kernel_init if kernel == "seed" else kernel,
                bias_initializer=_seed_bias_init if bias == "seed" else bias,
                kernel_regularizer=tf_keras.regularizers.l2(l2) if l2 else None,
                name=name,
            )(h)
        model = tf_keras.Model(inp, h)
        if opt == "v1adam":
            optimizer = v1.train.AdamOptimizer(learning_rate=lr, name="Trainer")
        elif opt == "keras_adam":
            optimizer = tf_keras.optimizers.legacy.Adam(learning_rate=lr, epsilon=1e-8)
        else:
            raise ValueError(opt)
        if loss is None:

            def loss(y_true, y_pred):
                return tf.reduce_mean(
                    tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
                )

        model.compile(loss=loss, optimizer=optimizer, target_tensors=[y])
        model._make_train_function()
    return g


def pairs() -> dict[str, tuple[tf.Graph, tf.Graph]]:
    """Name -> (graph A, graph B); see tests/test_findings_training.py for what each must show."""
    xent_ls = tf_keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    xent = tf_keras.losses.CategoricalCrossentropy(from_logits=True)
    return {
        "opt_type": (raw_mlp(), raw_mlp(opt="sgd")),
        "opt_lr": (raw_mlp(lr=0.001), raw_mlp(lr=0.01)),
        "opt_beta1": (raw_mlp(), raw_mlp(opt_kw={"beta1": 0.5})),
        "layer_count": (raw_mlp(hidden=(64,) * 4), raw_mlp(hidden=(64,) * 3)),
        "layer_units": (raw_mlp(hidden=(256, 256)), raw_mlp(hidden=(128, 128))),
        "activation": (raw_mlp(), raw_mlp(act=tf.nn.tanh)),
        "init_keras_default": (
            keras_mlp(
                kernel=tf_keras.initializers.RandomUniform(-0.05, 0.05),
                bias=tf_keras.initializers.RandomNormal(0.0, 1.0),
            ),
            keras_mlp(kernel="glorot_uniform", bias="zeros"),
        ),
        "init_bias": (raw_mlp(), raw_mlp(bias="zeros")),
        "loss_mse": (raw_mlp(), raw_mlp(loss="mse")),
        "loss_smoothing": (keras_mlp(loss=xent), keras_mlp(loss=xent_ls)),
        "reg_l2": (raw_mlp(), raw_mlp(l2=0.01)),
        "reg_keras_l2": (keras_mlp(), keras_mlp(l2=0.001)),
        "raw_vs_keras": (raw_mlp(), keras_mlp()),
        "keras_vs_v1_adam": (keras_mlp(opt="v1adam"), keras_mlp(opt="keras_adam")),
        "softmax_in_model": (raw_mlp(), keras_mlp(out_act="softmax", loss=xent_ls.__class__())),
        "renamed": (raw_mlp(), raw_mlp(names=("Dense0", "Dense{i}", "Logits"))),
    }


def main(outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, (ga, gb) in pairs().items():
        for side, g in (("a", ga), ("b", gb)):
            (out / f"{name}_{side}.pb").write_bytes(g.as_graph_def().SerializeToString())
    (out / "DONE").write_text("ok\n")


if __name__ == "__main__":
    main(sys.argv[1])
