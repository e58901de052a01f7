"""Helpers of the adversarial set: a one-system client folder and a loader over one file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftkit.load.client import ClientData, load_client
from tests.conftest import make_client

ONE_SYSTEM = """
[client]
name = "Adversarial"
timezone = "America/Chicago"
[systems.wms]
kind = "wms"
snapshots = "raw/*.csv"
"""

Loader = Callable[..., ClientData]


@pytest.fixture
def load_one(tmp_path: Path) -> Loader:
    """Load a client whose only export is ``raw/s.csv`` holding ``text``."""

    def load(text: str | bytes, toml: str = ONE_SYSTEM) -> ClientData:
        return load_client(make_client(tmp_path, toml, {"raw/s.csv": text}))

    return load


def accounted(data: ClientData) -> bool:
    """Rows read = accepted + rejected for every file, and the rejects match the counts."""
    files = data.files
    per_file = data.rejects.groupby("source_file").size()
    rejected = files.set_index("source_file")["rows_rejected"]
    return bool(
        (files["rows_read"] == files["rows_accepted"] + files["rows_rejected"]).all()
        and (per_file.reindex(rejected.index, fill_value=0) == rejected).all()
    )
