"""Many runs at once: model groups, the hyper-parameters that vary, the seed-noise floor,
outliers and what explains them, and which hyper-parameter drives the metric.

Methods (stated in the output too):

* main metrics: tags present in at least half the runs; validation/test before plain before
  train, accuracy-like before loss-like (`--metric TAG` picks the primary one). Best = max for
  accuracy-like names, min otherwise.
* groups: runs with equal model keys (fingerprint.py), largest first (M1, M2 ...).
* replicate sets: runs of one model group with equal values of every varying
  hyper-parameter except seeds (none recorded counts as equal; runs without a model record
  only when they recorded some). Noise floor of a group: robust sigma (1.4826 x median
  absolute deviation from the set median) of the primary metric's final value over its sets
  of MIN_REPLICATES+ runs that logged it; none without such a set (`floor_note` says why).
  A run is judged against its peers, the other runs of its set, or, when it has no set of its
  own but recorded hyper-parameters, another group's set with the same ones (its model
  differs: what the findings then explain). It is an outlier when it is more than
  OUTLIER_SIGMAS floors from its peers' median (a floor of 0, replicates that agree exactly:
  when it differs from them at all). Runs without a floor to judge by are not judged.
* hyper-parameter effect: eta squared of the final primary metric (one-way ANOVA: between-level
  sum of squares over total), per varying hyper-parameter, ranked.
* baseline: `--baseline RUN`, else the best run of the largest identified model group that
  logged the metric (groups of one size: the one whose best run is best by the metric).
* differences and explanations: the findings (`tbdiff.findings.compare` of the models described
  as `compare` describes them: graph, Keras config, hparams) of a group's representative (its
  best run) vs the baseline run, and of each outlier vs its representative peer (of the runs
  it was judged against, the one whose final value is nearest their median), plus their
  hyper-parameter differences. A group's facts are its representative's model so described.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError
from tbdiff.multirun.summary import RunSummary, higher_is_better

SCHEMA = "tbdiff.runs/1"
OUTLIER_SIGMAS = 4.0
MIN_REPLICATES = 3  # runs in a replicate set for a floor (a run is judged against the others)
_TINY = 1e-9  # relative: a floor or a deviation below this times the values is 0
_SEED = re.compile(r"(^|[_./-])(seed|random_state|rng|trial|replicate|rep)($|[_./-])", re.I)
_FAMILY_RANK = {"validation": 0, "test": 1, "": 2, "train": 3}
ETA_METHOD = (
    "eta squared of the final {metric}: between-level sum of squares / total sum of squares "
    "(one-way ANOVA), per varying hyper-parameter (seeds excluded)"
)


@dataclass(frozen=True)
class FindingRef:
    """A finding of `tbdiff.findings`, as the runs report keeps it."""

    id: str
    severity: str
    title: str


@dataclass
class Difference:
    """What sets a run or group apart from another: findings and hyper-parameters."""

    vs: str  # the run compared against
    findings: list[FindingRef] = field(default_factory=list)
    hparams: dict[str, list[Any]] = field(default_factory=dict)  # name -> [this, other]
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        found = [{"id": f.id, "severity": f.severity, "title": f.title} for f in self.findings]
        return {"vs": self.vs, "findings": found, "hparams": self.hparams, "error": self.error}


@dataclass
class Group:
    id: str
    runs: list[str]
    key: str | None
    source: str | None
    facts: dict[str, str]  # inspect lines of the representative's model (analysis.explain)
    representative: str  # the best run, else (none logged the metric) the first
    best: str | None = None  # the best run by the primary metric; None when none logged it
    difference: Difference | None = None  # vs the baseline (None for the baseline's group)
    noise_floor: float | None = None
    replicate_sets: int = 0
    floor_note: str | None = None  # why there is no floor (or why it is 0), in words


@dataclass
class Outlier:
    run: str
    group: str
    value: float
    peers: list[str]
    peers_median: float
    sigmas: float  # inf when the peers agree exactly (floor 0)
    explanation: Difference | None = None  # vs representative_peer (its `vs`)
    peers_group: str | None = None  # the group of the peers (not the run's when its model differs)


@dataclass
class Effect:
    hparam: str
    eta_squared: float
    levels: int
    runs: int


@dataclass
class RunsReport:
    roots: list[str]
    runs: list[RunSummary]
    metric: str | None
    metrics: list[str]
    varying: list[str]
    groups: list[Group]
    group_of: dict[str, str]
    baseline: str | None
    outliers: list[Outlier]
    effects: list[Effect]
    warnings: list[LogWarning]
    judged: list[str] = field(default_factory=list)  # runs judged against a noise floor

    def final(self, run: RunSummary, tag: str | None = None) -> float | None:
        c = run.curves.get(tag or self.metric or "")
        return None if c is None else c.final

    @property
    def exit_code(self) -> int:
        """1 when a run is outside its noise floor or groups differ by a critical/warning
        finding (like `compare`), else 0."""
        serious = any(
            f.severity in ("critical", "warning")
            for g in self.groups
            if g.difference is not None
            for f in g.difference.findings
        )
        return 1 if self.outliers or serious else 0


# --------------------------------------------------------------------------------------------


def analyse(
    roots: list[str],
    runs: list[RunSummary],
    *,
    metric: str | None = None,
    baseline: str | None = None,
    warnings: list[LogWarning] | None = None,
) -> RunsReport:
    """The whole analysis of already-read runs (see module doc)."""
    readable = [r for r in runs if r.readable]
    if not readable:
        raise TbdiffError(f"nothing readable in {len(runs)} run(s) under {', '.join(roots)}")
    metrics = main_metrics(readable, metric)
    primary = metrics[0] if metrics else None
    varying = varying_hparams(readable)
    groups, group_of = make_groups(readable, primary)
    base = _baseline(readable, groups, baseline, primary)
    report = RunsReport(
        roots,
        readable,
        primary,
        metrics,
        varying,
        groups,
        group_of,
        base,
        [],
        [],
        list(warnings or []),
    )
    for r in runs:
        report.warnings.extend(r.warnings)
        if not r.readable:
            report.warnings.append(LogWarning("run.unreadable", "nothing readable", path=r.path))
    if primary is not None:
        report.outliers = noise_and_outliers(report)
        report.effects = effects(readable, varying, primary)
    explain(report)
    return report


def main_metrics(runs: list[RunSummary], wanted: str | None) -> list[str]:
    """Up to 3 tags to judge runs by (see the module docstring); never a counter (`epoch`),
    and a summary value (`hp_metric`, `hparam/...`) only when the runs log no curve."""
    from tbdiff.scalars import curve_role, parse_tag

    counts: dict[str, int] = {}
    for r in runs:
        for tag in r.curves:
            counts[tag] = counts.get(tag, 0) + 1
    if wanted is not None:
        if wanted not in counts:
            names = ", ".join(sorted(counts)[:8]) or "none"
            raise TbdiffError(f"no run has a scalar tag {wanted!r} (tags: {names})")
    roles = {t: curve_role(t) for t in counts}
    curves = {t: n for t, n in counts.items() if roles[t] not in ("counter", "summary")}
    counts = curves or {t: n for t, n in counts.items() if roles[t] != "counter" or t == wanted}
    common = [t for t, n in counts.items() if n * 2 >= len(runs)]
    if not common and counts:  # no tag in half the runs: the most widespread ones
        top = max(counts.values())
        common = [t for t, n in counts.items() if n == top]

    def rank(tag: str) -> tuple:
        t = parse_tag(tag)
        kind = 0 if higher_is_better(t.metric) else (1 if "loss" in t.metric else 2)
        return (kind, _FAMILY_RANK.get(t.family, 2), tag)

    ordered = sorted(common, key=rank)
    if wanted is not None:
        ordered = [wanted] + [t for t in ordered if t != wanted]
    return ordered[:3]


def is_seed(name: str) -> bool:
    return bool(_SEED.search(name))


def varying_hparams(runs: list[RunSummary]) -> list[str]:
    keys = sorted({k for r in runs for k in r.hparams})
    return [k for k in keys if len({_hashable(r.hparams.get(k)) for r in runs}) > 1]


def _hashable(v: Any) -> Any:
    return repr(v) if isinstance(v, (list, dict)) else v


def make_groups(runs: list[RunSummary], primary: str | None) -> tuple[list[Group], dict[str, str]]:
    by_key: dict[str | None, list[RunSummary]] = {}
    for r in runs:
        by_key.setdefault(r.model.key if r.model else None, []).append(r)
    ordered = sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0] is None, kv[0] or ""))
    groups, group_of = [], {}
    n = 0
    for key, members in ordered:
        n += key is not None
        gid = f"M{n}" if key is not None else "no-model"
        model = members[0].model
        best = _best(members, primary)
        groups.append(
            Group(
                gid,
                [m.name for m in members],
                key,
                model.source if model else None,
                dict(model.facts) if model else {},
                (best or members[0]).name,
                best.name if best else None,
            )
        )
        for m in members:
            group_of[m.name] = gid
    return groups, group_of


def _best(runs: list[RunSummary], tag: str | None) -> RunSummary | None:
    """The run with the best final value of `tag`; None when none logged it."""
    if tag is None:
        return None
    scored = [
        (r.curves[tag].final, r)
        for r in runs
        if tag in r.curves and math.isfinite(r.curves[tag].final)
    ]
    if not scored:
        return None
    hi = higher_is_better(_metric(tag))
    return (max if hi else min)(scored, key=lambda s: s[0])[1]


def _metric(tag: str) -> str:
    from tbdiff.scalars import parse_tag

    return parse_tag(tag).metric


def _baseline(runs, groups, wanted: str | None, primary: str | None) -> str | None:
    names = [r.name for r in runs]
    if wanted is not None:
        for n in names:
            if n == wanted or n.rstrip("/") == wanted.rstrip("/"):
                return n
        shown = ", ".join(names[:6]) + (f" ... and {len(names) - 6} more" if len(names) > 6 else "")
        raise TbdiffError(f"--baseline: no run named {wanted!r}; runs: {shown}")
    # the best run of the largest group whose model was identified and whose best run logged
    # the metric (among groups of one size: the one whose best run is best by the metric, then
    # the first); runs without a model record only when no run has one (they share no model,
    # so they are no reference)
    by_name = {r.name: r for r in runs}
    sign = -1.0 if primary is not None and higher_is_better(_metric(primary)) else 1.0

    def rank(g: Group) -> tuple[bool, bool, int, float]:
        best = by_name.get(g.best) if g.best is not None else None
        value = _value(best, primary) if best is not None and primary is not None else None
        score = sign * value if value is not None else math.inf
        return (g.key is None, value is None, -len(g.runs), score)  # min is the first of ties

    return min(groups, key=rank).representative if groups else None


# --------------------------------------------------------------------------------------------


def recorded_hparams(run: RunSummary) -> bool:
    """Whether the run recorded any hyper-parameter other than a seed."""
    return any(not is_seed(k) for k in run.hparams)


def replicate_key(run: RunSummary, varying: list[str]) -> tuple:
    return tuple(_hashable(run.hparams.get(k)) for k in varying if not is_seed(k))


def replicate_sets(report: RunsReport) -> dict[tuple[str, tuple], list[RunSummary]]:
    """Runs of one model group with identical hyper-parameters (seeds aside; none recorded
    counts as identical), keyed by (group id, hparams). Runs without a model record are
    replicates only when they recorded hyper-parameters: with neither, nothing says that they
    are the same experiment."""
    keyed = {g.id for g in report.groups if g.key is not None}
    sets: dict[tuple[str, tuple], list[RunSummary]] = {}
    for r in report.runs:
        gid = report.group_of[r.name]
        if gid in keyed or recorded_hparams(r):
            sets.setdefault((gid, replicate_key(r, report.varying)), []).append(r)
    return sets


def _value(run: RunSummary, tag: str) -> float | None:
    c = run.curves.get(tag)
    return c.final if c is not None and math.isfinite(c.final) else None


def _floor_note(g: Group, sets: dict, tag: str, runs: dict[str, RunSummary]) -> str:
    """Why a group has no noise floor, in words (one reason, the first that applies)."""
    if len(g.runs) == 1:
        return "a single run"
    if not any(_value(runs[n], tag) is not None for n in g.runs):
        return f"none logged {tag}"
    if g.key is None and not any(recorded_hparams(runs[n]) for n in g.runs):
        return "no model and no hyper-parameters recorded: not known to be replicates"
    largest = max((len(v) for (gid, _), v in sets.items() if gid == g.id), default=0)
    if largest < MIN_REPLICATES:
        recorded = " recorded" if g.key is None else ""  # no model: only recorded ones count
        return f"no {MIN_REPLICATES} runs with identical{recorded} hyper-parameters (seeds aside)"
    logged = max(
        (sum(_value(m, tag) is not None for m in v) for (gid, _), v in sets.items() if gid == g.id),
        default=0,
    )
    return (
        f"{largest} runs with identical hyper-parameters, but only {logged} of them logged "
        f"{tag} (a floor needs {MIN_REPLICATES})"
    )


def noise_floors(report: RunsReport, sets: dict) -> None:
    """Each group's floor: robust sigma (1.4826 x MAD) of the final primary metric around the
    median of its replicate set, pooled over its sets of MIN_REPLICATES+ runs that logged it.
    0 when the replicates agree exactly; None (with `floor_note`) when there is no such set."""
    tag = report.metric or ""
    runs = {r.name: r for r in report.runs}
    for g in report.groups:
        dev, n_sets, values = [], 0, []
        for (gid, _), members in sets.items():
            vals = [v for m in members if gid == g.id and (v := _value(m, tag)) is not None]
            if len(vals) >= MIN_REPLICATES:
                med = float(np.median(vals))
                dev += [abs(v - med) for v in vals]
                values += vals
                n_sets += 1
        if not n_sets:
            g.floor_note = _floor_note(g, sets, tag, runs)
            continue
        floor = 1.4826 * float(np.median(dev))
        exact = floor <= _TINY * max(1.0, float(np.median(np.abs(values))))
        g.noise_floor, g.replicate_sets = (0.0 if exact else floor), n_sets
        if exact:
            g.floor_note = "its replicates agree exactly"


def noise_and_outliers(report: RunsReport) -> list[Outlier]:
    """Noise floors (above), then each run that logged the metric against its peers: the other
    runs of its replicate set, or, for a run that recorded hyper-parameters and has no set of
    its own, the replicates of another group with the same hyper-parameters (its model
    differs from theirs). A run is judged only against MIN_REPLICATES-1+ peers of a group with
    a floor; it is an outlier when it is more than OUTLIER_SIGMAS floors from their median, or,
    when their floor is 0, when it differs from them at all."""
    tag = report.metric or ""
    sets = replicate_sets(report)
    noise_floors(report, sets)
    floor = {g.id: g.noise_floor for g in report.groups}
    value = {r.name: _value(r, tag) for r in report.runs}
    logged = {k: [m for m in v if value[m.name] is not None] for k, v in sets.items()}
    out: list[Outlier] = []
    report.judged = []
    for r in report.runs:
        v = value[r.name]
        found = _peers(r, report, logged, floor) if v is not None else None
        if found is None:
            continue
        peer_group, peers = found
        report.judged.append(r.name)
        med = float(np.median([value[p.name] for p in peers]))
        f = floor[peer_group] or 0.0
        if f > 0:
            sig = abs(v - med) / f
        else:
            sig = math.inf if abs(v - med) > _TINY * max(1.0, abs(med)) else 0.0
        if sig > OUTLIER_SIGMAS:
            names = [p.name for p in peers]
            out.append(
                Outlier(r.name, report.group_of[r.name], v, names, med, sig, peers_group=peer_group)
            )
    out.sort(key=lambda o: -o.sigmas)
    return out


def _peers(
    run: RunSummary, report: RunsReport, logged: dict, floor: dict[str, float | None]
) -> tuple[str, list[RunSummary]] | None:
    """(group id, peers) a run is judged against, or None (see noise_and_outliers); `logged`
    is each replicate set's runs that logged the metric."""
    key = replicate_key(run, report.varying)
    gid = report.group_of[run.name]
    own = [m for m in logged.get((gid, key), []) if m is not run]
    if own and floor[gid] is not None:
        return (gid, own) if len(own) >= MIN_REPLICATES - 1 else None
    if not recorded_hparams(run):
        return None  # it says nothing that makes another group's runs its replicates
    others = [
        (g2, members)
        for (g2, k2), members in logged.items()
        if k2 == key and g2 != gid and floor[g2] is not None
    ]
    others = [(g2, ms) for g2, ms in others if len(ms) >= MIN_REPLICATES]
    return max(others, key=lambda o: len(o[1])) if others else None


