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
    import argparse

    from rich.console import Console

    from tbdiff.experiment.mnist import Mnist
    from tbdiff.experiment.models import ModelSpec
    from tbdiff.findings.base import Finding

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


@dataclass(frozen=True)
class StudyConfig:
    """A study's settings, as RUN_DIR/ablation.json holds them (what `--resume` reuses)."""

    epochs: int
    keep_prob: float
    keras_dropout_rate: float
    seed: int
    seeds: int
    limit_train: int | None
    deterministic: bool
    variants: dict[str, ModelSpec]  # in training order: seed models, then per difference

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # the variants' specs as dicts too

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> StudyConfig:
        from tbdiff.experiment.models import ModelSpec

        settings = {k: doc[k] for k in _SETTINGS + ("deterministic",)}
        return cls(**settings, variants={k: ModelSpec(**v) for k, v in doc["variants"].items()})


_SETTINGS = ("epochs", "keep_prob", "keras_dropout_rate", "seed", "seeds", "limit_train")


def plan(config: StudyConfig) -> list[Job]:
    """Every job, seed-major: a partial study has all variants on its first seeds."""
    return [
        Job(name, seed, spec) for seed in config.seed_list for name, spec in config.variants.items()
    ]


# ------------------------------------------------------------------ run folder, jobs


def study_config(config: dict[str, Any]) -> StudyConfig:
    """The study's settings (from `train.config_from_args`) plus the variant specs."""
    from tbdiff.experiment.models import TrainConfig, seed_spec

    cfg = TrainConfig(
        keep_prob=config["keep_prob"], keras_dropout_rate=config["keras_dropout_rate"]
    )
    return StudyConfig(
        **{k: config[k] for k in _SETTINGS},
        deterministic=config.get("deterministic", True),
        variants=variants(seed_spec("tensorflow", cfg), seed_spec("keras", cfg)),
    )


def open_study(run_dir: Path, config: StudyConfig | None) -> StudyConfig:
    """Write RUN_DIR/ablation.json for a new study, or read it back to resume one."""
    path = run_dir / "ablation.json"
    if config is None:
        try:
            return StudyConfig.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TbdiffError(f"{run_dir} is not an ablation run folder ({exc})") from None
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config.to_json(), indent=1) + "\n")
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


def run_jobs(data: Mnist, run_dir: Path, config: StudyConfig, console: Console) -> int:
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
                epochs=config.epochs,
                keep_prob=config.keep_prob,
                keras_dropout_rate=config.keras_dropout_rate,
                seed=job.seed,
                limit_train=config.limit_train,
                deterministic=config.deterministic,
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


@dataclass(frozen=True)
class JobResult:
    """What the study reads back from RUN_DIR/results/<variant>-seed<k>.json."""

    variant: str
    seed: int
    test_accuracy: float | None  # a fraction, as the trainer reports it
    seconds: float

    @classmethod
    def from_json(cls, rec: dict[str, Any]) -> JobResult:
        return cls(rec["variant"], rec["seed"], rec.get("test_accuracy"), rec.get("seconds", 0.0))


def load_results(run_dir: Path) -> dict[tuple[str, int], JobResult]:
    out = {}
    for path in sorted((run_dir / "results").glob("*.json")):
        try:
            rec = JobResult.from_json(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
        out[(rec.variant, rec.seed)] = rec
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


@dataclass(frozen=True)
class Stats:
    """Mean and sample std of some values (accuracy points); None where undefined."""

    n: int
    mean: float | None
    std: float | None
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        return cls(
            n=len(values),
            mean=statistics.fmean(values) if values else None,
            std=statistics.stdev(values) if len(values) > 1 else None,
            values=tuple(values),
        )

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "std": self.std, "values": list(self.values)}


@dataclass(frozen=True)
class Effect:
    """One difference in one direction: the variant's accuracy and the gap it explains."""

    variant: str  # "<direction>.<difference key>"
    accuracy: Stats  # the variant's test accuracy, %
    points: Stats  # points of the gap explained, paired per seed (the values of by_seed)
    by_seed: dict[int, float]
    percent_of_gap: float | None
    p_value: float | None
    status: str  # explains / works against / not significant / identical / 1 seed / not run

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "accuracy": self.accuracy.to_json(),
            "points": {**self.points.to_json(), "by_seed": dict(self.by_seed)},
            "percent_of_gap": self.percent_of_gap,
            "p_value": self.p_value,
            "status": self.status,
        }


@dataclass(frozen=True)
class DifferenceResult:
    """One difference between the seed models, measured in both directions."""

    difference: Difference
    findings: dict[str, str | None]  # finding id -> its severity between the seed models
    keras_to_tf: Effect
    tf_to_keras: Effect

    @property
    def label(self) -> str:
        return self.difference.label

    def directions(self) -> tuple[tuple[str, Effect], tuple[str, Effect]]:
        return (("keras-to-tf", self.keras_to_tf), ("tf-to-keras", self.tf_to_keras))

    def to_json(self) -> dict[str, Any]:
        d = self.difference
        return {
            "key": d.key,
            "label": d.label,
            "spec_fields": list(d.fields),
            "findings": dict(self.findings),
            "note": d.note,
            **{direction: e.to_json() for direction, e in self.directions()},
        }


