"""Tests of driftkit.causes.handoffs: grouping deliveries by integer codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.causes.handoffs import edge_parts, group_codes, grouped_samples, samples

BY = ["target", "family", "location"]


def deliveries(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda *v: pd.Series(rng.choice(np.array(v, dtype=object), n), dtype="str")  # noqa: E731
    return pd.DataFrame(
        {
            "target": pick("wms", "erp", "shop"),
            "family": pick("receipt", "sale", None),  # a missing family: not grouped
            "location": pick("main", "back", "store-2"),
            "latency_h": rng.random(n) * 10,
        }
    )


@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
def test_group_codes_number_the_groups_as_a_groupby_sorts_them(seed: int) -> None:
    frame = deliveries(seed)
    group, groups = group_codes(frame, BY)
    sizes = frame.groupby(BY).size()
    expected = sizes.index.to_frame(index=False)
    pd.testing.assert_frame_equal(groups, expected, check_dtype=False)
    assert (group < 0).sum() == frame["family"].isna().sum()
    assert np.bincount(group[group >= 0]).tolist() == sizes.tolist()


@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
def test_grouped_samples_equal_the_groupby_samples(seed: int) -> None:
    frame = deliveries(seed)
    group, groups = group_codes(frame, BY)
    kept = group >= 0
    got = grouped_samples(group[kept], groups, frame["latency_h"].to_numpy()[kept])
    plain = samples(frame, BY, "latency_h")
    assert list(got) == list(plain)
    for key, values in plain.items():
        np.testing.assert_array_equal(got[key], values)


def groupby_parts(edges: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counts and formats of :func:`edge_parts` by the plain groupbys on the texts."""
    edge = ["source", "target", "kind"]
    counts = (
        edges.assign(doubled=edges["copies"] > 0)
        .groupby(edge)
        .agg(
            events=("received", "size"), matched=("received", "sum"), duplicated=("doubled", "sum")
        )
    )
    formats = [
        edges.groupby([*edge, side]).size().rename("n").reset_index()
        .rename(columns={side: "format"}).assign(side=side)
        for side in ("source_format", "target_format")
    ]  # fmt: skip
    return counts, pd.concat(formats, ignore_index=True)


@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
def test_edge_parts_equal_the_groupby_parts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = deliveries(seed).rename(columns={"location": "kind"})
    n = len(frame)
    formats = np.array(["PO-9", "#99", None], dtype=object)

    def fmt() -> pd.Series:
        return pd.Series(rng.choice(formats, n), dtype="str")

    edges = frame.assign(
        source=frame["target"].str.upper(),
        received=rng.random(n) < 0.7,
        copies=rng.integers(0, 3, n),
        source_format=fmt(),
        target_format=fmt(),
    ).drop(columns="family")
    parts = edge_parts(edges)
    counts, formats = groupby_parts(edges)
    pd.testing.assert_frame_equal(parts.counts, counts)
    pd.testing.assert_frame_equal(parts.formats, formats)
    plain = samples(edges[edges["received"]], ["source", "target", "kind"], "latency_h")
    assert list(parts.latency) == list(plain)
    for key, values in plain.items():
        np.testing.assert_array_equal(parts.latency[key], values)
