"""What a run's model *is*, as a hashable key: runs with equal keys are one model group.

The key is made from the run's `tbdiff.model.ModelDescription`, built as `compare` builds it
(`pipeline.run_inputs`: the op graph if the run has one, its latest Keras model config) but
*without* the run's recorded hparams, so runs that differ only in what they record as
hyper-parameters (learning rate, seed, batch size ...) are one group and those show as varying
hyper-parameters instead. The key covers every fact of the description — layers (kind, weight
shapes, activations, initialisers), dropout rates and switches, normalisation (kind, momentum,
epsilon, axis), losses, weight penalties and decoupled decay, metrics (what they compute),
train/eval wiring, sample weights, stale layers — except evidence: layer/node/variable names,
where each fact came from (`Source`), how a number was written (keep_prob vs rate, torch vs
Keras momentum: the normalised value is kept), data-path depths.

The optimizer's *type* is in the key, its hyper-parameters are not. A sweep over optimizers
records the choice as an hparam, which the key ignores anyway; when the type is known only from
the graph or the compile config, two runs trained by different update rules are different
programs, exactly the kind of difference the hparams do not show. Its learning rate, betas,
momentum ... are the numbers a sweep tunes: they stay out (a compile config or an op graph
holds them too), like every recorded hyper-parameter.

`facts` are the detectors' inspect lines of that description (what `tbdiff inspect` prints),
the optimizer's numbers left out as well (they may differ between a group's members). The runs
report replaces them by those of its group representative's model described with its hparams,
as `compare` describes it (analysis.explain: a keep_prob fed at run time has a value there).
Cheap for sweeps: describes are cached per process by the bytes of the records described
(identical configs are described once), and a Keras config is described from its small layer
graph, never an op graph. Runs without any model record get no key ("no model recorded").
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tbdiff.diagnostics import LogWarning
from tbdiff.errors import TbdiffError

if TYPE_CHECKING:
    from tbdiff.events import GraphSource, RunData
    from tbdiff.model import ModelDescription

#: fields of the description's types that are evidence or provenance, not what the model is
_EVIDENCE = frozenset(
    {
        # names of layers, nodes, variables, placeholders
        "name",
        "layer",
        "node",
        "nodes",
        "op",
        "kernel",
        "bias",
        "bias_op",
        "activation_op",
        "variables",
        "variable",
        "anchors",
        "scope",
        "written_node",
        "placeholders",
        "update_ops",
        "coupling_nodes",
        "output",
        # where facts came from, how they were written, data-path depth
        "source",
        "sources",
        "filled",
        "origins",
        "has_ops",
        "config_only",
        "framework",
        "implementation",
        "written_as",
        "written_value",
        "written_const",
        "written_momentum",
        "convention",
        "expr",
        "train_mode_source",
        "passed_key",
        "position",
        # values fed or recorded at run time: not part of the model
        "fed",
        "unresolved",
        "training",
    }
)

#: per type: the optimizer's tuned numbers (module doc); a metric's `kind` says where it was found
_EVIDENCE_OF = {"Optimizer": ("hparams",), "Metric": ("kind",)}


@dataclass(frozen=True)
class ModelKey:
    key: str  # short hash; equal keys = the same model
    source: str  # "keras_model" | "graph_def" | "meta_graph_def" | "run_metadata"
    facts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


_CACHE: dict[tuple[str, bytes, bytes], ModelKey | TbdiffError] = {}
_CACHE_MAX = 256


def model_key(
    members: Sequence[RunData],
    chosen: GraphSource | None,
    warnings: list[LogWarning],
    where: str,
) -> ModelKey | None:
    """The key of the model a logical run recorded (`chosen`: its graph, `selection.best_graph`);
    None when it recorded none, or (with a warning) when its records cannot be read."""
    from tbdiff.selection import keras_records

    if chosen is None:
        return None
    keras = keras_records(members)
    op_graph = chosen if chosen.kind != "keras_model" else None
    cache_key = (
        chosen.kind,
        _digest(op_graph.payload) if op_graph is not None else b"",
        b"".join(_digest(k.payload) for k in keras),
    )
    found = _CACHE.get(cache_key)
    if found is None:
        try:
            found = _describe_key(op_graph, keras, chosen.kind)
        except TbdiffError as exc:
            found = exc
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[cache_key] = found
    if isinstance(found, TbdiffError):
        warnings.append(LogWarning("graph.load", f"model not identified: {found}", path=where))
        return None
    return found


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=16).digest()


def _describe_key(op_graph: GraphSource | None, keras: list[GraphSource], kind: str) -> ModelKey:
    from tbdiff.model import RunInputs, describe

    config = None
    for src in keras:  # latest first; the first that decodes (as pipeline.run_inputs)
        try:
            config = src.keras_config()
        except TbdiffError:
            continue
        break
    if op_graph is None and config is None:
        raise TbdiffError("no readable Keras model config")
    graph = None
    if op_graph is not None:
        from tbdiff import graph as graph_mod

        graph = graph_mod.load_graph(op_graph)
    desc = describe(RunInputs(graph=graph, keras_config=config))
    return ModelKey(_hash(canonical(desc)), kind, facts(desc))


def facts(desc: ModelDescription) -> dict[str, str]:
    """The detectors' inspect lines of a description, the optimizer's numbers and the recorded
    training-loop settings (batch size, epochs) left out: like the key, they hold for one
    member of a group only (the runs report shows them as hyper-parameters)."""
    from tbdiff.findings import inspect_lines
    from tbdiff.model.description import Training

    bare = [dataclasses.replace(o, hparams={}) for o in desc.optimizers]
    return inspect_lines(dataclasses.replace(desc, optimizers=bare, training=Training()))


def canonical(desc: ModelDescription) -> str:
    """The description's facts without evidence (module doc), as canonical JSON."""
    return json.dumps(_facts(desc), sort_keys=True, separators=(",", ":"), default=str)


def _facts(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {
            f.name: _facts(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.name not in _EVIDENCE
        }
        for name in _EVIDENCE_OF.get(type(obj).__name__, ()):
            out.pop(name, None)
        return out
    if isinstance(obj, dict):
        return {str(k): _facts(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_facts(v) for v in obj]
    return obj


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
