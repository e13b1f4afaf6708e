"""Which run of a path is analysed: the one run selector of the whole tool.

TensorBoard calls every directory that directly holds event files a run. One training job
often writes several of them: Keras' callback writes `train/` and `validation/`, an Estimator
writes its model dir and `eval/`. Those are *parts* of one run and are read together (their
scalars are paired as train/validation curves, their graph and hparams are one run's). Any
other set of runs (`keras/` and `tensorflow/`, `version_0/` and `version_1/`, a sweep) is
several runs: where one run is expected, the user must choose, and sibling runs never mix.

A part is a run whose last path component is a bare split word (train, validation, eval,
test ...: the vocabulary of `tbdiff.scalars`) or the time-stamp directory PyTorch's
`add_hparams` writes its hparams to; it belongs to the run named by its parent directory. Everything here works on names, so it serves both discovered `events.Run`s and
read `events.RunData`s.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from tbdiff.errors import TbdiffError
from tbdiff.scalars import parse_tag

if TYPE_CHECKING:
    from tbdiff.events import GraphSource, RunData

_LISTED = 6  # run names quoted in a "choose one" message before "... and N more"


class _Named(Protocol):
    name: str


R = TypeVar("R", bound=_Named)


@dataclass
class RunGroup(Generic[R]):
    """One logical run: `name` relative to the path given ("." = the path itself)."""

    name: str
    members: list[R] = field(default_factory=list)

    def relative(self, run: R) -> str:
        """A member's name relative to the group (".", "train", "validation" ...)."""
        if self.name == ".":
            return run.name
        rel = PurePosixPath(run.name).relative_to(self.name).as_posix()
        return rel if rel else "."


#: the sub-directory PyTorch's `SummaryWriter.add_hparams` writes its hparams and metrics to
#: by default: `str(time.time())` of the moment it was called
_ADD_HPARAMS_DIR = re.compile(r"\d{9,11}\.\d+")


@lru_cache(maxsize=1024)
def _is_part(component: str) -> bool:
    if _ADD_HPARAMS_DIR.fullmatch(component):
        return True
    tag = parse_tag(component)
    return bool(tag.family) and tag.metric == component.lower()


def _base(name: str) -> str:
    """The logical run a run belongs to: its parent for a train/validation part, else itself."""
    parent, _, last = name.rstrip("/").rpartition("/")
    if name not in ("", ".") and _is_part(last):
        return parent.rstrip("/") or ("/" if name.startswith("/") else ".")
    return name or "."


def group_runs(runs: Sequence[R]) -> list[RunGroup[R]]:
    """Runs grouped into logical runs (sorted by name; members keep their order)."""
    groups: dict[str, RunGroup[R]] = {}
    for run in runs:
        base = _base(run.name)
        groups.setdefault(base, RunGroup(base)).members.append(run)
    return [groups[k] for k in sorted(groups)]


def _names(items: Sequence[str]) -> str:
    shown = ", ".join("(the path itself)" if n == "." else n for n in items[:_LISTED])
    return shown + (f" ... and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


def _norm(name: str) -> str:
    text = name.replace("\\", "/").strip().strip("/")
    while text.startswith("./"):
        text = text[2:]
    return text or "."


def _join(path: str, name: str) -> str:
    return path if name == "." else f"{path.rstrip('/')}/{name}"


def _choices(groups: Sequence[RunGroup[R]]) -> list[RunGroup[R]]:
    """Everything `--run NAME` can pick, each once: every logical run, then every part of one
    (a run that is not a part *is* its logical run, so it is not listed again)."""
    parts = [RunGroup(r.name, [r]) for g in groups for r in g.members if r.name != g.name]
    return [*groups, *parts]


def _choose_one(groups: Sequence[RunGroup[R]], path: str, flag: str) -> str:
    """The "choose one" message for a path of several logical runs. Its example directory holds
    exactly one of them (no other run below it), quoted for a shell; the path's own files are
    chosen with `.`."""
    names = [g.name for g in groups]
    leaves = [n for n in names if n != "." and not any(m.startswith(n + "/") for m in names)]
    own = f" ({flag} . for its own event files)" if "." in names else ""
    return (
        f"{path} holds {len(groups)} runs ({_names(names)}): choose one with {flag} NAME{own} "
        f"or pass its directory, e.g. {shlex.quote(_join(path, leaves[0]))}"
    )


def select_run(
    runs: Sequence[R], wanted: str | None, *, path: str, flag: str = "--run"
) -> RunGroup[R]:
    """The logical run of `path` to analyse; TbdiffError (one line) when that is not clear.

    `wanted` (from `flag`) may name a logical run, one of its parts (`train`), or the end of
    either (`keras` for `2024/keras`). Without it the path must hold exactly one logical run.
    """
    groups = group_runs(runs)
    if not groups:
        raise TbdiffError(f"{path}: no run found")
    if wanted is None:
        if len(groups) == 1:
            return groups[0]
        raise TbdiffError(_choose_one(groups, path, flag))
    want = _norm(wanted)
    choices = _choices(groups)
    for choice in choices:
        if choice.name == want:
            return choice
    tail = [c for c in choices if c.name.endswith("/" + want)]
    if len(tail) == 1:
        return tail[0]
    if len(tail) > 1:
        raise TbdiffError(
            f"{flag} {wanted}: several runs of {path} end with it ({_names([c.name for c in tail])})"
            f"; give more of the name"
        )
    raise TbdiffError(
        f"{flag} {wanted}: no run named {want!r} in {path}; runs: {_names([g.name for g in groups])}"
    )


def best_graph(
    members: Sequence[RunData], kind: str = "auto"
) -> tuple[RunData, GraphSource] | None:
    """The graph a logical run is compared by: each part's most complete record (see
    `RunData.best_graph`), then an op graph before a Keras model config, then the larger one;
    the first part wins ties (Keras' `train` before `validation`)."""
    best: tuple[tuple[bool, int], RunData, GraphSource] | None = None
    for rd in members:
        src = rd.best_graph(kind)
        if src is None:
            continue
        score = (src.kind != "keras_model", src.completeness)
        if best is None or score > best[0]:
            best = (score, rd, src)
    return None if best is None else (best[1], best[2])


def keras_records(members: Sequence[RunData]) -> list[GraphSource]:
    """A logical run's Keras model config records, latest first: its model config is the
    latest one that decodes."""
    return [s for rd in reversed(members) for s in reversed(rd.graphs) if s.kind == "keras_model"]


def group_hparams(members: Sequence[RunData], first: RunData | None = None) -> dict:
    """A logical run's hyper-parameters: those of `first` (the run whose graph is used), then
    what its other parts recorded. Never another run's."""
    out: dict = {}
    for rd in ([first] if first is not None else []) + list(members):
        for key, value in rd.hparams.items():
            out.setdefault(key, value)
    return out
