#!/usr/bin/env bash
# Regenerate sample_logs/ (tensorflow/ + keras/ event files and README.md) from one full
# 30-epoch train-and-compare run of the seed case on the real MNIST data.
#
# usage: scripts/make_sample_logs.sh [MNIST_DIR]     (default: $TBDIFF_DATA_DIR or ../shared/data/mnist)
# env:   SEED (default 0), EPOCHS (default 30), PYTHON (default: .venv/bin/python if present)
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR="${1:-${TBDIFF_DATA_DIR:-../shared/data/mnist}}"
SEED="${SEED:-0}"
EPOCHS="${EPOCHS:-30}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi

TMP="$(mktemp -d /tmp/tbdiff-sample.XXXXXX)"
CMD=(-m tbdiff train-and-compare --epochs "$EPOCHS" --seed "$SEED" --logdir "$TMP" --data-dir "$DATA_DIR" --no-color --width 100)
echo "running: python ${CMD[*]}" >&2
"$PYTHON" "${CMD[@]}"

RUN="$(dirname "$(ls "$TMP"/*/results.json | head -n 1)")"
rm -rf sample_logs/tensorflow sample_logs/keras
mkdir -p sample_logs
cp -r "$RUN/tensorflow" "$RUN/keras" sample_logs/

"$PYTHON" - "$RUN/results.json" "python ${CMD[*]}" <<'PY'
import json
import sys
from datetime import datetime, timezone

res = json.load(open(sys.argv[1]))
cmd = sys.argv[2].split(" --logdir ")[0] + " --logdir runs --data-dir <MNIST dir>"
run = res["runs"][0]
tf, kr = run["tensorflow"], run["keras"]
cfg = res["config"]


def pct(x):
    return f"{100 * x:.2f}%"


text = f"""# sample_logs: the seed case, raw TF vs Keras on MNIST

TensorBoard event files of one full run of `tbdiff train-and-compare`, made by
`scripts/make_sample_logs.sh` ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC):

    {cmd}

- TensorFlow {res["tensorflow_version"]} (tf.compat.v1 graph mode) + tf_keras, CPU; seed {run["seed"]},
  {cfg["epochs"]} epochs, batch 100, Adam(0.001), 55,000 training images.
- `tensorflow/`: raw TF MLP, `tf.nn.dropout(keep_prob=0.7)` (placeholder fed 0.7 when training).
  Final test accuracy **{pct(tf["test_accuracy"])}** (train loss {tf["train_loss"]:.4f}),
  {tf["seconds_per_epoch"]:.1f} s/epoch.
- `keras/`: the same MLP in tf_keras with `Dropout({cfg["keras_dropout_rate"]:g})`, i.e. the keep
  probability passed as the drop rate (the bug). Final test accuracy **{pct(kr["test_accuracy"])}**
  (train loss {kr["train_loss"]:.4f}), {kr["seconds_per_epoch"]:.1f} s/epoch.

Each folder holds one event file with the complete graph (optimizer update ops included), the
hyper-parameters (hparams plugin) and per-epoch scalars: `train/loss`, `train/accuracy`,
`test/loss`, `test/accuracy` (raw TF) and `epoch_loss`, `epoch_accuracy`, `epoch_test_loss`,
`epoch_test_accuracy` (Keras). Try: `tbdiff compare sample_logs/tensorflow sample_logs/keras`.
"""
open("sample_logs/README.md", "w").write(text)
print(text)
PY
rm -rf "$TMP"
du -sh sample_logs/tensorflow sample_logs/keras >&2
