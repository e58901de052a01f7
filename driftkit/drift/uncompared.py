"""Never silent: why a configured system was never compared, and the setting that fixes it.

:func:`uncompared_systems` reads the combined :class:`~driftkit.drift.coverage.Coverage`,
the file accounting and the rejects, and gives every configured system with snapshots that
shares no compared cell with another system its most likely reason, measured from the data,
in this order: every row rejected (or none read); the only system with snapshots; the
measure unknown in every row; no SKU in common; SKUs in common but no location; snapshots
further apart than ``staleness_hours``; outside the window.  :func:`comparison_notes` writes
them as ``summary.json`` notes.  See ``docs/metrics.md`` §7.
"""

from __future__ import annotations

import math

import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.coverage import Coverage
from driftkit.schema import Measure

OTHER_MEASURE = {Measure.ON_HAND: Measure.AVAILABLE, Measure.AVAILABLE: Measure.ON_HAND}


def uncompared_systems(
    coverage: Coverage, config: ClientConfig, files: pd.DataFrame, rejects: pd.DataFrame
) -> dict[str, str]:
    """Configured systems with snapshots that never shared a compared cell, with the reason.

    Parameters
    ----------
    coverage
        The client's combined coverage.
    config
        The client config (systems, measure, staleness, window).
    files, rejects
        The load's file accounting (``system, table, source_file, rows_read, ...``) and
        rejects (``source_file, reason, ...``).

    Returns
    -------
    dict
        System id → the reason and the setting that fixes it (one sentence, no trailing
        period); configured order.
    """
    table = coverage.systems
    configured = [s for s, sc in config.systems.items() if sc.snapshots is not None]
    silent = [s for s in configured if s not in table.index or table.at[s, "compared_cells"] == 0]
    return {s: _reason(s, coverage, config, files, rejects) for s in silent}


def comparison_notes(uncompared: dict[str, str], compared_cells: int) -> list[str]:
    """The notes ``summary.json`` carries: nothing compared, then one per uncompared system."""
    notes = [
        f"{system} was never compared with another system: {why}"
        for system, why in uncompared.items()
    ]
    if compared_cells == 0:
        notes.insert(0, "nothing was compared: no SKU-location-day had two systems present")
    return notes


def _reason(
    system: str,
    coverage: Coverage,
    config: ClientConfig,
    files: pd.DataFrame,
    rejects: pd.DataFrame,
) -> str:
    """The first reason that holds, in the order of the module docstring."""
    table = coverage.systems
    row = table.loc[system] if system in table.index else None
    others = table[(table.index != system) & (table["rows"] > 0)]
    if row is None or row["rows"] == 0:
        return _no_rows(system, files, rejects)
    if others.empty:
        return "it is the only system with snapshots; configure another system's snapshots"
    measure = Measure(config.measure)
    fix = f'set measure = "{OTHER_MEASURE[measure]}" in [client] if the exports report that'
    if row["known"] == 0:
        return f"its {measure} is unknown in every snapshot; {fix}"
    if not (others["known"] > 0).any():
        names = ", ".join(others.index)
        return f"the other systems' ({names}) {measure} is unknown in every snapshot; {fix}"
    if row["shared_skus"] == 0:
        return _no_common_skus(system, coverage) + _rejected(files, rejects)
    if row["shared_keys"] == 0:
        return _no_common_location(system, coverage, config.default_location)
    gap_hours = dict(zip(table.index, table["gap_hours"].to_numpy(dtype=float), strict=True))
    return _apart(gap_hours[system], config)


def _no_rows(system: str, files: pd.DataFrame, rejects: pd.DataFrame) -> str:
    mine = (
        files[(files["system"] == system) & (files["table"] == "snapshots")]
        if len(files)
        else files
    )
    read = int(mine["rows_read"].sum()) if len(mine) else 0
    if not read:
        return (
            "its snapshot export has no rows; check the snapshots path of [systems." + system + "]"
        )
    reasons = rejects[rejects["source_file"].isin(mine["source_file"])]["reason"]
    common = reasons.value_counts().index[0] if len(reasons) else "see rejects.csv"
    return (
        f"all {read} rows of its snapshot export were rejected (most: {common}); fix "
        f"[systems.{system}] format or columns, the reasons per row are in rejects.csv"
    )


def _no_common_skus(system: str, coverage: Coverage) -> str:
    mine, theirs = _names(coverage, system, "sku")
    return (
        f"it shares no SKU with the other systems (its SKUs e.g. {mine}; theirs e.g. {theirs}); "
        "align the spellings with the [sku] rules (strip, upper, remove) or an aliases table"
    )


def _rejected(files: pd.DataFrame, rejects: pd.DataFrame) -> str:
    """``""``, or the clause naming the client's rejected snapshot rows and their commonest
    reason: the SKUs of those rows are not in any comparison (they may be the common ones)."""
    if files.empty:
        return ""
    snapshot_files = files.loc[files["table"] == "snapshots", "source_file"]
    reasons = rejects.loc[rejects["source_file"].isin(snapshot_files), "reason"]
    if reasons.empty:
        return ""
    counts = reasons.value_counts()
    return (
        f"; {len(reasons)} snapshot rows were rejected, so their SKUs could not be compared "
        f"(most, {counts.iloc[0]}: {counts.index[0]}; see rejects.csv)"
    )


def _no_common_location(system: str, coverage: Coverage, default: str) -> str:
    mine, theirs = _names(coverage, system, "location")
    first, example = theirs.split(", ")[0], mine.split(", ")[0]
    fix = f"map them in [systems.{system}.locations], e.g. {example} = {first}"
    if mine == f'"{default}"':  # its export names no location: every row got the default
        fix = f"set default_location = {first} in [client] or {fix}"
    return (
        f"its SKUs are held by other systems but at no common location (its locations: "
        f"{mine}; theirs: {theirs}); {fix}"
    )


def _apart(gap_hours: float, config: ClientConfig) -> str:
    staleness = config.staleness_hours
    if math.isfinite(gap_hours) and gap_hours > staleness:
        return (
            f"its snapshots are {gap_hours / 24:.1f} days apart from the other systems' for "
            f"the same SKU-location (closest pair), more than staleness_hours = {staleness:g}; "
            f"raise staleness_hours to at least {math.ceil(gap_hours)} or load exports "
            "taken on the same days"
        )
    return (
        "its snapshots and the other systems' never decide the same day of the window; "
        "widen --start/--end or raise staleness_hours"
    )


def _names(coverage: Coverage, system: str, kind: str) -> tuple[str, str]:
    """Quoted names of ``kind`` held by ``system`` and by the other systems (a few each)."""
    names = coverage.names[coverage.names["kind"] == kind]
    mine = names[names["system"] == system]["name"].drop_duplicates().head(5)
    theirs = names[names["system"] != system]["name"].drop_duplicates().head(5)
    return _quoted(mine), _quoted(theirs)


def _quoted(names: pd.Series) -> str:
    return ", ".join(f'"{n}"' for n in names) or "none"
