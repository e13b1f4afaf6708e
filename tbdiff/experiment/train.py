"""Orchestrate the seed-case experiment: run folders, seeds, progress bars, result table.

Kept apart from ``models.py`` so the folder layout, statistics and rendering can be read
(and tested) without building any TensorFlow graph; TensorFlow is imported only when a
model is actually trained.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tbdiff.errors import TbdiffError
from tbdiff.experiment.mnist import Mnist, load_mnist

FRAMEWORKS = ("tensorflow", "keras")


def make_run_dir(parent: Path, now: datetime | None = None) -> Path:
    """A new ``parent/YYYYmmdd-HHMMSS`` folder (``-2``, ``-3`` ... if taken); never reuses one."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TbdiffError(f"cannot create log folder {parent}: {exc}") from None
    for i in range(1, 1000):
        path = parent / (stamp if i == 1 else f"{stamp}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise TbdiffError(f"cannot create run folder {path}: {exc}") from None
    raise TbdiffError(f"too many runs named {stamp} in {parent}")


def mean_std(values: list[float]) -> dict[str, float | int | None]:
    """Mean and sample standard deviation (ddof=1; None for a single value)."""
    if not values:
        return {"n": 0, "mean": None, "std": None}
    std = statistics.stdev(values) if len(values) > 1 else None
    return {"n": len(values), "mean": statistics.fmean(values), "std": std}


@dataclass
class SeedRun:
    seed: int
    folder: str
    results: dict[str, Any] = field(default_factory=dict)  # framework -> ModelResult

    def accuracy(self, framework: str) -> float | None:
        r = self.results.get(framework)
        return r.final.test_accuracy if r is not None and r.final else None

    def gap(self) -> float | None:
        a, b = self.accuracy("tensorflow"), self.accuracy("keras")
        return None if a is None or b is None else a - b


@dataclass
class Outcome:
    run_dir: Path
    config: dict[str, Any]
    seeds: list[SeedRun]
    data_source: str
    tf_version: str = ""

    def dirs(self, index: int = 0) -> tuple[Path | None, Path | None]:
        """The (tensorflow, keras) log folders of one seed, None for a model not trained."""
        run = self.seeds[index]
        return tuple(  # type: ignore[return-value]
            Path(run.results[f].logdir) if f in run.results else None for f in FRAMEWORKS
        )

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in FRAMEWORKS:
            accs = [a for a in (s.accuracy(f) for s in self.seeds) if a is not None]
            if accs:
                out[f] = mean_std(accs)
        gaps = [g for g in (s.gap() for s in self.seeds) if g is not None]
        if gaps:
            out["gap"] = mean_std(gaps)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "config": self.config,
            "data": self.data_source,
            "tensorflow_version": self.tf_version,
            "runs": [
                {
                    "seed": s.seed,
                    "folder": s.folder,
                    **{f: r.to_dict() for f, r in s.results.items()},
                    "gap": s.gap(),
                }
                for s in self.seeds
            ],
            "summary": self.summary(),
        }


