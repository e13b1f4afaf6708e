"""Write the graph fixtures of tests/test_graph.py and tests/test_align.py with TensorFlow itself.

Run as ``python tests/gen_graph_fixtures.py OUTDIR`` (a subprocess: TF graph mode is process
global and TF takes seconds to import).  Writes, for the seed case of the project (raw TF1 MLP
with ``tf.nn.dropout(keep_prob)`` vs the tf_keras MLP with ``Dropout(0.7)``), each GraphDef as
``.pb`` and as an event file written by ``tf.compat.v1.summary.FileWriter``, the Keras model
config JSON, and a GraphDef of constants of many dtypes with their expected values as ``.npy``.
No training: the graphs (including the optimizer) are all the tests need.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

tf.compat.v1.disable_eager_execution()
v1 = tf.compat.v1

IN, OUT, HIDDEN, KEEP = 784, 10, 256, 0.7


def _loss(y_true, y_pred):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred))


def _accuracy(y_true, y_pred):
    correct = tf.equal(tf.argmax(y_true, 1), tf.argmax(y_pred, 1))
    return tf.reduce_mean(tf.cast(correct, tf.float32))


def build_tf1() -> tf.Graph:
    """The raw TF model of seed_case.md, ported to tf.compat.v1."""
    g = tf.Graph()
    with g.as_default():
        x = tf_keras.layers.Input(shape=(IN,))
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        keep = v1.placeholder_with_default(1.0, shape=())
        opt = v1.train.AdamOptimizer(learning_rate=0.001, name="Trainer")

        def weights(shape):
            r = np.sqrt(6.0 / (shape[0] + shape[1]))
            return v1.get_variable(
                "weights", shape=shape, initializer=v1.random_uniform_initializer(-r, r)
            )

        def bias(shape):
            return tf.Variable(name="bias", initial_value=v1.random_normal(shape))

        def layer(a, ws, bs, act=None):
            op = tf.add(tf.matmul(a, weights(ws)), bias(bs))
            return act(op) if act else op

        h = x
        sizes = [(IN, HIDDEN)] + [(HIDDEN, HIDDEN)] * 3
        names = ["VisibleLayer", "HiddenLayer1", "HiddenLayer2", "HiddenLayer3"]
        for i, (name, ws) in enumerate(zip(names, sizes, strict=True)):
            with v1.variable_scope(name):
                h = layer(h, list(ws), [ws[1]], tf.nn.relu)
            h = v1.nn.dropout(h, keep_prob=keep, name=f"Dropout{i + 1}")
        with v1.variable_scope("OutputLayer"):
            out = layer(h, [HIDDEN, OUT], [OUT])
        with v1.variable_scope("Loss"):
            loss = _loss(y, out)
        with v1.variable_scope("Optimizer"):
            opt.minimize(loss)
        with v1.variable_scope("Accuracy"):
            _accuracy(out, y)
    return g


def build_keras() -> tuple[tf.Graph, str]:
    """The tf_keras model of seed_case.md (functional API, Dropout(0.7), compiled)."""
    tf_keras.backend.clear_session()
    g = tf.Graph()
    with g.as_default():
        inp = tf_keras.layers.Input(shape=(IN,))
        y = v1.placeholder(tf.float32, [None, OUT], name="output")
        opt = v1.train.AdamOptimizer(learning_rate=0.001, name="Trainer")

        def kinit(shape, dtype=None, partition_info=None):
            r = np.sqrt(6.0 / (shape[0] + shape[1]))
            return tf.random.uniform(shape, -r, r, dtype=dtype or tf.float32)

        def binit(shape, dtype=None, partition_info=None):
            return tf.random.normal(shape, dtype=dtype or tf.float32)

        def dense(name, units, act):
            return tf_keras.layers.Dense(
                units, kernel_initializer=kinit, bias_initializer=binit, activation=act, name=name
            )

        h = dense("VisibleLayer", HIDDEN, "relu")(inp)
        h = tf_keras.layers.Dropout(KEEP)(h)
        for i in (1, 2, 3):
            h = dense(f"HiddenLayer{i}", HIDDEN, "relu")(h)
            h = tf_keras.layers.Dropout(KEEP)(h)
        out = dense("OutputLayer", OUT, "linear")(h)
        model = tf_keras.Model(inp, out)
        model.compile(loss=_loss, optimizer=opt, metrics=[_accuracy], target_tensors=[y])
        model._make_train_function()
        model._make_test_function()
        config = model.to_json()
    return g, config


def build_consts() -> tuple[tf.Graph, dict[str, np.ndarray]]:
    """Constants of many dtypes, dense and splat, with the values they must decode to."""
    expected = {
        "f32_scalar": np.float32(0.7),
        "f32_vec": np.arange(5, dtype=np.float32) / 4,
        "f32_splat": np.full((3, 4), 0.25, dtype=np.float32),
        "f64_mat": np.array([[1.5, -2.0], [3.25, 4.0]], dtype=np.float64),
        "f16_vec": np.array([0.5, -1.0, 2.0], dtype=np.float16),
        "f16_splat": np.full((2, 3), 1.5, dtype=np.float16),
        "bf16_vec": np.array([1.0, -0.5, 3.0], dtype=np.float32),
        "bf16_splat": np.full((4,), 2.0, dtype=np.float32),
        "i64_vec": np.array([1, -(2**40), 7], dtype=np.int64),
        "i64_splat": np.full((2, 2), 9, dtype=np.int64),
        "i32_mat": np.arange(6, dtype=np.int32).reshape(2, 3),
        "i8_vec": np.array([-3, 4], dtype=np.int8),
        "u8_splat": np.full((5,), 200, dtype=np.uint8),
        "bool_vec": np.array([True, False, True]),
        "bool_scalar": np.bool_(True),
        "str_vec": np.array(["ab", "cde"], dtype=object),
        "str_scalar": np.array("hello", dtype=object),
    }
    g = tf.Graph()
    with g.as_default():
        for name, val in expected.items():
            arr = np.asarray(val)
            if name.startswith("bf16"):
                dtype = tf.bfloat16
            elif arr.dtype == object:
                dtype = tf.string
            else:
                dtype = tf.as_dtype(arr.dtype)
            if name.endswith("_splat"):
                tf.constant(arr.flat[0].item(), dtype=dtype, shape=arr.shape, name=name)
            else:
                tf.constant(arr.tolist(), dtype=dtype, name=name)
        # bigger than the decoding limit: value None, shape kept
        tf.constant(np.zeros((64, 64), np.float32) + 1, name="big")
    return g, expected


def write_graph(g: tf.Graph, outdir: Path, name: str) -> None:
    gd = g.as_graph_def()
    (outdir / f"{name}.pb").write_bytes(gd.SerializeToString())
    logdir = outdir / "logs" / name
    w = v1.summary.FileWriter(str(logdir), graph=g)
    w.flush()
    w.close()


def main(outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    g = build_tf1()
    write_graph(g, out, "tf1")
    with g.as_default(), v1.Session(graph=g) as sess:
        sess.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(str(out / "saved_model"))
        builder.add_meta_graph_and_variables(sess, ["serve"])
        builder.save()
    g, config = build_keras()
    write_graph(g, out, "keras")
    (out / "keras_config.json").write_text(config)
    g, expected = build_consts()
    write_graph(g, out, "consts")
    np.savez(out / "consts_expected.npz", **{k: np.asarray(v) for k, v in expected.items()})
    (out / "done.json").write_text(json.dumps({"tf": tf.__version__}))


if __name__ == "__main__":
    main(sys.argv[1])
