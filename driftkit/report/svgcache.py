"""SVG fallbacks kept in the user's cache folder by their spec: a chart drawn once is not
drawn again.

vl-convert's SVG of a spec depends only on the spec and the two versions (vl-convert's and
Vega-Lite's), so a second audit of the same exports (``make demo`` run again, a re-run after
an error, the benchmarks) reads each chart's SVG instead of spending ~0.3 s of CPU on it.  The
file name is the SHA-256 of the versions and the spec's canonical JSON; the newest
:data:`KEEP` files are kept.  A damaged or unreadable file is drawn again; a cache folder that
cannot be written changes nothing but the time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from importlib.metadata import version
from pathlib import Path
from typing import Any

import vl_convert as vlc

from driftkit.errors import ReportError
from driftkit.report.bundle import VL_VERSION
from driftkit.report.cache import cache_dir, store_atomically

#: SVG files kept in the cache folder (~2 MB for the samples' 30 charts; ~50 KB each).
KEEP = 400

log = logging.getLogger(__name__)


def cached_svg(spec: dict[str, Any]) -> str:
    """vl-convert's SVG of ``spec``, read from the cache when this spec was drawn before.

    Parameters
    ----------
    spec : dict
        A Vega-Lite spec with inline data (JSON-serializable, no NaN).

    Returns
    -------
    str
        The SVG text exactly as vl-convert writes it.
    """
    path = svg_path(spec)
    try:
        return _checked(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ReportError):
        pass  # absent, unreadable or damaged: draw it
    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    try:
        store_atomically(path, svg)
        _prune(path.parent)
    except OSError as err:  # a read-only home: every chart is drawn, nothing else changes
        log.debug("chart SVG not cached at %s: %s", path, err)
    return svg


def svg_path(spec: dict[str, Any]) -> Path:
    """Where the SVG of ``spec`` is kept: ``<cache>/svg/<sha256>.svg``."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)
    versions = f"vl-convert {version('vl-convert-python')}, vega-lite {VL_VERSION}\n"
    return cache_dir() / "svg" / f"{hashlib.sha256((versions + text).encode()).hexdigest()}.svg"


def _checked(svg: str) -> str:
    """``svg`` if it is one whole ``<svg>`` element without a script (it is inlined raw)."""
    if not (svg.startswith("<svg") and svg.rstrip().endswith("</svg>")):
        raise ReportError("report.cached_svg: a cached SVG is cut short; it is drawn again.")
    if "<script" in svg.lower():
        raise ReportError("report.cached_svg: a cached SVG holds a script; it is drawn again.")
    return svg


def _prune(folder: Path) -> None:
    """Remove all but the newest :data:`KEEP` SVG files of ``folder``."""
    files = sorted(folder.glob("*.svg"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
