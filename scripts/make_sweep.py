#!/usr/bin/env python
"""Write a synthetic hyper-parameter sweep with TensorFlow's own writers (Keras run layout).

    python scripts/make_sweep.py OUTDIR [--runs N] [--steps S] [--outlier]

Each run is `OUTDIR/run_XXXX/{train,validation}` as Keras' TensorBoard callback lays it out:
train/ holds the Keras model config (written exactly as the callback writes it: tag "keras",
plugin graph_keras_model, the model's to_json()) and the hparams (TensorBoard's hparams API),
both parts hold `epoch_loss` and `epoch_accuracy` for every step (4 scalar tags per run).
Hyper-parameters: arch (mlp | wide | deep: 3 distinct models), learning_rate (2 values),
dropout (2 values), seed (the rest); the metric depends on them by a stated formula plus seed
noise, so tests know which groups, which effect and which outlier to expect. `--outlier`
plants one run whose hparams repeat run_0000's (seed aside) but whose model has Dropout(0.7):
a bug the hparams do not show. The models are built once each (tf_keras's to_json); events
are written with TensorBoard's own EventFileWriter and summary protos (scalar events as TF2's writer emits them, `hparams_pb`,
the Keras callback's `graph_keras_model` record), the same bytes TF's writers produce. TensorFlow is imported only here (a generator script).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

ARCHS = {"mlp": (64, 1), "wide": (256, 1), "deep": (64, 3)}
LRS = (0.001, 0.01)
DROPOUTS = (0.2, 0.5)


def plan(n: int, outlier: bool) -> list[dict]:
    """Run i's hparams; the metric formula lives in final_accuracy()."""
    combos = [(a, lr, d) for a in ARCHS for lr in LRS for d in DROPOUTS]
    runs = []
    for i in range(n - (1 if outlier else 0)):
        arch, lr, drop = combos[i % len(combos)]
        runs.append({"arch": arch, "learning_rate": lr, "dropout": drop, "seed": i // len(combos)})
    if outlier:
        first = dict(runs[0])
        first["seed"] = max(r["seed"] for r in runs) + 1
        runs.append(dict(first, planted_dropout=0.7))
    return runs


def final_accuracy(hp: dict) -> float:
    """lr (0.04) dominates, then dropout (0.02), then arch; seed noise ~0.002; the planted bug
    costs 0.08."""
    acc = 0.95 - (0.04 if hp["learning_rate"] == 0.01 else 0.0)
    acc -= 0.02 if hp["dropout"] == 0.5 else 0.0
    acc += {"mlp": 0.0, "wide": 0.004, "deep": 0.002}[hp["arch"]]
    acc += 0.002 * math.sin(hp["seed"] * 12.9898 + 78.233 * hp["learning_rate"])
    return acc - (0.08 if "planted_dropout" in hp else 0.0)


def model_json(arch: str, dropout: float) -> str:
    import tensorflow as tf

    units, depth = ARCHS[arch]
    layers = [tf.keras.Input((784,))]
    for _ in range(depth):
        layers += [
            tf.keras.layers.Dense(units, activation="relu"),
            tf.keras.layers.Dropout(dropout),
        ]
    layers.append(tf.keras.layers.Dense(10, activation="softmax"))
    return tf.keras.Sequential(layers).to_json()


def write_run(run_dir: Path, hp: dict, config: str, steps: int) -> None:
    """Keras' layout with TensorBoard's own writer (EventFileWriter) and summary protos."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import api as hparams_api
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    final = final_accuracy(hp)
    t = np.arange(steps, dtype=np.float64)
    seed = abs(hash((hp["seed"], hp["arch"], hp["learning_rate"], hp["dropout"]))) % 2**32
    rng = np.random.default_rng(seed)
    curve = 1.0 - np.exp(-(t + 1) / max(1.0, steps / 8))
    train_acc = (final + 0.02) * curve + rng.normal(0, 0.003, steps)
    val_acc = final * curve + rng.normal(0, 0.002, steps)
    val_acc[-1] = final
    wall = 1.7e9
    for part, acc in (("train", train_acc), ("validation", val_acc)):
        w = EventFileWriter(str(run_dir / part), max_queue_size=1 << 20, flush_secs=3600)
        loss = -np.log(np.clip(acc, 1e-3, 1.0)) + 0.05
        if part == "train":  # what keras.callbacks.TensorBoard writes: tag "keras", step 0
            meta = summary_pb2.SummaryMetadata()
            meta.plugin_data.plugin_name = "graph_keras_model"
            meta.plugin_data.content = b"1"
            value = summary_pb2.Summary.Value(
                tag="keras", metadata=meta, tensor=tensor_util.make_tensor_proto(config)
            )
            w.add_event(
                event_pb2.Event(wall_time=wall, step=0, summary=summary_pb2.Summary(value=[value]))
            )
            hp_summary = hparams_api.hparams_pb(
                {k: v for k, v in hp.items() if k != "planted_dropout"}
            )
            w.add_event(event_pb2.Event(wall_time=wall, step=0, summary=hp_summary))
        for i in range(steps):
            for tag, v in (("epoch_loss", loss[i]), ("epoch_accuracy", acc[i])):
                w.add_event(_scalar_event(tag, float(v), i, wall + i, first=i == 0))
        w.close()


def _scalar_event(tag: str, value: float, step: int, wall: float, first: bool):
    """What TF2's writer emits for tf.summary.scalar: a rank-0 float32 tensor (its 4 bytes as
    tensor_content), the scalars plugin metadata on the tag's first event only."""
    import struct

    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2

    tensor = tensor_pb2.TensorProto(dtype=1, tensor_content=struct.pack("<f", value))
    tensor.tensor_shape.SetInParent()
    v = summary_pb2.Summary.Value(tag=tag, tensor=tensor)
    if first:
        v.metadata.plugin_data.plugin_name = "scalars"
    return event_pb2.Event(wall_time=wall, step=step, summary=summary_pb2.Summary(value=[v]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--runs", type=int, default=13)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--outlier", action="store_true")
    args = ap.parse_args(argv)
    runs = plan(args.runs, args.outlier)
    configs: dict[tuple, str] = {}
    for i, hp in enumerate(runs):
        drop = hp.get("planted_dropout", hp["dropout"])
        key = (hp["arch"], drop)
        if key not in configs:
            configs[key] = model_json(hp["arch"], drop)
        write_run(args.out / f"run_{i:04d}", hp, configs[key], args.steps)
        if (i + 1) % 100 == 0:
            print(f"{i + 1} runs", file=sys.stderr, flush=True)
    expected = {
        f"run_{i:04d}": {
            "hparams": hp,
            "final_accuracy": final_accuracy(hp),
            "model": [hp["arch"], hp.get("planted_dropout", hp["dropout"])],
        }
        for i, hp in enumerate(runs)
    }
    (args.out / "sweep.json").write_text(json.dumps(expected, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
