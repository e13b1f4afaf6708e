"""Write real event files with TensorFlow's / TensorBoard's own writers (run in a subprocess).

Usage: python tests/gen_event_fixtures.py OUTDIR

Layout written (and OUTDIR/written.json describing what each writer was given, so tests can
check the reader against the writer's inputs rather than against hard-coded numbers):
  tf1/           tf.compat.v1.summary.FileWriter: graph, simple_value scalars, run metadata
  tf2/           tf.summary.create_file_writer: tensor scalars, text, histogram, traced graph
  keras/train    tf_keras Model.fit + TensorBoard callback (keras model config, epoch scalars)
  keras/validation
  hparams/       tensorboard.plugins.hparams.api: experiment config + session hparams
  hparams_keras/ hp.KerasCallback around tf_keras Model.fit
  hparams_torch/trial  tensorboardX add_hparams (PyTorch's record shape: metadata, no tensor)
  lightning/version_0  Lightning TensorBoardLogger's calls + hparams.yaml
  lightning/version_1  only the event file header + hparams.yaml (with a pickled object)
  restart_tf1/, restart_tf2/, overlap/  steps that go back: restarts from a checkpoint
  mixed dir/     TensorBoard's EventFileWriter: edge cases (negative steps, NaN, multi-value
                 events, float64/int64 tensor scalars, metadata-less tensors, zero-length record)
Also: python tests/gen_event_fixtures.py --tb-scalars FILE... prints TensorBoard's own view of
the scalars (EventFileLoader + data_compat), the reference the tests compare against.
TensorFlow is imported only here, never by tbdiff's analysis code.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def write_tf1(out: Path, written: dict) -> None:
    import tensorflow as tf

    logdir = out / "tf1"
    values = [round(math.exp(-i / 10.0), 6) for i in range(25)]
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
        keep_prob = tf.compat.v1.placeholder_with_default(1.0, [], name="keep_prob")
        w = tf.compat.v1.get_variable("w", [4, 3], initializer=tf.compat.v1.zeros_initializer())
        y = tf.nn.dropout(tf.matmul(x, w), rate=1 - keep_prob)
        out_op = tf.reduce_sum(y, name="total")
        init = tf.compat.v1.global_variables_initializer()
        writer = tf.compat.v1.summary.FileWriter(str(logdir), graph=g)
        for step, v in enumerate(values):
            summ = tf.compat.v1.Summary(
                value=[tf.compat.v1.Summary.Value(tag="loss", simple_value=v)]
            )
            writer.add_summary(summ, global_step=step)
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(init)
            opts = tf.compat.v1.RunOptions(
                trace_level=tf.compat.v1.RunOptions.FULL_TRACE, output_partition_graphs=True
            )
            md = tf.compat.v1.RunMetadata()
            sess.run(out_op, feed_dict={x: [[1, 2, 3, 4]]}, options=opts, run_metadata=md)
            writer.add_run_metadata(md, "step_0", global_step=0)
        writer.close()
        written["tf1"] = {
            "scalars": {"loss": {"steps": list(range(len(values))), "values": values}},
            "graph_nodes": len(g.as_graph_def().node),
            "run_metadata_tag": "step_0",
        }


def write_tf2(out: Path, written: dict) -> None:
    import numpy as np
    import tensorflow as tf

    logdir = out / "tf2"
    loss = [float(np.float32(1.0 / (1 + i))) for i in range(30)]
    acc = [float(np.float32(i / 30.0)) for i in range(30)]
    writer = tf.summary.create_file_writer(str(logdir))

    @tf.function
    def traced(a):
        return tf.nn.relu(tf.matmul(a, tf.ones([3, 2]))) * 2.0

    with writer.as_default():
        for i in range(30):
            tf.summary.scalar("loss", loss[i], step=i)
            tf.summary.scalar("metrics/accuracy", acc[i], step=i)
        tf.summary.text("notes", "hello from tbdiff fixtures", step=0)
        tf.summary.histogram("weights", np.linspace(-1, 1, 50), step=0)
        tf.summary.histogram("weights", np.linspace(-2, 2, 50), step=1)
        tf.summary.trace_on(graph=True)
        traced(tf.ones([2, 3]))
        tf.summary.trace_export("traced_fn", step=0)
    writer.close()
    written["tf2"] = {
        "scalars": {
            "loss": {"steps": list(range(30)), "values": loss},
            "metrics/accuracy": {"steps": list(range(30)), "values": acc},
        },
        "text": 1,
        "histograms": 2,
        "trace_tag": "traced_fn",
    }


def write_keras(out: Path, written: dict) -> None:
    import numpy as np
    import tf_keras as keras

    logdir = out / "keras"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    model = keras.Sequential(
        [
            keras.layers.Dense(16, activation="relu", input_shape=(8,), name="hidden"),
            keras.layers.Dropout(0.5, name="drop"),
            keras.layers.Dense(1, activation="sigmoid", name="out"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"]
    )
    epochs = 3
    hist = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=16,
        validation_split=0.25,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(logdir), write_graph=True)],
    )
    written["keras"] = {
        "epochs": epochs,
        "train_tags": ["epoch_loss", "epoch_accuracy"],
        "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
        "layers": [layer.name for layer in model.layers],
    }


def write_hparams(out: Path, written: dict) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    logdir = out / "hparams"
    hparams = {"dropout_rate": 0.3, "optimizer": "adam", "use_bn": True, "units": 64}
    with tf.summary.create_file_writer(str(logdir)).as_default():
        hp.hparams_config(
            hparams=[
                hp.HParam("dropout_rate", hp.RealInterval(0.0, 1.0)),
                hp.HParam("optimizer", hp.Discrete(["adam", "sgd"])),
                hp.HParam("use_bn", hp.Discrete([True, False])),
                hp.HParam("units", hp.Discrete([32, 64])),
            ],
            metrics=[hp.Metric("accuracy")],
        )
        hp.hparams(hparams)
        tf.summary.scalar("accuracy", 0.9, step=1)
    written["hparams"] = {"hparams": hparams, "metrics": ["accuracy"]}


def write_hparams_keras(out: Path, written: dict) -> None:
    """hp.KerasCallback: session start at train begin, session end (metadata) at train end."""
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras
    from tensorboard.plugins.hparams import api as hp

    logdir = out / "hparams_keras"
    hparams = {"units": 8, "activation": "relu", "dropout": 0.25, "batchnorm": False}
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    model = keras.Sequential(
        [
            keras.layers.Dense(hparams["units"], activation=hparams["activation"]),
            keras.layers.Dropout(hparams["dropout"]),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert tf.executing_eagerly()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[hp.KerasCallback(str(logdir), hparams)])
    written["hparams_keras"] = {"hparams": hparams}


def write_hparams_torch_shape(out: Path, written: dict) -> None:
    """PyTorch's `add_hparams` record shape (metadata without a tensor), via tensorboardX.

    tensorboardX is the library `torch.utils.tensorboard` was ported from; its `add_hparams`
    writes the same three summaries (experiment, session start, session end) into a sub-run.
    """
    from tensorboardX import SummaryWriter

    logdir = out / "hparams_torch"
    hparams = {"lr": 0.01, "optimizer": "sgd", "nesterov": True, "layers": 3}
    with SummaryWriter(logdir=str(logdir)) as w:
        w.add_hparams(hparams, {"hparam/accuracy": 0.75}, name="trial")
    written["hparams_torch"] = {"run": "hparams_torch/trial", "hparams": hparams}


def write_lightning_shape(out: Path, written: dict) -> None:
    """Lightning's TensorBoardLogger: what `log_hyperparams` + `save` write, step for step.

    Lightning (lightning.fabric.loggers.TensorBoardLogger) flattens nested params with "/",
    turns other types into str, writes `hparams(params, metrics)` summaries with the writer's
    file writer (tensorboardX's `hparams` when torch's tensorboard is absent), logs
    `hp_metric`, and `save()` dumps the unflattened params to hparams.yaml with yaml.dump.
    Lightning itself needs torch, too heavy for a fixture; these are its calls.
    """
    import yaml
    from tensorboardX import SummaryWriter
    from tensorboardX.summary import hparams as hparams_summaries

    logdir = out / "lightning" / "version_0"
    params = {
        "lr": 0.003,
        "batch_size": 32,
        "model": {"hidden": 64, "act": "gelu"},
        "schedule": None,
        "betas": [0.9, 0.999],
        "amsgrad": False,
    }
    flat = {"lr": 0.003, "batch_size": 32, "model/hidden": 64, "model/act": "gelu"}
    flat.update({"schedule": str(None), "betas": str([0.9, 0.999]), "amsgrad": False})
    with SummaryWriter(logdir=str(logdir)) as w:
        w.add_scalar("hp_metric", -1, 0)
        exp, ssi, sei = hparams_summaries(flat, {"hp_metric": -1})
        fw = w._get_file_writer()
        for summ in (exp, ssi, sei):
            fw.add_summary(summ)
        w.add_scalar("val_loss", 0.5, 1)
    (logdir / "hparams.yaml").write_text(yaml.dump(params))
    # a version whose process ended before log_hyperparams: the event file holds only its
    # header, hparams.yaml (saved by the logger) holds everything, with a pickled object
    second = out / "lightning" / "version_1"
    SummaryWriter(logdir=str(second)).close()
    (second / "hparams.yaml").write_text(yaml.dump({**params, "loss": WeightedLoss(0.5)}))
    written["lightning"] = {
        "run": "lightning/version_0",
        "params": params,
        "flat": flat,
        "yaml_only_run": "lightning/version_1",
        "loss_tag": f"!!python/object:{WeightedLoss.__module__}.WeightedLoss",
    }


class WeightedLoss:
    """A loss object Lightning users keep in their hparams (yaml.dump pickles it as a tag)."""

    def __init__(self, weight: float):
        self.weight = weight


def write_restarts(out: Path, written: dict) -> None:
    """Runs whose steps go back, as restarts from a checkpoint leave them.

    restart_tf1: TF1 FileWriter, Supervisor style: SessionLog START, steps 0..19, then (same
                 file) START at step 10 and steps 10..24 ("lr" only in the first session).
    restart_tf2: one tf.summary writer; steps 0..19, then 10..24 (a loop that reloaded a
                 checkpoint in-process; no SessionLog).
    overlap:     two tf.summary writers, one file each: steps 0..19, then 10..24.
    """
    import tensorflow as tf

    first = [round(1.0 / (1 + i), 6) for i in range(20)]
    second = [round(2.0 + i / 100.0, 6) for i in range(10, 25)]
    with tf.Graph().as_default():
        logdir = out / "restart_tf1"
        writer = tf.compat.v1.summary.FileWriter(str(logdir))
        start = tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START)

        def scalar(tag: str, value: float):
            return tf.compat.v1.Summary(
                value=[tf.compat.v1.Summary.Value(tag=tag, simple_value=value)]
            )

        writer.add_session_log(start, global_step=0)
        for step, v in enumerate(first):
            writer.add_summary(scalar("loss", v), global_step=step)
            writer.add_summary(scalar("lr", 0.1), global_step=step)
        writer.add_session_log(start, global_step=10)
        for step, v in zip(range(10, 25), second, strict=True):
            writer.add_summary(scalar("loss", v), global_step=step)
        writer.close()

    def tf2_session(w, steps, values) -> None:
        with w.as_default():
            for step, v in zip(steps, values, strict=True):
                tf.summary.scalar("loss", v, step=step)
        w.flush()

    w = tf.summary.create_file_writer(str(out / "restart_tf2"))
    tf2_session(w, range(20), first)
    tf2_session(w, range(10, 25), second)
    w.close()
    for steps, values in ((range(20), first), (range(10, 25), second)):
        w = tf.summary.create_file_writer(str(out / "overlap"))
        tf2_session(w, steps, values)
        w.close()
    written["restarts"] = {"first": first, "second": second, "restart_step": 10}


def _scalar_tensor(value, dtype: int):
    from tensorboard.compat.proto import tensor_pb2

    t = tensor_pb2.TensorProto(dtype=dtype)
    {1: t.float_val, 2: t.double_val, 9: t.int64_val}[dtype].append(value)
    return t


def write_mixed(out: Path, written: dict) -> None:
    """Edge cases through TensorBoard's own EventFileWriter (no TF op involved)."""
    import time

    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    logdir = out / "mixed dir"  # a space in the run name on purpose
    w = EventFileWriter(str(logdir), filename_suffix=".v2")
    Value = summary_pb2.Summary.Value
    seen: set[str] = set()

    def add(step: int, *values) -> None:
        w.add_event(
            event_pb2.Event(
                wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=list(values))
            )
        )

    def tensor(tag: str, value, dtype: int, plugin: str | None = "scalars", always: bool = False):
        v = Value(tag=tag, tensor=_scalar_tensor(value, dtype))
        if plugin and (always or tag not in seen):
            v.metadata.plugin_data.plugin_name = plugin
        seen.add(tag)
        return v

    for i in range(50):
        add(i, Value(tag="a", simple_value=i * 0.5))  # step 0 is omitted on the wire (proto3)
        add(i, tensor("t32", i / 7.0, 1))
    for st in list(range(-5, 5)) + [2**40]:
        add(st, Value(tag="neg", simple_value=float(st)))
    add(1, Value(tag="m1", simple_value=1.0), Value(tag="m2", simple_value=2.0))
    add(2, Value(tag="m1", simple_value=3.0), Value(tag="m2", simple_value=4.0))
    for x in (float("nan"), float("inf"), float("-inf"), 1e38):
        add(7, Value(tag="special", simple_value=x))
    for k in range(3):
        add(3, Value(tag="dup", simple_value=float(k)))
    add(2, Value(tag="dup", simple_value=9.0))
    for i in range(5):
        add(i, tensor("t64", i / 3.0, 2))
        add(i, tensor("tint", 10 * i, 9))
        add(i, tensor("nometa", float(i), 1, plugin=None))
        add(i, tensor("late", float(i), 1, plugin=("scalars" if i else None), always=True))
    long_tag = "long/" + "x" * 400
    for i in range(3):
        add(i, Value(tag=long_tag, simple_value=float(i)))
    w.add_event(event_pb2.Event())  # a zero-length record
    add(99, Value(tag="a", simple_value=-1.0))
    w.close()
    written["mixed"] = {"long_tag": long_tag}


