"""The count list's input: the last observed state of each key (:class:`KeyState`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class KeyState:
    """The last observed state of each key (arrays over key codes) and its planning inputs.

    ``selling`` and ``drift`` are ``[system, key]`` (NaN = never observed); ``authority`` is
    the authority's sellable stock; ``rate``/``sd`` daily demand; ``lead_time``/``z``,
    ``unit_cost``/``unit_price`` (NaN unknown); ``extra_capital`` the safety-stock capital
    tied up by record error; ``window_value`` the per-key cost over the window;
    ``empty_shelf``, ``silent_days``: :mod:`driftkit.impact.silence` (None: not weighed);
    ``authority_names`` the system of ``authority`` per key, where a stock holder stands in
    (:mod:`driftkit.impact.standin`; None: the authority everywhere); ``record_age`` the
    days from that record to the count (:mod:`driftkit.impact.sellout`; None: not weighed);
    ``record_error`` the units the records overstate by since the last count
    (:mod:`driftkit.impact.recount`; None: not weighed).
    """

    keys: pd.DataFrame
    authority_name: str
    authority: np.ndarray
    selling: np.ndarray
    selling_systems: tuple[str, ...]
    drift: np.ndarray
    drift_systems: tuple[str, ...]
    rate: np.ndarray
    sd: np.ndarray
    lead_time: np.ndarray
    z: np.ndarray
    unit_cost: np.ndarray
    unit_price: np.ndarray
    extra_capital: np.ndarray
    window_value: np.ndarray
    empty_shelf: np.ndarray | None = None
    silent_days: np.ndarray | None = None
    authority_names: np.ndarray | None = None
    record_age: np.ndarray | None = None
    record_error: np.ndarray | None = None
