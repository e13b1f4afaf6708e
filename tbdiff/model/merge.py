"""Merge the partial descriptions of one run's sources into one, keeping each fact's source.

Parts come in precedence order (op graph, Keras config, hparams): a fact the first part states
wins; later parts fill what it lacks. Model structure (layers with their stale leftovers) comes
from one part; lists of sites (dropout, normalisation, penalties, metrics) from the first part
that found any; optimizer hyper-parameters missing or unreadable in the graph (captured TF2
variables) are filled from a later part naming the same optimizer, and a logged learning-rate
curve (the `scalars` part) is attached to the main optimizer as its schedule; hparams that say how training
metrics were measured or which sample weights were passed override what the graph suggests.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from tbdiff.model.description import (
    Layer,
    MetricWiring,
    ModelDescription,
    Optimizer,
    SampleWeights,
    Training,
)

_T = TypeVar("_T")


def _first(lists: list[list[_T]]) -> list[_T]:
    return next((x for x in lists if x), [])


def _optimizers(parts: list[ModelDescription]) -> list[Optimizer]:
    found = [p.optimizers for p in parts if p.optimizers]
    if not found:
        return []
    main = found[0]
    head = dataclasses.replace(main[0], hparams=dict(main[0].hparams))
    head.sources = dict(head.sources)
    for other in found[1:]:
        o = other[0]
        if head.schedule is None and o.schedule is not None:
            head.schedule = o.schedule  # the logged lr curve belongs to the main optimizer
        if head.type is None and o.type is not None:
            head.type, head.source = o.type, o.source
        if o.type not in (None, head.type):
            continue  # a different optimizer named elsewhere: the first source wins
        for k, v in o.hparams.items():
            if head.hparams.get(k) is None and v is not None:
                head.hparams[k] = v
                head.sources[k] = o.sources.get(k, o.source)
    return [head, *main[1:]]


def _wiring(parts: list[ModelDescription]) -> MetricWiring | None:
    base = next((p.wiring for p in parts if p.wiring is not None and p.has_ops), None)
    told = next(
        (
            p.wiring
            for p in parts
            if p.wiring is not None and (p.wiring.train_mode_source or "").startswith("hparams")
        ),
        None,
    )
    if base is None:
        return told
    if told is not None:
        base = dataclasses.replace(
            base, train_mode=told.train_mode, train_mode_source=told.train_mode_source
        )
    return base


def _sample_weights(parts: list[ModelDescription]) -> SampleWeights | None:
    base = next((p.sample_weights for p in parts if p.sample_weights and p.has_ops), None)
    told = next(
        (p.sample_weights for p in parts if p.sample_weights and p.sample_weights.passed), None
    )
    if base is None:
        return told
    if told is not None:
        base = dataclasses.replace(base, passed=told.passed, passed_key=told.passed_key)
    return base


def _training(parts: list[ModelDescription]) -> Training:
    out = Training()
    for p in parts:
        for k, v in p.training.values.items():
            if k not in out.values:
                out.values[k] = v
                out.sources[k] = p.training.sources[k]
        if out.last_step is None and p.training.last_step is not None:
            out.last_step, out.step_unit = p.training.last_step, p.training.step_unit
    return out


def _metrics(parts: list[ModelDescription]):  # noqa: ANN202 - list[Metric]
    found = [p.metrics for p in parts if p.metrics]
    if not found:
        return []
    main = [dataclasses.replace(m) for m in found[0]]
    for other in found[1:]:
        by_name = {m.name: m for m in other}
        for m in main:
            twin = by_name.get(m.name)
            if m.computes is None and twin is not None and twin.computes is not None:
                m.computes, m.threshold, m.source = twin.computes, twin.threshold, twin.source
    return main


def _enrich(layers: list[Layer], parts: list[ModelDescription]) -> list[Layer]:
    """Copies of the structure's layers with facts it lacks (initialisers a traced graph does
    not hold, shapes it does not record) taken from another source that lists the same weight
    layers in the same order; each filled fact remembers its source."""
    mine = [x for x in layers if x.has_weights]
    out = [dataclasses.replace(x, filled=dict(x.filled)) for x in layers]
    by_id = {id(x): y for x, y in zip(layers, out, strict=True)}
    for p in parts:
        theirs = p.weight_layers
        if not theirs or len(theirs) != len(mine) or theirs[0] is mine[0]:
            continue
        for x, y in zip(mine, theirs, strict=True):
            new = by_id[id(x)]
            if new.shape is None and y.shape is not None:
                new.shape, new.filled["shape"] = y.shape, y.source
            for role in ("kernel_init", "bias_init"):
                have, other = getattr(new, role), getattr(y, role)
                if (have is None or not have.known) and other is not None and other.known:
                    setattr(new, role, other)
    return out


def merge(parts: list[ModelDescription]) -> ModelDescription:
    """One description from the parts of one run (see the module docstring)."""
    parts = [p for p in parts if p is not None]
    if len(parts) == 1:
        return parts[0]
    structure = next((p for p in parts if p.layers), None)
    with_losses = next((p for p in parts if p.losses), None)
    # a rate recorded only as a hyper-parameter stands in for dropout no model source shows
    model_sources = [p for p in parts if p.layers or p.has_ops]
    dropout = _first([p.dropout for p in model_sources]) or (
        [] if structure is not None else _first([p.dropout for p in parts])
    )
    return ModelDescription(
        layers=_enrich(structure.layers, parts) if structure else [],
        stale_layers=list(structure.stale_layers) if structure else [],
        dropout=dropout,
        normalization=_first([p.normalization for p in parts]),
        optimizers=_optimizers(parts),
        losses=list(with_losses.losses) if with_losses else [],
        trained=next((p.trained for p in parts if p.trained is not None), None),
        penalties=_first([p.penalties for p in model_sources]),
        decay=_first([p.decay for p in model_sources]),
        metrics=_metrics(parts),
        wiring=_wiring(parts),
        sample_weights=_sample_weights(parts),
        training=_training(parts),
        has_ops=any(p.has_ops for p in parts),
        config_only=not any(p.has_ops for p in parts) and any(p.config_only for p in parts),
        origins=[o for p in parts for o in p.origins],
    )
