"""`tbdiff runs` on a generated sweep (TensorBoard's own writer, Keras run layout) with known
model groups, a known strongest hyper-parameter and one planted outlier run; read locally,
through a local S3 server, and on a Dask LocalCluster. Expectations come from the generator's
own plan (sweep.json), not from hard-coded results.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import upload
from helpers import REALLOGS, ROOT, SAMPLE_LOGS, need_shared, tf_env

N_RUNS = 37  # 3 archs x 2 learning rates x 2 dropouts x 3 seeds, + the planted outlier


@pytest.fixture(scope="session")
def sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.getbasetemp() / "sweep"
    if not (out / "sweep.json").exists():
        cmd = [sys.executable, str(ROOT / "scripts/make_sweep.py"), str(out)]
        cmd += ["--runs", str(N_RUNS), "--steps", "40", "--outlier"]
        proc = subprocess.run(cmd, env=tf_env(), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def plan(sweep: Path) -> dict:
    return json.loads((sweep / "sweep.json").read_text())


def _runs_json(cli, *args: str) -> tuple[dict, subprocess.CompletedProcess]:
    proc = cli("runs", *args, "--json")
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout), proc


def _check(doc: dict, plan: dict) -> None:
    assert doc["schema"] == "tbdiff.runs/1"
    assert sorted(r["name"] for r in doc["runs"]) == sorted(plan)
    # groups: runs with the same written model (arch, dropout) and nothing else
    by_model: dict[tuple, set] = {}
    for name, p in plan.items():
        by_model.setdefault(tuple(p["model"]), set()).add(name)
    got = {frozenset(g["runs"]) for g in doc["groups"]}
    assert got == {frozenset(v) for v in by_model.values()}
    # the metric: validation accuracy, final values as written
    assert doc["metric"] == "validation/epoch_accuracy"
    for r in doc["runs"]:
        final = r["metrics"]["validation/epoch_accuracy"]["final"]
        assert final == pytest.approx(plan[r["name"]]["final_accuracy"], abs=1e-6)
    assert set(doc["varying_hparams"]) == {"arch", "learning_rate", "dropout", "seed"}
    # the planted run (same hparams as run_0000, seed aside) is the one outlier
    planted = [n for n, p in plan.items() if "planted_dropout" in p["hparams"]]
    assert [o["run"] for o in doc["outliers"]] == planted
    # judged against the other runs with its hparams (M4's replicates), never itself
    finals = {r["name"]: r["metrics"]["validation/epoch_accuracy"]["final"] for r in doc["runs"]}
    (o,) = doc["outliers"]
    assert o["run"] not in o["peers"] and len(o["peers"]) == 3
    assert o["peers_median"] == pytest.approx(sorted(finals[p] for p in o["peers"])[1])
    assert len(doc["judged_runs"]) == N_RUNS
    # hparam effects, ranked as the generator's formula says (lr 0.04 > dropout 0.02 > arch)
    ranking = [e["hparam"] for e in doc["hparam_effects"]["ranking"]]
    assert ranking == ["learning_rate", "dropout", "arch"]
    floors = [g["noise_floor"] for g in doc["groups"] if g["size"] > 1]
    assert all(0 < f < 0.005 for f in floors), floors


def test_sweep_locally(sweep, plan, cli):
    doc, proc = _runs_json(cli, str(sweep), "--baseline", "run_0000")
    _check(doc, plan)
    assert proc.returncode == 1  # an outlier run
    (o,) = doc["outliers"]
    ex = o["explanation"]  # vs the peer whose final is the peers' median (3 peers)
    finals = {r["name"]: r["metrics"]["validation/epoch_accuracy"]["final"] for r in doc["runs"]}
    assert ex["vs"] in o["peers"] and finals[ex["vs"]] == o["peers_median"]
    assert ex["findings"][0]["id"] == "dropout.rate_mismatch"
    seeds = [plan[o["run"]]["hparams"]["seed"], plan[ex["vs"]]["hparams"]["seed"]]
    assert ex["hparams"] == {"seed": seeds}
    # groups differ from the baseline's by what their model config says
    base_group = next(g for g in doc["groups"] if "run_0000" in g["runs"])
    assert base_group["differences"] is None
    for g in doc["groups"]:
        if g is not base_group:
            assert g["differences"]["findings"], g


def test_text_and_html(sweep, cli, tmp_path):
    html = tmp_path / "runs.html"
    proc = cli("runs", str(sweep), "--no-color", "--width", "120", "--html", str(html))
    assert proc.returncode == 1, proc.stderr
    assert f"{N_RUNS} runs, 7 distinct model(s)" in proc.stdout
    assert "outlier run_0036" in proc.stdout
    assert "1. learning_rate" in proc.stdout
    page = html.read_text()
    island = _island(page)  # every run on every main-metric chart, drawn by report.js
    assert len(island) == 3 and all(len(c["series"]) == N_RUNS for c in island)
    assert "http" not in page.split("<body>")[1].replace("http-equiv", "")


# ------------------------------------------------------------------ the HTML page's charts


def _island(page: str) -> list[dict]:
    """The charts' data (the JSON island report.js draws from)."""
    m = re.search(r'<script type="application/json" id="tbdiff-curves">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


def _logged(path: str, tag: str) -> dict[int, float]:
    """One run's points of `tag` read by TensorBoard's own EventAccumulator (not tbdiff's
    reader): per step the last record written (a restart re-writes steps), finite values."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    part, _, rest = tag.partition("/")
    if rest and (Path(path) / part).is_dir():  # a run of several parts names tags "part/tag"
        path, tag = str(Path(path) / part), rest
    acc = EventAccumulator(path, size_guidance={"scalars": 0})
    acc.Reload()
    points = {e.step: e.value for e in acc.Scalars(tag)}
    return {k: v for k, v in points.items() if np.isfinite(v)}


# (root, the step each run's curve ends at on the first chart): runs of different lengths
RUNS_PAGES = {
    # 4 runs of 5, 80, 76 and 1 epochs; one folder re-writes steps 0..4 three times, one file
    # is cut mid-record
    "VictorNM": (REALLOGS / "VictorNM__triplet-cnn-cbir", [4, 79, 75, 0]),
    # 110, 120 and 130 points (130 > what a run summary keeps: downsampled, extremes kept)
    "lax": (REALLOGS / "janosh__tensorboard-reducer/tests/runs/lax", [109, 119]),
    "torch": (ROOT / "tests/fixtures/torch", None),  # 27 PyTorch runs of 10 steps
    "sample_logs": (SAMPLE_LOGS, [29]),
}


@pytest.mark.parametrize("name", list(RUNS_PAGES))
def test_runs_page_draws_every_run_over_its_own_steps(name, cli, tmp_path):
    """The runs page's charts carry, for every run that logged the metric, its own points
    from its first to its last logged step (every point, or per step interval its minimum and
    maximum), the values as logged, named and coloured as the run and its model group."""
    root, ends = RUNS_PAGES[name]
    html = tmp_path / "runs.html"
    doc, _ = _runs_json(cli, str(need_shared(root)), "--html", str(html))
    island = _island(html.read_text(encoding="utf-8"))
    assert [c["tag"] for c in island] == doc["metrics"]
    for chart in island:
        tag, series = chart["tag"], chart["series"]
        has = [k for k, r in enumerate(doc["runs"]) if tag in r["metrics"]]
        assert sorted(int(s["id"][1:]) for s in series) == has
        for s in series:
            run = doc["runs"][int(s["id"][1:])]
            logged = _logged(run["path"], tag)
            steps = sorted(logged)
            assert (s["steps"][0], s["steps"][-1]) == (steps[0], steps[-1])  # its whole range
            if len(steps) <= 122:
                assert s["steps"] == steps
            else:
                assert set(s["steps"]) < set(logged)
                vals, drawn = np.float32(list(logged.values())), np.float32(s["values"])
                assert vals.min() in drawn and vals.max() in drawn
            np.testing.assert_array_equal(
                np.float32(s["values"]), np.float32([logged[k] for k in s["steps"]])
            )
            assert s["label"] == f"{run['name']} ({run['group']})"
            assert s["main"] == (run["name"] == doc["baseline"]) and s["color"]
    if ends is not None:
        assert [s["steps"][-1] for s in island[0]["series"]] == ends


def test_bad_inputs_exit_2(cli, tmp_path, sweep):
    proc = cli("runs", str(tmp_path / "missing"))
    assert proc.returncode == 2 and proc.stderr.strip().startswith("tbdiff: error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = cli("runs", str(sweep), "--baseline", "nope")
    assert proc.returncode == 2 and "--baseline: no run named 'nope'" in proc.stderr
    proc = cli("runs", str(sweep), "--metric", "nope")
    assert proc.returncode == 2 and "no run has a scalar tag 'nope'" in proc.stderr
    proc = cli("runs", str(sweep), "--dask", "tcp://127.0.0.1:9")
    assert proc.returncode == 2 and "cannot connect to the Dask scheduler" in proc.stderr


def test_sweep_through_s3(sweep, plan, cli, s3_endpoint):
    upload(s3_endpoint, sweep, "s3://tbdiff-sweep/exp")
    doc, _ = _runs_json(cli, "s3://tbdiff-sweep/exp", "--jobs", "2")
    _check(doc, plan)
    assert all(r["path"].startswith("s3://tbdiff-sweep/exp/") for r in doc["runs"])


def test_sweep_on_a_dask_cluster(sweep, plan, cli):
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        doc, _ = _runs_json(cli, str(sweep), "--dask", cluster.scheduler_address)
    _check(doc, plan)
    local, _ = _runs_json(cli, str(sweep))
    assert doc["groups"] == local["groups"] and doc["outliers"] == local["outliers"]


@pytest.mark.shared("reallogs")
def test_real_sweep_like_folder(cli):
    root = REALLOGS / "janosh__tensorboard-reducer" / "tests" / "runs" / "lax"
    doc, proc = _runs_json(cli, str(root))
    assert [r["name"] for r in doc["runs"]] == ["run_1", "run_2", "run_3"]
    # main metrics: tags in at least half the runs (foo in all three, bar_2/bar_3 in two)
    assert sorted(doc["metrics"]) == ["lax/bar_2", "lax/bar_3", "lax/foo"]
    assert doc["groups"][0]["id"] == "no-model" and doc["groups"][0]["size"] == 3


@pytest.mark.shared("reallogs")
def test_a_folder_of_unrelated_real_projects(cli):
    """Every real log folder at once: dozens of hparams vary (Lightning's); the baseline is a run
    whose model was identified and which logged the metric, not one of the no-model runs."""
    doc, _ = _runs_json(cli, str(REALLOGS))
    runs = {r["name"]: r for r in doc["runs"]}
    assert len(doc["varying_hparams"]) > 4
    base = runs[doc["baseline"]]
    assert base["group"] != "no-model" and doc["metric"] in base["metrics"]
    text = cli("runs", str(REALLOGS), "--no-color", "--width", "120").stdout
    n = len(doc["varying_hparams"])
    assert f"hyper-parameters: 4 of the {n} that vary are shown" in " ".join(text.split())
    assert "=-" not in text  # a run without a shown hparam shows nothing for it


# The model key (tbdiff/multirun/fingerprint.py) on Keras 3 callback runs of the issue-10 pairs
# (tests/gen_pairs_keras3.py): the config with its compile_config, no hparams recorded.
K3_SAME = ("base", "base_again", "renamed", "lr100", "beta05")  # one model, names / numbers apart
K3_OTHER = ("drop05", "sgd")  # Dropout(0.5); SGD instead of Adam


def test_model_key_is_the_model_not_names_or_optimizer_numbers(request, tmp_path, capsys):
    import shutil

    import pairs_cli as C

    from tbdiff.cli import main

    out = C.outdir(request, "keras3")
    C.require_runs(out, *K3_SAME, *K3_OTHER)
    for run in K3_SAME + K3_OTHER:
        shutil.copytree(out / run, tmp_path / run)
    code = main(["runs", str(tmp_path), "--json", "--jobs", "1", "--baseline", "base"])
    doc = json.loads(capsys.readouterr().out)
    groups = {frozenset(g["runs"]): g for g in doc["groups"]}
    assert set(groups) == {frozenset(K3_SAME), *(frozenset([r]) for r in K3_OTHER)}
    same = groups[frozenset(K3_SAME)]
    # facts: the detectors' inspect lines, without the numbers that differ inside the group
    assert same["model"]["facts"]["optimizer"] == "adam [Keras config]"
    assert "rate=0.2" in same["model"]["facts"]["dropout"]
    firsts = {g["runs"][0]: g["differences"]["findings"][0]["id"] for g in doc["groups"][1:]}
    assert firsts == {"drop05": "dropout.rate_mismatch", "sgd": "optimizer.type_mismatch"}
    assert code == 1  # groups differ by critical findings


# Statistics on real logs: what can be judged against a noise floor, and what cannot.
TRIPLET = REALLOGS / "VictorNM__triplet-cnn-cbir"


@pytest.mark.shared("reallogs")
def test_no_outlier_without_replicates_of_one_model(cli):
    """Four different models, one run each, no hparams: no floor, nothing judged, no outlier;
    exit 1 only because the groups differ by critical findings (README's rule)."""
    doc, proc = _runs_json(cli, str(TRIPLET))
    assert len(doc["groups"]) == 4 and all(g["size"] == 1 for g in doc["groups"])
    assert doc["outliers"] == [] and doc["judged_runs"] == []
    assert all(g["noise_floor"] is None for g in doc["groups"])
    serious = any(
        f["severity"] in ("critical", "warning")
        for g in doc["groups"]
        if g["differences"]
        for f in g["differences"]["findings"]
    )
    assert serious and proc.returncode == 1
    text = cli("runs", str(TRIPLET), "--no-color", "--width", "120").stdout
    flat = " ".join(text.split())
    assert "floors away" not in text
    assert not any(ln.startswith("outlier") for ln in text.splitlines())
    assert "no floor for M1, M2, M3, M4: a single run" in flat
    assert "No run could be judged" in flat
    whole, _ = _runs_json(cli, str(REALLOGS))
    assert whole["outliers"] == []


@pytest.mark.shared("reallogs")
def test_replicates_that_agree_exactly_and_a_run_that_does_not(cli, tmp_path):
    """Three copies of one real run (bit-identical replicates: floor 0) and a fourth cut short
    (an earlier final value): it is the outlier, with no division by the 0 floor, against the
    median of the other three only."""
    src = TRIPLET / "logs" / "2019-05-24 21_06_53"
    (event,) = src.glob("events.out.tfevents.*")
    for name in ("a", "b", "c", "d"):
        (tmp_path / name).mkdir()
        (tmp_path / name / event.name).write_bytes(event.read_bytes())
    with open(tmp_path / "d" / event.name, "r+b") as fh:
        fh.truncate(370_000)  # inside the scalar records: the last epochs are lost
    doc, proc = _runs_json(cli, str(tmp_path))
    (g,) = doc["groups"]
    assert g["noise_floor"] == 0 and g["noise_floor_note"] == "its replicates agree exactly"
    (o,) = doc["outliers"]
    finals = {r["name"]: r["metrics"]["val_acc"]["final"] for r in doc["runs"]}
    assert o["run"] == "d" and o["peers"] == ["a", "b", "c"] and o["sigmas"] is None
    assert o["peers_median"] == finals["a"] != finals["d"]
    assert proc.returncode == 1
    text = cli("runs", str(tmp_path), "--no-color", "--width", "120").stdout
    assert "which agree exactly (floor 0)" in " ".join(text.split())


@pytest.mark.shared("reallogs")
def test_best_run_logged_the_metric(cli):
    """A group none of whose runs logged the primary metric has no best run (the no-model
    group of the real folder: FKnorring's version_0 has no scalars at all)."""
    doc, _ = _runs_json(cli, str(REALLOGS))
    runs = {r["name"]: r for r in doc["runs"]}
    for g in doc["groups"]:
        logged = [n for n in g["runs"] if doc["metric"] in runs[n]["metrics"]]
        assert (g["best"] is None) == (not logged), g["id"]
        if g["best"] is not None:
            assert g["best"] in logged and g["representative"] == g["best"]
    text = cli("runs", str(REALLOGS), "--no-color", "--width", "120").stdout
    group_line = re.compile(r"^(?:M\d+|no-model) \d+ run\(s\), best (.+?): ")
    bests = [m.group(1) for ln in text.splitlines() if (m := group_line.match(ln))]
    assert bests and all(doc["metric"] in runs[b]["metrics"] for b in bests), bests
    assert f"none logged {doc['metric']}" in text


@pytest.mark.shared("reallogs")
def test_why_there_is_no_floor_is_said_precisely(cli):
    """tensorboard-reducer's lax runs: no model and no hyper-parameters recorded, so nothing
    says that they are replicates (and only 2 of the 3 logged the primary metric)."""
    root = REALLOGS / "janosh__tensorboard-reducer" / "tests" / "runs" / "lax"
    doc, proc = _runs_json(cli, str(root))
    (g,) = doc["groups"]
    assert g["noise_floor"] is None and "not known to be replicates" in g["noise_floor_note"]
    text = " ".join(cli("runs", str(root), "--no-color", "--width", "120").stdout.split())
    assert "no floor for no-model: no model and no hyper-parameters recorded" in text
    assert "no replicate runs" not in text and proc.returncode == 0


@pytest.mark.shared("reallogs")
def test_an_object_hparam_is_its_class(cli):
    """Lightning wrote the same loss object as `!!python/object:__main__.WMAPE` (hparams.yaml)
    in one run and `WMAPE()` (event file) in the other: one value, so not a varying hparam."""
    root = REALLOGS / "FKnorring__restaurant-name-prediction"
    doc, _ = _runs_json(cli, str(root))
    assert doc["varying_hparams"] == []
    whole, _ = _runs_json(cli, str(REALLOGS))
    fk = [r for r in whole["runs"] if r["name"].startswith("FKnorring")]
    assert len(fk) == 2 and all(r["hparams"]["loss"] == "WMAPE" for r in fk)


@pytest.mark.shared("reallogs")
def test_run_table_reads_at_80_columns(cli):
    """Every line fits, the header is unbroken, each run is one line plus its hparams'."""
    doc, _ = _runs_json(cli, str(REALLOGS))
    text = cli("runs", str(REALLOGS), "--no-color", "--width", "80").stdout
    lines = text.splitlines()
    assert all(len(ln) <= 80 for ln in lines)
    head = next(i for i, ln in enumerate(lines) if ln.startswith("run "))
    assert "hyper-parameters" in lines[head] and "final / best" in lines[head]
    rows = [ln for ln in lines[head + 1 :] if ln and not ln.startswith(" ")]
    names = [r["name"] for r in doc["runs"]]
    assert len(rows) >= len(names)
    for name, row in zip(names, rows, strict=False):
        cell = row.split("  ")[0]
        assert name.endswith(cell.lstrip("…")), (name, row)
        assert cell == name or (cell.startswith("…") and len(cell) >= 20), (name, row)
    assert "left out at this width: curve" in text


def test_counters_and_summary_values_are_not_the_runs_metrics(cli) -> None:
    # two Lightning runs: train_loss per step, plus `epoch` (a counter) and `hp_metric` (one
    # summary value per run); only the curve can judge the runs
    torch = ROOT / "tests/fixtures/torch"
    proc = cli("runs", str(torch / "l_base"), str(torch / "l_lr01"), "--json")
    doc = json.loads(proc.stdout)
    assert doc["metric"] == "train_loss" and doc["metrics"] == ["train_loss"]
    import tbdiff

    logged = set(tbdiff.read_scalars(str(torch / "l_base")).tag.unique())
    assert {"epoch", "hp_metric", "train_loss"} <= logged  # what there was to choose from


# ------------------------------------------------------------------ what an outlier is explained by
TORCH = ROOT / "tests/fixtures/torch"


def test_an_outlier_is_explained_against_the_runs_it_was_judged_against(cli):
    """27 PyTorch runs: the outliers are judged against M1's replicates (lr=0.001), so they are
    explained against one of those (the peer nearest their median), never against the global
    baseline (t_lr01, lr=0.1): a learning rate they share with their peers explains nothing."""
    doc, proc = _runs_json(cli, str(TORCH))
    runs = {r["name"]: r for r in doc["runs"]}
    assert proc.returncode == 1 and doc["baseline"] == "t_lr01" and len(doc["outliers"]) >= 5
    for o in doc["outliers"]:
        ex = o["explanation"]
        assert ex["vs"] in o["peers"], o["run"]
        finals = {p: runs[p]["metrics"][doc["metric"]]["final"] for p in o["peers"]}
        nearest = min(abs(v - o["peers_median"]) for v in finals.values())
        assert abs(finals[ex["vs"]] - o["peers_median"]) == nearest
        assert "lr" not in ex["hparams"], (o["run"], ex["hparams"])
        assert not any("learning_rate" in f["title"] for f in ex["findings"]), o["run"]
        assert ex["findings"], o["run"]  # its model differs from its peers': findings say how
    by_run = {o["run"]: o["explanation"]["findings"] for o in doc["outliers"]}
    assert [f["id"] for f in by_run["t_tanh"]] == ["activation.mismatch"]
    assert by_run["t_drop05"][0]["id"] == "dropout.rate_mismatch"
    text = " ".join(cli("runs", str(TORCH), "--no-color", "--width", "120").stdout.split())
    outliers = text.split("Seed-noise floor")[1]
    assert "vs baseline" not in outliers
    assert "outlier t_tanh (M9)" in outliers
    assert "vs t_base, the peer nearest the median of those it was judged against:" in outliers


@pytest.mark.shared("reallogs")
@pytest.mark.parametrize("metric", ["val_acc", "loss"])
def test_the_baseline_is_the_best_run_among_groups_of_its_size(cli, metric):
    """Every real folder: identified models of one run each; the baseline is the run best by
    the metric among them (VictorNM's run whose val_acc is 0 is not), whatever their order."""
    doc, _ = _runs_json(cli, str(REALLOGS), "--metric", metric)
    runs = {r["name"]: r for r in doc["runs"]}
    size = {g["id"]: g["size"] for g in doc["groups"]}
    base = runs[doc["baseline"]]
    eligible = [
        r["metrics"][metric]["final"]
        for r in doc["runs"]
        if r["group"] != "no-model"
        and metric in r["metrics"]
        and size[r["group"]] == size[base["group"]]
    ]
    final = base["metrics"][metric]["final"]
    assert len(eligible) >= 4
    assert final == (max(eligible) if metric == "val_acc" else min(eligible)), (final, eligible)
    assert max(size[g] for g in size if g != "no-model") == size[base["group"]]


def test_finding_lines_wrap_under_their_text(cli):
    """At 80 columns a finding that wraps continues under its id, not at column 0; every
    line of the groups and outliers sections is a group or outlier head, or indented."""
    text = cli("runs", str(SAMPLE_LOGS), "--no-color", "--width", "80").stdout
    lines = text.splitlines()
    assert all(len(ln) <= 80 for ln in lines)
    start = next(i for i, ln in enumerate(lines) if "Model groups" in ln)
    body = [ln for ln in lines[start + 1 :] if ln and "Seed-noise floor" not in ln]
    body = body[: next(i for i, ln in enumerate(body) if ln.startswith("no floor"))]
    head = re.compile(r"^(M\d+|no-model) \d+ run\(s\), ")
    assert all(head.match(ln) or ln.startswith("  ") for ln in body), body
    i = next(i for i, ln in enumerate(body) if "learning_phase.mechanism" in ln)
    assert body[i + 1].startswith(" " * 13 + "different mechanisms"), body[i : i + 2]


def test_group_facts_are_the_model_as_compare_describes_it(cli):
    """sample_logs' TF run feeds keep_prob at run time; its hparams hold the value (0.7), so
    `inspect` and `compare` say the dropout drops 30%: the group's model line says so too."""
    doc, _ = _runs_json(cli, str(SAMPLE_LOGS))
    (tf_group,) = [g for g in doc["groups"] if g["runs"] == ["tensorflow"]]
    proc = cli("inspect", str(SAMPLE_LOGS / "tensorflow"), "--json")
    inspected = json.loads(proc.stdout)["runs"][0]["model"]
    facts = tf_group["model"]["facts"]
    assert facts["dropout"] == inspected["dropout"] and "drops 30%" in facts["dropout"]
    assert facts["layers"] == inspected["layers"]
    text = " ".join(cli("runs", str(SAMPLE_LOGS), "--no-color", "--width", "80").stdout.split())
    assert "drops ?" not in text and "Dropout4: drops 30% (keep_prob=0.7 fed" in text
    assert "Dropout drops 30% of units in A but 70% in B" in text  # the finding agrees


def test_a_run_folders_own_tags_are_named_as_compare_names_them(cli, tmp_path):
    """A PyTorch run writes its scalars in its folder and its add_hparams record in a
    time-stamped sub-folder (two parts of one run): its folder's tags are plain, as `compare`
    keys them (`train/accuracy`, not `./train/accuracy`), with one root or several."""
    from tbdiff.pipeline import load_side
    from tbdiff.scalars import collect

    side = load_side(str(TORCH / "t_base"))
    assert len(side.runs) == 2  # the folder and its add_hparams sub-folder
    compared = set(collect(side.runs))
    doc, _ = _runs_json(cli, str(TORCH))
    assert doc["metric"] == "train/accuracy"
    base = next(r for r in doc["runs"] if r["name"] == "t_base")
    assert set(base["metrics"]) <= compared and "train/accuracy" in base["metrics"]
    assert not any(t.startswith("./") for r in doc["runs"] for t in r["metrics"])
    two, _ = _runs_json(cli, str(TORCH), str(SAMPLE_LOGS))
    base = next(r for r in two["runs"] if r["name"] == "torch/t_base")
    assert set(base["metrics"]) <= compared and base["metrics"]
    text = cli("runs", str(TORCH), "--no-color", "--width", "80").stdout
    assert "./" not in text and "train/accuracy" in text