@dataclass(frozen=True)
class NotAblated:
    """A finding between the seed models that no spec knob removes."""

    id: str
    severity: str
    title: str


@dataclass(frozen=True)
class AblationSummary:
    """The study's result: seed models, their gap, and per difference both directions."""

    run_dir: Path
    epochs: int
    limit_train: int | None
    seeds: tuple[int, ...]
    deterministic: bool
    jobs_done: int
    jobs_total: int
    seconds: float  # training time summed over the finished jobs
    models: dict[str, Stats]  # per seed model (BASELINES), test accuracy %
    gap: Stats  # raw TF - Keras, per seed
    differences: tuple[DifferenceResult, ...]
    not_ablated: tuple[NotAblated, ...]
    logdirs: dict[str, Path]  # "<variant>/seed<k>" -> logdir, finished jobs only

    test = f"paired t-test over seeds (variant vs its seed model), two-sided, alpha {ALPHA}"

    def to_json(self) -> dict[str, Any]:
        """The `ablation` JSON document (schema tbdiff.ablation/1), strict-JSON values."""
        from tbdiff.report import _json_safe as json_safe

        doc = {
            "schema": SCHEMA,
            "run_dir": str(self.run_dir),
            "epochs": self.epochs,
            "limit_train": self.limit_train,
            "seeds": list(self.seeds),
            "deterministic": self.deterministic,
            "test": self.test,
            "jobs": {"done": self.jobs_done, "total": self.jobs_total},
            "seconds": self.seconds,
            "models": {b: s.to_json() for b, s in self.models.items()},
            "gap": self.gap.to_json(),
            "differences": [d.to_json() for d in self.differences],
            "not_ablated": [asdict(f) for f in self.not_ablated],
            "logdirs": {k: str(v) for k, v in self.logdirs.items()},
        }
        return json_safe(doc)


def _acc(results: dict[tuple[str, int], JobResult], variant: str, seed: int) -> float | None:
    rec = results.get((variant, seed))
    return None if rec is None or rec.test_accuracy is None else 100 * rec.test_accuracy


def _status(effects: list[float], mean: float | None, p: float | None) -> str:
    if effects and all(x == 0.0 for x in effects):
        return "identical"  # bit for bit: deterministic training, the knob changed nothing
    if p is None:
        return "1 seed" if effects else "not run"
    if p < ALPHA:
        return "explains" if mean is not None and mean > 0 else "works against"
    return "not significant"


def _effect(
    results: dict[tuple[str, int], JobResult],
    d: Difference,
    direction: str,
    seeds: list[int],
    gap: float | None,
) -> Effect:
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
    points = Stats.of(list(by_seed.values()))
    p = t_test_p(list(points.values))
    pct = None if gap in (None, 0.0) or points.mean is None else 100 * points.mean / gap
    return Effect(
        variant=variant,
        accuracy=Stats.of(accs),
        points=points,
        by_seed=by_seed,
        percent_of_gap=pct,
        p_value=p,
        status=_status(list(points.values), points.mean, p),
    )


def summarize(
    run_dir: Path, config: StudyConfig, findings: list[Finding] | None = None
) -> AblationSummary:
    """The study's result from what has finished in run_dir (findings: compare's, seed 0)."""
    results = load_results(run_dir)
    seeds = config.seed_list
    accs = {b: [_acc(results, b, s) for s in seeds] for b in BASELINES}
    gaps = [
        t - k for t, k in zip(accs["tensorflow"], accs["keras"], strict=True) if None not in (t, k)
    ]
    gap = statistics.fmean(gaps) if gaps else None
    named = {f.id: f.severity for f in findings or []}
    diffs = tuple(
        DifferenceResult(
            difference=d,
            findings={i: named.get(i) for i in d.findings},
            keras_to_tf=_effect(results, d, "keras-to-tf", seeds, gap),
            tf_to_keras=_effect(results, d, "tf-to-keras", seeds, gap),
        )
        for d in DIFFERENCES
    )
    covered = {i for d in DIFFERENCES for i in d.findings}
    jobs = plan(config)
    done = [j for j in jobs if (j.variant, j.seed) in results]
    return AblationSummary(
        run_dir=run_dir,
        epochs=config.epochs,
        limit_train=config.limit_train,
        seeds=tuple(seeds),
        deterministic=config.deterministic,
        jobs_done=len(done),
        jobs_total=len(jobs),
        seconds=round(sum(r.seconds for r in results.values()), 1),
        models={b: Stats.of([a for a in accs[b] if a is not None]) for b in BASELINES},
        gap=Stats.of(gaps),
        differences=diffs,
        not_ablated=tuple(
            NotAblated(f.id, f.severity, f.title) for f in findings or [] if f.id not in covered
        ),
        logdirs={f"{j.variant}/seed{j.seed}": run_dir / j.variant / f"seed{j.seed}" for j in done},
    )


