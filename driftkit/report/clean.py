"""Strings made safe for a renderer: control characters escaped, very long ones shortened.

Client strings (SKUs, titles, locations, reasons) reach three renderers: vl-convert (the
static SVG of every chart, which aborts the whole process on a character XML forbids),
the browser (HTML) and Vega in the browser.  Every string on its way to one of them goes
through :func:`display_text`:

* C0/C1 control characters other than tab, newline and carriage return, lone surrogates,
  U+FFFE and U+FFFF are written as visible escapes (``\\x00``, ``\\ufffe``);
* a string longer than :data:`MAX_DISPLAY` characters is cut to its start, its length and
  a short hash (distinct strings stay distinct on a chart axis).

Only what is *displayed* changes: the CSV outputs and ``summary.json`` keep full values.
:func:`clean_spec` applies it to a chart spec and counts the strings it changed.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

#: Longest string shown whole in a chart's data or a table.
MAX_DISPLAY = 80
#: Longest string kept whole elsewhere in a chart spec (titles, labels, theme).
MAX_SPEC_TEXT = 400
#: Longest sentence (a note, a reason) shown whole in the report.
MAX_SENTENCE = 2000
_DATA_KEYS = frozenset({"datasets", "values"})
_KEEP = 48
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def display_text(text: str, *, limit: int = MAX_DISPLAY) -> str:
    """``text`` with unsafe characters escaped and, when very long, shortened.

    Parameters
    ----------
    text
        A client string.
    limit
        Longest string kept whole.

    Returns
    -------
    str
        Safe for XML, SVG and HTML text (still to be HTML-escaped), at most about
        ``limit`` characters: ``"<start>…[N chars #hash]"`` when it was longer.
    """
    if len(text) > limit:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
        text = f"{_escape_unsafe(text[:_KEEP])}…[{len(text):,} chars #{digest}]"
        return text
    return _escape_unsafe(text)


def _escape_unsafe(text: str) -> str:
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def escape(text: str, quote: bool = True, *, limit: int = MAX_DISPLAY) -> str:
    """:func:`html.escape` of :func:`display_text`: the one escape for client strings.

    Parameters
    ----------
    text
        A client string.
    quote
        Also escape quotes (for attribute values), as :func:`html.escape`.
    limit
        Longest string kept whole (:func:`display_text`); sentences take :data:`MAX_SENTENCE`.

    Returns
    -------
    str
        Safe HTML text.
    """
    return html.escape(display_text(text, limit=limit), quote=quote)


def clean_spec(value: Any, *, limit: int = MAX_SPEC_TEXT) -> tuple[Any, int]:
    """A copy of a chart spec (or any JSON value) with every string through :func:`display_text`.

    Parameters
    ----------
    value
        The Vega-Lite spec: dicts, lists, strings, numbers.
    limit
        Longest string kept whole; strings under ``datasets`` or ``values`` (the chart's
        data) are kept to :data:`MAX_DISPLAY`.

    Returns
    -------
    tuple
        ``(spec, changed)``: the cleaned copy and how many strings were changed.
    """
    if isinstance(value, str):
        shown = display_text(value, limit=limit)
        return shown, int(shown != value)
    if isinstance(value, dict):
        pairs = [
            (key, clean_spec(item, limit=MAX_DISPLAY if key in _DATA_KEYS else limit))
            for key, item in value.items()
        ]
        return {k: v for k, (v, _) in pairs}, sum(n for _, (_, n) in pairs)
    if isinstance(value, list):
        items = [clean_spec(item, limit=limit) for item in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0


def changed_note(changed: int) -> str:
    """The note shown under a chart or table whose strings were changed for display.

    Parameters
    ----------
    changed
        How many strings were changed.

    Returns
    -------
    str
        An HTML ``<p class="dk-note">``, or ``""`` when nothing changed.
    """
    if not changed:
        return ""
    return (
        f'<p class="dk-note">{changed:,} label(s) had control characters escaped or were '
        "shortened for display; the CSV files keep the full values.</p>"
    )
