"""What deterministic training costs, and whether it is needed: side by side in one process.

usage: python scripts/bench_determinism.py [EPOCHS] [LIMIT_TRAIN] [REPEATS]   (default 1 0 2)

Trains the two seed models (raw TF, Keras) REPEATS times in each mode, alternating the modes so
machine load hits both alike:
- deterministic: tf.config.experimental.enable_op_determinism() + sessions with one intra-op
  and one inter-op thread (what train-and-compare does by default);
- default: TensorFlow's own choice of threads, op determinism off (`--nondeterministic`).
Prints seconds per epoch (median over repeats), the ratio, and whether the repeats of each mode
reproduced the final test loss bit for bit. Needs TBDIFF_DATA_DIR (or the MNIST cache).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    from tbdiff.experiment.mnist import load_mnist
    from tbdiff.experiment.models import TRAINERS, TrainConfig

    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    limit = int(sys.argv[2]) if len(sys.argv) > 2 and int(sys.argv[2]) > 0 else None
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    data = load_mnist(os.environ.get("TBDIFF_DATA_DIR"))
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(repeats):
            for mode in ("deterministic", "default"):
                for fw in ("tensorflow", "keras"):
                    cfg = TrainConfig(
                        epochs=epochs,
                        limit_train=limit,
                        seed=0,
                        deterministic=mode == "deterministic",
                    )
                    r = TRAINERS[fw](data, cfg, Path(tmp) / f"{mode}-{fw}-{rep}")
                    per_epoch = r.seconds / len(r.epochs)
                    runs.setdefault((mode, fw), []).append((per_epoch, r.final.test_loss))
                    print(
                        f"rep {rep} {mode:13} {fw:10} {per_epoch:6.2f} s/epoch "
                        f"test loss {r.final.test_loss!r}",
                        flush=True,
                    )
    print(
        f"\n{epochs} epoch(s), {limit or 55000} training images, {repeats} repeats, "
        f"{os.cpu_count()} CPUs"
    )
    for fw in ("tensorflow", "keras"):
        det = statistics.median(s for s, _ in runs[("deterministic", fw)])
        dflt = statistics.median(s for s, _ in runs[("default", fw)])
        same = {
            m: len({loss for _, loss in runs[(m, fw)]}) == 1 for m in ("deterministic", "default")
        }
        print(
            f"{fw:10} deterministic {det:.2f} s/epoch, default {dflt:.2f} s/epoch, "
            f"ratio {det / dflt:.2f}x; repeats identical: deterministic {same['deterministic']}, "
            f"default {same['default']}"
        )


if __name__ == "__main__":
    main()
