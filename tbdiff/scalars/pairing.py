"""Tag pairing: which curve of run A goes with which of run B.

Two runs of "the same" model rarely name their curves the same way: raw TF1 writes
`Accuracy/accuracy`, tf.keras 2 writes `epoch_accuracy` under `train/` and `validation/`
sub-runs, old Keras writes `acc` and `val_acc`. Pairing therefore goes from strict to loose
(forced, exact, normalised within a family, normalised across train/unspecified or
validation/test) and every pair records how it was made, so a loose pair is never mistaken
for an exact one.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tbdiff.errors import TbdiffError
from tbdiff.scalars.tags import TagName, importance_key, parse_tag

# Greedy similarity matching inside one ambiguous name group is quadratic; above this many
# candidate pairs the group is matched by sorted order instead (keeps pairing O(T log T)).
_MAX_GREEDY = 2500


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
