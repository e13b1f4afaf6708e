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

import atexit
import os
import subprocess
import sys
from dataclasses import dataclass
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


def tf_env(legacy_keras: bool = True) -> dict[str, str]:
    """Env for a TF fixture script: tf_keras (TF_USE_LEGACY_KERAS=1) unless it writes Keras 3."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_USE_LEGACY_KERAS="1")
    if not legacy_keras:
        del env["TF_USE_LEGACY_KERAS"]
    return env


_STARTED: dict[Path, subprocess.Popen] = {}


def _stop_started() -> None:  # a session that ends early leaves no generator behind
    for proc in _STARTED.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


atexit.register(_stop_started)


@dataclass(frozen=True)
class Generator:
    """A script under tests/ that writes fixtures with TensorFlow (seconds to a minute)."""

    done: str  # the file it writes last: its output is complete
    legacy_keras: bool = True  # tf_keras (TF_USE_LEGACY_KERAS=1), else Keras 3
    readers: tuple[str, ...] = ()  # test modules reading its output (names without "test_")
    slow: bool = False  # tens of seconds: its readers run last (tests/conftest.py)


#: Every TF fixture script, the one place that says how to run it and who reads it.
GENERATORS: dict[str, Generator] = {
    "gen_event_fixtures.py": Generator(
        "written.json", readers=("events", "edges", "inspect", "model", "api")
    ),
    "gen_graph_fixtures.py": Generator("done.json", readers=("align", "edges", "graph", "inspect")),
    "gen_pairs_keras3.py": Generator("DONE", False, ("pairs_keras3", "runs"), slow=True),
    "gen_pairs_tf1.py": Generator("DONE", readers=("pairs_tf1",), slow=True),
    "gen_pairs_tf2fn.py": Generator("DONE", readers=("pairs_tf2fn",), slow=True),
    "gen_pairs_semantics.py": Generator(
        "manifest.json", readers=("findings_semantics",), slow=True
    ),
    "gen_pairs_training.py": Generator("DONE", readers=("findings_training",), slow=True),
}


def start_generator(tmp_path_factory, script: str) -> Path:
    """Start `tests/<script> OUTDIR` in the background unless done or running (so several
    generators can run side by side); `generated` waits for it."""
    gen = GENERATORS[script]
    out = tmp_path_factory.getbasetemp() / Path(script).stem
    if not (out / gen.done).exists() and out not in _STARTED:
        log = out.parent / f"{out.name}.stderr.log"
        with open(log, "w") as err:
            _STARTED[out] = subprocess.Popen(
                [sys.executable, str(HERE / script), str(out)],
                env=tf_env(gen.legacy_keras),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
    return out


def generated(tmp_path_factory, script: str, *, timeout: int = 900) -> Path:
    """Folder written by `tests/<script>`; generated on first use in the session."""
    out = start_generator(tmp_path_factory, script)
    proc = _STARTED.get(out)
    if proc is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if not (out / GENERATORS[script].done).exists():
        log = out.parent / f"{out.name}.stderr.log"
        tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
        raise RuntimeError(f"{script} failed:\n{tail}")
    return out


# ------------------------------------------------------------------ the CLI, as a user runs it


def run_tbdiff(
    *args: str,
    env: dict[str, str] | None = None,
    subprocess_: bool = False,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    """`tbdiff ARGS`: exit code, stdout and stderr, and never a traceback.

    In-process by default (`tbdiff.cli.main` with stdout/stderr captured and `env` set for the
    call; a subprocess costs a second of interpreter start-up and imports per call, minutes over
    the suite). A subprocess when the test asks for one (`subprocess_=True`: what the process
    imports, how it exits, capabilities dropped).
    """
    if subprocess_:
        full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
        proc = subprocess.run(
            [sys.executable, "-m", "tbdiff", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=full_env,
        )
    else:
        proc = _in_process(list(args), env or {})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _in_process(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    import contextlib
    import io

    from tbdiff.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse usage errors, --help
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["tbdiff", *argv], code, out.getvalue(), err.getvalue())