class _ProgressHooks:
    """rich progress bars on stderr; plain one-line-per-epoch output when not a terminal."""

    def __init__(self, console: Console, seed: int, n_seeds: int, label: str | None = None) -> None:
        self.console = console
        self.label = label if label is not None else (f"seed {seed} " if n_seeds > 1 else "")
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.epochs = 0

    def start(self, framework: str, epochs: int, batches: int) -> None:
        self.epochs = epochs
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self.progress.start()
            self.task = self.progress.add_task(
                f"{self.label}{framework:<10}", total=epochs * batches, info=""
            )

    def batch(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)

    def epoch(self, framework: str, rec: Any) -> None:
        info = (
            f"epoch {rec.epoch + 1}/{self.epochs} loss {rec.train_loss:.4f} "
            f"acc {rec.train_accuracy:.4f} test {rec.test_accuracy:.4f} ({rec.seconds:.1f}s)"
        )
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, info=info)
        else:
            self.console.print(f"{self.label}{framework}: {info}", highlight=False)

    def end(self, framework: str) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Validate the command-line values and derive the Keras dropout rate."""
    if args.epochs < 1:
        raise TbdiffError("--epochs must be at least 1")
    if args.seeds < 1:
        raise TbdiffError("--seeds must be at least 1")
    if not 0.0 < args.keep_prob <= 1.0:
        raise TbdiffError(f"--keep-prob must be in (0, 1], got {args.keep_prob}")
    if args.fix and args.keras_dropout_rate is not None:
        raise TbdiffError("use either --fix or --keras-dropout-rate, not both")
    if args.fix:
        rate = 1.0 - args.keep_prob
    elif args.keras_dropout_rate is not None:
        rate = args.keras_dropout_rate
    else:
        rate = args.keep_prob  # the original mistake: keep probability passed as drop rate
    if not 0.0 <= rate < 1.0:
        raise TbdiffError(f"Keras dropout rate must be in [0, 1), got {rate}")
    if args.limit_train is not None and args.limit_train < 100:
        raise TbdiffError("--limit-train must be at least the batch size (100)")
    if getattr(args, "resume", None) and not getattr(args, "ablate", False):
        raise TbdiffError("--resume continues an --ablate study: add --ablate")
    if getattr(args, "ablate", False) and (args.only or args.fix):
        raise TbdiffError("--ablate trains both seed models and their variants: drop --only/--fix")
    return {
        "epochs": args.epochs,
        "keep_prob": args.keep_prob,
        "keras_dropout_rate": round(rate, 10),
        "seed": args.seed,
        "seeds": args.seeds,
        "limit_train": args.limit_train,
        "only": args.only,
        "fix": bool(args.fix),
        "deterministic": not getattr(args, "nondeterministic", False),
    }


def run_experiment(
    data: Mnist,
    config: dict[str, Any],
    run_dir: Path,
    console: Console | None = None,
) -> Outcome:
    """Train the requested models for every seed, each in a fresh graph, logging to run_dir."""
    from tbdiff.experiment.models import TRAINERS, TrainConfig, tf_modules

    tf, _ = tf_modules()
    console = console or Console(stderr=True)
    frameworks = [config["only"]] if config.get("only") else list(FRAMEWORKS)
    n = config["seeds"]
    outcome = Outcome(run_dir, config, [], data.source, tf.__version__)
    for i in range(n):
        seed = config["seed"] + i
        folder = run_dir if n == 1 else run_dir / f"seed{seed}"
        run = SeedRun(seed, str(folder))
        outcome.seeds.append(run)
        cfg = TrainConfig(
            epochs=config["epochs"],
            keep_prob=config["keep_prob"],
            keras_dropout_rate=config["keras_dropout_rate"],
            seed=seed,
            limit_train=config["limit_train"],
            deterministic=config["deterministic"],
        )
        hooks = _ProgressHooks(console, seed, n)
        for fw in frameworks:
            run.results[fw] = TRAINERS[fw](data, cfg, folder / fw, hooks)
    return outcome


def write_results(outcome: Outcome) -> Path:
    """RUN_DIR/results.json: the JSON summary kept next to the logs (not an event file)."""
    path = outcome.run_dir / "results.json"
    path.write_text(json.dumps(outcome.to_dict(), indent=1) + "\n")
    return path


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _pm(stats: dict[str, Any] | None, scale: float = 100.0) -> str:
    if not stats or stats.get("mean") is None:
        return "-"
    std = stats.get("std")
    return f"{scale * stats['mean']:.2f}" + ("" if std is None else f" ± {scale * std:.2f}")


def _model_label(outcome: Outcome, framework: str) -> str:
    if framework == "tensorflow":
        return f"raw TF keep_prob={outcome.config['keep_prob']:g}"
    return f"Keras Dropout({outcome.config['keras_dropout_rate']:g})"


def results_table(outcome: Outcome) -> Table:
    """The two models side by side, one row each (per seed): final-epoch metrics."""
    table = Table(title="train-and-compare: final epoch", title_justify="left")
    multi = len(outcome.seeds) > 1
    if multi:
        table.add_column("seed", justify="right")
    table.add_column("model", no_wrap=True)
    for name in ("test acc", "train acc", "train loss", "s/epoch"):
        table.add_column(name, justify="right")
    for s in outcome.seeds:
        for f in FRAMEWORKS:
            r = s.results.get(f)
            if r is None:
                continue
            last = r.final
            row = [str(s.seed)] if multi else []
            row += [
                _model_label(outcome, f),
                _pct(last.test_accuracy if last else None),
                _pct(last.train_accuracy if last else None),
                "-" if not last else f"{last.train_loss:.4f}",
                "-" if not r.epochs else f"{r.seconds / len(r.epochs):.1f}",
            ]
            table.add_row(*row)
        g = s.gap()
        if g is not None:
            table.add_row(
                *([str(s.seed)] if multi else []), "gap TF - Keras", f"{100 * g:+.2f} pts"
            )
        if multi:
            table.add_section()
    if multi:
        summ = outcome.summary()
        for key in (*FRAMEWORKS, "gap"):
            if key in summ:
                label = "gap TF - Keras" if key == "gap" else _model_label(outcome, key)
                table.add_row(f"n={summ[key]['n']}", label, _pm(summ[key]), style="bold")
    return table


def train_from_args(args: argparse.Namespace, console: Console | None = None) -> Outcome:
    """Everything ``train-and-compare`` does before comparing: data, folders, training."""
    config = config_from_args(args)
    data = load_mnist(args.data_dir)
    run_dir = make_run_dir(Path(args.logdir))
    console = console or Console(stderr=True, no_color=getattr(args, "no_color", False))
    console.print(f"run folder: {run_dir}  (data: {data.source})", highlight=False)
    t0 = time.perf_counter()
    outcome = run_experiment(data, config, run_dir, console)
    outcome.config["seconds"] = round(time.perf_counter() - t0, 1)
    outcome.config["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_results(outcome)
    return outcome


def print_outcome(outcome: Outcome, console: Console) -> None:
    console.print(results_table(outcome))
    a, b = outcome.dirs()
    for label, d in (("tensorflow", a), ("keras", b)):
        if d is not None:
            console.print(f"{label} logs: {d}", highlight=False)


__all__ = [
    "Outcome",
    "SeedRun",
    "config_from_args",
    "make_run_dir",
    "mean_std",
    "print_outcome",
    "results_table",
    "run_experiment",
    "train_from_args",
    "write_results",
]
