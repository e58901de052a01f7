"""The usual delay each record is judged by in ``sync_lag`` (driftkit.causes.event_detectors)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.event_detectors import _usual_delays
from driftkit.causes.stats import HandoffStats


def test_usual_delays_by_hand_and_as_the_row_by_row_reindex() -> None:
    matches = pd.DataFrame(
        {
            "system": pd.Series(["wms", "erp", "wms", "shop", "erp"], dtype="str"),
            "kind": pd.Series(["receipt", "sale", "sale", "sale", "receipt"], dtype="str"),
        }
    )
    p95 = pd.Series(
        [4.0, 1.5, 30.0],
        index=pd.MultiIndex.from_tuples(
            [("wms", "receipt"), ("wms", "sale"), ("erp", "sale")], names=["system", "kind"]
        ),
    )
    got = _usual_delays(matches, HandoffStats(delay_p95=p95))
    np.testing.assert_array_equal(got, [4.0, 30.0, 1.5, np.nan, np.nan])
    rows = pd.MultiIndex.from_arrays([matches["system"], matches["kind"]])
    np.testing.assert_array_equal(got, p95.reindex(rows).to_numpy(dtype=float))
