"""Plain-words description of ONE run's model, one line per concept (what `inspect` prints).

Each detector writes its own line (`inspect(d)`), naming where its facts came from (graph,
Keras config, hparams, --feed); this module only collects them in the detectors' order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tbdiff.model.description import ModelDescription


def describe(d: ModelDescription) -> dict[str, str]:
    """{label: line} for every concept the description shows (others are left out)."""
    from tbdiff.findings import DETECTORS

    out: dict[str, str] = {}
    for mod in DETECTORS:
        line = mod.inspect(d)
        if line:
            out[mod.LABEL] = line
    return out
