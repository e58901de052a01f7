"""Missing export headers: say which header the user wrote and the closest real ones.

:func:`require_columns` is the one check every format runs before staging.  Its message
names the header the config (or the format) expects, the file's closest headers (a header
differing only in case first), and the config line that fixes it.  A header is never
proposed for a measure whose meaning differs (``afn-fulfillable-quantity`` is available,
never on_hand), and a generic ``quantity`` is proposed only when the user's spelling is
close to it.
"""

from __future__ import annotations

import difflib

from driftkit import schema as s
from driftkit.errors import InputError
from driftkit.load.guard import excerpt
from driftkit.load.read import DELIMITERS

_MEANINGS = {
    s.ON_HAND: ("on hand", "onhand", "on_hand", "warehouse", "physical", "total"),
    s.AVAILABLE: ("available", "fulfillable", "sellable", "avail"),
    s.COMMITTED: ("committed", "reserved", "allocated"),
    "unavailable": ("unavailable", "unsellable", "damaged"),
}


def meaning(header: str) -> str | None:
    """The measure a header names by its words (``None`` when it does not say)."""
    text = header.casefold().replace("-", " ")
    for canon in ("unavailable", s.COMMITTED, s.ON_HAND, s.AVAILABLE):
        if any(word in text for word in _MEANINGS[canon]):
            return canon
    return None


def closest(head: str, canon: str, found: list[str], n: int = 3) -> list[str]:
    """The file's headers closest to ``head`` that do not mean another measure than ``canon``."""
    allowed = [f for f in found if meaning(f) in (None, canon) or canon not in _MEANINGS]
    same_case = [f for f in allowed if f.strip().casefold() == head.strip().casefold()]
    folded = {f.casefold(): f for f in allowed}
    spelled = difflib.get_close_matches(head.casefold(), list(folded), n=n, cutoff=0.6)
    by_meaning = [f for f in allowed if meaning(f) == canon] if canon in _MEANINGS else []
    word = canon.replace("_", " ")
    by_name = [f for f in folded if word and word in f.replace("_", " ")]
    by_name += difflib.get_close_matches(canon, list(folded), n=1, cutoff=0.5)
    picks = same_case + [folded[f] for f in spelled] + by_meaning + [folded[f] for f in by_name]
    return list(dict.fromkeys(picks))[:n]


def require_columns(
    found: list[str], expected: dict[str, str], *, source_file: str, setting: str
) -> None:
    """Raise InputError when export headers named in ``expected`` are missing.

    Parameters
    ----------
    found
        The file's headers.
    expected
        Canonical column → expected header in the file (the user's map, or the format's).
    source_file, setting
        For the message: the file, and the config table holding the column map.
    """
    missing = {canon: head for canon, head in expected.items() if head not in found}
    if not missing:
        return
    hints = []
    for canon, head in missing.items():
        near = closest(head, canon, found)
        hint = (
            f"; closest headers in the file: {', '.join(repr(n) for n in near)} "
            f"(add `{canon} = {near[0]!r}` under {setting})"
            if near
            else ""
        )
        hints.append(f"{head!r} (for {canon}){hint}")
    raise InputError(
        f"{source_file}: header(s) not found: {'; '.join(hints)}. "
        f"The file has {len(found)} headers, found {excerpt(found, limit=600)}. Map each export header to its canonical column under {setting}"
        + _delimiter_hint(found)
    )


def _delimiter_hint(found: list[str]) -> str:
    if len(found) != 1:
        return ""
    for sep, name in DELIMITERS.items():
        if sep in found[0]:
            return f"; the header looks {name}-separated: set `delimiter = {sep!r}`"
    return ""