def effects(runs: list[RunSummary], varying: list[str], tag: str) -> list[Effect]:
    ys = {
        r.name: r.curves[tag].final
        for r in runs
        if tag in r.curves and math.isfinite(r.curves[tag].final)
    }
    if len(ys) < 3:
        return []
    y_all = np.array(list(ys.values()))
    total = float(((y_all - y_all.mean()) ** 2).sum())
    out = []
    for h in varying:
        if is_seed(h):
            continue
        levels: dict[Any, list[float]] = {}
        for r in runs:
            if r.name in ys:
                levels.setdefault(_hashable(r.hparams.get(h)), []).append(ys[r.name])
        if len(levels) < 2:
            continue
        between = sum(len(v) * (float(np.mean(v)) - y_all.mean()) ** 2 for v in levels.values())
        eta = between / total if total > 0 else 0.0
        out.append(Effect(h, float(eta), len(levels), len(ys)))
    out.sort(key=lambda e: (-e.eta_squared, e.hparam))
    return out


# --------------------------------------------------------------------------------------------


def explain(report: RunsReport) -> None:
    """Each group's model facts as `compare` describes the model of its representative (its
    hparams and feeds resolve what the graph leaves to run time: a fed keep_prob); findings of
    each other group's representative vs the baseline; each outlier's findings vs the peer it
    was judged against that stands for them (`representative_peer`)."""
    by_name = {r.name: r for r in report.runs}
    cache: dict[str, Any] = {}
    for g in report.groups:
        g.facts = _facts(by_name[g.representative], cache) or g.facts
    if report.baseline is not None:
        base = by_name[report.baseline]
        for g in report.groups:
            if report.baseline not in g.runs:
                g.difference = difference(by_name[g.representative], base, report.varying, cache)
    for o in report.outliers:
        peer = by_name[representative_peer(o, by_name, report.metric or "")]
        o.explanation = difference(by_name[o.run], peer, report.varying, cache)


