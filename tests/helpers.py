"""Shared test helpers: where the shared data lives, and the TF fixture runner.

The real logs and MNIST files live in `../shared` beside the repository (CI lays it there);
env TBDIFF_REALLOGS / TBDIFF_DATA_DIR override. They belong to other people and are never
committed here, so a plain clone runs without them: a test that reads them calls
`need_shared(path)` (or carries `@pytest.mark.shared("reallogs"|"mnist")`), which skips it
with a `SharedDataMissing` reason that tests/conftest.py counts and reports loudly at the end
of the run. With TBDIFF_REQUIRE_SHARED=1 (set by .ci/run) a missing path fails the test
instead: CI must never pass by skipping them.

Fixture runner below:

TF1 graph mode (`disable_eager_execution`) is process-global and importing TensorFlow costs
seconds, so every test module that needs TF-written graphs or logs goes through this one helper:
it runs `tests/<script> OUTDIR` with the env tf_keras graph mode needs, and caches the folder
under the session's base temp dir so modules sharing a script share its output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE_LOGS = ROOT / "sample_logs"
REALLOGS = Path(os.environ.get("TBDIFF_REALLOGS") or ROOT.parent / "shared/data/reallogs")
MNIST_DIR = Path(os.environ.get("TBDIFF_DATA_DIR") or ROOT.parent / "shared/data/mnist")


SHARED = {"reallogs": REALLOGS, "mnist": MNIST_DIR}
REQUIRE_SHARED_ENV = "TBDIFF_REQUIRE_SHARED"


class SharedDataMissing(pytest.skip.Exception):
    """A skip because data from ../shared is not there (counted by tests/conftest.py)."""


def need_shared(path: Path | str, what: str = "") -> Path:
    """`path` (under ../shared) if it exists; else skip the test, or fail it under CI."""
    p = Path(path)
    if p.exists():
        return p
    why = f"{what + ': ' if what else ''}{p} not found (shared data, not in this repository)"
    if os.environ.get(REQUIRE_SHARED_ENV) == "1":
        pytest.fail(f"{why}; {REQUIRE_SHARED_ENV}=1 requires it", pytrace=False)
    raise SharedDataMissing(why, allow_module_level=True)


def tf_env() -> dict[str, str]:
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")


def generated(tmp_path_factory, script: str, done_marker: str, *, timeout: int = 900) -> Path:
    """Folder written by `tests/<script>`; generated on first use in the session."""
    out = tmp_path_factory.getbasetemp() / Path(script).stem
    if not (out / done_marker).exists():
        proc = subprocess.run(
            [sys.executable, str(HERE / script), str(out)],
            env=tf_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not (out / done_marker).exists():
            raise RuntimeError(f"{script} failed:\n{proc.stderr[-4000:]}")
    return out
