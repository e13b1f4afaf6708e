"""Pair the scalar curves of two runs and say where and how much they differ.

Two runs of "the same" model rarely name their curves the same way: raw TF1 writes
`Accuracy/accuracy`, tf.keras 2 writes `epoch_accuracy` under `train/` and `validation/`
sub-runs, old Keras writes `acc` and `val_acc`. Pairing therefore goes from strict to loose
(forced, exact, normalised within a family, normalised across train/unspecified or
validation/test) and every pair records how it was made, so a loose pair is never mistaken
for an exact one. Comparison works on numpy arrays only (no Python loop over points), so
millions of points per curve are fine.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError

if TYPE_CHECKING:  # events is imported for types only: any object with these fields works
    from tbdiff.events import RunData, ScalarSeries

# k in "apart = |a - b| > K * (noise_a + noise_b) + eps"
DEFAULT_K = 3.0
# Step axes whose spans differ by at least this factor may count different units (epoch vs batch);
# below it, a different span is more likely a longer run or another logging stride.
_UNIT_RATIO = 10.0
# Greedy similarity matching inside one ambiguous name group is quadratic; above this many
# candidate pairs the group is matched by sorted order instead (keeps pairing O(T log T)).
_MAX_GREEDY = 2500

# ---------------------------------------------------------------------------------------------
# Tag names
# ---------------------------------------------------------------------------------------------

_FAMILY_WORDS = {
    "train": "train",
    "training": "train",
    "val": "validation",
    "valid": "validation",
    "validation": "validation",
    "eval": "validation",
    "evaluation": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
}
_FAMILY_PREFIX = re.compile(
    r"^(train|training|val|valid|validation|eval|evaluation|test|testing|dev)_(?=.)"
)
_FAMILY_SUFFIX = re.compile(r"(?<=.)_(train|training|val|valid|validation|test|testing)$")
_GRAN_PREFIX = re.compile(r"^(epoch|batch)_(?=.)")
# Lightning's `_epoch`/`_step`; Keras' `evaluation_loss_vs_iterations` (what its TensorBoard
# callback writes at the end of every evaluation, model.evaluate included, per optimizer step)
_GRAN_SUFFIX = re.compile(r"(?<=.)_(epoch|step|vs_iterations)$")
_ALIASES = {"acc": "accuracy", "lr": "learning_rate", "err": "error"}

_MAX_WORDS = {
    "accuracy", "precision", "recall", "f1", "auc", "iou", "miou", "map", "bleu", "rouge",
    "r2", "dice", "top1", "top5", "reward", "rewards", "return", "returns", "score", "success",
    "psnr", "ssim", "mrr", "ndcg",
}  # fmt: skip
_MIN_WORDS = {
    "loss", "error", "mse", "mae", "rmse", "mape", "msle", "perplexity", "ppl", "nll", "xent",
    "crossentropy", "entropy", "wer", "cer", "cost", "hinge", "kld", "regret",
}  # fmt: skip
_FAMILY_RANK = {"test": 0, "validation": 1, "train": 2, "": 2}


@dataclass(frozen=True)
class TagName:
    """What a scalar key means once naming conventions are peeled off.

    `family` is "train", "validation", "test" or "" (not said); `coarse` merges the held-out
    families (validation, test -> "heldout") and train with "" (-> "train"), because a bare
    `accuracy` is almost always a training curve and `val_acc` vs `test/accuracy` is the same
    kind of measurement under another name.
    """

    key: str
    metric: str
    family: str
    context: tuple[str, ...]
    gran: str | None  # "epoch" | "batch" | None

    @property
    def coarse(self) -> str:
        return "heldout" if self.family in ("validation", "test") else "train"

    @property
    def goal(self) -> str | None:
        return metric_goal(self.metric)


def _strip_affixes(comp: str) -> tuple[str, str, str | None]:
    """Remove epoch_/batch_ and family prefixes/suffixes; return (rest, family, granularity)."""
    family, gran = "", None
    changed = True
    while changed:
        changed = False
        m = _GRAN_PREFIX.match(comp)
        if m:
            gran, comp, changed = m.group(1), comp[m.end() :], True
        m = _FAMILY_PREFIX.match(comp)
        if m:
            family, comp, changed = _FAMILY_WORDS[m.group(1)], comp[m.end() :], True
        m = _GRAN_SUFFIX.search(comp)
        if m:
            gran = "epoch" if m.group(1) == "epoch" else "batch"
            comp, changed = comp[: m.start()], True
        m = _FAMILY_SUFFIX.search(comp)
        if m:
            family, comp, changed = _FAMILY_WORDS[m.group(1)], comp[: m.start()], True
    return comp, family, gran


def _alias(comp: str) -> str:
    return "_".join(_ALIASES.get(t, t) for t in comp.split("_"))


def parse_tag(key: str) -> TagName:
    """Normalise a scalar key (`run/tag`) into metric name, family, context and granularity.

    Lowercase; split on "/"; strip `epoch_`/`batch_` (and Lightning's `_epoch`/`_step`);
    `val_`/`test_`/`train_` prefixes and family path components (a sub-run named `validation`,
    `train`, `eval`...) set the family; `acc` -> `accuracy`; the last remaining component is
    the metric and earlier components that repeat it (`Accuracy/accuracy`) are dropped.
    """
    family, gran = "", None
    cleaned: list[str] = []
    for raw in key.lower().replace("\\", "/").split("/"):
        comp = re.sub(r"\s+", "_", raw.strip())
        if not comp or comp == ".":
            continue
        if comp in _FAMILY_WORDS:
            family = _FAMILY_WORDS[comp]
            continue
        comp, fam, g = _strip_affixes(comp)
        family = fam or family
        gran = g or gran
        if comp in _FAMILY_WORDS:
            family = _FAMILY_WORDS[comp]
            continue
        if comp:
            cleaned.append(_alias(comp))
    if not cleaned:
        cleaned = [key.lower()]
    metric = cleaned[-1]
    context = tuple(c for c in cleaned[:-1] if c != metric)
    return TagName(key=key, metric=metric, family=family, context=context, gran=gran)


ROLES = ("train", "validation", "test")


def curve_role(key: str) -> str:
    """ "train", "validation" or "test": what a scalar key (`run/tag`) measures on, the one rule
    every part of tbdiff uses (pairing, ordering, the verdict, the report).

    Read from the family words of the tag and of its sub-run path (`validation/`, `eval/`,
    `test/`, `val_acc`, `epoch_test_accuracy`, Keras' `evaluation_*_vs_iterations` that its
    callback writes for every evaluation, `model.evaluate` included); `eval`/`dev` count as
    validation. A key that says none is a training curve, as a bare `accuracy` almost always is.
    """
    return parse_tag(key).family or "train"


def metric_goal(name: str) -> str | None:
    """ "max" for accuracy-like names, "min" for loss/error-like names, None when unknown."""
    tokens = set(re.split(r"[^a-z0-9]+", name.lower()))
    tokens = {_ALIASES.get(t, t) for t in tokens}
    if tokens & _MIN_WORDS or "loss" in name.lower():
        return "min"
    if tokens & _MAX_WORDS or "accuracy" in name.lower():
        return "max"
    return None


def importance_key(key: str) -> tuple:
    """Sort key: accuracy/loss curves first, held-out (test, validation) before train, then name."""
    n = parse_tag(key)
    tokens = set(re.split(r"[^a-z0-9]+", n.metric))
    if "accuracy" in tokens or "accuracy" in n.metric:
        group, within = 0, 0
    elif "loss" in tokens or "loss" in n.metric:
        group, within = 0, 1
    elif n.goal is not None:
        group, within = 1, 0
    else:
        group, within = 2, 0
    return (group, _FAMILY_RANK.get(n.family, 2), within, n.metric, key)


# ---------------------------------------------------------------------------------------------
# Pairing
# ---------------------------------------------------------------------------------------------


@dataclass
class TagPair:
    """One pairing decision, before any number is compared."""

    a: str
    b: str
    how: str  # "exact" | "normalised" | "forced"
    note: str = ""


def _resolve(key: str, keys: Sequence[str], side: str) -> str:
    """Find the key a user meant: exact, else the unique key ending with `/key`."""
    if key in keys:
        return key
    hits = [k for k in keys if k.endswith("/" + key)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise TbdiffError(f"--pair: tag {key!r} is ambiguous in {side}: {', '.join(sorted(hits))}")
    shown = ", ".join(sorted(keys)[:12]) + (" ..." if len(keys) > 12 else "")
    raise TbdiffError(f"--pair: {side} has no scalar tag {key!r} (tags: {shown or 'none'})")


def _score(a: TagName, b: TagName) -> tuple:
    """How alike two keys in one normalised group are: shared context, granularity, spelling."""
    return (
        len(set(a.context) & set(b.context)),
        a.gran == b.gran,
        a.family == b.family,
        "batch" not in (a.gran, b.gran),
        difflib.SequenceMatcher(None, a.key, b.key).ratio(),
    )


def _match_group(la: list[TagName], lb: list[TagName]) -> list[tuple[TagName, TagName, bool]]:
    """Pair the members of one name group; the bool says the choice rests on spelling alone
    (no shared path component such as the run name)."""
    if len(la) == 1 and len(lb) == 1:
        return [(la[0], lb[0], False)]
    out: list[tuple[TagName, TagName, bool]] = []
    # Epoch-level/unspecified curves claim a partner before batch-level ones.
    rest_a = sorted(la, key=lambda n: (n.gran == "batch", n.key))
    rest_b = sorted(lb, key=lambda n: (n.gran == "batch", n.key))
    # Same context (e.g. the same run name under both logdirs) first, by dict lookup: with the
    # same granularity and family, then with a non-empty context alone (an empty context is no
    # evidence: the scored pass below then prefers epoch-level over batch-level curves).
    for ident in (
        lambda n: (n.context, n.gran, n.family),
        lambda n: n.context or (n.key,),
    ):
        by_ctx: dict[tuple, list[TagName]] = defaultdict(list)
        for nb in rest_b:
            by_ctx[ident(nb)].append(nb)
        left_a: list[TagName] = []
        used_b: set[str] = set()
        for na in rest_a:
            cands = by_ctx.get(ident(na))
            if cands:
                nb = cands.pop(0)
                used_b.add(nb.key)
                out.append((na, nb, False))
            else:
                left_a.append(na)
        rest_a = left_a
        rest_b = [nb for nb in rest_b if nb.key not in used_b]
    if not rest_a or not rest_b:
        return out
    if len(rest_a) * len(rest_b) > _MAX_GREEDY:
        for na, nb in zip(
            sorted(rest_a, key=lambda n: n.key), sorted(rest_b, key=lambda n: n.key), strict=False
        ):
            out.append((na, nb, True))
        return out
    scored = sorted(
        ((_score(na, nb), na.key, nb.key, na, nb) for na in rest_a for nb in rest_b),
        key=lambda t: (tuple(-x for x in t[0]), t[1], t[2]),
    )
    free_a, free_b = {n.key for n in rest_a}, {n.key for n in rest_b}
    for score, ka, kb, na, nb in scored:
        if ka in free_a and kb in free_b:
            free_a.discard(ka)
            free_b.discard(kb)
            out.append((na, nb, score[0] == 0))
    return out


def _describe(na: TagName, nb: TagName, ambiguous: bool, n_a: int, n_b: int) -> str:
    parts = []
    if na.family != nb.family:
        parts.append(
            f"families differ ({na.family or 'unspecified'} vs {nb.family or 'unspecified'})"
        )
    if na.gran != nb.gran and na.gran and nb.gran:
        parts.append(f"{na.gran}-level vs {nb.gran}-level")
    if ambiguous:
        parts.append(f"chosen by name similarity among {n_a}x{n_b} candidates")
    elif n_a > 1 or n_b > 1:
        shared = [c for c in na.context if c in nb.context]
        if shared:
            parts.append(
                f"matched on shared path {'/'.join(shared)!r} among {n_a}x{n_b} candidates"
            )
    return "; ".join(parts)


def pair_tags(
    keys_a: Iterable[str], keys_b: Iterable[str], forced: Sequence[tuple[str, str]] = ()
) -> tuple[list[TagPair], list[str], list[str]]:
    """Pair scalar keys of A and B: forced, then exact, then normalised names.

    Returns (pairs in importance order, unpaired A keys, unpaired B keys), both unpaired
    lists sorted by name. Raises TbdiffError for a forced tag that does not exist.
    """
    keys_a, keys_b = list(dict.fromkeys(keys_a)), list(dict.fromkeys(keys_b))
    pairs: list[TagPair] = []
    used_a: set[str] = set()
    used_b: set[str] = set()
    for fa, fb in forced:
        ka, kb = _resolve(fa, keys_a, "A"), _resolve(fb, keys_b, "B")
        if ka in used_a or kb in used_b:
            raise TbdiffError(f"--pair: {ka if ka in used_a else kb!r} is used in two forced pairs")
        used_a.add(ka)
        used_b.add(kb)
        pairs.append(TagPair(ka, kb, "forced"))
    set_b = set(keys_b) - used_b
    for k in keys_a:
        if k not in used_a and k in set_b:
            used_a.add(k)
            used_b.add(k)
            pairs.append(TagPair(k, k, "exact"))
    names_a = {k: parse_tag(k) for k in keys_a if k not in used_a}
    names_b = {k: parse_tag(k) for k in keys_b if k not in used_b}
    # Fine families first so that test pairs with test and validation with validation when
    # both exist; the coarse pass then pairs what is left (val_acc vs test/accuracy).
    for group_key in (lambda n: (n.family, n.metric), lambda n: (n.coarse, n.metric)):
        ga: dict[tuple, list[TagName]] = defaultdict(list)
        gb: dict[tuple, list[TagName]] = defaultdict(list)
        for k in sorted(names_a):
            if k not in used_a:
                ga[group_key(names_a[k])].append(names_a[k])
        for k in sorted(names_b):
            if k not in used_b:
                gb[group_key(names_b[k])].append(names_b[k])
        for g in sorted(ga):
            if g not in gb:
                continue
            for na, nb, amb in _match_group(ga[g], gb[g]):
                used_a.add(na.key)
                used_b.add(nb.key)
                note = _describe(na, nb, amb, len(ga[g]), len(gb[g]))
                pairs.append(TagPair(na.key, nb.key, "normalised", note))
    pairs.sort(key=lambda p: importance_key(p.a))
    unpaired_a = sorted(k for k in keys_a if k not in used_a)
    unpaired_b = sorted(k for k in keys_b if k not in used_b)
    return pairs, unpaired_a, unpaired_b


# ---------------------------------------------------------------------------------------------
# Series comparison
# ---------------------------------------------------------------------------------------------


@dataclass
class _Clean:
    """A series reduced to finite points, one per step, plus what was removed."""

    steps: np.ndarray  # int64, strictly increasing
    values: np.ndarray  # float64, finite
    wall: np.ndarray
    duplicates: int
    nan: int
    inf: int
    first_nonfinite_step: int | None


def _clean(s: ScalarSeries) -> _Clean:
    steps = np.asarray(s.steps, dtype=np.int64).ravel()
    values = np.asarray(s.values, dtype=np.float64).ravel()
    wall = np.asarray(getattr(s, "wall_times", np.zeros(0)), dtype=np.float64).ravel()
    if wall.shape != steps.shape:
        wall = np.zeros(steps.shape, dtype=np.float64)
    if steps.size > 1 and np.any(steps[1:] < steps[:-1]):
        order = np.argsort(steps, kind="stable")
        steps, values, wall = steps[order], values[order], wall[order]
    # Several records for one step (appended sessions, restarts): the last one written wins,
    # like TensorBoard shows after a restart purge.
    last = np.ones(steps.shape, dtype=bool)
    if steps.size > 1:
        last[:-1] = steps[1:] != steps[:-1]
    duplicates = int(steps.size - last.sum())
    steps, values, wall = steps[last], values[last], wall[last]
    finite = np.isfinite(values)
    bad = ~finite
    first_bad = int(steps[bad][0]) if bad.any() else None
    return _Clean(
        steps=steps[finite],
        values=values[finite],
        wall=wall[finite],
        duplicates=duplicates,
        nan=int(np.isnan(values).sum()),
        inf=int(np.isinf(values).sum()),
        first_nonfinite_step=first_bad,
    )


def _stride(steps: np.ndarray) -> float:
    return float(np.median(np.diff(steps))) if steps.size > 1 else 0.0


def _span_text(steps: np.ndarray) -> str:
    if steps.size == 0:
        return "no points"
    stride = _stride(steps)
    every = f", every {stride:g}" if steps.size > 1 else ""
    return f"{steps.size} points at steps {_fmt(steps[0])}..{_fmt(steps[-1])}{every}"


def _fmt(x: float) -> str:
    return f"{x:g}" if float(x) != int(x) else str(int(x))


def _unit_scale(
    ca: _Clean, cb: _Clean, gran_a: str | None, gran_b: str | None
) -> tuple[str, float] | None:
    """Detect step axes counting different units (epochs vs batches) -> (side to divide, factor).

    Both runs must have several points, step spans differing at least `_UNIT_RATIO`-fold, the
    shorter axis counting 1, 2, 3... (an epoch counter), plus one piece of evidence that they
    cover the same training: about as many points (one per epoch each, e.g. steps 0..29 vs
    every 550), about the same wall-clock duration, or names saying epoch vs batch. A run that
    simply stopped early has a shorter wall-clock span and fewer points, so it is not rescaled.
    The factor assumes both runs cover the same training (it maps span onto span).
    """
    if ca.steps.size < 2 or cb.steps.size < 2:
        return None
    span_a = float(ca.steps[-1] - ca.steps[0])
    span_b = float(cb.steps[-1] - cb.steps[0])
    if min(span_a, span_b) <= 0:
        return None
    big, small = (ca, cb) if span_a > span_b else (cb, ca)
    side = "A" if big is ca else "B"
    span_big, span_small = max(span_a, span_b), min(span_a, span_b)
    # An epoch counter goes up by one; a much longer axis then counts batches or samples.
    if span_big / span_small < _UNIT_RATIO or _stride(small.steps) != 1:
        return None
    count_ratio = big.steps.size / small.steps.size
    similar_counts = 0.8 <= count_ratio <= 1.25
    wb, ws = np.ptp(big.wall), np.ptp(small.wall)
    similar_walls = wb > 0 and ws > 0 and 1 / 3 <= wb / ws <= 3
    gran_big, gran_small = (gran_a, gran_b) if side == "A" else (gran_b, gran_a)
    named = gran_big == "batch" and gran_small == "epoch"
    if not (similar_counts or similar_walls or named):
        return None
    factor = (span_big + _stride(big.steps)) / (span_small + _stride(small.steps))
    return side, factor


@dataclass
class _Aligned:
    grid: np.ndarray
    va: np.ndarray
    vb: np.ndarray
    notes: list[str]
    resampled: bool = False


def _align(ca: _Clean, cb: _Clean, gran_a: str | None, gran_b: str | None) -> _Aligned:
    """Put both curves on one step grid: identical steps, or the coarser grid + interpolation."""
    notes: list[str] = []
    resampled = False
    sa: np.ndarray = ca.steps
    sb: np.ndarray = cb.steps
    scale = _unit_scale(ca, cb, gran_a, gran_b)
    if scale is not None:
        side, factor = scale
        resampled = True
        if side == "A":
            sa = ca.steps / factor
        else:
            sb = cb.steps / factor
        other = "B" if side == "A" else "A"
        notes.append(
            f"step units differ ({side} counts ~{factor:.4g}x more steps for the same training): "
            f"{side}'s steps divided by {factor:.4g} to compare on {other}'s scale"
        )
    empty = np.zeros(0)
    if sa.size == 0 or sb.size == 0:
        return _Aligned(empty, empty, empty, notes)
    lo, hi = max(sa[0], sb[0]), min(sa[-1], sb[-1])
    if lo > hi:
        notes.append(
            f"no overlapping steps (A {_fmt(sa[0])}..{_fmt(sa[-1])}, B {_fmt(sb[0])}..{_fmt(sb[-1])})"
        )
        return _Aligned(empty, empty, empty, notes)
    ma = (sa >= lo) & (sa <= hi)
    mb = (sb >= lo) & (sb <= hi)
    ga, gb = sa[ma], sb[mb]
    if ga.size == gb.size and np.array_equal(ga, gb):
        grid, va, vb = ga, ca.values[ma], cb.values[mb]
    else:
        # The coarser grid has the fewer points in the overlap; ties go to the unscaled side,
        # then to A. Interpolating the finer curve never extrapolates: grid is inside its range.
        use_a = ga.size < gb.size or (ga.size == gb.size and (scale is None or scale[0] == "B"))
        if use_a:
            grid, va, vb = ga, ca.values[ma], np.interp(ga, sb, cb.values)
        else:
            grid, va, vb = gb, np.interp(gb, sa, ca.values), cb.values[mb]
        coarse, fine = ("A", "B") if use_a else ("B", "A")
        if np.isin(grid, sb if use_a else sa).all():
            # Only missing points (e.g. dropped non-finite values): no interpolation happened.
            notes.append(
                f"{fine} has {abs(int(gb.size) - int(ga.size))} steps that {coarse} lacks: "
                f"compared on {coarse}'s {grid.size} steps"
            )
        else:
            resampled = True
            notes.append(
                f"step grids differ (A: {_span_text(sa)}; B: {_span_text(sb)}): {fine} linearly "
                f"interpolated onto {coarse}'s steps {_fmt(grid[0])}..{_fmt(grid[-1])}"
            )
    if sa[-1] != sb[-1] or sa[0] != sb[0]:
        notes.append(
            f"ranges differ (A {_fmt(sa[0])}..{_fmt(sa[-1])}, B {_fmt(sb[0])}..{_fmt(sb[-1])}): "
            f"compared on {_fmt(lo)}..{_fmt(hi)} only"
        )
    return _Aligned(
        np.asarray(grid),
        np.asarray(va, dtype=np.float64),
        np.asarray(vb, dtype=np.float64),
        notes,
        resampled,
    )


def noise_level(values: np.ndarray) -> float:
    """Robust step-to-step noise (a standard deviation) of one curve.

    Median absolute *second* difference, scaled for Gaussian noise: unlike first differences
    it ignores a steady trend (a loss falling 0.01 per step is not noise), and the median
    ignores the few large jumps (a learning-rate drop, the point where two curves split).
    Falls back to first differences for curves of 2-3 points.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size >= 4:
        d2 = v[2:] - 2.0 * v[1:-1] + v[:-2]
        return float(np.median(np.abs(d2)) / (0.6745 * math.sqrt(6.0)))
    if v.size >= 2:
        return float(np.median(np.abs(np.diff(v))) / (0.6745 * math.sqrt(2.0)))
    return 0.0


def divergence_index(
    va: np.ndarray, vb: np.ndarray, *, k: float = DEFAULT_K, min_run: int = 2
) -> int | None:
    """First index from which |a - b| stays above k*(noise_a + noise_b) + eps to the end.

    None when the curves are together at the end, or apart only on the last point (a single
    outlier is not a divergence; `min_run` points are needed, so curves with one common point
    never "separate"). eps is relative to the values' magnitude so float32 rounding of
    identical curves never counts as apart.
    """
    n = va.size
    if n < max(min_run, 2):
        return None
    scale = float(max(np.max(np.abs(va)), np.max(np.abs(vb))))
    eps = 1e-6 * scale + 1e-12
    threshold = k * (noise_level(va) + noise_level(vb)) + eps
    apart = np.abs(vb - va) > threshold
    if not apart[-1]:
        return None
    together = np.flatnonzero(~apart)
    start = int(together[-1]) + 1 if together.size else 0
    if n - start < min_run:
        return None
    return start


def _num(x: Any) -> float | None:
    """JSON-safe float: NaN/inf/None -> None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _step_value(x: Any) -> int | float | None:
    if x is None:
        return None
    x = float(x)
    return int(x) if x.is_integer() else round(x, 6)


def downsample_indices(steps: np.ndarray, series: list[np.ndarray], buckets: int) -> np.ndarray:
    """Sorted indices of the points to draw: first, last, and per step bucket the argmin and
    argmax of every series (at most 2 * len(series) * buckets + 2; fewer points are all kept).
    `steps` is ascending; all arrays have the same length. Only real points are kept, so every
    spike and dip stays visible and every value drawn is a logged one."""
    n = int(steps.size)
    if n <= 2 * len(series) * buckets + 2:
        return np.arange(n)
    lo, hi = float(steps[0]), float(steps[-1])
    span = hi - lo
    if span > 0:
        bucket = np.minimum(((steps - lo) / span * buckets).astype(np.int64), buckets - 1)
    else:
        bucket = np.arange(n) * buckets // n
    # steps ascend, so each bucket is one run of indices: O(n) per-run extremes, no sort
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, n])
    keep = [np.array([0, n - 1])]
    for values in series:
        for extreme in (np.minimum, np.maximum):
            per_bucket = np.repeat(extreme.reduceat(values, starts), counts)
            hits = np.flatnonzero(values == per_bucket)  # NaN never hits: skipped
            first = np.searchsorted(hits, starts)  # the first hit at or after each run start
            keep.append(hits[first[first < hits.size]])
    return np.unique(np.concatenate(keep))


# step buckets of each side's own curve kept for drawing (about one per pixel of a wide chart)
DRAW_BUCKETS = 1000


@dataclass(frozen=True)
class CurvePoints:
    """One side's own curve for drawing, over its whole step range (not only the common steps):
    its finite points, one per step, downsampled by `downsample_indices` to at most
    2 * DRAW_BUCKETS + 2 points with every bucket's minimum and maximum kept."""

    steps: np.ndarray  # int64, ascending
    values: np.ndarray  # float64, finite
    total: int  # finite points before downsampling

    @classmethod
    def of(cls, steps: np.ndarray, values: np.ndarray, buckets: int = DRAW_BUCKETS) -> CurvePoints:
        idx = downsample_indices(steps.astype(np.float64), [values], buckets)
        return cls(steps[idx], values[idx], int(steps.size))


def _no_points() -> CurvePoints:
    return CurvePoints(np.zeros(0, np.int64), np.zeros(0), 0)


@dataclass
class ScalarPair:
    """The comparison of one paired curve. Statistics ignore non-finite points (counted)."""

    tag_a: str
    tag_b: str
    how: str  # "exact" | "normalised" | "forced"
    steps: int  # number of common grid steps
    first_a: float | None
    first_b: float | None
    final_a: float | None  # last finite value of A's own series (its own last step)
    final_b: float | None
    best_a: float | None  # max or min by name (see `goal`); None when the goal is unknown
    best_b: float | None
    max_abs_diff: float | None  # on the common grid
    mean_diff: float | None  # mean of (b - a) on the common grid
    final_gap: float | None  # b - a at the last common step
    diverges_at_step: int | float | None  # grid step from which the curves stay apart
    note: str
    grid_steps: np.ndarray = field(repr=False)
    values_a: np.ndarray = field(repr=False)
    values_b: np.ndarray = field(repr=False)
    goal: str | None = None  # "max" | "min" | None
    final_step_a: int | None = None
    final_step_b: int | None = None
    nonfinite_a: int = 0
    nonfinite_b: int = 0
    duplicates_a: int = 0
    duplicates_b: int = 0
    resampled: bool = False
    role_a: str = "train"  # `curve_role` of each key
    role_b: str = "train"
    apart_by: float | None = None  # smallest |b - a| from `diverges_at_step` on (the evidence)
    # each side's own curve over its own steps, downsampled (the HTML charts draw these)
    points_a: CurvePoints = field(default_factory=_no_points, repr=False)
    points_b: CurvePoints = field(default_factory=_no_points, repr=False)

    @property
    def role(self) -> str:
        """The pair's role: the sides' common one, "validation/test" when they differ."""
        if self.role_a == self.role_b:
            return self.role_a
        return "/".join(r for r in ROLES if r in (self.role_a, self.role_b))

    @property
    def name(self) -> str:
        """What the pair measures in words: "test accuracy", "train loss", "validation reward"."""
        return f"{self.role} {parse_tag(self.tag_a).metric.replace('_', ' ')}"

    @property
    def final_diff(self) -> float | None:
        """final_b - final_a: each run's own last value (their last steps may differ)."""
        if self.final_a is None or self.final_b is None:
            return None
        return self.final_b - self.final_a

    def to_dict(self) -> dict[str, Any]:
        """The report.md keys (tag_a, tag_b, steps, final_a, final_b, max_abs_diff,
        diverges_at_step) plus extras; JSON-safe (NaN -> null, numpy -> Python)."""
        return {
            "tag_a": self.tag_a,
            "tag_b": self.tag_b,
            "steps": int(self.steps),
            "final_a": _num(self.final_a),
            "final_b": _num(self.final_b),
            "max_abs_diff": _num(self.max_abs_diff),
            "diverges_at_step": _step_value(self.diverges_at_step),
            "how": self.how,
            "first_a": _num(self.first_a),
            "first_b": _num(self.first_b),
            "best_a": _num(self.best_a),
            "best_b": _num(self.best_b),
            "goal": self.goal,
            "mean_diff": _num(self.mean_diff),
            "final_gap": _num(self.final_gap),
            "final_step_a": self.final_step_a,
            "final_step_b": self.final_step_b,
            "nonfinite_a": int(self.nonfinite_a),
            "nonfinite_b": int(self.nonfinite_b),
            "duplicates_a": int(self.duplicates_a),
            "duplicates_b": int(self.duplicates_b),
            "resampled": bool(self.resampled),
            "note": self.note,
            "role": self.role,
            "role_a": self.role_a,
            "role_b": self.role_b,
            "apart_by": _num(self.apart_by),
        }


def _removed_note(side: str, c: _Clean) -> list[str]:
    notes = []
    if c.duplicates:
        notes.append(
            f"{side}: {c.duplicates} duplicate steps (kept the last value written per step)"
        )
    if c.nan or c.inf:
        notes.append(
            f"{side}: {c.nan + c.inf} non-finite values ({c.nan} NaN, {c.inf} inf; first at step "
            f"{c.first_nonfinite_step}) ignored"
        )
    return notes


def compare_series(
    a: ScalarSeries,
    b: ScalarSeries,
    *,
    tag_a: str | None = None,
    tag_b: str | None = None,
    how: str = "exact",
    note: str = "",
    k: float = DEFAULT_K,
) -> ScalarPair:
    """Compare two curves: align on a common step grid, then summarise in O(N) with numpy."""
    tag_a = tag_a if tag_a is not None else a.tag
    tag_b = tag_b if tag_b is not None else b.tag
    na, nb = parse_tag(tag_a), parse_tag(tag_b)
    goal = na.goal or nb.goal
    ca, cb = _clean(a), _clean(b)
    al = _align(ca, cb, na.gran, nb.gran)
    notes = [note] if note else []
    notes += _removed_note("A", ca) + _removed_note("B", cb) + al.notes
    if ca.steps.size == 0 or cb.steps.size == 0:
        notes.append(f"{'A' if ca.steps.size == 0 else 'B'} has no finite values")

    def best(c: _Clean) -> float | None:
        if c.values.size == 0 or goal is None:
            return None
        return float(c.values.max() if goal == "max" else c.values.min())

    def end(c: _Clean, i: int) -> float | None:
        return float(c.values[i]) if c.values.size else None

    n = int(al.grid.size)
    diff = al.vb - al.va
    div = divergence_index(al.va, al.vb, k=k) if n else None
    return ScalarPair(
        tag_a=tag_a,
        tag_b=tag_b,
        how=how,
        steps=n,
        first_a=end(ca, 0),
        first_b=end(cb, 0),
        final_a=end(ca, -1),
        final_b=end(cb, -1),
        best_a=best(ca),
        best_b=best(cb),
        max_abs_diff=float(np.max(np.abs(diff))) if n else None,
        mean_diff=float(np.mean(diff)) if n else None,
        final_gap=float(diff[-1]) if n else None,
        diverges_at_step=(al.grid[div].item() if div is not None else None),
        note="; ".join(notes),
        grid_steps=al.grid,
        values_a=al.va,
        values_b=al.vb,
        goal=goal,
        final_step_a=int(ca.steps[-1]) if ca.steps.size else None,
        final_step_b=int(cb.steps[-1]) if cb.steps.size else None,
        nonfinite_a=ca.nan + ca.inf,
        nonfinite_b=cb.nan + cb.inf,
        duplicates_a=ca.duplicates,
        duplicates_b=cb.duplicates,
        resampled=al.resampled,
        role_a=curve_role(tag_a),
        role_b=curve_role(tag_b),
        apart_by=float(np.min(np.abs(diff[div:]))) if div is not None else None,
        points_a=CurvePoints.of(ca.steps, ca.values),
        points_b=CurvePoints.of(cb.steps, cb.values),
    )


# ---------------------------------------------------------------------------------------------
# What a pair says, in words
# ---------------------------------------------------------------------------------------------


def _value(x: float) -> str:
    return f"{x:.4g}"


def _amount(d: float, pair: ScalarPair) -> str:
    """|d| as accuracy points for a 0..1 higher-is-better metric, else as a plain number."""
    finals = (pair.final_a or 0.0, pair.final_b or 0.0)
    if pair.goal == "max" and all(0.0 <= f <= 1.0 for f in finals):
        return f"{abs(d) * 100:.1f} points"
    return f"{abs(d):.3g}"


@dataclass(frozen=True)
class CurveGap:
    """Where two runs stand on one paired curve at the end, and the evidence, in words.

    `behind` is the side ("A"/"B") whose final value is worse by the metric's goal (lower
    accuracy, higher loss); None when the finals are equal or the goal is unknown. "Final" is
    each run's own last value: `finals` says at which steps when they differ. `since` is the
    step from which the curves stay apart (None: not apart for good), by at least `by`.
    """

    name: str  # "test accuracy"
    behind: str | None
    finals: str  # "0.9668 vs 0.9825 at the end" (the behind side's value first)
    size: str  # "1.6 points" / "0.057" / "" (equal)
    direction: str = ""  # "lower" / "higher" (the behind side's final vs the other's)
    since: int | float | None = None
    by: str = ""  # "1.5 points"
    steps: int = 0  # common steps compared

    @property
    def amount(self) -> str:
        """'1.6 points lower', 'by 0.057' (direction unknown), 'equal'."""
        if not self.size:
            return "equal"
        return f"{self.size} {self.direction}" if self.direction else f"by {self.size}"

    @property
    def apart(self) -> str:
        """The separation evidence: 'apart by at least 1.5 points from step 0 on'."""
        if self.since is not None:
            return f"apart by at least {self.by} from step {self.since} on"
        if self.steps < 2:
            return f"too few common steps ({self.steps}) to call the curves apart"
        return "the curves are not apart for good"

    def sentence(self, label_a: str, label_b: str) -> str:
        """'keras trails on test accuracy: 0.9668 vs 0.9825 at the end (1.6 points lower), ...'"""
        return self._words(label_a, label_b).replace("{a}", label_a).replace("{b}", label_b)

    def _words(self, label_a: str, label_b: str) -> str:
        if self.amount == "equal":
            return f"{self.name} {self.finals}"
        figures = f"{self.finals} ({self.amount}), {self.apart}"
        if self.behind is None:
            return f"{self.name} {figures}"
        who = label_a if self.behind == "A" else label_b
        return f"{who} trails on {self.name}: {figures}"

    def status(self, label_a: str, label_b: str) -> str:
        """Short form: 'keras trails from step 0 on, by ≥1.5 points' / 'keras ends 0.2 lower;
        the curves are not apart for good'."""
        text = self._status(label_a, label_b)
        return text.replace("{a}", label_a).replace("{b}", label_b)

    def _status(self, label_a: str, label_b: str) -> str:
        if self.behind is None or self.amount == "equal":
            return self.finals if self.amount == "equal" else f"{self.finals}; {self.apart}"
        who = label_a if self.behind == "A" else label_b
        if self.since is not None:
            return f"{who} trails from step {self.since} on, by ≥{self.by}"
        return f"{who} ends {self.amount}; {self.apart}"


def curve_gap(pair: ScalarPair) -> CurveGap | None:
    """The pair's end state in words (None without a finite final value on both sides)."""
    d = pair.final_diff
    if d is None or not math.isfinite(d) or pair.final_a is None or pair.final_b is None:
        return None
    fa, fb = pair.final_a, pair.final_b
    sa, sb = pair.final_step_a, pair.final_step_b
    if abs(d) <= 1e-12 * max(1.0, abs(fa)):
        at = "at the end" if sa == sb else f"at each run's last step ({sa} and {sb})"
        return CurveGap(pair.name, None, f"ends at {_value(fa)} in both runs {at}", "")
    b_better = (d > 0) == (pair.goal == "max")
    behind = None if pair.goal is None else ("A" if b_better else "B")
    # the behind side's value first; for an unknown goal, the higher one first
    first_is_a = behind == "A" if behind is not None else fa > fb
    (v1, s1), (v2, s2) = ((fa, sa), (fb, sb)) if first_is_a else ((fb, sb), (fa, sa))
    if sa == sb:
        finals = f"{_value(v1)} vs {_value(v2)} at the end"
    else:  # each run's own last value, at its own last step
        finals = f"{_value(v1)} at step {s1} vs {_value(v2)} at step {s2}, each run's last"
    direction = ("lower" if v1 < v2 else "higher") if behind is not None else ""
    if behind is None:
        finals = f"ends higher in {'{a}' if first_is_a else '{b}'}: {finals}"
    since = by = None
    if pair.diverges_at_step is not None and pair.apart_by is not None:
        since, by = _step_value(pair.diverges_at_step), _amount(pair.apart_by, pair)
    gap = _amount(d, pair)
    return CurveGap(pair.name, behind, finals, gap, direction, since, by or "", pair.steps)


def better_side(pair: ScalarPair) -> int:
    """+1 when B ends better than A by the metric's goal, -1 when worse, 0 equal or unknown."""
    gap = curve_gap(pair)
    if gap is None or gap.behind is None:
        return 0
    return 1 if gap.behind == "A" else -1


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


@dataclass
class ScalarComparison:
    """All paired curves (most important first) and what could not be paired."""

    pairs: list[ScalarPair]
    unpaired_a: list[str]
    unpaired_b: list[str]
    warnings: list[LogWarning] = field(default_factory=list)

    def to_list(self) -> list[dict[str, Any]]:
        """The report's "scalars" array."""
        return [p.to_dict() for p in self.pairs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.to_list(),
            "unpaired_a": list(self.unpaired_a),
            "unpaired_b": list(self.unpaired_b),
            "warnings": [str(w) for w in self.warnings],
        }


def collect(runs: Iterable[RunData]) -> dict[str, ScalarSeries]:
    """Key every scalar of every run as `run/tag` (just `tag` for the run ".")."""
    out: dict[str, ScalarSeries] = {}
    for run in runs:
        name = str(run.name).replace("\\", "/").strip("/")
        for tag, series in run.scalars.items():
            out[tag if name in ("", ".") else f"{name}/{tag}"] = series
    return out


def _as_mapping(runs: Sequence[RunData] | Mapping[str, ScalarSeries]) -> dict[str, ScalarSeries]:
    if isinstance(runs, Mapping):
        return dict(runs)
    return collect(runs)


def compare_scalars(
    runs_a: Sequence[RunData] | Mapping[str, ScalarSeries],
    runs_b: Sequence[RunData] | Mapping[str, ScalarSeries],
    forced: Sequence[tuple[str, str]] = (),
    *,
    k: float = DEFAULT_K,
) -> ScalarComparison:
    """Pair the scalar tags of A and B and compare every pair.

    `forced` pairs (A key, B key) win over automatic pairing; a key may also be given without
    its run prefix when that is unambiguous. Raises TbdiffError for a forced key that does not
    exist; everything else (empty runs, NaN, disjoint steps) yields partial results + notes.
    """
    sa, sb = _as_mapping(runs_a), _as_mapping(runs_b)
    warnings: list[LogWarning] = []
    if not sa:
        warnings.append(LogWarning("scalars.compare", "run A has no scalar summaries"))
    if not sb:
        warnings.append(LogWarning("scalars.compare", "run B has no scalar summaries"))
    tag_pairs, unpaired_a, unpaired_b = pair_tags(sa, sb, forced)
    pairs = [
        compare_series(sa[p.a], sb[p.b], tag_a=p.a, tag_b=p.b, how=p.how, note=p.note, k=k)
        for p in tag_pairs
    ]
    for p in pairs:
        if p.steps == 0:
            warnings.append(
                LogWarning("scalars.compare", f"scalars {p.tag_a} / {p.tag_b}: no common steps")
            )
    return ScalarComparison(
        pairs=pairs, unpaired_a=unpaired_a, unpaired_b=unpaired_b, warnings=warnings
    )
