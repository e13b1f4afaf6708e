"""The learning rate over training: a logged schedule, and Keras' legacy `decay`.

A run's learning rate can change while it trains: a callback or scheduler that the run logged
as a scalar curve (`Optimizer.schedule`, read by `model.frontends.scalars`), or the legacy Keras
optimizers' `decay` argument, lr_t = lr / (1 + decay * iterations). This module compares how
the rate evolves; the optimizer detector compares the configured settings (its starting value
included) and leaves `decay` here, where its effect over the run's updates is computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tbdiff.findings.base import Context, Finding
from tbdiff.model.description import LRSchedule, ModelDescription
from tbdiff.model.numbers import fmt_num

NAME = "lr_schedule"
LABEL = "lr schedule"

#: learning rates this many times apart change training materially (the optimizer detector's
#: learning-rate difference); below _NOTICE they are the same rate
_APART = 2.0
_NOTICE = 1.1
#: share of the common steps with rates _APART apart that makes two schedules differ materially
_APART_SHARE = 0.1
#: legacy decay: a learning rate lowered by less than this factor by the end is negligible
_NEGLIGIBLE = 1.05


@dataclass
class _Side:
    """One run's learning rate over training: its logged schedule, or the configured value."""

    schedule: LRSchedule | None
    constant: float | None  # the optimizer's learning_rate when no schedule was logged
    source: str
    note: str = ""  # e.g. " (or its legacy decay: see that finding)"

    def at(self, step: int) -> float | None:
        return self.schedule.at(step) if self.schedule else self.constant

    @property
    def end(self) -> float | None:
        return self.schedule.end if self.schedule else self.constant

    @property
    def changes(self) -> bool:
        return self.schedule is not None and self.schedule.shape != "constant"


def _side(d: ModelDescription) -> _Side:
    o = d.optimizer
    if o is None:
        return _Side(None, None, "")
    if o.schedule is not None:
        return _Side(o.schedule, None, f"scalar '{o.schedule.source.where}'")
    lr = o.hparams.get("learning_rate")
    src = o.sources.get("learning_rate", o.source).label
    note = f" (or its legacy decay={fmt_num(_decay(d))}, graded on its own)" if _decay(d) else ""
    return _Side(None, float(lr) if isinstance(lr, (int, float)) and lr > 0 else None, src, note)


def _ratio(x: float, y: float) -> float:
    """How many times apart two positive rates are (>= 1; inf when one is 0)."""
    lo, hi = sorted((abs(x), abs(y)))
    return math.inf if lo == 0 else hi / lo


def _times(r: float) -> str:
    return f"{r:.0f}x" if r >= 10 else f"{r:.2g}x"


def _shape(s: _Side) -> str:
    """'keeps it at 0.001', 'lowers it 1000x in steps (0.001 -> 1e-06)'."""
    if not s.changes:
        return f"keeps it at {fmt_num(s.end)}"
    sch = s.schedule
    assert sch is not None
    how = "in steps" if sch.shape == "step" else "smoothly"
    lo_hi = sorted((sch.start, sch.end))
    if _ratio(sch.start, sch.end) < _NOTICE or lo_hi[0] == 0:
        verb = f"changes it {how} (peak {fmt_num(max(v for _, v in sch.points))})"
    else:
        verb = "lowers" if sch.end < sch.start else "raises"
        verb += f" it {_times(_ratio(sch.start, sch.end))} {how}"
    return f"{verb} ({fmt_num(sch.start)} -> {fmt_num(sch.end)})"


def _evidence(letter: str, s: _Side) -> str:
    """One side's values and steps in plain words."""
    sch = s.schedule
    if sch is None:
        return (
            f"{letter}: logs no learning rate; its optimizer's learning_rate "
            f"{fmt_num(s.constant)} ({s.source}) applies throughout, unless a schedule it did "
            f"not log changed it{s.note}."
        )
    head = f"{letter}: logged as {s.source} (steps {sch.first_step}..{sch.last_step}): "
    if sch.shape == "constant":
        return head + f"{fmt_num(sch.start)} throughout."
    if sch.shape == "step" or len(sch.changes) <= 6:
        steps = ", ".join(f"{fmt_num(v)} from step {st}" for st, v in sch.changes)
        return head + f"{fmt_num(sch.start)} at first, then {steps}."
    mid = (sch.first_step + sch.last_step) // 2
    return head + (
        f"{fmt_num(sch.start)} at step {sch.first_step}, {fmt_num(sch.at(mid))} at step {mid}, "
        f"{fmt_num(sch.end)} at step {sch.last_step}; it changes at {len(sch.changes)} of "
        f"{len(sch.points) - 1} logged steps."
    )


