"""Row 11: two audits of one client publishing at once both succeed; the run stays whole."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from driftkit.batch import publish
from driftkit.scale.summary import run_folders

DATE = "2026-10-01"


def _publish(client: Path, n: int) -> str:
    staging = client / f".stage-{n}"  # each thread its own staging folder
    staging.mkdir(parents=True)
    (staging / "summary.json").write_text(json.dumps({"n": n}), encoding="utf-8")
    publish(staging, client / DATE)
    return json.loads((client / DATE / "summary.json").read_text(encoding="utf-8"))["n"]


def test_racing_publishes_all_succeed(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    client.mkdir()
    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = list(pool.map(lambda n: _publish(client, n), range(40)))
    assert len(seen) == 40  # no publish raised ("Directory not empty" before)
    assert [p.name for p in run_folders(client)] == [DATE]
    hidden = [p for p in client.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert len(hidden) == 1  # only the run the date shows; no .old- or .partial- left
