"""The report stack imports jsonschema without the iri grammar, and nothing it validates
uses that format (driftkit/report/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import altair as alt
import nbformat

IRI_FORMATS = {"iri", "iri-reference"}
ROOT = Path(__file__).resolve().parents[1]


def _formats(node: object) -> set[str]:
    """Every ``"format"`` value in a JSON schema."""
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_formats(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_formats(value) for value in node))
    return set()


def test_no_schema_the_report_validates_uses_an_iri_format() -> None:
    vega_lite = Path(alt.__file__).parent / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    schemas = [vega_lite, *Path(nbformat.__file__).parent.rglob("*.json")]
    used = set().union(*(_formats(json.loads(p.read_text(encoding="utf-8"))) for p in schemas))
    assert "uri" in used  # the scan reads formats at all
    assert not used & IRI_FORMATS


def _probe(code: str) -> str:
    """What ``code`` prints when run in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_report_modules_import_jsonschema_without_the_iri_checker() -> None:
    probe = (
        "import sys, driftkit.report.chartkit, jsonschema, rfc3987_syntax\n"
        "checkers = jsonschema.FormatChecker.checkers\n"
        "print(sorted({'iri', 'uri'} & set(checkers)), 'rfc3987_syntax' in sys.modules)\n"
    )
    out = _probe(probe)
    assert out.split() == ["['uri']", "True"]  # no iri checker; the package imports after


def test_the_command_line_and_the_facade_import_no_pipeline_until_used() -> None:
    probe = (
        "import sys, driftkit, driftkit.cli, driftkit.batch\n"
        "print('pandas' in sys.modules, 'driftkit.audit' in sys.modules)\n"
        "import driftkit.simulate.world  # the subpackage does not hide the function\n"
        "from driftkit import Audit, simulate\n"
        "print(callable(driftkit.simulate), driftkit.simulate is simulate, Audit.__name__)\n"
    )
    out = _probe(probe)
    assert out.split() == ["False", "False", "True", "True", "Audit"]


def test_the_html_audit_checks_its_clients_without_pyarrow_before_the_kernel_starts() -> None:
    # the kernel starts after these; each import before it delays the audit (bench/README.md)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "import driftkit.cli, driftkit.notebook\n"
        "from driftkit.batch import client_dirs\n"
        f"client_dirs([Path({str(ROOT / 'data/sample/calm-goods')!r})], None)\n"
        "print(*[m for m in ('numpy', 'pyarrow', 'pandas', 'tqdm') if m in sys.modules])\n"
    )
    assert _probe(probe).split() == []


def test_an_audit_without_progress_imports_no_notebook_progress_bar() -> None:
    # tqdm.auto imports ipywidgets inside a kernel (~0.5 s of every HTML audit's kernel)
    probe = (
        "import sys\n"
        "from driftkit.load.client import load_client\n"
        f"load_client({str(ROOT / 'data/sample/calm-goods')!r})\n"
        "print('tqdm.auto' in sys.modules, 'tqdm' in sys.modules)\n"
    )
    assert _probe(probe).split() == ["False", "False"]  # not even tqdm (~0.04 s) for no bar


def test_an_audit_without_html_imports_no_report_notebook_or_cluster_stack(tmp_path) -> None:
    # what `driftkit audit CLIENT --no-html` does not need costs a sample client's audit time
    heavy = ["altair", "vl_convert", "jinja2", "papermill", "nbformat", "nbconvert",
             "ipywidgets", "IPython", "dask", "distributed", "scipy", "duckdb", "matplotlib",
             "tqdm"]  # fmt: skip
    probe = (
        "import sys\n"
        "from driftkit.cli import main\n"
        f"code = main(['audit', {str(ROOT / 'data/sample/calm-goods')!r}, '--no-html',"
        f" '--out', {str(tmp_path / 'reports')!r}])\n"
        f"print(code, *[m for m in {heavy!r} if m in sys.modules])\n"
    )
    assert _probe(probe).split()[-1] == "0"  # the audit ran (exit code 0) and imported none


def test_the_audit_kernel_imports_altair_without_widgets_and_anywidget_works_after() -> None:
    probe = (
        "import sys\n"
        "from driftkit.kernel import import_kernel_modules\n"
        "import_kernel_modules()\n"
        "print('anywidget' in sys.modules, 'ipywidgets' in sys.modules, 'altair' in sys.modules)\n"
        "import altair, anywidget\n"
        "try:\n"
        "    altair.JupyterChart(altair.Chart())\n"
        "except ImportError:\n"
        "    print('stand-in')\n"
        "print(anywidget.AnyWidget.__name__)\n"
    )
    assert _probe(probe).split() == ["False", "False", "True", "stand-in", "AnyWidget"]


def test_altair_imported_first_keeps_its_widget_class() -> None:
    probe = (
        "import altair, sys\n"
        "from driftkit.report.startup import import_altair_without_widgets\n"
        "import_altair_without_widgets()\n"
        "print(altair.JupyterChart.__module__, 'anywidget' in sys.modules)\n"
    )
    assert _probe(probe).split() == ["altair.jupyter.jupyter_chart", "True"]
