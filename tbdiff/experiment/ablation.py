"""`train-and-compare --ablate`: how much of the accuracy gap each difference causes.

The two seed models differ in the knobs of `models.ModelSpec` (dropout semantics, how dropout
is switched off for evaluation, Keras' constant sample weight, how the train metrics are
computed) plus the program itself (session loop vs Keras fit). For each knob this trains the
Keras model with that one knob set as raw TF has it ("Keras -> TF": how much of the gap it
closes) and raw TF with it set as Keras has it ("TF -> Keras": how much gap it opens), over
the seeds, next to the two seed models.

Jobs (one variant, one seed) run seed-major and write their result as soon as they finish
(`RUN_DIR/results/<variant>-seed<k>.json`), so an interrupted or still running study can be
resumed (`--resume RUN_DIR`, also from a second process working on the same folder: a job is
claimed with an exclusive lock file) and a partial table always reflects what is finished.
TensorFlow is imported only when a model is trained.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

from tbdiff.errors import TbdiffError

if TYPE_CHECKING:
    from rich.console import Console

    from tbdiff.experiment.mnist import Mnist
    from tbdiff.experiment.models import ModelSpec

SCHEMA = "tbdiff.ablation/1"
BASELINES = ("tensorflow", "keras")
ALPHA = 0.05


@dataclass(frozen=True)
class Difference:
    """One difference between the seed models, as the spec fields that remove it."""

    key: str
    label: str
    fields: tuple[str, ...]  # ModelSpec fields copied from the other model
    findings: tuple[str, ...]  # the finding ids that name it between the seed models
    note: str = ""


DIFFERENCES: tuple[Difference, ...] = (
    Difference("dropout", "dropout semantics", ("drop_rate",), ("dropout.rate_mismatch",)),
    Difference(
        "learning_phase",
        "learning phase",
        ("switch",),
        ("learning_phase.mechanism",),
    ),
    Difference("sample_weights", "sample weights", ("sample_weight",), ("sample_weights.present",)),
    Difference(
        "train_metrics",
        "train metrics",
        ("train_metrics",),
        ("metrics.optimizer_coupling", "metrics.train_mode"),
        note="metric/optimizer coupling and train-mode metrics are one set: Keras' fit computes "
        "its metrics inside the training step, where dropout is on, so neither can be removed "
        "without the other (removing both is the smallest set)",
    ),
)


@dataclass(frozen=True)
class Job:
    variant: str  # "tensorflow", "keras", "keras-to-tf.<key>", "tf-to-keras.<key>"
    seed: int
    spec: ModelSpec

    @property
    def name(self) -> str:
        return f"{self.variant}-seed{self.seed}"


def variants(tf_spec: ModelSpec, keras_spec: ModelSpec) -> dict[str, ModelSpec]:
    """The two seed models, then each difference removed from Keras and added to raw TF."""
    out = {"tensorflow": tf_spec, "keras": keras_spec}
    for d in DIFFERENCES:
        out[f"keras-to-tf.{d.key}"] = replace(
            keras_spec, **{f: getattr(tf_spec, f) for f in d.fields}
        )
        out[f"tf-to-keras.{d.key}"] = replace(
            tf_spec, **{f: getattr(keras_spec, f) for f in d.fields}
        )
    return out


def plan(config: dict[str, Any]) -> list[Job]:
    """Every job, seed-major: a partial study has all variants on its first seeds."""
    from tbdiff.experiment.models import ModelSpec

    specs = {k: ModelSpec(**v) for k, v in config["variants"].items()}
    return [
        Job(name, config["seed"] + i, spec)
        for i in range(config["seeds"])
        for name, spec in specs.items()
    ]


# ------------------------------------------------------------------ run folder, jobs


def study_config(config: dict[str, Any]) -> dict[str, Any]:
    """The study's settings (from `train.config_from_args`) plus the variant specs."""
    from tbdiff.experiment.models import TrainConfig, seed_spec

    cfg = TrainConfig(
        keep_prob=config["keep_prob"], keras_dropout_rate=config["keras_dropout_rate"]
    )
    specs = variants(seed_spec("tensorflow", cfg), seed_spec("keras", cfg))
    return {
        **{k: config[k] for k in ("epochs", "keep_prob", "keras_dropout_rate", "seed", "seeds")},
        "limit_train": config["limit_train"],
        "deterministic": config.get("deterministic", True),
        "variants": {k: asdict(s) for k, s in specs.items()},
    }


