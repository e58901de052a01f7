"""The charts' static SVG fallbacks, rendered beside the notebook instead of in its way.

vl-convert renders a chart's SVG in Rust and V8 without holding Python's GIL: about 0.3 s a
chart, and 0.8 s more for the first chart of a process, which starts its JavaScript runtime.
Rendered inline, the audit notebook waited for every one of them (3.5-4 s of acme-outdoor's
HTML audit; bench/README.md, "Sample clients").  Here they render on two background threads
while the kernel goes on building tables and charts on its own core, and a chart drawn before
is read from the cache folder (:mod:`driftkit.report.svgcache`).

Outside the audit notebook nothing changes: a :class:`Fragment` displayed, printed or asked
for its ``html`` waits for its SVGs.  The audit notebook calls :func:`defer_fallbacks` first
(which also starts the JavaScript runtime while the audit computes): a fragment whose SVGs are
not ready yet is then displayed as a placeholder with a display id, and
:func:`finish_fallbacks`, in the notebook's last cell, waits for them and replaces every
placeholder by the complete fragment (``update_display_data``), so the executed notebook and
its HTML export hold exactly what an inline render gives.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import vl_convert as vlc

from driftkit.report.bundle import VL_VERSION
from driftkit.report.svgcache import cached_svg

Part = str | Future[str]

_RENDERERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="driftkit-svg")
_WARM_UP = {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}
_STATE = {"deferred": False}  # per process: the audit notebook's kernel sets it
_PENDING: list[tuple[str, Fragment]] = []
_IDS = itertools.count(1)


def render_svg(spec: dict[str, Any], scope: Callable[[str], str]) -> Future[str]:
    """Start rendering ``spec`` as SVG on a background thread.

    Parameters
    ----------
    spec : dict
        A Vega-Lite spec with inline data.
    scope : callable
        Applied to the SVG text when it is rendered (e.g. renaming its ids).

    Returns
    -------
    concurrent.futures.Future
        The SVG text; ``result()`` raises what vl-convert raised.
    """
    return _RENDERERS.submit(lambda: scope(cached_svg(spec)))


class Fragment:
    """An HTML fragment whose chart SVGs may still be rendering; displays as ``text/html``.

    Parameters
    ----------
    parts : sequence of str or Future[str]
        The fragment's text in order; a future is an SVG from :func:`render_svg`.
    """

    def __init__(self, parts: Sequence[Part]) -> None:
        self._parts = tuple(parts)

    @property
    def html(self) -> str:
        """The whole fragment, once every SVG in it is rendered."""
        return "".join(p if isinstance(p, str) else p.result() for p in self._parts)

    def ready(self) -> bool:
        """Whether every SVG in the fragment is rendered (or failed)."""
        return all(isinstance(p, str) or p.done() for p in self._parts)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"HTML({len(self.html)} characters)"

    def __str__(self) -> str:
        return self.html

    def _ipython_display_(self) -> None:
        from IPython.display import publish_display_data

        if not _STATE["deferred"] or self.ready():
            publish_display_data(self._data())
            return
        display_id = f"driftkit-fallback-{next(_IDS)}"
        placeholder = {"text/plain": "rendering", "text/html": "<p>Rendering the chart ...</p>"}
        publish_display_data(placeholder, transient={"display_id": display_id})
        _PENDING.append((display_id, self))

    def _data(self) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self.html}


def defer_fallbacks() -> None:
    """Display fragments whose SVGs are still rendering as placeholders (the audit notebook).

    Also starts vl-convert's JavaScript runtime on a background thread unless the kernel
    started it while it booted (:func:`start_runtime`), so the first chart does not wait for
    it.  Call :func:`finish_fallbacks` in the notebook's last cell.
    """
    _STATE["deferred"] = True
    _RENDERERS.submit(start_runtime)


@functools.cache
def start_runtime() -> None:
    """Start vl-convert's JavaScript runtime (once per process) by rendering a tiny chart.

    It holds Python's GIL while it starts (~1 s of CPU; every other thread of the process
    waits), so the audit notebook's kernel calls it while it boots
    (:func:`driftkit.kernel.import_kernel_modules`), before the notebook's first cell.
    """
    vlc.vegalite_to_svg(_WARM_UP, vl_version=VL_VERSION)  # never cached


def finish_fallbacks() -> None:
    """Wait for every SVG still rendering and put each complete fragment in its place."""
    from IPython.display import publish_display_data

    while _PENDING:
        display_id, fragment = _PENDING.pop(0)
        transient = {"display_id": display_id}
        publish_display_data(fragment._data(), transient=transient, update=True)
