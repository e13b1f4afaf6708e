"""Front-end for what a run's logged scalar curves say about training itself.

Curves are compared as curves by `tbdiff.scalars`; two of them are also facts about how the
model was trained, and this module is the one place they enter the model description:

- the learning rate the run logged over training (Keras' `lr` / `learning_rate` from
  LearningRateScheduler or ReduceLROnPlateau, `epoch_learning_rate`, `train/lr`, Lightning's
  `lr-Adam`; `scalars.tags.is_learning_rate` is the rule) becomes the optimizer's `schedule`:
  start, end, shape and the steps where it changes;
- how far the training curves go (`Training.last_step`) and what a step counts, when the tags
  say it (`batch_loss` / `*_step`: optimizer updates; `epoch_loss` / `*_epoch`: epochs).

It has the lowest precedence (`FRONTENDS`): the optimizer's type and settings come from the
graph, Keras config or hparams; `model.merge` attaches the schedule to that optimizer.
"""

from __future__ import annotations

import math

import numpy as np

from tbdiff.model.description import LRSchedule, ModelDescription, Optimizer, Source, Training
from tbdiff.model.inputs import Curve, RunInputs
from tbdiff.scalars.tags import curve_role, is_learning_rate, parse_tag

NAME = "scalars"

#: relative change below which two logged values are one learning rate (float32 rounding of
#: `lr * factor`, e.g. 1.0000001e-06 then 9.9999999e-07)
_SAME = 1e-4
#: a schedule that changes at more than this share of its logged steps is smooth, not stepped
_SMOOTH_SHARE = 0.5


def _lr_key(scalars: dict[str, Curve]) -> str | None:
    """The learning-rate curve: a training one before a held-out copy, then the shortest key
    (`lr` before `lr-Adam/pg2`)."""
    keys = [k for k in scalars if is_learning_rate(k) and len(scalars[k].steps)]
    keys.sort(key=lambda k: (curve_role(k) != "train", len(k), k))
    return keys[0] if keys else None


#: points kept of a long learning-rate curve (one per optimizer update, say): every change of
#: level with the point before it, and an even sample between (enough for any comparison)
_KEEP = 2000


def _points(curve: Curve) -> list[tuple[int, float]]:
    """(step, value) with one value per step (the last logged), non-finite values left out;
    a long curve keeps its changes of level and an even sample of `_KEEP` points."""
    steps = np.asarray(curve.steps, dtype=np.int64)
    values = np.asarray(curve.values, dtype=np.float64)
    ok = np.isfinite(values)
    steps, values = steps[ok], values[ok]
    if steps.size == 0:
        return []
    last = np.r_[steps[1:] != steps[:-1], True]  # steps are non-decreasing
    steps, values = steps[last], values[last]
    if steps.size > _KEEP:
        moved = np.abs(values[1:] - values[:-1]) > _SAME * np.abs(values[:-1])
        at = np.flatnonzero(moved) + 1
        if at.size > _KEEP:  # a smooth schedule: the sample alone shows it
            at = at[:0]
        sample = np.linspace(0, steps.size - 1, _KEEP).astype(np.int64)
        keep = np.unique(np.concatenate([sample, at, at - 1]))
        steps, values = steps[keep], values[keep]
    # float32-logged: 1.0000000475e-03 is 0.001
    return [(s, float(f"{v:.6g}")) for s, v in zip(steps.tolist(), values.tolist(), strict=True)]


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_SAME, abs_tol=0.0)


def schedule(curve: Curve, tag: str) -> LRSchedule | None:
    """The learning-rate schedule one logged curve shows (None when it holds no finite value)."""
    points = _points(curve)
    if not points:
        return None
    changes: list[tuple[int, float]] = []
    level = points[0][1]
    for s, v in points[1:]:
        if not _same(v, level):
            changes.append((s, v))
            level = v
    if not changes:
        shape = "constant"
    elif len(changes) > _SMOOTH_SHARE * (len(points) - 1) and len(changes) > 3:
        shape = "smooth"
    else:
        shape = "step"
    return LRSchedule(
        start=points[0][1],
        end=points[-1][1],
        shape=shape,
        changes=changes,
        points=points,
        source=Source("scalars", tag),
    )


def _training(scalars: dict[str, Curve]) -> Training:
    """How far the run's training curves go, and what their step counts when the tags say."""
    out = Training()
    best: tuple[int, str | None] | None = None
    for key, curve in scalars.items():
        if curve_role(key) != "train" or is_learning_rate(key) or not len(curve.steps):
            continue
        last = int(np.max(curve.steps))
        if best is None or last > best[0]:
            best = (last, parse_tag(key).gran)
    if best is not None:
        out.last_step, out.step_unit = best
    return out


def describe(inputs: RunInputs) -> ModelDescription | None:
    if not inputs.scalars:
        return None
    key = _lr_key(inputs.scalars)
    sched = schedule(inputs.scalars[key], key) if key else None
    training = _training(inputs.scalars)
    if sched is None and training.last_step is None:
        return None
    optimizers = [Optimizer(type=None, source=sched.source, schedule=sched)] if sched else []
    return ModelDescription(optimizers=optimizers, training=training, origins=[NAME])
