"""Client and run folders on disk: a client folder's id, which folders of a client are
finished runs, and their summaries.

``REPORTS_DIR/<client>/<date>/`` holds one finished run (DESIGN §9).  Kept apart from the
pipeline (and from :mod:`driftkit.config`, which imports pyarrow) so that the batch runner, which
only waits while a notebook kernel audits, checks client folders and reads run folders without
importing pandas or pyarrow before it starts the kernel (bench/README.md, "Sample clients").
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from driftkit.errors import ConfigError

#: What a client id (a client folder's name) may be.
CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


def check_client_id(client_id: str, source: Path | str = "client folder") -> str:
    """Return ``client_id`` if it is a valid client id, else raise ConfigError."""
    if not CLIENT_ID.fullmatch(client_id):
        raise ConfigError(
            f"{source}: client id {client_id!r} is not allowed; use lowercase letters, digits, "
            "'-' and '_' (pattern [a-z0-9][a-z0-9_-]*), e.g. rename the folder to "
            f"{re.sub(r'[^a-z0-9_-]+', '-', client_id.lower()).strip('-_') or 'client-1'!r}"
        )
    return client_id


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