def tb_scalars(files: list[str]) -> dict:
    """What TensorBoard's EventFileLoader (with its data_compat migrations) yields as scalars,
    one loader per file; the stub record reader is forced so TensorFlow is not imported."""
    import types

    sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.util import tensor_util

    result: dict = {}
    for path in files:
        rows: list = []
        first: dict[str, int] = {}  # data class of a tag's first occurrence (TensorBoard's rule)
        for ev in EventFileLoader(path).Load():
            for v in ev.summary.value:
                if first.setdefault(v.tag, v.metadata.data_class) != summary_pb2.DATA_CLASS_SCALAR:
                    continue
                arr = tensor_util.make_ndarray(v.tensor)
                rows.append([v.tag, int(ev.step), repr(float(arr.item()))])
        result[path] = rows
    assert "tensorflow" not in sys.modules
    return result


def tb_hparams(run_dirs: list[str]) -> dict:
    """What TensorBoard's hparams plugin reads as each run's session hparams.

    TensorBoard's own pipeline, TF-free: the plugin event accumulator (EventFileLoader with
    its data_compat/dataclass_compat migrations; first metadata of each tag per run), then
    `metadata.parse_session_start_info_plugin_data` on the session start tag's content.
    """
    import types

    sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")
    from google.protobuf import json_format
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.plugins.hparams import metadata

    result: dict = {}
    for run_dir in run_dirs:
        acc = pea.EventAccumulator(run_dir)
        acc.Reload()
        if metadata.PLUGIN_NAME not in acc.ActivePlugins():
            continue
        content = acc.PluginTagToContent(metadata.PLUGIN_NAME).get(metadata.SESSION_START_INFO_TAG)
        if content is None:
            continue
        info = metadata.parse_session_start_info_plugin_data(content)
        result[run_dir] = {k: json_format.MessageToDict(v) for k, v in sorted(info.hparams.items())}
    assert "tensorflow" not in sys.modules
    return result


