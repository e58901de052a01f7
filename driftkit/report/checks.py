"""Checking and writing finished HTML: external URLs, duplicate chart ids, atomic writes.

A report must work offline (DESIGN §10): :func:`_check_self_contained` refuses a document
that would fetch anything from another host or reuses a chart id.
"""

from __future__ import annotations

import os
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from driftkit.errors import ReportError


def external_urls(document: str) -> list[str]:
    """Every URL in ``document`` that a browser would fetch from (or navigate to) another host.

    Looks at URL attributes (``src``, ``href``, ``xlink:href``, ``srcset``, ``action``, ...),
    ``<meta http-equiv=refresh>``, and ``url(...)`` / ``@import`` in ``<style>`` and ``style=``.
    Allowed: in-document anchors, relative paths, ``data:``, ``mailto:``, ``javascript:``, and
    XML namespaces (``xmlns``), which are identifiers, not fetches.  Script text is not scanned.

    Parameters
    ----------
    document : str
        HTML text.

    Returns
    -------
    list of str
        The external URLs, in document order (empty when the file is self-contained).
    """
    parser = _UrlCollector()
    parser.feed(document)
    parser.close()
    return [url for url in parser.urls if _is_external(url)]


_URL_ATTRIBUTES = frozenset({
    "src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data",
    "background", "cite", "longdesc", "manifest", "ping", "icon", "codebase", "archive",
})  # fmt: skip


_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


class _UrlCollector(HTMLParser):
    """Collects candidate URLs from attributes and CSS of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in _URL_ATTRIBUTES:
                self.urls += _attribute_urls(name, value)
            elif name == "style":
                self.urls += _css_urls(value)
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self.urls.append(value.lower().split("url=", 1)[1].strip(" '\""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += _css_urls(data)


def _attribute_urls(name: str, value: str) -> list[str]:
    if name in {"srcset", "ping", "archive"}:
        return [
            part.strip().split(" ")[0]
            for part in re.split(r"[,\s]\s*(?=\S)", value)
            if part.strip()
        ]
    return [value.strip()]


def _css_urls(css: str) -> list[str]:
    return [a or b for a, b in _CSS_URL.findall(css)]


def _is_external(url: str) -> bool:
    """True for URLs naming another host or a fetchable scheme (``//x``, ``https:``, ``file:``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in {"data", "mailto", "javascript", "about", "blob"}:
        return False
    return bool(parts.netloc) or scheme in {"http", "https", "ftp", "ws", "wss", "file"}


def _check_self_contained(document: str, out_html: Path) -> None:
    external = external_urls(document)
    if external:
        raise ReportError(
            f"{out_html}: the report would load {len(external)} external URL(s), e.g. "
            f"{external[:3]}; a report must work offline. Remove links/images to the web from "
            "the notebook's markdown and outputs (embed images as data: URIs)."
        )
    ids = _chart_ids(document)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ReportError(
            f"{out_html}: chart id(s) {twice} are used more than once; give every "
            "report.chart(...) call in the notebook its own id."
        )


def _chart_ids(document: str) -> list[str]:
    """The ids of every ``dk-chart`` element, in document order (duplicates kept)."""
    parser = _ChartIdCollector()
    parser.feed(document)
    return parser.ids


class _ChartIdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "dk-chart" in (found.get("class") or "").split() and found.get("id"):
            self.ids.append(str(found["id"]))


def _write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
