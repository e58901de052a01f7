"""Real exports audited end to end (issue 13): what the audit and ``driftkit check`` say.

The client folders are built from docs/recipes.md (``tests.test_recipes.build``), the files
copied from ../shared/realdata at test time.  The shopify_olt_jewellery pair (881 SKUs
agreeing without a location map) is in tests/test_never_silent.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftkit import cli
from driftkit.audit import run_audit
from tests.conftest import REALDATA
from tests.test_recipes import build

MORMASA = "amazon_mormasa_listings_fba"
REJECTED = (
    "; 35 snapshot rows were rejected, so their SKUs could not be compared (most, 35: empty "
    "quantity: an FBA listing (stock managed by Amazon, see the FBA report) = unknown, not 0; "
    "see rejects.csv)"
)


@pytest.fixture(scope="module")
def mormasa(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The mormasa All Listings + FBA reports audited once (folder, summary)."""
    assert REALDATA.is_dir(), f"real export samples not found at {REALDATA}"
    root = build(tmp_path_factory.mktemp("mormasa"), REALDATA, MORMASA).config.root
    return root, run_audit(root).summary


def test_mormasa_listings_and_fba_share_no_comparable_cell(
    mormasa: tuple[Path, dict[str, Any]],
) -> None:
    summary = mormasa[1]
    # PROVENANCE: the 35 FBA SKUs have blank quantities in the listings report (rejected as
    # unknown), so the two reports share no comparable cell
    assert summary["compared_cells"] == 0 and summary["agreement_rate"] is None
    assert list(summary["uncompared_systems"]) == ["listings", "fba"]
    for system, reason in summary["uncompared_systems"].items():
        assert reason.startswith("it shares no SKU with the other systems"), system
        assert reason.endswith(REJECTED), system
    assert summary["notes"][:3] == [
        "nothing was compared: no SKU-location-day had two systems present",
        *(
            f"{s} was never compared with another system: {why}"
            for s, why in summary["uncompared_systems"].items()
        ),
    ]
    assert summary["headline_day"] is None and summary["abs_drift_units_last_day"] is None


def test_mormasa_check_exits_1_with_one_line(
    mormasa: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, summary = mormasa
    code = cli.main(["check", str(root), "--min-agreement-rate", "0.9"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    why = "; ".join(f"{s}: {r}" for s, r in summary["uncompared_systems"].items())
    assert err.splitlines() == [f"driftkit check: {MORMASA}: nothing was compared: {why}"]