def representative_peer(o: Outlier, by_name: dict[str, RunSummary], tag: str) -> str:
    """The peer whose final value is nearest the peers' median (the first by name on a tie):
    what the outlier is explained against, the runs it was judged against having its
    hyper-parameters (the global baseline may not: its differences would explain nothing)."""

    def distance(name: str) -> tuple[float, str]:
        v = _value(by_name[name], tag)
        return (abs(v - o.peers_median) if v is not None else math.inf, name)

    return min(o.peers, key=distance)


def _facts(run: RunSummary, cache: dict) -> dict[str, str] | None:
    """The inspect lines of the run's model as `compare` describes it (fingerprint.facts), or
    None when it has no model record or it cannot be re-read."""
    if run.model is None:
        return None
    from tbdiff.multirun.fingerprint import facts

    try:
        return facts(_described(run, cache)[1])
    except TbdiffError:
        return None


def difference(run: RunSummary, other: RunSummary, varying: list[str], cache: dict) -> Difference:
    """Hyper-parameter differences, and the findings between the two runs' models (described
    as `compare` describes them: graph, Keras config, hparams) unless their keys are equal."""
    d = Difference(vs=other.name)
    for k in varying:
        a, b = run.hparams.get(k), other.hparams.get(k)
        if _hashable(a) != _hashable(b):
            d.hparams[k] = [a, b]
    if run.model is not None and other.model is not None and run.model.key == other.model.key:
        return d  # the same model: no model finding to look for
    try:
        (ga, ma), (gb, mb) = _described(run, cache), _described(other, cache)
    except TbdiffError as exc:
        d.error = str(exc)
        return d
    from tbdiff.pipeline import compare_models

    compared = compare_models(ma, mb, ga, gb)
    if compared is None:
        d.error = (
            "no model recorded"
            if run.graph is None
            else f"{other.name} has no model recorded"
            if other.graph is None
            else "the two models are not comparable"
        )
        return d
    d.findings = [FindingRef(f.id, f.severity, f.title) for f in compared[0]]
    return d


