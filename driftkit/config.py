"""Client configuration: ``client.toml`` parsed into frozen dataclasses (DESIGN §3).

Every problem is a :class:`~driftkit.errors.ConfigError` naming the file, the key, what
was found and what is allowed.  Unknown keys are errors: a typo must never pass silently.
This module is the public surface: the dataclasses are defined in ``driftkit._config_types``
and the typed TOML reading in ``driftkit._toml``; import them all from here.
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

from driftkit._config_types import (
    AGGREGATES,
    DEFAULT_SENTINELS,
    EVENT_FORMATS,
    FORMATS,
    UNITS,
    CheckParams,
    ClientConfig,
    ImpactParams,
    SkuRules,
    SystemConfig,
    TableSource,
    WideSheet,
)
from driftkit._toml import TableReader, check_inside
from driftkit.errors import ConfigError
from driftkit.folders import CLIENT_ID, check_client_id
from driftkit.schema import CATALOG, COUNTS, EVENTS, SNAPSHOTS, Measure, SystemKind

__all__ = [
    "CLIENT_ID",
    "DEFAULT_SENTINELS",
    "EVENT_FORMATS",
    "FORMATS",
    "SYSTEM_ID",
    "UNITS",
    "CheckParams",
    "ClientConfig",
    "ImpactParams",
    "SkuRules",
    "SystemConfig",
    "TableSource",
    "WideSheet",
    "check_client_id",
    "check_inside",
    "load_config",
    "parse_config",
]

SYSTEM_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")

_CLIENT_KEYS = {
    "name",
    "timezone",
    "currency",
    "authority",
    "measure",
    "tolerance",
    "staleness_hours",
    "default_location",
}
_TOP_KEYS = {"client", "sku", "catalog", "counts", "systems", "impact", "check"}
_SKU_KEYS = {"strip", "upper", "remove", "aliases"}
_TABLE_KEYS = {"path", "columns"}
_SYSTEM_KEYS = {
    "kind",
    "format",
    "snapshots",
    "events",
    "events_format",
    "columns",
    "event_columns",
    "locations",
    "event_kinds",
    "as_of",
    "as_of_pattern",
    "as_of_time",
    "timestamp_format",
    "unit",
    "scale",
    "sentinels",
    "encoding",
    "delimiter",
    "sheet",
    "wide",
    "aggregate",
    "location_sentinels",
}
_IMPACT_KEYS = {
    "walk_away_share",
    "lead_time_days",
    "service_level",
    "pick_failure_cost",
    "holding_rate",
    "projection_weeks",
    "empty_check_every",
    "empty_check_at",
    "category_lead_time_days",
    "category_service_level",
}
_SNAPSHOT_COLUMNS = set(SNAPSHOTS.names) - {"system"} | {"unavailable", "title"}
_EVENT_COLUMNS = set(EVENTS.names) - {"system"}


def load_config(client_dir: str | Path) -> ClientConfig:
    """Read ``client_dir/client.toml`` into a :class:`ClientConfig`.

    Raises
    ------
    ConfigError
        For a bad client id, unreadable TOML, unknown keys, bad values, paths escaping the
        client folder, or an authority that is not one of the systems.
    """
    root = Path(client_dir)
    source = root / "client.toml"
    check_client_id(root.resolve().name, root)
    if not source.is_file():
        raise ConfigError(
            f"{source}: not found; every client folder needs a client.toml (see README)"
        )
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}); fix the syntax at that line") from exc
    except RecursionError as exc:
        raise ConfigError(
            f"{source}: arrays or tables nested too deeply to read; client.toml needs at "
            "most a few levels (see README)"
        ) from exc
    return parse_config(data, root=root.resolve(), source=source)


def parse_config(data: dict[str, Any], *, root: Path, source: Path) -> ClientConfig:
    """Build a :class:`ClientConfig` from already-parsed TOML ``data``."""
    top = TableReader(source, "", data)
    top.only(_TOP_KEYS)
    client = top.sub("client")
    client.only(_CLIENT_KEYS)
    systems = _parse_systems(top.sub("systems"), root)
    if not systems:
        top.fail("systems", None, "at least one [systems.<id>] table")
    authority = client.get("authority", str, next(iter(systems)))
    if authority not in systems:
        client.fail("authority", authority, "one of the systems: " + ", ".join(systems))
    timezone = client.get("timezone", str, "UTC")
    if timezone not in zoneinfo.available_timezones() and timezone != "UTC":
        client.fail("timezone", timezone, "an IANA time zone such as 'America/Chicago'")
    return ClientConfig(
        id=root.name,
        root=root,
        name=client.get("name", str, root.name),
        timezone=timezone,
        currency=client.get("currency", str, "USD"),
        authority=authority,
        measure=Measure(client.choice("measure", tuple(m.value for m in Measure), "on_hand")),
        tolerance=client.number("tolerance", 0.0, high=1e6),
        staleness_hours=client.number("staleness_hours", 24.0, low=1.0, high=24 * 3660),
        default_location=client.get("default_location", str, "main"),
        sku=_parse_sku(top.sub("sku"), root),
        catalog=_parse_table(top, "catalog", root, set(CATALOG.names)),
        counts=_parse_table(top, "counts", root, set(COUNTS.names)),
        systems=systems,
        impact=_parse_impact(top.sub("impact")),
        check=CheckParams.read(top.sub("check")),
    )


def _parse_sku(r: TableReader, root: Path) -> SkuRules:
    r.only(_SKU_KEYS)
    aliases = r.path("aliases", root)
    return SkuRules(
        strip=r.get("strip", bool, True),
        upper=r.get("upper", bool, True),
        remove=r.get("remove", str, ""),
        aliases=root / aliases if aliases else None,
    )


def _parse_table(top: TableReader, key: str, root: Path, allowed: set[str]) -> TableSource | None:
    if key not in top.table:
        return None
    r = top.sub(key)
    r.only(_TABLE_KEYS)
    path = r.path("path", root, required=True)
    assert path is not None
    return TableSource(path=path, columns=r.mapping("columns", keys=allowed))


def _parse_systems(r: TableReader, root: Path) -> dict[str, SystemConfig]:
    systems = {}
    for system_id in r.table:
        if not SYSTEM_ID.fullmatch(system_id):
            r.fail(system_id, system_id, "a system id matching [a-z0-9][a-z0-9_-]*")
        systems[system_id] = _parse_system(system_id, r.sub(system_id), root)
    return systems


def _parse_system(system_id: str, r: TableReader, root: Path) -> SystemConfig:
    r.only(_SYSTEM_KEYS)
    kind = r.choice("kind", tuple(k.value for k in SystemKind))
    snapshots, events = r.path("snapshots", root), r.path("events", root)
    if snapshots is None and events is None:
        r.fail("snapshots", None, "a snapshots or an events path (or both)")
    as_of = r.get("as_of", (str, datetime))
    if isinstance(as_of, str):
        try:
            as_of = datetime.fromisoformat(as_of)
        except ValueError:
            r.fail("as_of", as_of, "an ISO timestamp such as '2026-09-30T23:59:00'")
    pattern = r.strftime("as_of_pattern", extra="sQ")
    if pattern is not None and "%" not in pattern:
        r.fail(
            "as_of_pattern",
            pattern,
            "a file-name pattern with strftime codes (and * wildcards, %s/%Q epoch "
            "seconds/milliseconds), e.g. 'export_%Y-%m-%d.csv'",
        )
    return SystemConfig(
        id=system_id,
        kind=SystemKind(kind),
        format=r.choice("format", FORMATS, "csv"),
        snapshots=snapshots,
        events=events,
        events_format=r.choice("events_format", EVENT_FORMATS, "csv"),
        columns=r.mapping("columns", keys=_SNAPSHOT_COLUMNS),
        event_columns=r.mapping("event_columns", keys=_EVENT_COLUMNS),
        locations=r.mapping("locations"),
        event_kinds=r.mapping("event_kinds", values={k.value for k in _event_kinds()}),
        as_of=as_of,
        as_of_pattern=pattern,
        as_of_time=r.clock("as_of_time", "23:59"),
        timestamp_format=r.strftime("timestamp_format"),
        unit=r.choice("unit", UNITS, "each"),
        scale=r.number("scale", 1.0, low=1e-9, high=1e6),
        sentinels=r.numbers("sentinels", DEFAULT_SENTINELS),
        location_sentinels={
            k: r.sub("location_sentinels").numbers(k, ())
            for k in r.get("location_sentinels", dict, {})
        },
        encoding=r.encoding("encoding"),
        delimiter=r.delimiter("delimiter"),
        sheet=r.get("sheet", (str, int)),
        wide=WideSheet.parse(r) if "wide" in r.table else None,
        aggregate=r.choice("aggregate", AGGREGATES, "none"),
    )


def _event_kinds() -> list[Any]:
    from driftkit.schema import EventKind

    return list(EventKind)


def _check_every(r: TableReader) -> int:
    """``empty_check_every``: 0 (no empty-shelf checks) or a whole number of ranks ≥ 2."""
    every = r.number("empty_check_every", 5, high=1000)
    if every != int(every) or every == 1:
        r.fail("empty_check_every", every, "0 (no empty-shelf checks) or a whole number ≥ 2")
    return int(every)


def _parse_impact(r: TableReader) -> ImpactParams:
    r.only(_IMPACT_KEYS)
    return ImpactParams(
        walk_away_share=r.number("walk_away_share", 0.40, high=1.0),
        lead_time_days=r.number("lead_time_days", 7.0),
        service_level=r.number("service_level", 0.95, low=0.5, high=0.9999),
        pick_failure_cost=r.number("pick_failure_cost", 15.0),
        holding_rate=r.number("holding_rate", 0.25),
        projection_weeks=int(r.number("projection_weeks", 8, low=1, high=104)),
        empty_check_every=_check_every(r),
        empty_check_at=r.number("empty_check_at", 0.10, high=1.0),
        category_lead_time_days={
            k: float(v) for k, v in r.get("category_lead_time_days", dict, {}).items()
        },
        category_service_level={
            k: float(v) for k, v in r.get("category_service_level", dict, {}).items()
        },
    )