def verdict_line(summary: AblationSummary) -> str | None:
    """ "measured: <largest> explains X ± s of the G-point gap; the other N differences Y ± t"."""
    gap = summary.gap
    rows = [d for d in summary.differences if d.keras_to_tf.points.n]
    if gap.mean is None or not rows:
        return None
    top = max(rows, key=lambda d: abs(d.keras_to_tf.points.mean or 0.0))
    others = [d for d in rows if d is not top]
    seeds = [s for s in top.keras_to_tf.by_seed if all(s in d.keras_to_tf.by_seed for d in others)]
    per_seed = [sum(d.keras_to_tf.by_seed[s] for d in others) for s in seeds]
    n, epochs = gap.n, summary.epochs
    line = (
        f"measured ({n} seed{'s' if n != 1 else ''}, {epochs} epoch{'s' if epochs != 1 else ''}, "
        f"Keras moved toward raw TF one difference at a time): {top.label} explains "
        f"{pm(top.keras_to_tf.points)} of the {pm(gap)}-point gap"
    )
    if others:
        k = len(others)
        line += f"; the other {k} difference{'s' if k != 1 else ''} {pm(Stats.of(per_seed))}"
    missing = len(summary.differences) - len(rows)
    if missing:
        line += f" ({missing} not run yet)"
    return line + "."


def pm(stats: Stats) -> str:
    if stats.mean is None:
        return "-"
    return f"{stats.mean:.2f}" + ("" if stats.std is None else f" ± {stats.std:.2f}")


def percent(pct: float | None) -> str:
    return "-" if pct is None else f"{round(pct)}%"


def _p(p: float | None) -> str:
    return "-" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _pm_tight(stats: Stats) -> str:
    return pm(stats).replace(" ± ", "±")


def ablation_table(summary: AblationSummary) -> Table:
    """Rich table: seed models and gap, then per difference both directions (reads at 80
    columns: numbers never wrap, the words do)."""
    title = (
        f"ablation: {summary.epochs} epochs, seeds {list(summary.seeds)}, "
        f"{summary.jobs_done}/{summary.jobs_total} runs finished; test accuracy %, "
        "mean±sample std"
    )
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column("difference", ratio=1, min_width=10)
    table.add_column("variant", no_wrap=True)
    for name in ("test acc", "gap pts", "% gap", "p"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("result", ratio=1, min_width=9)
    models = summary.models
    table.add_row("seed models", "raw TF", _pm_tight(models["tensorflow"]))
    table.add_row("", "Keras", _pm_tight(models["keras"]))
    table.add_row("", "gap", "", _pm_tight(summary.gap), "100%", style="bold")
    labels = ("Keras->TF", "TF->Keras")
    for d in summary.differences:
        table.add_section()
        for i, ((_, e), label) in enumerate(zip(d.directions(), labels, strict=True)):
            table.add_row(
                d.label if i == 0 else "",
                label,
                _pm_tight(e.accuracy),
                _pm_tight(e.points),
                percent(e.percent_of_gap),
                _p(e.p_value),
                e.status,
                style="bold" if e.status == "explains" else None,
            )
    return table


def study_notes(summary: AblationSummary) -> list[str]:
    """Lines printed under the table: the test, the sets ablated together, what is not."""
    lines = [
        f"test: {summary.test}; 'gap pts' (points of the gap explained) is paired per "
        "seed: Keras->TF = variant - Keras, TF->Keras = raw TF - variant. Results: explains / "
        "works against (p < alpha), "
        "not significant (p >= alpha: not told apart from seed noise, which with few seeds "
        "does not mean no effect), identical (bit for bit the seed model's accuracy on every "
        "seed), 1 seed (no test possible)."
    ]
    lines += [f"{d.label}: {d.difference.note}" for d in summary.differences if d.difference.note]
    for f in summary.not_ablated:
        lines.append(
            f"not ablated: {f.id} ({f.severity}): {f.title} - no spec knob "
            "(it changes no computation, or is the framework itself)"
        )
    return lines


def run_study(
    data: Mnist, run_dir: Path, config: StudyConfig | None, console: Console
) -> StudyConfig:
    """Open (or resume) the study in run_dir, run what is left, return its settings."""
    study = open_study(run_dir, config)
    t0 = time.perf_counter()
    ran = run_jobs(data, run_dir, study, console)
    console.print(
        f"ablation: {ran} run(s) trained in {time.perf_counter() - t0:.0f}s here", highlight=False
    )
    return study


def ablate_from_args(args: argparse.Namespace, console: Console) -> tuple[Path, StudyConfig]:
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


def compared_seed(run_dir: Path, study: StudyConfig) -> tuple[Path, Path] | None:
    """The logdirs of the first seed whose two seed models both finished."""
    results = load_results(run_dir)
    for seed in study.seed_list:
        if all((b, seed) in results for b in BASELINES):
            tf_dir, keras_dir = (run_dir / b / f"seed{seed}" for b in BASELINES)
            return tf_dir, keras_dir
    return None
