"""Build the graph pairs for the training-concept detector tests and save each GraphDef as .pb.

Run as `python tests/gen_pairs_training.py OUTDIR` in ONE subprocess per pytest session: TF graph
mode is process-global and importing TensorFlow costs seconds, so every model is built here in its
own tf.Graph() and the tests only read the .pb files (the analysis code never imports TensorFlow).

Each pair differs in exactly one training concept (optimizer, layers, activation, init, loss,
regularisation); the models are small MLPs (784-64-64-10) so building all of them stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
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
    dropout: bool = False,
    wd: float = 0.0,
) -> tf.Graph:
    """The seed case's raw TF1 MLP (dropout optional, fed at run time), parameterised by one concept at a time."""
    g = tf.Graph()
    with g.as_default():
        x = v1.placeholder(tf.float32, [None, IN], name="input")
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        keep = v1.placeholder_with_default(1.0, shape=(), name="dropout_ph") if dropout else None
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
            if dropout and i < len(sizes) - 2:
                h = v1.nn.dropout(h, keep_prob=keep, name=f"Dropout{i + 1}")
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
            if wd:  # decoupled weight decay (AdamW style): w -= wd * w after the update
                with tf.control_dependencies([train]):
                    train = tf.group(*[w.assign_sub(wd * w) for w in weights])
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
    dropout: float = 0.0,
) -> tf.Graph:
    """The seed case's tf_keras MLP (graph mode, optional Dropout(rate)) with one concept changed at a time."""
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
            if dropout and not last:
                h = tf_keras.layers.Dropout(dropout)(h)
        model = tf_keras.Model(inp, h)
        if opt == "v1adam":
            optimizer = v1.train.AdamOptimizer(learning_rate=lr, name="Trainer")
        elif opt == "keras_adam":
            optimizer = tf_keras.optimizers.legacy.Adam(learning_rate=lr, epsilon=1e-8)
        elif opt == "keras_adam_default":  # Keras' default epsilon is 1e-7, tf.train's 1e-8
            optimizer = tf_keras.optimizers.legacy.Adam(learning_rate=lr)
        else:
            raise ValueError(opt)
        if loss is None:

            def loss(y_true, y_pred):
                return tf.reduce_mean(
                    tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
                )

        model.compile(loss=loss, optimizer=optimizer, target_tensors=[y])
        model._make_train_function()
        g.keras_model = model  # for model.to_json() (what the TensorBoard callback logs)
    return g


def models() -> dict[str, Callable[[], tf.Graph]]:
    """Model name -> builder; every model is built once even when several pairs use it."""
    xent = tf_keras.losses.CategoricalCrossentropy
    return {
        "raw": raw_mlp,
        "raw_sgd": lambda: raw_mlp(opt="sgd"),
        "raw_lr01": lambda: raw_mlp(lr=0.01),
        "raw_beta05": lambda: raw_mlp(opt_kw={"beta1": 0.5}),
        "raw_4hidden": lambda: raw_mlp(hidden=(64,) * 4),
        "raw_3hidden": lambda: raw_mlp(hidden=(64,) * 3),
        "raw_256": lambda: raw_mlp(hidden=(256, 256)),
        "raw_128": lambda: raw_mlp(hidden=(128, 128)),
        "raw_tanh": lambda: raw_mlp(act=tf.nn.tanh),
        "raw_zero_bias": lambda: raw_mlp(bias="zeros"),
        "raw_mse": lambda: raw_mlp(loss="mse"),
        "raw_l2": lambda: raw_mlp(l2=0.01),
        "raw_wd": lambda: raw_mlp(wd=1e-4),
        "raw_renamed": lambda: raw_mlp(names=("Dense0", "Dense{i}", "Logits")),
        "keras": keras_mlp,
        "keras_explicit_init": lambda: keras_mlp(
            kernel=tf_keras.initializers.RandomUniform(-0.05, 0.05),
            bias=tf_keras.initializers.RandomNormal(0.0, 1.0),
        ),
        "keras_default_init": lambda: keras_mlp(kernel="glorot_uniform", bias="zeros"),
        "keras_xent": lambda: keras_mlp(loss=xent(from_logits=True)),
        "keras_xent_ls": lambda: keras_mlp(loss=xent(from_logits=True, label_smoothing=0.1)),
        "keras_l2": lambda: keras_mlp(l2=0.001),
        "keras_adam": lambda: keras_mlp(opt="keras_adam"),
        "raw_dropout": lambda: raw_mlp(dropout=True),
        "keras_dropout": lambda: keras_mlp(dropout=0.7),
        "keras_adam_default_eps": lambda: keras_mlp(opt="keras_adam_default"),
        "keras_softmax": lambda: keras_mlp(out_act="softmax", loss=xent()),
    }


# Models whose Keras config is saved too (serialisable initialisers only).
KERAS_CONFIGS = ("keras_explicit_init", "keras_default_init")

# Pair name -> (model A, model B); see tests/test_findings_training.py for what each must show.
PAIRS = {
    "opt_type": ("raw", "raw_sgd"),
    "opt_lr": ("raw", "raw_lr01"),
    "opt_beta1": ("raw", "raw_beta05"),
    "layer_count": ("raw_4hidden", "raw_3hidden"),
    "layer_units": ("raw_256", "raw_128"),
    "activation": ("raw", "raw_tanh"),
    "init_keras_default": ("keras_explicit_init", "keras_default_init"),
    "init_bias": ("raw", "raw_zero_bias"),
    "loss_mse": ("raw", "raw_mse"),
    "loss_smoothing": ("keras_xent", "keras_xent_ls"),
    "reg_l2": ("raw", "raw_l2"),
    "reg_keras_l2": ("keras", "keras_l2"),
    "reg_weight_decay": ("raw", "raw_wd"),
    "raw_vs_keras": ("raw", "keras"),
    "keras_vs_v1_adam": ("keras", "keras_adam"),
    "softmax_in_model": ("raw", "keras_softmax"),
    "renamed": ("raw", "raw_renamed"),
    "seed_dropout": ("raw_dropout", "keras_dropout"),
    "keras_default_epsilon": ("keras", "keras_adam_default_eps"),
}


def main(outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name, build in models().items():
        g = build()
        (out / f"{name}.pb").write_bytes(g.as_graph_def().SerializeToString())
        if name in KERAS_CONFIGS:
            (out / f"{name}.keras.json").write_text(g.keras_model.to_json())
    (out / "pairs.json").write_text(json.dumps(PAIRS, indent=1))
    (out / "DONE").write_text("ok\n")


if __name__ == "__main__":
    main(sys.argv[1])