def _grid(a: _Side, b: _Side) -> list[int]:
    """The steps both rates are known at: every logged step inside the common range."""
    scheds = [s.schedule for s in (a, b) if s.schedule is not None]
    lo = max(s.first_step for s in scheds)
    hi = min(s.last_step for s in scheds)
    return sorted({st for s in scheds for st, _ in s.points if lo <= st <= hi})


def _apart(a: _Side, b: _Side) -> tuple[list[int], float]:
    """The common steps where the rates are _APART apart, and the largest ratio seen."""
    steps, worst = [], 1.0
    for st in _grid(a, b):
        va, vb = a.at(st), b.at(st)
        assert va is not None and vb is not None
        r = _ratio(va, vb)
        worst = max(worst, r)
        if r >= _APART:
            steps.append(st)
    return steps, worst


def _differs(a: ModelDescription, b: ModelDescription) -> Finding | None:
    sa, sb = _side(a), _side(b)
    if not (sa.changes or sb.changes):
        return None  # constant rates: the optimizer detector compares their values
    if sa.end is None or sb.end is None:
        return _one_sided(sa if sa.changes else sb, "A" if sa.changes else "B")
    apart, worst = _apart(sa, sb)
    grid = _grid(sa, sb)
    end_ratio = _ratio(sa.end, sb.end)
    material = end_ratio >= _APART or len(apart) >= _APART_SHARE * max(len(grid), 1)
    if not material and worst < _NOTICE:
        return None
    where = (
        f"Over the common steps {grid[0]}..{grid[-1]} the rates are {_times(_APART)} or more "
        f"apart at {len(apart)} of {len(grid)} logged steps"
        + (f" (from step {apart[0]})" if apart else "")
        + f", at most {_times(worst)}; at the end A's is {fmt_num(sa.end)}, B's "
        f"{fmt_num(sb.end)}."
        if grid
        else "The runs' logged steps do not overlap."
    )
    return _finding(sa, sb, "critical" if material else "warning", where, end_ratio)


def _finding(sa: _Side, sb: _Side, sev: str, where: str, end_ratio: float) -> Finding:
    title = f"The learning rate evolves differently: A {_shape(sa)}, B {_shape(sb)}"
    effect = (
        "A lower learning rate takes smaller steps: after a drop the loss usually settles "
        "(often a jump in accuracy right after it) and the weights move less, while a run that "
        "keeps a higher rate keeps moving; so the curves part where the rates part."
    )
    fix = "the same learning-rate schedule in both runs"
    return Finding(
        id="lr_schedule.mismatch",
        severity=sev,
        title=title,
        detail=f"{_evidence('A', sa)}\n{_evidence('B', sb)}\n{where} {effect}",
        a=_facts(sa),
        b=_facts(sb),
        score=min(0.9, 0.3 + 0.2 * math.log10(min(end_ratio, 1e6))),
        verdict=f"the learning rate evolves differently: {{a}} {_shape(sa)}, {{b}} {_shape(sb)}",
        fix=fix,
    )


def _facts(s: _Side) -> dict[str, Any]:
    sch = s.schedule
    if sch is None:
        return {"learning_rate": s.constant, "schedule": None, "source": s.source}
    return {
        "schedule": sch.shape,
        "start": sch.start,
        "end": sch.end,
        "changes": [list(c) for c in sch.changes],
        "steps": [sch.first_step, sch.last_step],
        "source": s.source,
    }


def _one_sided(s: _Side, letter: str) -> Finding:
    other = "B" if letter == "A" else "A"
    return Finding(
        id="lr_schedule.one_sided",
        severity="warning",
        title=f"{letter} {_shape(s)} during training; {other} records no learning rate",
        detail=f"{_evidence(letter, s)}\n{other} neither logs a learning rate nor records one "
        "(graph, config or hparams), so whether the rates match cannot be told; log it in "
        f"{other} (e.g. Keras' LearningRateScheduler / Lightning's LearningRateMonitor).",
        a=_facts(s) if letter == "A" else None,
        b=_facts(s) if letter == "B" else None,
        score=0.3,
    )


def _decay(d: ModelDescription) -> float | None:
    """The legacy decay of a run's optimizer: 0 when a complete source (graph, Keras config)
    does not list it, None when nothing says."""
    o = d.optimizer
    if o is None or not o.recorded:
        return None
    v = o.hparams.get("decay")
    if v is None and o.source.origin in ("graph", "keras_config") and o.type:
        return 0.0
    return float(v) if isinstance(v, (int, float)) else None


