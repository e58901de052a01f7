"""Snapshot time from a file name: ``as_of_pattern`` with strftime codes, ``*`` and epochs.

The pattern is matched against the whole file name.  ``*`` matches any run of characters;
``%s`` is a Unix time in seconds and ``%Q`` in milliseconds (WooCommerce names its export
``wc-product-export-25-2-2026-1772060174291.csv``: ``wc-product-export-*-%Q.csv``); every
other ``%`` code is a :func:`datetime.strptime` code.  An epoch is an instant (UTC); a
date without a time of day takes ``as_of_time``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

_FIELDS = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{1,2}",
    "d": r"\d{1,2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "f": r"\d{1,6}",
    "j": r"\d{1,3}",
    "b": r"[A-Za-z]{3}",
    "B": r"[A-Za-z]+",
    "a": r"[A-Za-z]{3}",
    "A": r"[A-Za-z]+",
    "p": r"[AaPp][Mm]",
    "s": r"\d{9,11}",
    "Q": r"\d{12,14}",
}
_TOKEN = re.compile(r"%(.)|(\*)|([^%*]+)")
_CLOCK = ("H", "I", "M", "S", "s", "Q")


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], list[str]]:
    """A regex for ``pattern`` and the strftime code of each of its groups, in order.

    Raises
    ------
    ValueError
        A ``%`` code that cannot be matched in a file name.
    """
    regex, codes = "", []
    for code, star, literal in _TOKEN.findall(pattern):
        if literal:
            regex += re.escape(literal)
        elif star:
            regex += ".*?"
        elif code == "%":
            regex += "%"
        elif code in _FIELDS:
            regex += f"({_FIELDS[code]})"
            codes.append(code)
        else:
            raise ValueError(f"%{code} is not a code as_of_pattern can match")
    return re.compile(regex, re.IGNORECASE), codes


def parse_name(name: str, pattern: str, as_of_time: time) -> datetime | None:
    """The snapshot time a file name carries, or ``None`` when it does not match ``pattern``.

    Returns
    -------
    datetime
        Aware (UTC) for an epoch field, else naive local time (``as_of_time`` when the
        pattern has no time of day).
    """
    regex, codes = compile_pattern(pattern)
    found = regex.fullmatch(name)
    if found is None:
        return None
    values = dict(zip(codes, found.groups(), strict=True))
    if "Q" in values or "s" in values:
        seconds = int(values["Q"]) / 1000 if "Q" in values else int(values["s"])
        return datetime.fromtimestamp(seconds, tz=UTC)
    stamp = datetime.strptime("|".join(values.values()), "|".join(f"%{c}" for c in values))
    if not any(code in values for code in _CLOCK):
        stamp = datetime.combine(stamp.date(), as_of_time)
    return stamp
