"""Shared fixtures: the real export samples and a writer for small client folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """The folder of real export samples beside the checkout (never copied into the repo)."""
    assert REALDATA.is_dir(), f"real export samples not found at {REALDATA}"
    return REALDATA


def make_client(tmp_path: Path, toml_text: str, files: dict[str, str | bytes]) -> Path:
    """Write a client folder ``tmp_path/client`` with ``client.toml`` and ``files``.

    ``files`` maps a path relative to the folder to its text (written as UTF-8) or bytes.
    """
    root = tmp_path / "client"
    root.mkdir(parents=True, exist_ok=True)
    (root / "client.toml").write_text(toml_text, encoding="utf-8")
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", newline="")
    return root


def assert_rows_add_up(data: Any) -> None:
    """Rows read = accepted + rejected per file, one reject row per rejected row, and every
    reject with its file, line and reason (``data`` is a loaded ``ClientData``)."""
    files = data.files
    assert (files["rows_read"] == files["rows_accepted"] + files["rows_rejected"]).all()
    counted = data.rejects.groupby("source_file").size().reindex(files["source_file"], fill_value=0)
    assert counted.tolist() == files["rows_rejected"].tolist()
    assert data.rejects[["source_file", "line", "reason"]].notna().all().all()
