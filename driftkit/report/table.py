"""Escaped HTML tables of a frame for notebooks and the report (:func:`table`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from driftkit.errors import ReportError
from driftkit.report.clean import MAX_DISPLAY, display_text, escape

_NUM = ' class="num"'


@dataclass(frozen=True, repr=False)
class TableHTML:
    """An escaped HTML table; a notebook displays it as ``text/html``.

    Attributes
    ----------
    html : str
        The ``<table>`` markup.
    """

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"TableHTML({len(self.html):,} characters)"

    def __str__(self) -> str:
        return self.html


def table(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    max_rows: int = 50,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    rows: int | None = None,
) -> TableHTML:
    """An HTML table of the first ``max_rows`` rows, every cell escaped.

    Parameters
    ----------
    frame : DataFrame
        The rows to show (not modified).
    columns : sequence of str, optional
        Which columns, in this order (default: all).
    max_rows : int
        At most this many rows are shown; a caption says how many were left out.
    formats : mapping, optional
        Column → format spec (``",.2f"``, ``".1%"``) or callable; others get a default by dtype.
    rows : int, optional
        Rows of the whole table when ``frame`` holds only its first rows (default its length).

    Returns
    -------
    TableHTML
        ``<table class="dk-table">`` with numeric cells right-aligned.
    """
    chosen = list(frame.columns if columns is None else columns)
    missing = [c for c in chosen if c not in frame.columns]
    if missing:
        raise ReportError(
            f"report.table: column(s) {missing} not in the frame; found {list(frame.columns)}."
        )
    shown = frame.loc[:, chosen].head(max_rows)
    numeric = {c for c in chosen if _is_numeric(shown[c])}
    head = "".join(f"<th{_NUM if c in numeric else ''}>{escape(str(c))}</th>" for c in chosen)
    cells = [_cells(shown[c], (formats or {}).get(c)) for c in chosen]
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*cells, strict=True))
    note = _shortened_note(shown)
    total = len(frame) if rows is None else rows
    if total > len(shown):
        note = f"<caption>First {len(shown):,} of {total:,} rows.{note}</caption>"
    elif note:
        note = f"<caption>{note}</caption>"
    return TableHTML(f'<table class="dk-table">{note}<thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table>")  # fmt: skip


def _cells(values: pd.Series, fmt: str | Callable[[Any], str] | None) -> list[str]:
    """Formatted, escaped ``<td>`` cells of one column (a handful of rows: display only)."""
    numeric = _is_numeric(values)
    if fmt is None:
        fmt = _default_format(values)
    render = fmt if callable(fmt) else functools.partial(_format, spec=fmt)
    text = values.map(lambda v: "" if _is_missing(v) else render(v))
    attr = _NUM if numeric else ""
    return [f"<td{attr}>{escape(str(t), limit=MAX_DISPLAY)}</td>" for t in text]


def _shortened_note(shown: pd.DataFrame) -> str:
    """A sentence saying how many shown text cells :func:`display_text` changed."""
    text = [shown[c].astype("str").fillna("") for c in shown.columns if not _is_numeric(shown[c])]
    changed = sum(int((col.map(display_text) != col).sum()) for col in text)
    if not changed:
        return ""
    return (f" {changed:,} cell(s) had control characters escaped or were shortened for "
            "display; the CSV files keep the full values.")  # fmt: skip


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _default_format(values: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(values):
        return ","
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna().mod(1).eq(0).all()
        return ",.0f" if whole else ",.2f"
    if pd.api.types.is_datetime64_any_dtype(values):
        return (
            "%Y-%m-%d"
            if values.dropna().dt.normalize().eq(values.dropna()).all()
            else "%Y-%m-%d %H:%M"
        )
    return ""


def _format(value: Any, *, spec: str) -> str:
    return format(value, spec) if spec else str(value)


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))