def open_study(run_dir: Path, config: dict[str, Any] | None) -> dict[str, Any]:
    """Write RUN_DIR/ablation.json for a new study, or read it back to resume one."""
    path = run_dir / "ablation.json"
    if config is None:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise TbdiffError(f"{run_dir} is not an ablation run folder ({exc})") from None
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1) + "\n")
    return config


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim(lock: Path) -> bool:
    """Take a job with an exclusive lock file; a lock left by a dead process is taken over."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                return False
            if pid and _pid_alive(pid):
                return False
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return True
    return False


def run_jobs(data: Mnist, run_dir: Path, config: dict[str, Any], console: Console) -> int:
    """Train every job not finished or claimed by another process; returns how many ran."""
    from tbdiff.experiment.models import TRAINERS, TrainConfig
    from tbdiff.experiment.train import _ProgressHooks

    results = run_dir / "results"
    ran = 0
    for job in plan(config):
        out, lock = results / f"{job.name}.json", results / f"{job.name}.lock"
        if out.exists() or not _claim(lock):
            continue
        try:
            logdir = run_dir / job.variant / f"seed{job.seed}"
            shutil.rmtree(logdir, ignore_errors=True)  # a half-written earlier attempt
            cfg = TrainConfig(
                epochs=config["epochs"],
                keep_prob=config["keep_prob"],
                keras_dropout_rate=config["keras_dropout_rate"],
                seed=job.seed,
                limit_train=config["limit_train"],
                deterministic=config["deterministic"],
            )
            hooks = _ProgressHooks(console, job.seed, 2, label=f"{job.variant} seed {job.seed} ")
            result = TRAINERS[job.spec.framework](data, cfg, logdir, hooks, job.spec)
            record = {"variant": job.variant, "seed": job.seed, "spec": asdict(job.spec)}
            record.update(result.to_dict())
            tmp = out.with_suffix(".tmp")
            tmp.write_text(json.dumps(record, indent=1) + "\n")
            tmp.replace(out)
            ran += 1
        finally:
            lock.unlink(missing_ok=True)
    return ran


def load_results(run_dir: Path) -> dict[tuple[str, int], dict[str, Any]]:
    out = {}
    for path in sorted((run_dir / "results").glob("*.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[(rec["variant"], rec["seed"])] = rec
    return out


# ------------------------------------------------------------------ statistics


def t_test_p(values: list[float]) -> float | None:
    """Two-sided p of a one-sample t-test of mean 0 (a paired t-test on differences).

    Student's t CDF for integer degrees of freedom in closed form (Abramowitz & Stegun
    26.7.3-4). None below two values; 1.0 for all-zero differences, 0.0 for identical
    non-zero ones.
    """
    n = len(values)
    if n < 2:
        return None
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    if sd == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    t, df = abs(mean) / (sd / math.sqrt(n)), n - 1
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:  # odd
        term, total = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        inside = (2 / math.pi) * (theta + (s * math.cos(theta) * total if df > 1 else 0.0))
    else:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        inside = s * total
    return max(0.0, min(1.0, 1.0 - inside))


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "mean": statistics.fmean(values) if values else None,
        "std": statistics.stdev(values) if len(values) > 1 else None,
        "values": values,
    }


def _acc(results: dict, variant: str, seed: int) -> float | None:
    rec = results.get((variant, seed))
    return None if rec is None or rec.get("test_accuracy") is None else 100 * rec["test_accuracy"]


def _effect(results: dict, d: Difference, direction: str, seeds: list[int], gap: float | None):
    """Per-seed points of gap explained: Keras -> TF closes (variant - Keras), TF -> Keras
    opens (TF - variant); paired with its seed model on the same seed."""
    variant = f"{direction}.{d.key}"
    base = "keras" if direction == "keras-to-tf" else "tensorflow"
    accs, by_seed = [], {}
    for s in seeds:
        v, b = _acc(results, variant, s), _acc(results, base, s)
        if v is None:
            continue
        accs.append(v)
        if b is not None:
            by_seed[s] = v - b if direction == "keras-to-tf" else b - v
    effects = list(by_seed.values())
    eff = {**_stats(effects), "by_seed": by_seed}
    p = t_test_p(effects)
    pct = None if gap in (None, 0.0) or eff["mean"] is None else 100 * eff["mean"] / gap
    if effects and all(x == 0.0 for x in effects):
        status = "identical"  # bit for bit: deterministic training, the knob changed nothing
    elif p is None:
        status = "1 seed" if effects else "not run"
    elif p < ALPHA:
        status = "explains" if eff["mean"] > 0 else "works against"
    else:
        status = "not significant"
    return {
        "variant": variant,
        "accuracy": _stats(accs),
        "points": eff,
        "percent_of_gap": pct,
        "p_value": p,
        "status": status,
    }


def summarize(run_dir: Path, config: dict[str, Any], findings: list[Any] | None = None) -> dict:
    """The `ablation` JSON: seed models, gap, and per difference both directions."""
    results = load_results(run_dir)
    seeds = [config["seed"] + i for i in range(config["seeds"])]
    accs = {b: [_acc(results, b, s) for s in seeds] for b in BASELINES}
    gaps = [
        t - k for t, k in zip(accs["tensorflow"], accs["keras"], strict=True) if None not in (t, k)
    ]
    gap = statistics.fmean(gaps) if gaps else None
    named = {f.id: f.severity for f in findings or []}
    diffs = []
    for d in DIFFERENCES:
        diffs.append(
            {
                "key": d.key,
                "label": d.label,
                "spec_fields": list(d.fields),
                "findings": {i: named.get(i) for i in d.findings},
                "note": d.note,
                **{k: _effect(results, d, k, seeds, gap) for k in ("keras-to-tf", "tf-to-keras")},
            }
        )
    covered = {i for d in DIFFERENCES for i in d.findings}
    jobs = plan(config)
    return {
        "schema": SCHEMA,
        "run_dir": str(run_dir),
        "epochs": config["epochs"],
        "limit_train": config["limit_train"],
        "seeds": seeds,
        "deterministic": config["deterministic"],
        "test": f"paired t-test over seeds (variant vs its seed model), two-sided, alpha {ALPHA}",
        "jobs": {
            "done": sum(1 for j in jobs if (j.variant, j.seed) in results),
            "total": len(jobs),
        },
        "seconds": round(sum(r.get("seconds", 0.0) for r in results.values()), 1),
        "models": {b: _stats([a for a in accs[b] if a is not None]) for b in BASELINES},
        "gap": _stats(gaps),
        "differences": diffs,
        "not_ablated": [
            {"id": f.id, "severity": f.severity, "title": f.title}
            for f in findings or []
            if f.id not in covered
        ],
        "logdirs": {
            f"{j.variant}/seed{j.seed}": str(run_dir / j.variant / f"seed{j.seed}")
            for j in jobs
            if (j.variant, j.seed) in results
        },
    }


def verdict_line(summary: dict[str, Any]) -> str | None:
    """ "measured: <largest> explains X ± s of the G-point gap; the other N differences Y ± t"."""
    gap = summary["gap"]
    rows = [d for d in summary["differences"] if d["keras-to-tf"]["points"]["n"]]
    if gap["mean"] is None or not rows:
        return None
    top = max(rows, key=lambda d: abs(d["keras-to-tf"]["points"]["mean"]))
    others = [d for d in rows if d is not top]
    seeds = [
        s
        for s in top["keras-to-tf"]["points"]["by_seed"]
        if all(s in d["keras-to-tf"]["points"]["by_seed"] for d in others)
    ]
    per_seed = [sum(d["keras-to-tf"]["points"]["by_seed"][s] for d in others) for s in seeds]
    n, epochs = gap["n"], summary["epochs"]
    line = (
        f"measured ({n} seed{'s' if n != 1 else ''}, {epochs} epoch{'s' if epochs != 1 else ''}, "
        f"Keras moved toward raw TF one difference at a time): {top['label']} explains "
        f"{pm(top['keras-to-tf']['points'])} of the {pm(gap)}-point gap"
    )
    if others:
        k = len(others)
        line += f"; the other {k} difference{'s' if k != 1 else ''} {pm(_stats(per_seed))}"
    missing = len(summary["differences"]) - len(rows)
    if missing:
        line += f" ({missing} not run yet)"
    return line + "."


def pm(stats: dict[str, Any]) -> str:
    if stats.get("mean") is None:
        return "-"
    std = stats.get("std")
    return f"{stats['mean']:.2f}" + ("" if std is None else f" ± {std:.2f}")


def percent(pct: float | None) -> str:
    return "-" if pct is None else f"{round(pct)}%"


def _p(p: float | None) -> str:
    return "-" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _pm_tight(stats: dict[str, Any]) -> str:
    return pm(stats).replace(" ± ", "±")


def ablation_table(summary: dict[str, Any]) -> Table:
    """Rich table: seed models and gap, then per difference both directions (reads at 80
    columns: numbers never wrap, the words do)."""
    jobs = summary["jobs"]
    title = (
        f"ablation: {summary['epochs']} epochs, seeds {summary['seeds']}, "
        f"{jobs['done']}/{jobs['total']} runs finished; test accuracy %, mean±sample std"
    )
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("difference", ratio=1, min_width=10)
    table.add_column("variant", no_wrap=True)
    for name in ("test acc", "gap pts", "% gap", "p"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("result", ratio=1, min_width=9)
    models = summary["models"]
    table.add_row("seed models", "raw TF", _pm_tight(models["tensorflow"]))
    table.add_row("", "Keras", _pm_tight(models["keras"]))
    table.add_row("", "gap", "", _pm_tight(summary["gap"]), "100%", style="bold")
    for d in summary["differences"]:
        table.add_section()
        for i, (direction, label) in enumerate(
            (("keras-to-tf", "Keras->TF"), ("tf-to-keras", "TF->Keras"))
        ):
            e = d[direction]
            table.add_row(
                d["label"] if i == 0 else "",
                label,
                _pm_tight(e["accuracy"]),
                _pm_tight(e["points"]),
                percent(e["percent_of_gap"]),
                _p(e["p_value"]),
                e["status"],
                style="bold" if e["status"] == "explains" else None,
            )
    return table


def study_notes(summary: dict[str, Any]) -> list[str]:
    """Lines printed under the table: the test, the sets ablated together, what is not."""
    lines = [
        f"test: {summary['test']}; 'gap pts' (points of the gap explained) is paired per "
        "seed: Keras->TF = variant - Keras, TF->Keras = raw TF - variant. Results: explains / "
        "works against (p < alpha), "
        "not significant (p >= alpha: not told apart from seed noise, which with few seeds "
        "does not mean no effect), identical (bit for bit the seed model's accuracy on every "
        "seed), 1 seed (no test possible)."
    ]
    lines += [f"{d['label']}: {d['note']}" for d in summary["differences"] if d["note"]]
    for f in summary["not_ablated"]:
        lines.append(
            f"not ablated: {f['id']} ({f['severity']}): {f['title']} - no spec knob "
            "(it changes no computation, or is the framework itself)"
        )
    return lines


def run_study(
    data: Mnist, run_dir: Path, config: dict[str, Any] | None, console: Console
) -> dict[str, Any]:
    """Open (or resume) the study in run_dir, run what is left, return its settings."""
    study = open_study(run_dir, config)
    t0 = time.perf_counter()
    ran = run_jobs(data, run_dir, study, console)
    console.print(
        f"ablation: {ran} run(s) trained in {time.perf_counter() - t0:.0f}s here", highlight=False
    )
    return study


def ablate_from_args(args: Any, console: Console) -> tuple[Path, dict[str, Any]]:
    """Everything `train-and-compare --ablate` does before reporting: folder, data, training."""
    from tbdiff.experiment.mnist import load_mnist
    from tbdiff.experiment.train import config_from_args, make_run_dir

    if args.resume:
        run_dir, config = Path(args.resume), None
        if not (run_dir / "ablation.json").is_file():
            raise TbdiffError(f"{run_dir} is not an ablation run folder (no ablation.json)")
    else:
        config = study_config(config_from_args(args))
        run_dir = make_run_dir(Path(args.logdir))
    data = load_mnist(args.data_dir)
    console.print(f"ablation folder: {run_dir}  (data: {data.source})", highlight=False)
    return run_dir, run_study(data, run_dir, config, console)


def compared_seed(run_dir: Path, study: dict[str, Any]) -> tuple[Path, Path] | None:
    """The logdirs of the first seed whose two seed models both finished."""
    results = load_results(run_dir)
    for i in range(study["seeds"]):
        seed = study["seed"] + i
        if all((b, seed) in results for b in BASELINES):
            return tuple(run_dir / b / f"seed{seed}" for b in BASELINES)  # type: ignore[return-value]
    return None