def _updates(d: ModelDescription) -> tuple[int, bool] | None:
    """(optimizer updates, exact?) a run made: exact when its training curves are logged per
    update (batch_*, *_step); otherwise its logged steps + 1, a lower bound (each logged
    step, e.g. an epoch, is at least one update)."""
    t = d.training
    if t.last_step is None:
        return None
    return t.last_step + 1, t.step_unit == "batch"


def _decay_effect(letter: str, decay: float, n: tuple[int, bool] | None) -> tuple[str, float]:
    """One run's decay in words, and the factor its lr is lowered by at the known updates."""
    if decay == 0:
        return f"{letter}: decay 0, the learning rate stays as configured.", 1.0
    half, tenth, pct = 1 / decay, (1 / 0.9 - 1) / decay, (1 / 0.99 - 1) / decay
    known = "" if n is None else f" after {n[0]:,} updates" if n[1] else ""
    factor = 1.0 if n is None else 1 + decay * n[0]
    text = f"{letter}: decay {fmt_num(decay)}: lr / (1 + {fmt_num(decay)} x updates)"
    if n is not None and n[1]:
        text += f"{known} divides it by {factor:.6g} ({(1 - 1 / factor):.3%} lower)."
    else:
        text += (
            f" lowers it by 1% after {pct:,.0f} updates, 10% after {tenth:,.0f}, half "
            f"after {half:,.0f}."
        )
        if n is not None:
            per = n[0]
            text += (
                f" The run logs {n[0]} steps (each one or more updates, e.g. epochs): under 1% "
                f"if a logged step is fewer than {pct / per:,.0f} updates, 10% from "
                f"{tenth / per:,.0f} updates per step."
            )
    return text, factor


def _legacy_decay(a: ModelDescription, b: ModelDescription) -> Finding | None:
    da, db = _decay(a), _decay(b)
    if da is None or db is None or math.isclose(da, db, rel_tol=1e-4, abs_tol=1e-12):
        return None
    na, nb = _updates(a), _updates(b)
    ta, fa = _decay_effect("A", da, na)
    tb, fb = _decay_effect("B", db, nb)
    exact = all(n is not None and n[1] for n, d in ((na, da), (nb, db)) if d)
    r = _ratio(fa, fb)  # at the known updates: exact, or a lower bound
    if r >= _APART:
        sev, how = "critical", f"lowers the learning rate {_times(r)} more by the end"
    elif exact and r < _NEGLIGIBLE:
        sev, how = "benign", f"changes the learning rate by {r - 1:.3%} at most"
    else:
        sev = "warning"
        how = (
            f"lowers the learning rate {r - 1:.1%} more by the end"
            if exact
            else "has an effect that depends on how many updates the runs made, which their "
            "logs do not say"
        )
    return Finding(
        id="lr_schedule.legacy_decay",
        severity=sev,
        title=f"Legacy learning-rate decay differs: {fmt_num(da)} vs {fmt_num(db)} ({how})",
        detail=f"Keras' legacy optimizers' decay lowers the learning rate at every update: "
        f"lr_t = lr / (1 + decay * iterations).\n{ta}\n{tb}",
        a={"decay": da, "updates": na[0] if na else None, "updates_exact": bool(na and na[1])},
        b={"decay": db, "updates": nb[0] if nb else None, "updates_exact": bool(nb and nb[1])},
        score=min(0.6, 0.05 + 0.25 * math.log10(r)),
        fix=f"decay={fmt_num(da)} in {{b}} as in {{a}} (or a LearningRateScheduler in both)",
    )


def compare(a: ModelDescription, b: ModelDescription, ctx: Context) -> list[Finding]:
    return [f for f in (_differs(a, b), _legacy_decay(a, b)) if f]


def inspect(d: ModelDescription) -> str | None:
    """'step 0.001 -> 1e-06, changes at steps 41, 54, 67 [logged scalar lr]'."""
    o = d.optimizer
    sch = o.schedule if o else None
    if sch is None:
        return None
    if sch.shape == "constant":
        return f"constant {fmt_num(sch.start)} [{sch.source.label}]"
    at = ", ".join(str(st) for st, _ in sch.changes[:6]) + (", ..." if len(sch.changes) > 6 else "")
    return (
        f"{sch.shape} {fmt_num(sch.start)} -> {fmt_num(sch.end)}, changes at step(s) {at} "
        f"[{sch.source.label}]"
    )
