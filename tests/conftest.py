"""Shared pytest fixtures, and the report of tests skipped for lack of ../shared data.

Fixtures: `event_fx` (event files written by TensorFlow's/TensorBoard's own writers,
tests/gen_event_fixtures.py), `graph_fx` (GraphDef .pb files, event logs and a SavedModel
written by TensorFlow, tests/gen_graph_fixtures.py), `cli` (runs `python -m tbdiff` as a user
does). Marker `shared("reallogs" | "mnist")`: the test reads that ../shared data set.

At the end of every run, the tests skipped because ../shared is missing are counted in a
section of their own (what was missing, how many tests), so a plain clone never passes
quietly with them left out; TBDIFF_REQUIRE_SHARED=1 (.ci/run) turns those skips into failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import (  # noqa: E402
    GENERATORS,
    REQUIRE_SHARED_ENV,
    SHARED,
    SharedDataMissing,
    generated,
    need_shared,
    run_tbdiff,
    start_generator,
)

_MISSING_KEY = pytest.StashKey[dict[str, list[str]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "shared(name): reads ../shared data (reallogs or mnist); skipped when absent"
    )
    config.stash[_MISSING_KEY] = {}


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("shared"):
        for name in mark.args:
            need_shared(SHARED[name], name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(SharedDataMissing):
        reason = str(call.excinfo.value.msg or "")
        item.config.stash[_MISSING_KEY].setdefault(reason, []).append(item.nodeid)
    return report


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    missing = config.stash.get(_MISSING_KEY, {})
    if not missing:
        return
    n = sum(len(v) for v in missing.values())
    tr = terminalreporter
    tr.section(f"{n} test(s) SKIPPED: ../shared data not found", sep="!", red=True, bold=True)
    for reason, ids in sorted(missing.items()):
        tr.write_line(f"{len(ids):4d}  {reason}")
    tr.write_line(
        "These tests read real third-party logs / MNIST that are not part of this repository "
        "(see README, 'Tests and data'). Lay them out in ../shared or set TBDIFF_REALLOGS / "
        f"TBDIFF_DATA_DIR; {REQUIRE_SHARED_ENV}=1 (CI) makes their absence a failure."
    )


# ------------------------------------------------------------------ TF fixture generators

# Every TF fixture generator the session's tests read (tests/helpers.py GENERATORS) starts in
# the background as soon as the session knows its tests, and the modules that wait for a slow
# one run last, so TensorFlow writes on one core while the tests that need no TensorFlow run
# on the other.
_TRAINING = {"experiment", "ablation"}  # they train MNIST models themselves


def _module(item: pytest.Item) -> str:
    return Path(str(item.fspath)).stem.removeprefix("test_")


def pytest_collection_modifyitems(session: pytest.Session, config, items) -> None:
    """Modules that need no generator first, then those waiting for a quick one, then those
    waiting for a slow one or training (stable order otherwise)."""
    slow = {m for g in GENERATORS.values() if g.slow for m in g.readers} | _TRAINING
    quick = {m for g in GENERATORS.values() if not g.slow for m in g.readers}
    items.sort(key=lambda item: 2 if _module(item) in slow else int(_module(item) in quick))


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    modules = {_module(item) for item in session.items}
    factory = session.config._tmp_path_factory  # the session's tmp_path_factory
    for script, gen in GENERATORS.items():
        if modules & set(gen.readers):
            start_generator(factory, script)


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def event_fx(tmp_path_factory) -> Path:
    """Event files written by TF1/TF2/Keras/TensorBoard writers (tests/gen_event_fixtures.py)."""
    return generated(tmp_path_factory, "gen_event_fixtures.py")


@pytest.fixture(scope="session")
def graph_fx(tmp_path_factory) -> Path:
    """tf1.pb, keras.pb, consts.pb, logs/<name>/ and saved_model/ (tests/gen_graph_fixtures.py)."""
    return generated(tmp_path_factory, "gen_graph_fixtures.py")


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """`tbdiff ARGS` as a user runs it (tests/helpers.py `run_tbdiff`)."""
    return run_tbdiff


# ------------------------------------------------------------------ object storage (S3)


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible server on 127.0.0.1 (moto's standalone server, dummy credentials).

    Yields its endpoint URL; tbdiff reaches it through s3fs with `FSSPEC_S3_ENDPOINT_URL`
    (subprocesses, Dask workers) or `storage.set_storage_options` (in-process). Nothing leaves
    the machine.
    """
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in S3_ENV}
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(S3_ENV, FSSPEC_S3_ENDPOINT_URL=endpoint)
    from tbdiff.events import storage

    storage.set_storage_options("s3", endpoint_url=endpoint, key="testing", secret="testing")
    try:
        yield endpoint
    finally:
        storage.set_storage_options("s3")
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "FSSPEC_S3_ENDPOINT_URL": "",
}


def upload(endpoint: str, local: Path, url: str) -> None:
    """Copy a local folder to s3://bucket/prefix on the test server (bucket made if needed)."""
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing")
    bucket = url.removeprefix("s3://").split("/")[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    fs.put(str(local), url.removeprefix("s3://"), recursive=True)
    fs.invalidate_cache()
