"""Logs in object storage: s3:// URLs read through s3fs from a local S3 server (moto).

The sample runs (real TF and Keras event files) and the real third-party logs are uploaded to
the server and read back through `s3://`; everything must equal the local read.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import upload
from helpers import REALLOGS, SAMPLE_LOGS

from tbdiff import events
from tbdiff.errors import TbdiffError
from tbdiff.events.storage import RemotePath, is_url


@pytest.fixture(scope="module")
def s3_logs(s3_endpoint):
    upload(s3_endpoint, SAMPLE_LOGS, "s3://tbdiff-test/sample_logs")
    return "s3://tbdiff-test/sample_logs"


def _same_runs(local: list[events.RunData], remote: list[events.RunData]) -> None:
    assert [r.name for r in local] == [r.name for r in remote]
    for a, b in zip(local, remote, strict=True):
        assert sorted(a.scalars) == sorted(b.scalars)
        for tag in a.scalars:
            np.testing.assert_array_equal(a.scalars[tag].values, b.scalars[tag].values)
            np.testing.assert_array_equal(a.scalars[tag].steps, b.scalars[tag].steps)
        assert a.hparams == b.hparams
        assert [(g.kind, g.offset, g.payload) for g in a.graphs] == [
            (g.kind, g.offset, g.payload) for g in b.graphs
        ]
        assert a.counts == b.counts
        assert [w.kind for w in a.warnings] == [w.kind for w in b.warnings]


def test_url_or_path():
    assert is_url("s3://b/x") and is_url("gs://b") and not is_url("/tmp/x")
    assert not is_url("file:///tmp/x") and not is_url("C:\\logs")
    p = RemotePath.parse("s3://bucket/exp/run_1/")
    assert (str(p), p.name, str(p.parent), str(p / "train")) == (
        "s3://bucket/exp/run_1",
        "run_1",
        "s3://bucket/exp",
        "s3://bucket/exp/run_1/train",
    )


def test_sample_logs_read_through_s3_equal_local(s3_logs):
    remote = events.read_logdir(s3_logs)
    assert all(isinstance(f, RemotePath) for r in remote for f in r.files)
    _same_runs(events.read_logdir(SAMPLE_LOGS), remote)


@pytest.mark.shared("reallogs")
def test_real_logs_through_s3_equal_local(s3_endpoint):
    root = REALLOGS / "janosh__tensorboard-reducer"
    upload(s3_endpoint, root, "s3://tbdiff-test/reducer")
    _same_runs(events.read_logdir(root), events.read_logdir("s3://tbdiff-test/reducer"))


def test_damaged_file_in_s3_is_a_warning_not_a_crash(s3_endpoint, tmp_path):
    (f,) = sorted((SAMPLE_LOGS / "keras").glob("events.out.tfevents.*"))
    data = f.read_bytes()
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / f.name).write_bytes(data[: len(data) - 30])
    upload(s3_endpoint, tmp_path / "cut", "s3://tbdiff-test/cut")
    (rd,) = events.read_logdir("s3://tbdiff-test/cut")
    assert [w.kind for w in rd.warnings] == ["record.truncated"]
    assert rd.scalars  # everything before the cut


def test_missing_prefix_is_a_one_line_error(s3_endpoint):
    with pytest.raises(TbdiffError, match="no TensorBoard event files"):
        events.read_logdir("s3://tbdiff-test/nothing-here")


def test_cli_inspect_and_compare_on_s3(s3_logs, cli):
    proc = cli("inspect", s3_logs, "--json")
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout)
    assert [r["name"] for r in inv["runs"]] == ["keras", "tensorflow"]
    proc = cli("compare", f"{s3_logs}/tensorflow", f"{s3_logs}/keras", "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["findings"][0]["id"] == "dropout.rate_mismatch"
    proc = cli("inspect", "s3://tbdiff-test/missing")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == "tbdiff: error: s3://tbdiff-test/missing: no such file or directory"
    )


def test_url_without_backend_names_the_extra(monkeypatch):
    from tbdiff.events import storage

    monkeypatch.setattr(storage, "_filesystem_cache", {})
    with pytest.raises(TbdiffError, match=r"pip install 'tbdiff\[gcs\]'"):
        storage.filesystem("gs")


def test_read_scalars_and_hparams_through_s3_equal_local(s3_logs):
    import pandas as pd

    import tbdiff

    pd.testing.assert_frame_equal(tbdiff.read_scalars(s3_logs), tbdiff.read_scalars(SAMPLE_LOGS))
    pd.testing.assert_frame_equal(tbdiff.read_hparams(s3_logs), tbdiff.read_hparams(SAMPLE_LOGS))
