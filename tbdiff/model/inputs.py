"""What one run recorded, as the front-ends read it: its op graph, Keras config, hparams, feeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tbdiff.model.description import Fed, Source
from tbdiff.model.numbers import number

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np


class Curve(Protocol):
    """One logged scalar curve (`tbdiff.events.ScalarSeries` is one): steps non-decreasing."""

    steps: np.ndarray
    values: np.ndarray


@dataclass
class RunInputs:
    """Everything tbdiff knows about one run besides its scalar curves.

    `graph` is the op graph used for alignment (a TF GraphDef/MetaGraphDef or TF2 function graph,
    inlined by tbdiff.graph; or a layer graph built from a Keras config when the run has no op
    graph); `keras_config` the model config the Keras TensorBoard callback logged (JSON, with
    Keras 3's `compile_config`); `hparams` what the run recorded; `feeds` the user's `--feed`;
    `scalars` the run's logged curves by key (`part/tag` for a run's sub-runs such as `train/`),
    read for what they say about training itself (the learning rate it logged, how far it went).
    """

    graph: nx.MultiDiGraph | None = None
    keras_config: dict[str, Any] | None = None
    hparams: dict[str, Any] = field(default_factory=dict)
    feeds: dict[str, float] = field(default_factory=dict)
    scalars: dict[str, Curve] = field(default_factory=dict)

    def fed_value(self, placeholder: str) -> Fed | None:
        """Value fed to `placeholder` at run time: `--feed NAME=V`, the hparam `feed/NAME`, or an
        hparam named like the placeholder itself (e.g. `keep_prob`)."""
        bare = placeholder.split(":")[0]
        for name in (placeholder, bare):
            if name in self.feeds:
                return Fed(float(self.feeds[name]), Source("feed", name))
        for key in (f"feed/{placeholder}", f"feed/{bare}"):
            if key in self.hparams:
                v = number(self.hparams[key])
                return None if v is None else Fed(v, Source("hparams", key))
        key = bare.rsplit("/", 1)[-1]
        v = number(self.hparams.get(key)) if not isinstance(self.hparams.get(key), str) else None
        return None if v is None else Fed(v, Source("hparams", key))
