"""Read every real log other people committed (shared/data/reallogs) and check the inventory
against MANIFEST.tsv, which was written independently of tbdiff."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from tbdiff import events


def _reallogs() -> Path:
    env = os.environ.get("TBDIFF_REALLOGS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared/data/reallogs"


ROOT = _reallogs()
pytestmark = pytest.mark.shared("reallogs")  # skipped, and counted, without ../shared


def _manifest() -> list[dict]:
    if not (ROOT / "MANIFEST.tsv").exists():
        return []
    with open(ROOT / "MANIFEST.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r for r in rows if events.is_event_file_name(Path(r["local_path"]).name)]


def _counter(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (kv.split(":") for kv in text.split(",") if kv)}


def _read(path: Path) -> events.RunData:
    return events.read_run(events.Run(path.name, path.parent, [path]))


ROWS = _manifest()


# without ../shared: one placeholder row, so the `shared` mark skips (and counts) the test
@pytest.mark.parametrize("row", ROWS or [None], ids=[r["local_path"] for r in ROWS] or ["none"])
def test_file_matches_manifest(row: dict) -> None:
    what = row["what_it_contains"]
    path = ROOT / row["local_path"]
    rd = _read(path)
    (fi,) = rd.file_info
    assert fi.size == int(row["bytes"])

    m = re.search(r"\bevents=(\d+)", what)
    assert m, what
    assert fi.records == int(m.group(1))
    kinds = re.search(r"\bkinds=([\w:,]+)", what)
    assert kinds and dict(fi.events) == _counter(kinds.group(1))
    plugins = re.search(r"summary values by plugin=([\w:,]+)", what)
    assert dict(fi.values) == (_counter(plugins.group(1)) if plugins else {})
    steps = re.search(r"steps (-?\d+)\.\.(-?\d+)", what)
    if steps:
        assert (fi.first_step, fi.last_step) == (int(steps.group(1)), int(steps.group(2)))

    tags = re.search(r"scalar tags\((\d+)\)=(\S+)", what)
    if tags:
        assert len(rd.scalars) == int(tags.group(1))
        listed = [t for t in tags.group(2).rstrip(";").split("|") if t != "..."]
        assert set(listed) <= set(rd.scalars)
    else:
        assert rd.scalars == {}
    for kind in ("graph_def", "meta_graph_def"):
        expected = [
            (int(n), int(f)) for n, f in re.findall(rf"(?<![\w]){kind} nodes=(\d+) fns=(\d+)", what)
        ]
        got = [(g.node_count, g.function_count) for g in rd.graphs if g.kind == kind]
        assert got == expected, kind
    keras = re.search(r"keras model config: (\w+) .*?layers=(\d+)", what)
    kgraphs = [g for g in rd.graphs if g.kind == "keras_model"]
    if keras:
        (k,) = kgraphs
        cfg = k.keras_config()
        assert cfg["class_name"] == keras.group(1)
        assert len(cfg["config"]["layers"]) == int(keras.group(2))
    else:
        assert kgraphs == []

    trunc = re.search(r"truncated record at offset (\d+)", what)
    if trunc:
        assert fi.truncated_at == int(trunc.group(1))
        assert any("truncated" in w and trunc.group(1) in w for w in rd.warnings)
    else:
        assert fi.truncated_at is None and fi.corrupt_at == [] and rd.warnings == []


def test_manifest_covers_known_cases() -> None:
    """The special files the brief names are present (so the parametrised test really saw them)."""
    text = " ".join(r["what_it_contains"] for r in ROWS)
    assert "offset 183917" in text
    assert "graph_def nodes=0" in text
    assert "EMPTY" in " ".join(r["kind"] for r in ROWS)


def test_whole_folder_reads_without_crash() -> None:
    runs = events.read_logdir(ROOT)
    assert len(runs) >= 15
    names = [r.name for r in runs]
    assert names == sorted(names)
    assert any(" " in n for n in names)  # folders with spaces
    notebooks = next(
        r for r in runs if r.name.endswith("VictorNM__triplet-cnn-cbir/notebooks/logs")
    )
    assert any("183917" in w for w in notebooks.warnings)
    styx = next(r for r in runs if r.name.endswith("muelletm__styx/logs/fit/train"))
    best = styx.best_graph()
    assert best is not None and best.kind == "keras_model"  # the op graph there has 0 nodes
    victor = next(r for r in runs if r.name.endswith("2019-05-19 20_43_01"))
    assert victor.best_graph().node_count == 1366
