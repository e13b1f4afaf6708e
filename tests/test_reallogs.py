"""Read every real log other people committed (shared/data/reallogs) and check the inventory
against MANIFEST.tsv, which was written independently of tbdiff."""

from __future__ import annotations

import csv
import json
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
        (w,) = rd.warnings
        assert (w.kind, w.path, w.offset) == ("record.truncated", str(path), int(trunc.group(1)))
    else:
        assert fi.truncated_at is None and fi.corrupt_at == []
        # steps that go back inside a file are a restart: purged and said, nothing else
        assert [w.kind for w in rd.warnings] in ([], ["scalars.restart"])
        assert bool(rd.warnings) == any(s.dropped for s in rd.scalars.values())


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
    assert any(w.kind == "record.truncated" and w.offset == 183917 for w in notebooks.warnings)
    styx = next(r for r in runs if r.name.endswith("muelletm__styx/logs/fit/train"))
    best = styx.best_graph()
    assert best is not None and best.kind == "keras_model"  # the op graph there has 0 nodes
    victor = next(r for r in runs if r.name.endswith("2019-05-19 20_43_01"))
    assert victor.best_graph().node_count == 1366


def test_hparams_in_inspect_json_equal_tensorboard_plugin() -> None:
    """Acceptance (issue 9, item 1): the hparams of every hparams-bearing real file appear in
    `tbdiff inspect --json` exactly as TensorBoard's own hparams plugin parses them, plus what
    Lightning's hparams.yaml holds (flattened, marked as coming from it)."""
    import json
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gen_event_fixtures

    proc = subprocess.run(
        [sys.executable, "-m", "tbdiff", "inspect", str(ROOT), "--json", "--no-model"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = json.loads(proc.stdout)["runs"]
    tb = gen_event_fixtures.tensorboard_hparams([r["path"] for r in runs])
    bearing = [r for r in ROWS if "hparams" in r["what_it_contains"]]
    assert bearing and all(str(Path(ROOT / r["local_path"]).parent) in tb for r in bearing)
    yamls = sorted(ROOT.rglob("hparams.yaml"))
    assert yamls
    for run in runs:
        srcs = run["hparam_sources"]
        from_events = {k: v for k, v in run["hparams"].items() if srcs[k]["source"] == "event"}
        assert from_events == tb.get(run["path"], {}), run["name"]
        yaml_file = Path(run["path"]) / "hparams.yaml"
        if yaml_file in yamls:
            top = set(re.findall(r"^([A-Za-z_][\w.-]*):", yaml_file.read_text(), re.M))
            assert top and top <= set(run["hparams"]), run["name"]
            for key in top - set(from_events):
                assert srcs[key] == {
                    "source": "hparams.yaml",
                    "path": str(yaml_file),
                    "offset": None,
                }
        else:
            assert all(s["source"] == "event" for s in srcs.values())


def test_scalars_equal_tensorboard_accumulator() -> None:
    """Every real run's scalars, in order, bit for bit as TensorBoard's EventAccumulator keeps
    them, except the orphans we purge and report (`dropped`, a scalars.* warning)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gen_event_fixtures

    runs = events.read_logdir(ROOT)
    tb = gen_event_fixtures.tensorboard_run_scalars([r.path for r in runs])
    compared = 0
    for rd in runs:
        theirs = tb[str(rd.path)]
        assert set(rd.scalars) == set(theirs), rd.name
        purge_warnings = [w for w in rd.warnings if w.kind.startswith("scalars.")]
        for tag, s in rd.scalars.items():
            ours = [[int(st), repr(float(v))] for st, v in zip(s.steps, s.values, strict=True)]
            it = iter(theirs[tag])
            assert all(any(x == y for y in it) for x in ours), (rd.name, tag)
            assert len(theirs[tag]) - len(ours) <= s.dropped, (rd.name, tag)
            if not s.dropped:
                assert ours == theirs[tag], (rd.name, tag)
                compared += 1
        said = sum(int(n) for w in purge_warnings for n in re.findall(r"(\d+) earlier", w.message))
        assert said == sum(s.dropped for s in rd.scalars.values()), rd.name
    assert compared >= 40


def test_overlapping_sessions_are_summarised_per_folder(cli) -> None:
    """Rossman's logs append several sessions to train/ and validation/: each file re-writes
    steps of the one before. stderr sums them up per folder; --json keeps every record."""
    a, b = ROOT / "ldebris__Rossman/logs", ROOT / "muelletm__styx/logs/fit"
    proc = cli("compare", str(a), str(b))
    lines = [ln for ln in proc.stderr.splitlines() if "re-write steps" in ln]
    assert [ln.split(": ")[2] for ln in lines] == [f"{a}/train", f"{a}/validation"]
    assert all(" 4 files re-write steps " in ln and "--json lists each" in ln for ln in lines)
    doc = json.loads(cli("compare", str(a), str(b), "--json").stdout)
    overlaps = [r for r in doc["warning_records"] if r["kind"] == "scalars.overlap"]
    assert len(overlaps) > len(lines) and len({r["path"] for r in overlaps}) == 8
