"""The notebooks: committed without outputs, thin, and executed (nbval; papermill per client)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from driftkit.notebook import IPCKernelManager
from tests.audit_clients import REPO, SAMPLE_CLIENTS, SAMPLES

NOTEBOOKS = REPO / "notebooks"
AUDIT_NOTEBOOK = NOTEBOOKS / "drift_audit.ipynb"
EXECUTED = [AUDIT_NOTEBOOK, NOTEBOOKS / "explore.ipynb"]
SANITIZE = REPO / "tests" / "nbval_sanitize.cfg"
PARAMETERS = {
    "client_dir",
    "out_dir",
    "reports_dir",
    "start",
    "end",
    "engine",
    "jobs",
    "scheduler",
    "handover",
}  # what batch.py injects
NOT_THIN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.For,
            ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
            ast.GeneratorExp)  # fmt: skip


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", EXECUTED, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    nbformat.validate(nbformat.read(path, as_version=4))
    cells = _code_cells(path)
    assert [c.outputs for c in cells if c.outputs] == []
    assert [c.execution_count for c in cells if c.execution_count is not None] == []


def test_audit_notebook_is_thin() -> None:
    found = []
    for cell in _code_cells(AUDIT_NOTEBOOK):
        found += [type(node).__name__ for node in ast.walk(ast.parse(cell.source))
                  if isinstance(node, NOT_THIN)]  # fmt: skip
    assert found == []


def test_parameters_cell_holds_literals_batch_injects() -> None:
    cells = _code_cells(AUDIT_NOTEBOOK)
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is cells[0]
    tree = ast.parse(tagged[0].source)
    assigned = {}
    for statement in tree.body:
        assert isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
        assigned[statement.targets[0].id] = statement.value.value  # type: ignore[attr-defined]
    assert set(assigned) == PARAMETERS
    assert str(assigned["client_dir"]).startswith("data/sample/")
    assert (REPO / assigned["client_dir"] / "client.toml").is_file()


def test_sanitize_config_parses_and_replaces() -> None:
    patterns = get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))
    assert len(patterns) >= 5
    text = ("run at 2026-10-01T06:00:00+00:00 by <Audit at 0x7f3a2c1d9e80> view_12 param_3 "
            "id 123e4567-e89b-12d3-a456-426614174000 in 4.2 s /tmp/pytest-of-x/run0/a.csv")  # fmt: skip
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    assert text == ("run at TIMESTAMP by <Audit at 0xADDRESS> view-ID param-ID id UUID in "
                    "DURATION TMPPATH")  # fmt: skip


def test_nbval_executes_the_notebooks() -> None:
    """``pytest --nbval-lax`` over the committed notebooks, as a subprocess of this run."""
    command = [
        sys.executable, "-m", "pytest", "-p", "nbval", "--nbval-lax", "--nbval-current-env",
        f"--nbval-sanitize-with={SANITIZE}", "--nbval-cell-timeout=300", "-p", "no:cacheprovider",
        *map(str, EXECUTED),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    cells = sum(len(nbformat.read(p, as_version=4).cells) for p in EXECUTED)
    code_cells = sum(len(_code_cells(p)) for p in EXECUTED)
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))  # type: ignore[union-attr]
    assert code_cells <= passed <= cells


@pytest.mark.slow
@pytest.mark.parametrize("client", [c for c in SAMPLE_CLIENTS if c != "acme-outdoor"])
def test_papermill_runs_the_template_on_every_sample_client(client: str, tmp_path: Path) -> None:
    """acme-outdoor runs under papermill in test_batch.py; the other samples run here."""
    import papermill as pm

    out = tmp_path / "run"
    out.mkdir()
    parameters = {"client_dir": str(SAMPLES / client), "out_dir": str(out)}
    executed = pm.execute_notebook(
        str(AUDIT_NOTEBOOK), str(out / "drift_audit.ipynb"), parameters=parameters,
        kernel_name="python3", progress_bar=False, kernel_manager_class=IPCKernelManager,
    )  # fmt: skip
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["client"] == client
