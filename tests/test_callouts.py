"""Tests of driftkit.causes.callouts: the per-format counts behind the callouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.causes.callouts import format_counts


def merged_counts(edges: pd.DataFrame, first: pd.DataFrame) -> pd.DataFrame:
    """:func:`format_counts` by the plain computation: a merge and a groupby on the texts."""
    expected = edges[["business_event", "target", "kind"]]
    rows = expected.merge(first[["business_event", "system", "ref_format"]], on="business_event")
    rows = rows[rows["system"] != rows["target"]]
    got = edges.set_index(["business_event", "target"])["received"]
    where = pd.MultiIndex.from_frame(rows[["business_event", "target"]])
    rows = rows.assign(missing=~got.reindex(where).to_numpy(dtype=bool))
    stats = rows.groupby(["target", "kind", "system", "ref_format"])["missing"]
    return stats.agg(events="size", missing="sum").reset_index()


def text(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="str")


@pytest.mark.parametrize("seed", range(5), ids=lambda s: f"seed{s}")
def test_format_counts_match_a_merge_and_groupby(seed: int) -> None:
    rng = np.random.default_rng(seed)
    systems = np.array(["erp", "wms", "shop", "pos"])
    pairs = pd.MultiIndex.from_product([range(40), systems]).to_frame(index=False)
    edges = pairs.sample(90, random_state=seed).reset_index(drop=True)  # unique per target
    edges = pd.DataFrame(
        {
            "business_event": edges[0].to_numpy(),
            "target": text(edges[1].to_numpy()),
            "kind": text(rng.choice(["receipt", "sale"], len(edges))),
            "received": rng.random(len(edges)) < 0.7,
        }
    )
    n = 70
    formats = rng.choice(np.array(["PO-9", "#99", None], dtype=object), n, p=[0.5, 0.4, 0.1])
    first = pd.DataFrame(
        {
            "business_event": rng.integers(0, 45, n),  # events 40..44 have no edge
            "system": text(rng.choice(systems, n)),
            "ref_format": pd.Series(formats, dtype="str"),  # missing formats are not counted
        }
    )
    pd.testing.assert_frame_equal(format_counts(edges, first), merged_counts(edges, first))


def test_format_counts_of_no_edges_is_empty() -> None:
    none = text(np.array([]))
    edges = pd.DataFrame({"business_event": np.zeros(0, np.int64), "target": none})
    edges = edges.assign(kind=none, received=np.zeros(0, bool))
    first = pd.DataFrame({"business_event": [1], "system": text(np.array(["erp"]))})
    first = first.assign(ref_format=text(np.array(["PO-9"])))
    counts = format_counts(edges, first)
    assert counts.empty and list(counts.columns) == list(merged_counts(edges, first).columns)
