"""The run files (scale/outputs.py): CSV text, Parquet, the cut of large CSVs, tables.json.

The sample clients' run files are checked in tests/test_audit.py (on its one audit per sample):
``summary.json`` equal to ``tests/expected/summary_<client>.json`` (floats to 1e-12; the summaries before
issue 14, commit d35f221, ``run_at`` fixed), Parquet equal to the tables, CSV numbers read
back.  A change that is meant to move numbers regenerates them and says so in its commit::

    PYTHONPATH=. python -c "from tests.test_outputs import regenerate; regenerate()"
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from driftkit.scale import outputs
from driftkit.scale.outputs import write_tables

EXPECTED = Path(__file__).parent / "expected"
RUN_AT = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)  # tests/test_audit.py's


def regenerate() -> None:
    """Rewrite the expected summaries from this checkout (see the module docstring)."""
    from driftkit.audit import run_audit
    from tests.audit_clients import SAMPLE_CLIENTS, SAMPLES

    for client in SAMPLE_CLIENTS:
        summary = run_audit(SAMPLES / client, run_at=RUN_AT).summary
        text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
        (EXPECTED / f"summary_{client}.json").write_text(text + "\n", encoding="utf-8")


def test_csv_text_of_timestamps_nulls_and_markup(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(["2026-09-01 05:06:07.9", None], utc=True),
            "day": pd.to_datetime(["2026-09-01", "2026-09-02"]),
            "units": [1.5, np.nan],
            "sku": ['<b>"A",1</b>', None],
            "kind": pd.Categorical(["x", "y"]),
        }
    ).assign(local=lambda f: f["at"].dt.tz_convert("America/Chicago"))
    write_tables({"daily": frame}, tmp_path)
    lines = (tmp_path / "daily.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [
        '"at","day","units","sku","kind","local"',
        '"2026-09-01T05:06:07+0000","2026-09-01T00:00:00",1.5,"<b>""A"",1</b>","x","2026-09-01T00:06:07-0500"',
        ',"2026-09-02T00:00:00",,,"y",',
    ]
    assert not (tmp_path / "daily.parquet").exists()


def test_large_tables_are_cut_in_csv_and_whole_in_parquet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputs, "CSV_ROWS", 3)
    findings = pd.DataFrame({"rank": np.arange(1, 8), "sku": [f"S{i}" for i in range(7)]})
    rejects = pd.DataFrame({"line": np.arange(5)})
    manifest = write_tables({"findings": findings, "rejects": rejects}, tmp_path)
    assert manifest == {
        "findings": {"rows": 7, "csv_rows": 3, "parquet": "findings.parquet"},
        "rejects": {"rows": 5, "csv_rows": 5, "parquet": None},  # rejects are never cut
    }
    assert pd.read_csv(tmp_path / "findings.csv")["rank"].tolist() == [1, 2, 3]
    assert pd.read_parquet(tmp_path / "findings.parquet").equals(findings)
    assert len(pd.read_csv(tmp_path / "rejects.csv")) == 5
    assert json.loads((tmp_path / "tables.json").read_text()) == manifest
    assert pq.read_schema(tmp_path / "findings.parquet").names == ["rank", "sku"]