def _described(run: RunSummary, cache: dict) -> tuple[Any, Any]:
    """(graph, ModelDescription) of a run, from its graph and Keras config records re-read from
    its event files (summaries keep only where they are) and its hparams."""
    if run.name in cache:
        return cache[run.name]
    from tbdiff import graph
    from tbdiff.model import RunInputs, describe

    source = _record(run.graph, cache) if run.graph is not None else None
    g = graph.load_graph(source) if source is not None else None
    config = None
    for where in run.keras:  # latest first; the first that decodes (as pipeline.run_inputs)
        rec = _record(where, cache)
        try:
            config = rec.keras_config() if rec is not None else None
        except TbdiffError:
            continue
        if config is not None:
            break
    out = (g, describe(RunInputs(graph=g, keras_config=config, hparams=dict(run.hparams))))
    cache[run.name] = out
    return out


def _record(where: tuple[str, str, int], cache: dict) -> Any:
    """The graph record at (folder, file, offset); one read per event file."""
    folder, file, offset = where
    if (folder, file) not in cache:
        from tbdiff import events
        from tbdiff.events import storage

        rd = events.read_run(
            events.Run("g", storage.as_path(folder), [storage.as_path(file)]), scalars=False
        )
        cache[(folder, file)] = {g.offset: g for g in rd.graphs}
    return cache[(folder, file)].get(offset)


