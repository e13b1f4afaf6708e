"""Markdown table of the seed study from train-and-compare results.json files.

usage: python scripts/seeds_table.py DEFAULT_RUN/results.json FIX_RUN/results.json [> table.md]

DEFAULT_RUN: `tbdiff train-and-compare --seeds N` (raw TF + Keras with the original Dropout(0.7));
FIX_RUN:     `tbdiff train-and-compare --seeds N --fix --only keras` (Keras with Dropout(0.3)).
Means and sample standard deviations (ddof=1) of the final-epoch test accuracy, in percent;
the gaps are paired per seed (same seed = same initial weights and batch order in each model).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def _acc(results: dict, framework: str) -> dict[int, float]:
    return {
        r["seed"]: 100.0 * r[framework]["test_accuracy"]
        for r in results["runs"]
        if framework in r and r[framework]["test_accuracy"] is not None
    }


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"


def _spe(results: dict, framework: str) -> str:
    vals = [r[framework]["seconds_per_epoch"] for r in results["runs"] if framework in r]
    return f"{statistics.fmean(vals):.1f}" if vals else "-"


def table(default: dict, fix: dict | None) -> str:
    tf, kr = _acc(default, "tensorflow"), _acc(default, "keras")
    kf = _acc(fix, "keras") if fix else {}
    seeds = sorted(set(tf) | set(kr) | set(kf))
    keep = default["config"]["keep_prob"]
    rate = default["config"]["keras_dropout_rate"]
    fix_rate = fix["config"]["keras_dropout_rate"] if fix else None
    head = [
        "seed",
        f"raw TF, keep_prob={keep:g}",
        f"Keras, Dropout({rate:g})",
        "gap TF - Keras",
    ]
    if fix:
        head += [f"Keras --fix, Dropout({fix_rate:g})", "gap TF - Keras --fix"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(d: dict[int, float], s: int) -> str:
        return f"{d[s]:.2f}" if s in d else "-"

    def gap(a: dict[int, float], b: dict[int, float], s: int) -> str:
        return f"{a[s] - b[s]:+.2f}" if s in a and s in b else "-"

    for s in seeds:
        row = [str(s), cell(tf, s), cell(kr, s), gap(tf, kr, s)]
        if fix:
            row += [cell(kf, s), gap(tf, kf, s)]
        lines.append("| " + " | ".join(row) + " |")
    g1 = [tf[s] - kr[s] for s in seeds if s in tf and s in kr]
    row = [
        f"**mean ± std (n={len(seeds)})**",
        _fmt(list(tf.values())),
        _fmt(list(kr.values())),
        _fmt(g1),
    ]
    if fix:
        g2 = [tf[s] - kf[s] for s in seeds if s in tf and s in kf]
        row += [_fmt(list(kf.values())), _fmt(g2)]
    lines.append("| " + " | ".join(row) + " |")
    cfg = default["config"]
    spe = f"raw TF {_spe(default, 'tensorflow')} s, Keras {_spe(default, 'keras')} s"
    if fix:
        spe += f", Keras --fix {_spe(fix, 'keras')} s"
    foot = (
        f"\nTest accuracy (%) after {cfg['epochs']} epochs on MNIST (55,000 train / 10,000 test), "
        f"batch 100, Adam(0.001); TensorFlow {default.get('tensorflow_version', '?')} graph mode "
        f"+ tf_keras, CPU. Mean ± sample std over seeds; gaps paired per seed, in points. "
        f"Time per epoch (2 shared, busy cores): {spe}.\n"
    )
    return "\n".join(lines) + "\n" + foot


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    default = json.loads(Path(argv[0]).read_text())
    fix = json.loads(Path(argv[1]).read_text()) if len(argv) == 2 else None
    sys.stdout.write(table(default, fix))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
