"""Tests for driftkit.report.charts: specs asserted through ``chart.to_dict()``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest

from driftkit.errors import ReportError
from driftkit.report import charts

DAYS = pd.date_range("2026-09-01", periods=3, freq="D", tz="UTC")
SYSTEMS = ["wms", "erp", "shop", "3pl"]


def _daily() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": list(DAYS) * 2,
            "system": ["erp"] * 3 + ["shop"] * 3,
            "counterpart": "wms",
            "skus_compared": [10, 10, 0, 8, 8, 8],
            "skus_drifted": [1, 2, 0, 4, 0, 8],
            "abs_drift_units": [1.0, 3.0, 0.0, 9.0, 0.0, 12.0],
            "drift_value": [10.0, 30.0, 0.0, 90.0, 0.0, 120.0],
        }
    )


def _handoffs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["shop", "shop", "erp"],
            "target": ["wms", "wms", "wms"],
            "kind": ["order", "cancel", "receipt"],
            "events": [100, 10, 50],
            "matched": [90, 10, 45],
            "missing": [8, 0, 5],
            "duplicated": [2, 0, 0],
            "latency_p50_h": [0.5, 0.2, 4.0],
            "latency_p95_h": [3.0, 1.0, 30.0],
        }
    )


def _findings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cause": ["missing_event", "duplicate_event", "sync_lag"],
            "findings": [5, 3, 9],
            "units": [12.0, -4.0, 6.0],
            "value": [120.0, 40.0, 60.0],
        }
    )


def _series() -> pd.DataFrame:
    return pd.DataFrame(
        {"day": list(DAYS) * 2, "system": ["wms"] * 3 + ["shop"] * 3, "value": [5, 4, 4, 5, 3, 2]}
    )


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": [DAYS[1] + pd.Timedelta(hours=15)],
            "system": ["shop"],
            "kind": ["order"],
            "qty": [-1.0],
            "reference": ["#1001"],
        }
    )


def _episodes() -> pd.DataFrame:
    return pd.DataFrame(
        {"start": [DAYS[1]], "end": [DAYS[2]], "system": ["shop"], "counterpart": ["wms"]}
    )


def _projection() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": [1, 2, 1, 2],
            "metric": ["value at risk", "value at risk", "lost revenue", "lost revenue"],
            "estimate": [100.0, 110.0, 20.0, 25.0],
            "low": [80.0, 85.0, 10.0, 12.0],
            "high": [120.0, 140.0, 30.0, 40.0],
        }
    )


def _top() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["A", "B", "<script>alert(1)</script>"],
            "location": ["main"] * 3,
            "expected_value": [50.0, 500.0, 5.0],
            "reason": ["oversell", "phantom stockout", "late reorder"],
            "system": ["shop"] * 3,
        }
    )


def _rejects() -> pd.DataFrame:
    return pd.DataFrame(
        {"source_file": ["a.csv", "a.csv", "b.csv"], "reason": ["bad_number", "bad_date", "x"],
         "rows": [3, 1, 7]}
    )  # fmt: skip


def _bias() -> pd.DataFrame:
    return pd.DataFrame(
        {"system": ["erp", "shop"], "mean_drift": [0.5, -2.0], "share_positive": [0.4, 0.1],
         "share_negative": [0.2, 0.7]}
    )  # fmt: skip


# builder name → (call, list of input frames)
BUILDERS: dict[str, tuple[Callable[..., Any], Callable[[], list[pd.DataFrame]]]] = {
    "drift_over_time": (charts.drift_over_time, lambda: [_daily()]),
    "agreement_over_time": (charts.agreement_over_time, lambda: [_daily()]),
    "handoff_map": (charts.handoff_map, lambda: [_handoffs()]),
    "causes": (charts.causes, lambda: [_findings()]),
    "sku_drilldown": (charts.sku_drilldown, lambda: [_series(), _events(), _episodes()]),
    "impact_projection": (charts.impact_projection, lambda: [_projection()]),
    "count_list": (charts.count_list, lambda: [_top()]),
    "rejects_by_reason": (charts.rejects_by_reason, lambda: [_rejects()]),
    "bias": (charts.bias, lambda: [_bias()]),
}
NAMES = list(BUILDERS)


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a nested spec."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _spec(name: str) -> dict[str, Any]:
    build, frames = BUILDERS[name]
    return build(*frames()).to_dict()


def _params(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for key, value in _walk(spec) if key == "params" for p in value]


def _encodings(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [value for key, value in _walk(spec) if key == "encoding"]


def test_theme_is_registered_and_active() -> None:
    assert charts.THEME in alt.theme.names()
    assert alt.theme.active == charts.THEME
    config = charts.drift_over_time(_daily()).to_dict()["config"]
    assert config["font"] == charts.FONT
    assert config["range"]["category"] == list(charts.SYSTEM_PALETTE)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_every_builder_has_tooltips_on_every_encoded_layer(name: str) -> None:
    encodings = [e for e in _encodings(_spec(name)) if "x" in e or "y" in e]
    assert encodings
    assert all("tooltip" in e and e["tooltip"] for e in encodings if "x2" in e or "color" in e)
    assert any(isinstance(e.get("tooltip"), list) and len(e["tooltip"]) >= 2 for e in encodings)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_data_is_inline_never_a_side_file(name: str) -> None:
    spec = _spec(name)
    assert "datasets" in spec and all(isinstance(v, list) for v in spec["datasets"].values())
    assert not [v for k, v in _walk(spec) if k == "url"]


AGGREGATED = [n for n in NAMES if n != "count_list"]  # count_list selects its own top n


@pytest.mark.parametrize("name", AGGREGATED, ids=AGGREGATED)
def test_more_than_5000_rows_is_refused_with_how_to_fix(name: str) -> None:
    build, frames = BUILDERS[name]
    inputs = frames()
    inputs[0] = pd.concat([inputs[0]] * (charts.MAX_ROWS // len(inputs[0]) + 1), ignore_index=True)
    with pytest.raises(ReportError, match=r"pre-aggregated.*aggregate first"):
        build(*inputs)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_missing_column_names_builder_and_column(name: str) -> None:
    build, frames = BUILDERS[name]
    inputs = frames()
    dropped = inputs[0].columns[-1]
    inputs[0] = inputs[0].drop(columns=dropped)
    with pytest.raises(ReportError, match=rf"charts\.{name}.*{dropped}"):
        build(*inputs)


@pytest.mark.parametrize("name", NAMES, ids=NAMES)
def test_inputs_are_not_mutated(name: str) -> None:
    build, frames = BUILDERS[name]
    inputs = frames()
    before = [f.copy() for f in inputs]
    build(*inputs).to_dict()
    for original, after in zip(before, inputs, strict=True):
        pd.testing.assert_frame_equal(original, after)


def test_drift_over_time_encodings_and_interactivity() -> None:
    spec = charts.drift_over_time(_daily(), systems=SYSTEMS).to_dict()
    enc = spec["encoding"]
    assert enc["x"]["field"] == "day" and enc["x"]["type"] == "temporal"
    assert enc["y"]["field"] == "shown"
    assert enc["strokeDash"]["field"] == "counterpart"
    assert enc["color"]["scale"]["domain"] == ["erp", "shop"]  # config order, present only
    params = {p["name"]: p for p in _params(spec)}
    assert params["pick_system"]["bind"] == "legend"
    assert params["zoom"]["bind"] == "scales"
    assert params["show"]["bind"]["input"] == "select"
    assert {"drift_value", "abs_drift_units"} <= set(params["show"]["bind"]["options"])
    assert "datum[show]" in json.dumps(spec["transform"])


def test_days_keep_their_wall_clock_date_without_utc_offset() -> None:
    spec = charts.drift_over_time(_daily()).to_dict()
    days = {row["day"] for rows in spec["datasets"].values() for row in rows}
    assert days == {"2026-09-01T00:00:00", "2026-09-02T00:00:00", "2026-09-03T00:00:00"}


def test_agreement_plots_share_drifted_and_guards_zero_compared() -> None:
    spec = charts.agreement_over_time(_daily()).to_dict()
    calc = spec["transform"][0]["calculate"]
    assert "datum.skus_drifted / datum.skus_compared" in calc and "skus_compared > 0" in calc
    assert spec["encoding"]["y"]["axis"]["format"] == ".1%"


def test_system_colours_are_the_same_in_every_chart() -> None:
    def colors(spec: dict[str, Any]) -> dict[str, str]:
        found: dict[str, str] = {}
        for enc in _encodings(spec):
            scale = (
                enc.get("color", {}).get("scale")
                if enc.get("color", {}).get("field") == "system"
                else None
            )
            if scale:
                found |= dict(zip(scale["domain"], scale["range"], strict=True))
        return found

    drift = colors(charts.drift_over_time(_daily(), systems=SYSTEMS).to_dict())
    bias = colors(charts.bias(_bias(), systems=SYSTEMS).to_dict())
    drill = colors(
        charts.sku_drilldown(_series(), _events(), _episodes(), systems=SYSTEMS).to_dict()
    )
    expected = charts.system_colors(SYSTEMS)
    for found in (drift, bias, drill):
        assert found and all(expected[name] == color for name, color in found.items())
    assert drill["wms"] != drill["shop"]


def test_handoff_map_matrix_colours_problem_share_and_offers_kinds() -> None:
    spec = charts.handoff_map(_handoffs()).to_dict()
    rect = spec["layer"][0]
    assert rect["mark"]["type"] == "rect"
    assert rect["encoding"]["color"]["field"] == "problem_share"
    assert rect["encoding"]["x"]["field"] == "target"
    assert rect["encoding"]["y"]["field"] == "source"
    kind = next(p for p in _params(spec) if p["name"] == "handoff_kind")
    assert kind["bind"]["options"] == ["all", "cancel", "order", "receipt"]
    calc = json.dumps(rect["transform"])
    assert "(datum.missing + datum.duplicated) / datum.events" in calc
    titles = {t.get("title") for t in rect["encoding"]["tooltip"]}
    assert {"Latency p50 (h)", "Latency p95 (h)", "Missing + duplicated"} <= titles


def test_causes_have_fixed_colours_and_a_measure_dropdown() -> None:
    spec = charts.causes(_findings()).to_dict()
    scale = spec["encoding"]["color"]["scale"]
    mapping = dict(zip(scale["domain"], scale["range"], strict=True))
    assert mapping["missing_event"] == charts.CAUSE_COLORS["missing_event"]
    assert spec["encoding"]["y"]["sort"] == "-x"
    assert _params(spec)[0]["bind"]["options"] == ["value", "units", "findings"]


def test_sku_drilldown_layers_episodes_lines_and_event_strip() -> None:
    spec = charts.sku_drilldown(_series(), _events(), _episodes(), title="SKU A at main").to_dict()
    top, strip = spec["vconcat"]
    marks = [layer["mark"]["type"] for layer in top["layer"]]
    assert marks == ["rect", "line"]
    assert top["title"]["text"] == "SKU A at main"
    assert strip["encoding"]["shape"]["field"] == "kind"
    assert {t["field"] for t in strip["encoding"]["tooltip"]} >= {"reference", "qty", "kind"}
    episode_rows = next(rows for rows in spec["datasets"].values() if "counterpart" in rows[0])
    assert episode_rows[0]["end"] == "2026-09-04T00:00:00"  # inclusive last day shaded fully
    assert {p["name"] for p in _params(spec)} == {"pick_system", "zoom"}


@pytest.mark.parametrize(
    ("weeks", "kind"),
    [
        ([1, 2, 1, 2], "ordinal"),
        (list(pd.to_datetime(["2026-10-05", "2026-10-12"] * 2)), "temporal"),
    ],
    ids=["week-number", "week-date"],
)
def test_impact_projection_band_and_line_per_metric(weeks: list[Any], kind: str) -> None:
    spec = charts.impact_projection(_projection().assign(week=weeks)).to_dict()
    band, line = spec["spec"]["layer"]
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "high"
    assert line["encoding"]["y"]["field"] == "estimate"
    assert band["encoding"]["x"]["type"] == kind
    assert spec["facet"]["field"] == "metric"


def test_count_list_charts_the_top_n_of_a_long_list() -> None:
    """A client with 20,000 keys has a 20,000-row count list; the chart shows its top n."""
    many = pd.concat([_top()] * (20_000 // len(_top()) + 1), ignore_index=True)
    many["expected_value"] = np.arange(len(many), dtype=float)
    spec = charts.count_list(many, n=25).to_dict()
    (rows,) = spec["datasets"].values()
    assert len(rows) == 25
    assert min(r["expected_value"] for r in rows) == len(many) - 25


def test_count_list_takes_top_n_by_expected_value() -> None:
    spec = charts.count_list(_top(), n=2).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [r["label"] for r in rows] == ["B @ main", "A @ main"]
    assert spec["encoding"]["y"]["sort"] == ["B @ main", "A @ main"]


def test_count_list_follows_the_ranks_and_colours_by_kind_of_reason() -> None:
    """An empty-shelf check ranked between money rows (a small value) is drawn at its rank."""
    ranked = pd.DataFrame(
        {
            "rank": [3, 1, 2, 4],
            "sku": ["C", "A", "B", "D"],
            "location": ["main"] * 4,
            "expected_value": [40.0, 500.0, 2.0, 1.0],
            "reason": [
                "oversell: shop shows 6 available, erp 4",
                "oversell: shop shows 24 available, wms 14",
                "empty-shelf check: wms shows 1, counts find 0.2 units lost",
                "record error inflates safety stock (capital 12.5)",
            ],
            "system": ["shop", "shop", "wms", "erp"],
        }
    )
    spec = charts.count_list(ranked, n=2).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [r["label"] for r in rows] == ["A @ main", "B @ main"]
    assert spec["encoding"]["y"]["sort"] == ["A @ main", "B @ main"]
    assert [r["kind"] for r in rows] == ["oversell", "empty-shelf check"]
    rows = next(iter(charts.count_list(ranked).to_dict()["datasets"].values()))
    assert [r["kind"] for r in rows][2:] == ["oversell", "record error inflates safety stock"]
    assert spec["encoding"]["color"]["field"] == "kind"


def test_rejects_and_bias_shapes() -> None:
    rejects = charts.rejects_by_reason(_rejects()).to_dict()
    assert rejects["encoding"]["x"]["aggregate"] == "sum"
    assert _params(rejects)[0]["bind"] == "legend"
    bias = charts.bias(_bias()).to_dict()
    assert len(bias["hconcat"]) == 2
    fold = json.dumps(bias["hconcat"][1]["layer"][0]["transform"])
    assert "-datum.share_negative" in fold
