"""Row 9: an unwritable client folder under --out fails that client only, with one line."""

from __future__ import annotations

from pathlib import Path

from driftkit.batch import AuditOptions, run_batch
from tests.conftest import make_client

TWO_SYSTEMS = """
[client]
name = "{name}"
[systems.wms]
kind = "wms"
snapshots = "wms.csv"
[systems.shop]
kind = "storefront"
snapshots = "shop.csv"
"""
SNAPSHOT = "sku,as_of,on_hand\nA,2024-01-01,{a}\nA,2024-01-02,{a}\nB,2024-01-01,3\n"


def _client(base: Path, name: str) -> Path:
    files = {"wms.csv": SNAPSHOT.format(a=5), "shop.csv": SNAPSHOT.format(a=4)}
    root = make_client(base / name, TWO_SYSTEMS.format(name=name), files)
    return root.rename(base / name / name)


def test_one_unwritable_client_folder_fails_that_client_only(tmp_path: Path) -> None:
    good, bad = _client(tmp_path, "good"), _client(tmp_path, "bad")
    out = tmp_path / "reports"
    out.mkdir()
    (out / "bad").write_text("a file where the client's folder should be")  # cannot hold runs
    results = run_batch([bad, good], AuditOptions(out=out, html=False, jobs=1))
    outcome = {r.client: r for r in results}
    assert outcome["good"].ok and (outcome["good"].run_dir / "summary.json").is_file()
    assert not outcome["bad"].ok and outcome["bad"].step == "prepare"
    assert "\n" not in outcome["bad"].line() and "bad" in outcome["bad"].error
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "good/" in index and "failed at prepare" in index
