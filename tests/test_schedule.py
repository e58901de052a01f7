"""The reconciliation schedule (docs/fix_plan.md): tiers from demand value, ``[check]``,
``driftkit schedule`` and ``driftkit check --tier``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.cli import main
from driftkit.config import CheckParams, parse_config
from driftkit.errors import ConfigError
from driftkit.plan.schedule import cron_lines, tier_keys, tier_table
from driftkit.simulate.simulation import simulate

PER_KEY = pd.DataFrame(
    {
        "sku": ["K1", "K2", "K3", "K4", "K5"],
        "location": "main",
        "demand_rate": [1.0, 2.0, 0.0, 0.5, 1.0],
    }
)
CATALOG = pd.DataFrame({"sku": ["K1", "K2", "K3", "K4"], "unit_cost": [10.0, 20.0, 5.0, 4.0]})


def test_tiers_follow_the_cumulative_share_of_demand_value() -> None:
    tiers = tier_keys(PER_KEY, CATALOG, CheckParams())
    # values: K2 40, K1 10, K4 2, K3 0, K5 unknown (no cost); total 52
    # share before: K2 0 → A, K1 40/52 = 0.77 < 0.80 → A, K4 50/52 = 0.96 ≥ 0.95 → C, K3 1 → C
    assert tiers["sku"].tolist() == ["K2", "K1", "K4", "K3", "K5"]
    assert tiers["tier"].tolist() == ["A", "A", "C", "C", "B"]  # unknown value: daily, not weekly
    assert tiers["share_before"].round(4).tolist()[:4] == [0.0, 0.7692, 0.9615, 1.0]
    assert np.isnan(tiers["demand_value"].iloc[-1])


def test_tier_shares_are_the_clients_choice() -> None:
    tiers = tier_keys(PER_KEY, CATALOG, CheckParams(tier_a_share=0.5, tier_b_share=0.99))
    assert tiers["tier"].tolist() == ["A", "B", "B", "C", "B"]


def test_tier_table_and_cron_lines(tmp_path: Path) -> None:
    params = CheckParams(limits={"A": {"min_agreement_rate": 0.99}})
    table = tier_table(tier_keys(PER_KEY, CATALOG, params), params).set_index("tier")
    assert table["keys"].to_dict() == {"A": 2, "B": 1, "C": 2}
    assert table.loc["A", "share"] == pytest.approx(50 / 52)
    assert (table.loc["A", "min_demand_value"], table.loc["A", "max_demand_value"]) == (10.0, 40.0)
    assert table.loc["A", "limits"] == "min_agreement_rate=0.99"
    lines = cron_lines(tmp_path, table.reset_index())
    assert (
        lines[0]
        == f"0 * * * *  driftkit check {tmp_path.resolve()} --tier A  # hourly: 2 SKU-locations"
    )
    assert [line.split()[:5] for line in lines][2] == ["30", "5", "*", "*", "1"]


TOML = """
[client]
authority = "wms"
[systems.wms]
kind = "wms"
snapshots = "wms.csv"
"""


def test_check_table_is_parsed(tmp_path: Path) -> None:
    text = (
        TOML
        + "[check]\ntier_a_share = 0.7\n[check.A]\nmin_agreement_rate = 0.99\nmax_value_at_risk = 50\n"
    )
    config = parse_config(_toml(text), root=tmp_path, source=tmp_path / "client.toml")
    assert config.check.tier_a_share == 0.7 and config.check.tier_b_share == 0.95
    assert config.check.limits == {"A": {"max_value_at_risk": 50.0, "min_agreement_rate": 0.99}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[check.D]\nmax_value_at_risk = 1\n", "unknown key 'check.D'"),
        ("[check.A]\nmax_value = 1\n", "unknown key 'check.A.max_value'"),
        ("[check]\ntier_a_share = 0.9\ntier_b_share = 0.5\n", "check.tier_b_share"),
    ],
    ids=["unknown-tier", "unknown-limit", "b-below-a"],
)
def test_bad_check_table_is_refused(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(_toml(TOML + extra), root=tmp_path, source=tmp_path / "client.toml")


def _toml(text: str) -> dict[str, object]:
    import tomllib

    return tomllib.loads(text)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulate(
        tmp_path_factory.mktemp("tiers") / "tiny", skus=15, days=8, seed=2, faults="high"
    )
    toml = sim.path / "client.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + "\n[check.A]\nmin_agreement_rate = 1.0\n",
        encoding="utf-8",
    )
    return sim.path


def test_schedule_command_prints_tiers_and_cron_lines(
    client: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schedule.csv"
    assert main(["schedule", str(client), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"driftkit check {client.resolve()} --tier A" in printed
    tiers = pd.read_csv(out)
    assert set(tiers["tier"]) <= {"A", "B", "C"} and "A" in set(tiers["tier"])


def test_check_tier_applies_the_tiers_configured_limits(
    client: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # [check.A] asks for perfect agreement: a client simulated with faults="high" misses it
    assert main(["check", str(client), "--tier", "A"]) == 1
    assert "tier A: agreement rate" in capsys.readouterr().err
    # the command line overrides the configured limit
    assert main(["check", str(client), "--tier", "A", "--min-agreement-rate", "0"]) == 0
    assert main(["check", str(client), "--tier", "A", "--max-findings", "sync_lag=0"]) == 2
