"""The acceptance manifest itself (tests/pairs_manifest.py): every id of the finding vocabulary
has a pair in TF1 graph mode and in Keras 3, and the expectations are well formed. No
TensorFlow, no generation: a missing pair fails here."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pairs_manifest as M
import pytest
from helpers import REALLOGS, ROOT


def _covered(framework: str) -> set[str]:
    return set().union(*(p.ids for p in M.PAIRS if p.framework == framework))


@pytest.mark.parametrize("framework", ["tf1", "keras3"])
def test_every_finding_id_has_a_pair(framework: str) -> None:
    missing = [i for i in M.VOCABULARY if i not in _covered(framework)]
    assert not missing, f"no {framework} pair shows {missing}"


def test_tf2_function_graph_pairs_cover_the_acceptance() -> None:
    fn = {(p.first, p.a, p.b) for p in M.PAIRS if p.framework == "tf2fn"}
    assert ("optimizer.type_mismatch", "k2_base", "k2_sgd") in fn  # Keras 2.x Adam vs SGD
    assert {"optimizer.type_mismatch", "dropout.rate_mismatch", "loss.mismatch"} <= {
        f for f, _, _ in fn
    }
    keras3_traced = [p for p in M.PAIRS if p.framework == "keras3" and "trace" in p.writer]
    assert {"optimizer.type_mismatch", "dropout.rate_mismatch"} <= {p.first for p in keras3_traced}


def test_renamed_only_pairs_exist_everywhere() -> None:
    for fw in ("tf1", "keras3", "tf2fn"):
        renamed = [p for p in M.PAIRS if p.framework == fw and p.first is None]
        assert renamed and all(p.exit_code == 0 for p in renamed), fw


def test_expectations_are_well_formed() -> None:
    names = [p.name for p in M.PAIRS]
    assert len(names) == len(set(names))
    for p in M.PAIRS:
        assert p.gen in M.GENERATORS and p.a != p.b, p.name
        ids = [p.first] if p.first else []
        ids += [n[0] for n in p.notes] + list(p.absent)
        assert set(ids) <= set(M.VOCABULARY), p.name
        assert (p.first is None) == (not p.severity), p.name
        assert set(p.severity) <= set(M.SEVERITIES), p.name
        assert all(n[1] in M.SEVERITIES for n in p.notes), p.name
        assert p.source in (None, "keras config", "hparams", "--feed"), p.name
    for c in M.INSPECT:
        assert c.gen in M.GENERATORS and c.facts or c.absent, c.run
        for fact in c.facts.values():
            assert set(fact.sources) <= {"graph", "keras config", "hparams", "--feed"}


def _spec() -> Path | None:
    candidates = [
        os.environ.get("TBDIFF_SPEC", ""),
        str(ROOT.parent / "shared/spec/report.md"),
        str(REALLOGS.parent.parent / "spec/report.md"),
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def test_vocabulary_is_the_spec() -> None:
    spec = _spec()
    if spec is None:
        pytest.skip("shared/spec/report.md not found (set TBDIFF_SPEC)")
    text = spec.read_text().split("## Finding ids", 1)[1]
    ids = re.findall(r"^- ([a-z_]+\.[a-z_]+)\s", text, flags=re.M)
    assert ids and tuple(ids) == M.VOCABULARY
