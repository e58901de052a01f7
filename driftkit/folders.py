"""Run folders on disk: which folders of a client are finished runs, and their summaries.

``REPORTS_DIR/<client>/<date>/`` holds one finished run (DESIGN §9).  Kept apart from the
pipeline so that the batch runner, which only waits while a notebook kernel audits, reads
run folders without importing pandas (bench/README.md, "Sample clients").
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any


def run_folders(client_folder: Path) -> list[Path]:
    """The complete run folders of one client, oldest first.

    A run folder is named by its ISO date and holds ``summary.json``; staging folders
    (``.<date>.partial-<pid>``), a replaced run (``.<date>.old-<pid>``) and ``failed/`` are
    never runs, so an interrupted audit is never mistaken for a finished one.
    """
    if not client_folder.is_dir():
        return []
    found = [p for p in client_folder.iterdir() if _is_date(p.name)]
    return sorted(p for p in found if (p / "summary.json").is_file())


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's ``summary.json`` as a dict; empty when the run folder has none."""
    path = run_dir / "summary.json"
    if not path.is_file():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _is_date(name: str) -> bool:
    try:
        return date.fromisoformat(name).isoformat() == name
    except ValueError:
        return False