def tensorboard_hparams(run_dirs: list) -> dict:
    """TensorBoard's view of the hparams of each run directory, computed in a subprocess."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, __file__, "--tb-hparams", *map(str, run_dirs)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=True,
    )
    return json.loads(proc.stdout)


def tb_run_scalars(run_dirs: list[str]) -> dict:
    """Each run's scalars as TensorBoard's plugin EventAccumulator keeps them (all of them:
    size guidance 0), in its order, after its own orphan purging; TF-free."""
    import types

    sys.modules["tensorboard.compat.notf"] = types.ModuleType("tensorboard.compat.notf")
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.util import tensor_util

    result: dict = {}
    for run_dir in run_dirs:
        acc = pea.EventAccumulator(run_dir, size_guidance={pea.TENSORS: 0})
        acc.Reload()
        tags = {}
        for tag in acc.Tags()[pea.TENSORS]:
            meta = acc.summary_metadata.get(tag)  # none when no value of the tag had any
            if meta is None or meta.data_class != summary_pb2.DATA_CLASS_SCALAR:
                continue
            tags[tag] = [
                [int(e.step), repr(float(tensor_util.make_ndarray(e.tensor_proto).item()))]
                for e in acc.Tensors(tag)
            ]
        result[run_dir] = tags
    assert "tensorflow" not in sys.modules
    return result


def tensorboard_run_scalars(run_dirs: list) -> dict:
    """`tb_run_scalars` in a subprocess."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, __file__, "--tb-run-scalars", *map(str, run_dirs)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        check=True,
    )
    return json.loads(proc.stdout)


