"""The Vega JavaScript bundle every report inlines once, built by vl-convert and kept on disk.

Building it (``vl_convert.javascript_bundle``) costs about 3 s of CPU, once per process that
exports a report, and its text depends only on the vl-convert version and the Vega-Lite version
Altair writes.  :func:`vega_bundle` therefore keeps it in ``<cache>/vega-bundle-<versions>.js``
(:func:`cache_dir`: ``$DRIFTKIT_CACHE_DIR``, else ``~/.cache/driftkit``) and reads it from
there afterwards; a cached file that fails the bundle's checks is rebuilt.  Public through
:mod:`driftkit.report.html`.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
import logging
import threading
from importlib.metadata import version
from pathlib import Path

import altair as alt
import vl_convert as vlc

from driftkit.errors import ReportError
from driftkit.report.cache import cache_dir, store_atomically

VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"


_LOCK = threading.Lock()


_BUILT: dict[str, str] = {}


log = logging.getLogger(__name__)


def vega_bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript (from vl-convert), built once per machine.

    Thread-safe: a second caller waits for the first (the notebook runner starts it early in
    a thread, :func:`driftkit.notebook.execute_notebook`).

    Returns
    -------
    str
        Script text defining ``window.vegaEmbed``, ``window.vega`` and ``window.vegaLite``;
        the same object on every call in a process.
    """
    with _LOCK:
        if VL_VERSION not in _BUILT:
            _BUILT[VL_VERSION] = _cached_bundle(cache_dir() / _file_name())
        return _BUILT[VL_VERSION]


def _file_name() -> str:
    return f"vega-bundle-vlc{version('vl-convert-python')}-vl{VL_VERSION}.js"


def _cached_bundle(path: Path) -> str:
    """The bundle from ``path`` when it passes :func:`_checked`, else built and stored there."""
    try:
        return _checked(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ReportError):
        pass  # absent, unreadable or damaged: build it
    bundle = _checked(vlc.javascript_bundle(_GLOBALS, vl_version=VL_VERSION))
    try:
        store_atomically(path, bundle)
    except OSError as err:  # a read-only home: every export builds it, nothing else changes
        log.debug("vega bundle not cached at %s: %s", path, err)
    return bundle


def _checked(bundle: str) -> str:
    """``bundle`` if it ends with the globals line (whole) and cannot close the script."""
    if "</script" in bundle.lower():
        raise ReportError("report.vega_bundle: the vl-convert bundle contains '</script'.")
    if "window.vegaLite=" not in bundle[-200:]:  # the globals line, minified, comes last
        raise ReportError("report.vega_bundle: the bundle does not end defining the globals.")
    return bundle
