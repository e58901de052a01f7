"""Typed reading of parsed TOML tables, failing with the file, the dotted key and the fix.

Private: :mod:`driftkit.config` reads ``client.toml`` with :class:`TableReader`; import
:func:`check_inside` from there.
"""

from __future__ import annotations

import codecs
import re
import reprlib
from datetime import time
from pathlib import Path
from typing import Any

from driftkit.errors import ConfigError

_STRFTIME = set("aAwdbBmyYHIpMSfzZjUWGuV%")
_CODES = ", %".join(sorted(_STRFTIME))
_SHORT = reprlib.Repr()  # values shown in messages: short, never deep
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 80, 80


class TableReader:
    """Typed access to one TOML table, raising ConfigError with file and dotted key."""

    def __init__(self, source: Path, prefix: str, table: Any) -> None:
        self.source, self.prefix = source, prefix
        if not isinstance(table, dict):
            self.fail("", table, "a table")
        self.table: dict[str, Any] = table

    def fail(self, key: str, found: Any, allowed: str) -> None:
        dotted = f"{self.prefix}.{key}".strip(".")
        raise ConfigError(f"{self.source}: [{dotted}] is {_SHORT.repr(found)}; expected {allowed}")

    def only(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.table) - allowed)
        if unknown:
            dotted = f"{self.prefix}.{unknown[0]}".strip(".")
            raise ConfigError(
                f"{self.source}: unknown key {dotted!r}; allowed keys in "
                f"[{self.prefix or 'top level'}]: {', '.join(sorted(allowed))}"
            )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.fail(key, value, _type_name(kind))
        if not isinstance(value, kind):
            self.fail(key, value, _type_name(kind))
        return value

    def number(self, key: str, default: float, *, low: float = 0.0, high: float = 1e9) -> float:
        value = float(self.get(key, (int, float), default))
        if not low <= value <= high:
            self.fail(key, value, f"a number between {low} and {high}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(key, str, default)
        if value not in allowed:
            self.fail(key, value, "one of " + ", ".join(allowed))
        return str(value)

    def mapping(
        self, key: str, *, values: set[str] | None = None, keys: set[str] | None = None
    ) -> dict[str, str]:
        raw = self.get(key, dict, {})
        out: dict[str, str] = {}
        for k, v in raw.items():
            if not isinstance(v, str):
                self.fail(f"{key}.{k}", v, "a string")
            if keys is not None and k not in keys:
                self.fail(f"{key}.{k}", k, "one of " + ", ".join(sorted(keys)))
            if values is not None and v not in values:
                self.fail(f"{key}.{k}", v, "one of " + ", ".join(sorted(values)))
            out[str(k)] = v
        return out

    def path(self, key: str, root: Path, required: bool = False) -> str | None:
        value = self.get(key, str)
        if value is None:
            if required:
                self.fail(key, None, "a path relative to the client folder")
            return None
        check_inside(value, root, self.source, f"{self.prefix}.{key}")
        return str(value)

    def clock(self, key: str, default: str) -> time:
        """A local time of day such as ``'23:59'``."""
        value = self.get(key, (str, time), default)
        if isinstance(value, time):
            return value
        try:
            return time.fromisoformat(value)
        except ValueError:
            self.fail(key, value, "a local time such as '23:59'")
            raise  # unreachable

    def numbers(self, key: str, default: tuple[float, ...]) -> tuple[float, ...]:
        """A list of numbers (ints or floats, not booleans) as floats."""
        value = self.get(key, list, list(default))
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
            self.fail(key, value, "a list of numbers")
        return tuple(float(x) for x in value)

    def delimiter(self, key: str) -> str | None:
        value = self.get(key, str)
        if value is not None and (len(value) != 1 or value in '"\r\n'):
            self.fail(key, value, "one character such as ',', ';', '|' or '\\t' (not a quote)")
        return value

    def strftime(self, key: str, extra: str = "") -> str | None:
        """A strftime format; ``extra`` names more codes allowed for this key."""
        value = self.get(key, str)
        codes = re.findall(r"%(.?)", value or "")
        if value is not None and not all(code and code in _STRFTIME | set(extra) for code in codes):
            self.fail(key, value, f"a strftime format such as '%m/%d/%Y %H:%M' (codes %{_CODES})")
        return value

    def encoding(self, key: str) -> str | None:
        value = self.get(key, str)
        try:
            if value is not None:
                codecs.lookup(value)
        except LookupError:
            self.fail(key, value, "a Python codec name such as 'utf-8', 'utf-16' or 'cp1252'")
        return value

    def sub(self, key: str) -> TableReader:
        return TableReader(self.source, f"{self.prefix}.{key}".strip("."), self.table.get(key, {}))


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        dict: "a table",
        list: "a list",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def check_inside(pattern: str, root: Path, source: Path, key: str) -> None:
    """Refuse a path (or glob) that is absolute or escapes the client folder."""
    candidate = Path(pattern)
    escapes = candidate.is_absolute() or ".." in candidate.parts
    if not escapes:
        resolved = (root / candidate.parent).resolve()
        escapes = not resolved.is_relative_to(root.resolve())
    if escapes:
        raise ConfigError(
            f"{source}: [{key}] is {pattern!r}, which points outside the client folder; "
            "use a path relative to the folder holding client.toml, without '..'"
        )