def _env() -> dict:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")


def generated(tmp_path_factory) -> Path:
    """Write the fixtures once per pytest session (shared by every test module importing this)."""
    from helpers import generated as tf_generated

    return tf_generated(tmp_path_factory, Path(__file__).name)


def tensorboard_scalars(files: list) -> dict:
    """TensorBoard's view of the scalars of each file, computed in a subprocess."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, __file__, "--tb-scalars", *map(str, files)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=True,
    )
    return json.loads(proc.stdout)


def main(outdir: str) -> int:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict = {}
    write_tf1(out, written)
    write_tf2(out, written)
    write_keras(out, written)
    write_hparams(out, written)
    write_hparams_keras(out, written)
    write_hparams_torch_shape(out, written)
    write_lightning_shape(out, written)
    write_restarts(out, written)
    write_mixed(out, written)
    (out / "written.json").write_text(json.dumps(written, indent=1))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--tb-scalars":
        print(json.dumps(tb_scalars(sys.argv[2:])))
        raise SystemExit(0)
    if sys.argv[1] == "--tb-run-scalars":
        print(json.dumps(tb_run_scalars(sys.argv[2:])))
        raise SystemExit(0)
    if sys.argv[1] == "--tb-hparams":
        print(json.dumps(tb_hparams(sys.argv[2:])))
        raise SystemExit(0)
    raise SystemExit(main(sys.argv[1]))
