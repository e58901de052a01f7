"""The user's cache folder for driftkit's built JavaScript (the report's and the explorer's)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """Where built bundles are kept: ``$DRIFTKIT_CACHE_DIR``, else the user's cache folder.

    Returns
    -------
    Path
        ``$DRIFTKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/driftkit`` or ``~/.cache/driftkit``
        (the report's Vega bundle, :mod:`driftkit.report.bundle`, and the explorer's chart
        module, :mod:`driftkit.explorer.live`); it may not exist yet.
    """
    chosen = os.environ.get("DRIFTKIT_CACHE_DIR")
    if chosen:
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "driftkit"


def store_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (parallel runs may race; either one wins).

    Raises ``OSError`` when the folder cannot be made or written; no temporary file is left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".driftkit-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
