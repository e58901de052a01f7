"""driftkit.client_audit with HTML: a client audited alone is audited in the ``driftkit``
process while its kernel boots, and the notebook picks up the audit (driftkit.handover).

One module-scoped batch (``driftkit audit markup broken --jobs 1`` in a subprocess, with HTML)
and the same good client without HTML.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from driftkit import batch
from driftkit.batch import AuditOptions, run_batch
from driftkit.handover import HANDOVER
from tests.audit_clients import NAME, run_driftkit, write_markup_and_broken


@pytest.fixture(scope="module")
def alone(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``driftkit audit markup broken --jobs 1`` with HTML, and ``markup --no-html``."""
    root = tmp_path_factory.mktemp("alone")
    markup, broken = write_markup_and_broken(root)
    done = run_driftkit("audit", str(markup), str(broken), "--out", "html", "--jobs", "1", cwd=root)
    plain = run_driftkit("audit", str(markup), "--out", "plain", "--no-html", cwd=root)
    assert plain.returncode == 0, plain.stderr
    return root, done


def _run(reports: Path, client: str) -> Path:
    return reports / client / datetime.now(UTC).date().isoformat()


def test_the_notebook_picks_up_the_handed_over_audit(alone: tuple) -> None:
    root, done = alone
    assert done.returncode == 1, done.stderr
    run = _run(root / "html", "markup")
    executed = nbformat.read(run / "drift_audit.ipynb", as_version=4)
    handover = executed.metadata.papermill.parameters["handover"]
    assert handover is not None and Path(handover).name == HANDOVER
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []  # the pickle is gone
    assert "Markup &lt;i&gt;Test&lt;/i&gt; &amp; Co" in (run / "drift_audit.html").read_text()
    assert NAME not in (run / "drift_audit.html").read_text()


def test_the_run_files_are_those_of_the_audit_without_html(alone: tuple) -> None:
    root, _ = alone
    html, plain = _run(root / "html", "markup"), _run(root / "plain", "markup")
    files = sorted(str(p.relative_to(plain)) for p in plain.rglob("*") if p.is_file())
    extra = {"drift_audit.html", "drift_audit.ipynb"}
    assert sorted(str(p.relative_to(html)) for p in html.rglob("*") if p.is_file()) == sorted(
        [*files, *extra]
    )
    for name in files:
        a, b = (html / name).read_bytes(), (plain / name).read_bytes()
        if name == "summary.json":
            a, b = (json.dumps({**json.loads(x), "run_at": None}).encode() for x in (a, b))
        assert a == b, name


def test_a_failing_audit_fails_in_the_notebook_as_without_a_handover(alone: tuple) -> None:
    """The audit fails in this process first; the notebook then audits and fails as ever."""
    root, done = alone
    errors = [line for line in done.stderr.splitlines() if "FAILED" in line]
    assert len(errors) == 1 and errors[0].startswith("broken: FAILED at notebook cell "), errors
    assert "InputError" in errors[0] and "missing.csv" in errors[0], errors
    assert "executed notebook kept" in errors[0]
    failed = root / "html" / "broken" / "failed"
    assert sorted(p.name for p in failed.iterdir()) == ["drift_audit.ipynb", "error.txt"]
    assert [p.name for p in (root / "html" / "broken").iterdir()] == ["failed"]


@pytest.mark.parametrize(
    ("clients", "jobs", "engine", "hand_over"),
    [(1, None, None, True), (3, 1, None, True), (3, None, None, False), (1, None, "pandas", False)],
    ids=["one-client", "jobs-1", "pool", "engine"],
)
def test_only_clients_audited_alone_in_process_are_handed_over(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clients: int,
    jobs: int | None,
    engine: str | None,
    hand_over: bool,
) -> None:
    """In a pool the clients' threads share this process: each kernel audits its client."""
    seen: list[bool] = []

    def audit(folder: Path, options: AuditOptions) -> batch.ClientResult:
        seen.append(options.hand_over)
        return batch.ClientResult(folder.name, False, step="test", error="not run")

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(batch, "audit_client", audit)
    monkeypatch.setattr(batch, "_pool", lambda dirs, options, jobs: _Inline())
    dirs = [tmp_path / str(n) for n in range(clients)]
    run_batch(dirs, AuditOptions(out=tmp_path / "r", jobs=jobs, engine=engine))
    assert seen == [hand_over] * clients


class _Inline:
    """A pool that runs each task at once (for the options it is given)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: object, *args: object) -> object:
        from concurrent.futures import Future

        future: Future[object] = Future()
        future.set_result(fn(*args))  # type: ignore[operator]
        return future
