"""The honest headline day (issue 13, point 9): "last day" numbers on the last compared day."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from driftkit.audit import run_audit
from driftkit.drift.compare import authority_days, compare, headline_day
from tests.conftest import make_client
from tests.test_compare import catalog, config, grid

NAN = np.nan

# Two keys, three days.  The shop has no snapshot on day 3, so day 3 compares nothing
# against the authority (wms); day 2 is the headline day.
#            day:    1      2      3
WMS = [[10.0, 10.0, 10.0], [5.0, 5.0, 5.0]]
SHOP = [[12.0, 40.0, NAN], [5.0, 2.0, NAN]]


def test_last_day_numbers_come_from_the_last_compared_day() -> None:
    result = compare(grid([WMS, SHOP], ("wms", "shop")), config(("wms", "shop")), catalog(S0=2.5))
    # day 2: |40 − 10| = 30 units of S0 (cost 2.5 → 75.0), |2 − 5| = 3 units of S1 (no cost)
    assert result.headline["headline_day"] == "2026-03-02"
    assert result.headline["abs_drift_units_last_day"] == 33.0
    assert result.headline["value_at_risk_last_day"] == 75.0
    assert result.headline["keys_without_cost"] == 1


def test_a_third_system_on_the_last_day_moves_the_headline_day() -> None:
    erp = [[NAN, NAN, 11.0], [NAN, NAN, NAN]]
    result = compare(grid([WMS, SHOP, erp], ("wms", "shop", "erp")), config(), catalog(S0=2.5))
    assert result.headline["headline_day"] == "2026-03-03"
    assert result.headline["abs_drift_units_last_day"] == 1.0  # |11 − 10|
    assert result.headline["value_at_risk_last_day"] == 2.5


def test_pairs_without_the_authority_do_not_make_a_headline_day() -> None:
    # day 3: shop and erp both present, wms absent → compared, but not against the authority
    wms = [[10.0, 10.0, NAN]]
    shop, erp = [[10.0, 12.0, 7.0]], [[10.0, 10.0, 9.0]]
    g = grid([wms, shop, erp], ("wms", "shop", "erp"))
    result = compare(g, config(), catalog())
    assert result.headline["compared_cells"] == 3
    assert result.headline["headline_day"] == "2026-03-02"
    assert result.headline["abs_drift_units_last_day"] == 2.0


def test_parts_summed_give_the_whole_headline_day() -> None:
    whole = grid([WMS, SHOP], ("wms", "shop"))
    cost = np.array([2.5, NAN])
    by_day = authority_days(whole, cost)
    assert by_day["authority_cells"].tolist() == [2, 2, 0]
    assert by_day["abs_drift_units"].tolist() == [2.0, 33.0, 0.0]
    halves = [grid([WMS[i : i + 1], SHOP[i : i + 1]], ("wms", "shop")) for i in (0, 1)]
    parts = [authority_days(g, cost[i : i + 1]) for i, g in enumerate(halves)]
    summed = parts[0].copy()
    for column in ("authority_cells", "abs_drift_units", "value_at_risk", "keys_without_cost"):
        summed[column] = parts[0][column] + parts[1][column]
    assert headline_day(summed) == headline_day(by_day)


def test_an_audit_names_its_headline_day(tmp_path: Path) -> None:
    """The shop's last export is a day older than the wms's: summary.json says which day."""
    wms = "".join(f"A,main,2026-03-0{d}T12:00:00Z,10\n" for d in (1, 2, 3))
    shop = "A,main,2026-03-01T12:00:00Z,10\nA,main,2026-03-02T12:00:00Z,40\n"
    toml = '[client]\ntimezone = "UTC"\nauthority = "wms"\n'
    for system in ("wms", "shop"):
        toml += f'[systems.{system}]\nkind = "wms"\nsnapshots = "{system}.csv"\n'
    header = "sku,location,as_of,on_hand\n"
    folder = make_client(tmp_path, toml, {"wms.csv": header + wms, "shop.csv": header + shop})
    summary = run_audit(folder).summary
    assert summary["window_end"] == "2026-03-03" and summary["headline_day"] == "2026-03-02"
    assert summary["abs_drift_units_last_day"] == 30.0 and summary["keys_without_cost"] == 1
    assert (
        "the last-day numbers are from 2026-03-02, the last day compared against the authority "
        "(no cell was compared against it on the window's last day, 2026-03-03)"
    ) in summary["notes"]
