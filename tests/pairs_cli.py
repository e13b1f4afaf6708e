"""Run the acceptance pairs of tests/pairs_manifest.py through the real CLI and check them.

Shared by test_pairs_tf1.py, test_pairs_keras3.py and test_pairs_tf2fn.py. The generators a
session needs start side by side (tests/conftest.py, at collection); the CLI runs of one
generator's pairs (`tbdiff compare A B --json`, `inspect RUN --json`) run in-process
(tests/helpers.py `run_tbdiff`) and are cached for the session, so each test only reads its result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pairs_manifest as M
from helpers import generated, run_tbdiff

LABELS = {"normalization": ("normalization", "normalisation")}  # either spelling is fine
#: every acceptance pair compares two versions of one model: none may look like two models
UNRELATED = "model.unrelated"
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class CliRun:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def doc(self) -> dict:
        assert "Traceback" not in self.stderr, self.stderr[-3000:]
        assert self.returncode in (0, 1), f"exit {self.returncode}: {self.stderr[-2000:]}"
        return json.loads(self.stdout)


def tbdiff(*args: str) -> CliRun:
    proc = run_tbdiff(*args, env={"COLUMNS": "100"})
    return CliRun(["tbdiff", *args], proc.returncode, proc.stdout, proc.stderr)


def outdir(request, gen: str) -> Path:
    """Output of the generator `gen` (a key of pairs_manifest.GENERATORS); tests/conftest.py
    started every generator the session needs at collection, so they run side by side."""
    return generated(request.getfixturevalue("tmp_path_factory"), M.GENERATORS[gen])


def run_status(out: Path) -> dict[str, dict]:
    return json.loads((out / "runs.json").read_text())


def require_runs(out: Path, *runs: str) -> None:
    """Fail with the generator's own error when a run could not be written."""
    status = run_status(out)
    for run in runs:
        info = status.get(run)
        if info is None:
            errors = {k: v["error"][-800:] for k, v in status.items() if "error" in v}
            raise AssertionError(f"run {run!r} was not written; generator errors: {errors}")
        assert "error" not in info, f"run {run!r} failed in the generator:\n{info['error']}"


_CACHE: dict[tuple, CliRun] = {}


def run_all(jobs: dict[tuple, list[str]]) -> dict[tuple, CliRun]:
    """Run the CLI jobs not yet cached (in-process, one after the other)."""
    for key, argv in jobs.items():
        if key not in _CACHE:
            _CACHE[key] = tbdiff(*argv)
    return {k: _CACHE[k] for k in jobs}


def compare_jobs(out: Path, pairs: list[M.Pair]) -> dict[tuple, list[str]]:
    status = run_status(out)
    jobs = {}
    for p in pairs:
        if all("error" not in status.get(r, {"error": ""}) for r in (p.a, p.b)):
            jobs[("compare", p.name)] = [
                "compare",
                str(out / p.a),
                str(out / p.b),
                "--json",
                *p.args,
            ]
    return jobs


def inspect_jobs(out: Path, runs: list[str]) -> dict[tuple, list[str]]:
    return {("inspect", run): ["inspect", str(out / run), "--json"] for run in runs}


def session_results(out: Path, gen: str, extra_inspect: tuple[str, ...] = ()) -> dict:
    """Every CLI result the tests of one generator read: its pairs and its inspected runs."""
    pairs = [p for p in M.PAIRS if p.gen == gen]
    runs = sorted({c.run for c in M.INSPECT if c.gen == gen} | set(extra_inspect))
    status = run_status(out)
    runs = [r for r in runs if "error" not in status.get(r, {"error": ""})]
    return run_all({**compare_jobs(out, pairs), **inspect_jobs(out, runs)})


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------


def _brief(found: list[dict]) -> list[tuple[str, str, str]]:
    return [(f["id"], f["severity"], f["title"]) for f in found]


def _text(f: dict) -> str:
    parts = [
        f.get("title", ""),
        f.get("detail", ""),
        json.dumps(f.get("a")),
        json.dumps(f.get("b")),
    ]
    return " ".join(parts).lower().replace("_", " ")


def check_pair(pair: M.Pair, res: CliRun) -> None:
    """Assert the pair's expectation on `compare --json` (see pairs_manifest's docstring)."""
    doc = res.doc()
    found = doc["findings"]
    brief = _brief(found)
    if pair.first is None:
        above = [b for b in brief if b[1] != "info"]
        assert not above, f"{pair.name}: expected nothing above info, got {brief}"
    else:
        lead = list(found)
        if set(pair.severity) & {"info", "benign"}:  # naming.only may precede an info note
            while lead and lead[0]["id"] == "naming.only" and lead[0]["severity"] == "info":
                lead = lead[1:]
        assert lead, f"{pair.name}: no findings, expected {pair.first}"
        first = lead[0]
        assert (first["id"], first["severity"]) in {(pair.first, s) for s in pair.severity}, (
            f"{pair.name}: expected first {pair.first} ({'/'.join(pair.severity)}), got {brief}"
        )
        if pair.source:
            assert pair.source in _text(first), (
                f"{pair.name}: the finding does not say its facts come from {pair.source!r}: "
                f"{first['title']} / {first['detail']} / a={first['a']} b={first['b']}"
            )
    for nid, sev, text in pair.notes:
        hits = [f for f in found if f["id"] == nid and f["severity"] == sev]
        assert len(hits) == 1, f"{pair.name}: expected one {nid} ({sev}), got {brief}"
        if text:
            said = f"{hits[0]['title']} {hits[0]['detail']}"
            assert text in said, f"{pair.name}: {nid} does not mention {text!r}: {said}"
    bad = [b for b in brief if b[0] in pair.absent or b[0] == UNRELATED]
    assert not bad, f"{pair.name}: false alarms {bad}"
    assert res.returncode == pair.exit_code, (
        f"{pair.name}: exit {res.returncode}, expected {pair.exit_code}; findings {brief}"
    )


def _numbers(line: str) -> list[float]:
    out = []
    for m in NUMBER.findall(line):
        try:
            out.append(float(m))
        except ValueError:
            pass
    return out


def _has_token(line: str, token: str | float) -> bool:
    if isinstance(token, str):
        if token.startswith("!"):
            return token[1:].lower() not in line.lower()
        return token.lower() in line.lower()
    return any(abs(v - token) <= 1e-3 * abs(token) + 1e-12 for v in _numbers(line))


def model_of(doc: dict) -> dict:
    """The model description of the run inspected (one run with a model per directory)."""
    runs = [r for r in doc["runs"] if r.get("model")]
    assert runs, f"inspect shows no model description: {[r['name'] for r in doc['runs']]}"
    assert len(runs) == 1, [r["name"] for r in runs]
    return runs[0]["model"]


def check_inspect(check: M.Inspect, res: CliRun) -> None:
    model = model_of(res.doc())
    problems = []
    for label, fact in check.facts.items():
        line = next((model[k] for k in LABELS.get(label, (label,)) if k in model), None)
        if not isinstance(line, str):
            problems.append(f"{label}: not shown")
            continue
        missing = [t for t in fact.tokens if not _has_token(line, t)]
        if missing:
            problems.append(f"{label}: {line!r} lacks {missing}")
        plain = line.lower().replace("_", " ")
        if fact.sources and not any(s in plain for s in fact.sources):
            problems.append(f"{label}: {line!r} names no source of {fact.sources}")
    for label in check.absent:
        line = model.get(label)
        if line is not None and "none" not in str(line).lower():
            problems.append(f"{label}: expected nothing, shows {line!r}")
    assert not problems, f"inspect {check.run} ({check.what}):\n" + "\n".join(problems)
