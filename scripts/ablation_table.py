"""Markdown table of a `train-and-compare --ablate` study, finished or still running.

usage: python scripts/ablation_table.py RUN_DIR [> table.md]

Reads RUN_DIR/ablation.json and the per-(variant, seed) results written so far (never trains,
never writes): what the README's ablation table is made from, and a way to look at a study
that other processes are still working on. Test accuracy in %, mean ± sample std over the
seeds finished; "gap explained" is paired per seed with the seed model the variant came from.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tbdiff.experiment import ablation


def _pm(stats: ablation.Stats) -> str:
    return ablation.pm(stats) + (f" (n={stats.n})" if stats.n else "")


def main(run_dir: Path) -> None:
    study = ablation.open_study(run_dir, None)
    s = ablation.summarize(run_dir, study)
    print(
        f"{s.epochs} epochs, seeds {list(s.seeds)}, {s.jobs_done}/{s.jobs_total} "
        f"runs finished, {s.seconds / 3600:.2f} h of training summed\n"
    )
    print("| difference | variant | test acc % | gap explained (pts) | % of gap | p | |")
    print("|---|---|---|---|---|---|---|")
    print(f"| seed models | raw TF | {_pm(s.models['tensorflow'])} | | | | |")
    print(f"| | Keras | {_pm(s.models['keras'])} | | | | |")
    print(f"| | **gap TF - Keras** | | **{_pm(s.gap)}** | 100% | | |")
    for d in s.differences:
        for i, ((_, e), label) in enumerate(
            zip(d.directions(), ("Keras → TF", "TF → Keras"), strict=True)
        ):
            pct = ablation.percent(e.percent_of_gap)
            p = "-" if e.p_value is None else f"{e.p_value:.3f}"
            name = d.label if i == 0 else ""
            print(
                f"| {name} | {label} | {_pm(e.accuracy)} | {_pm(e.points)} | {pct} | {p} "
                f"| {e.status} |"
            )
    line = ablation.verdict_line(s)
    if line:
        print(f"\n{line}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
