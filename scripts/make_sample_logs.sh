#!/usr/bin/env bash
# Regenerate sample_logs/ (tensorflow/ + keras/ event files and README.md) from one full
# 30-epoch train-and-compare run of the seed case on the real MNIST data (a few minutes).
#
# usage: scripts/make_sample_logs.sh [MNIST_DIR]     (default: $TBDIFF_DATA_DIR or ../shared/data/mnist)
# env:   SEED (default 0), EPOCHS (default 30), PYTHON (default: .venv/bin/python if present),
#        FROM_RUN=runs/<stamp>  reuse a finished run (its results.json + first seed's folders)
#        instead of training again; training is deterministic for a given seed on one machine
#        (train-and-compare's default; see README "Reproducibility").
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR="${1:-${TBDIFF_DATA_DIR:-../shared/data/mnist}}"
SEED="${SEED:-0}"
EPOCHS="${EPOCHS:-30}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi

TMP=""
if [[ -n "${FROM_RUN:-}" ]]; then
    RESULTS="$FROM_RUN/results.json"
else
    TMP="$(mktemp -d /tmp/tbdiff-sample.XXXXXX)"
    CMD=(-m tbdiff train-and-compare --epochs "$EPOCHS" --seed "$SEED" --logdir "$TMP"
         --data-dir "$DATA_DIR" --no-color --width 100)
    echo "running: python ${CMD[*]}" >&2
    # exit code 1 means "a difference was diagnosed" (like diff), which is the expected outcome
    TF_CPP_MIN_LOG_LEVEL=3 "$PYTHON" "${CMD[@]}" || [[ $? -eq 1 ]]
    RESULTS="$(ls "$TMP"/*/results.json | head -n 1)"
fi

"$PYTHON" - "$RESULTS" <<'PY'
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

res = json.load(open(sys.argv[1]))
finished = res["config"].get("finished") or datetime.fromtimestamp(
    Path(sys.argv[1]).stat().st_mtime, timezone.utc
).isoformat(timespec="seconds")
run = res["runs"][0]
cfg = res["config"]
if set(run) < {"tensorflow", "keras"}:
    sys.exit("make_sample_logs: the run must contain both models")
out = Path("sample_logs")
out.mkdir(exist_ok=True)
for fw in ("tensorflow", "keras"):
    shutil.rmtree(out / fw, ignore_errors=True)
    shutil.copytree(run[fw]["logdir"], out / fw)

tf, kr = run["tensorflow"], run["keras"]
cmd = f"tbdiff train-and-compare --epochs {cfg['epochs']} --seed {run['seed']} --data-dir <MNIST dir>"
if cfg.get("limit_train"):
    cmd += f" --limit-train {cfg['limit_train']}"
origin = ""
if cfg.get("seeds", 1) > 1:
    origin = (
        f"\n(Copied from seed {run['seed']} of the same command with `--seed {cfg['seed']} "
        f"--seeds {cfg['seeds']}`; with train-and-compare's deterministic default a single-seed "
        "run on the same machine and versions gives the same values.)\n"
    )


def pct(x):
    return f"{100 * x:.2f}%"


text = f"""# sample_logs: the seed case, raw TF vs Keras on MNIST

TensorBoard event files of one full run of the seed case, made by `scripts/make_sample_logs.sh`
on {datetime.now(timezone.utc):%Y-%m-%d} (run finished {finished}):

    {cmd}
{origin}
- TensorFlow {res["tensorflow_version"]} (tf.compat.v1 graph mode) + tf_keras, CPU; seed {run["seed"]},
  {cfg["epochs"]} epoch(s), batch 100, Adam(0.001), {tf["hparams"]["n_train"]} training images.
- `tensorflow/`: raw TF MLP, `tf.nn.dropout(keep_prob=PlaceholderWithDefault)` fed
  {cfg["keep_prob"]:g} when training. Final test accuracy **{pct(tf["test_accuracy"])}**
  (train loss {tf["train_loss"]:.4f}), {tf["seconds_per_epoch"]:.1f} s/epoch.
- `keras/`: the same MLP in tf_keras with `Dropout({cfg["keras_dropout_rate"]:g})`, i.e. the keep
  probability passed as the drop rate (the bug). Final test accuracy **{pct(kr["test_accuracy"])}**
  (train loss {kr["train_loss"]:.4f}), {kr["seconds_per_epoch"]:.1f} s/epoch.

Each folder holds one event file with the complete graph (optimizer update ops included), the
hyper-parameters (hparams plugin) and per-epoch scalars (step = epoch, from 0):
`train/loss`, `train/accuracy`, `test/loss`, `test/accuracy` (raw TF) and `epoch_loss`,
`epoch_accuracy`, `epoch_test_loss`, `epoch_test_accuracy` (Keras). Raw TF's training metrics
are measured without dropout (a second `sess.run`, as in the original program); Keras' are the
running mean of the training batches, with dropout.

Try: `tbdiff compare sample_logs/tensorflow sample_logs/keras`.
"""
(out / "README.md").write_text(text)
print(text)
PY
if [[ -n "$TMP" ]]; then rm -rf "$TMP"; fi
du -sh sample_logs/tensorflow sample_logs/keras >&2