def to_json(report: RunsReport) -> dict[str, Any]:
    """The `tbdiff.runs/1` document (README: "JSON of tbdiff runs")."""
    from tbdiff.report import _json_safe as json_safe

    def metrics(r: RunSummary) -> dict:
        return {
            t: {
                "final": c.final,
                "best": c.best,
                "best_step": c.best_step,
                "last_step": c.last_step,
                "points": c.points,
            }
            for t, c in r.curves.items()
            if t in report.metrics
        }

    doc = {
        "schema": SCHEMA,
        "roots": report.roots,
        "metric": report.metric,
        "metrics": report.metrics,
        "varying_hparams": report.varying,
        "baseline": report.baseline,
        "runs": [
            {
                "name": r.name,
                "path": r.path,
                "group": report.group_of.get(r.name),
                "hparams": {k: r.hparams.get(k) for k in report.varying},
                "metrics": metrics(r),
            }
            for r in report.runs
        ],
        "groups": [
            {
                "id": g.id,
                "size": len(g.runs),
                "runs": g.runs,
                "model": {"key": g.key, "source": g.source, "facts": g.facts},
                "representative": g.representative,
                "best": g.best,
                "differences": g.difference.to_dict() if g.difference else None,
                "noise_floor": g.noise_floor,
                "replicate_sets": g.replicate_sets,
                "noise_floor_note": g.floor_note,
            }
            for g in report.groups
        ],
        "outliers": [
            {
                "run": o.run,
                "group": o.group,
                "value": o.value,
                "peers": o.peers,
                "peers_group": o.peers_group,
                "peers_median": o.peers_median,
                "sigmas": o.sigmas,
                "explanation": o.explanation.to_dict() if o.explanation else None,
            }
            for o in report.outliers
        ],
        "judged_runs": report.judged,
        "hparam_effects": {
            "method": ETA_METHOD.format(metric=report.metric),
            "ranking": [
                {
                    "hparam": e.hparam,
                    "eta_squared": e.eta_squared,
                    "levels": e.levels,
                    "runs": e.runs,
                }
                for e in report.effects
            ],
        },
        "warnings": [w.to_dict() for w in report.warnings],
    }
    return json_safe(doc)
