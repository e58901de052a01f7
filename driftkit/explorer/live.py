"""The explorer's chart as a live Vega view: the spec is sent once, each key's data in place.

``LiveChart`` is an anywidget whose JavaScript holds one Vega view.  Python sends the compiled
Vega spec once; a redraw only replaces the datasets (``datasets`` trait) and the browser
applies them as Vega changesets, so the chart is updated, never re-rendered.  The JavaScript
module is the Vega, Vega-Lite and vega-embed bundle of ``vl-convert-python`` plus a few
lines of our own: nothing is fetched from a CDN.  Bundling costs a few seconds, so the module
is cached on disk per vl-convert version (:func:`vega_module`).
Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from driftkit.explorer.payload import rows_of

# The page marks each finished redraw on the chart's element (data-redraws, data-key) and
# keeps its timing in window.driftkitRedraws: the browser test and benchmark read them.
_SNIPPET = """
// Only vegaEmbed is usable from this bundle (a bare vega.* resolves to an empty module), so
// changesets come from the view itself.  The first datasets are embedded with the spec, so
// no scale is ever computed over empty data.
// Python sends each dataset as columns ({day: [...], system: [...]}); Vega takes rows.
function rows(columns) {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].length : 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = {};
    for (const name of names) row[name] = columns[name][i];
    out[i] = row;
  }
  return out;
}
function filled(spec, datasets) {
  const data = spec.data.map((d) => (d.name in datasets ? { ...d, values: rows(datasets[d.name]) } : d));
  return { ...spec, data };
}
async function render({ model, el }) {
  el.classList.add("dk-live-chart");
  const box = document.createElement("div");
  el.appendChild(box);
  const embedded = await vegaEmbed(box, filled(model.get("spec"), model.get("datasets")), {
    mode: "vega", renderer: "svg", actions: false,
  });
  const view = embedded.view;
  el.vegaView = view;
  let redraws = 0;
  async function fill() {
    const started = performance.now();
    const datasets = model.get("datasets");
    for (const [name, columns] of Object.entries(datasets)) {
      view.change(name, view.changeset().remove(() => true).insert(rows(columns)));
    }
    await view.runAsync();
    redraws += 1;
    el.dataset.redraws = String(redraws);
    el.dataset.key = model.get("key");
    (window.driftkitRedraws = window.driftkitRedraws || []).push({
      key: model.get("key"), at: performance.now(), ms: performance.now() - started,
    });
  }
  model.on("change:datasets", fill);
  el.dataset.redraws = "0";
  el.dataset.key = model.get("key");
  return () => view.finalize();
}
export default { render };
"""


def vega_module() -> str:
    """The chart's JavaScript module: the vl-convert Vega bundle plus the render function.

    Built once per vl-convert version and snippet, then read from the user's cache folder
    (``$XDG_CACHE_HOME/driftkit`` or ``~/.cache/driftkit``).
    """
    return _cached_module(
        version("vl-convert-python"), hashlib.sha256(_SNIPPET.encode()).hexdigest()[:12]
    )


@functools.lru_cache(maxsize=1)
def _cached_module(version: str, digest: str) -> str:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "driftkit"
    path = root / f"explorer-vega-{version}-{digest}.js"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    import vl_convert as vlc  # only to build the bundle (the cached module needs no import)

    module = vlc.javascript_bundle(_SNIPPET)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=root, delete=False, encoding="utf-8") as out:
        out.write(module)
    os.replace(out.name, path)  # atomic: a concurrent reader never sees half a file
    return module


class LiveChart(anywidget.AnyWidget):
    """One Vega view in the browser; assigning ``datasets`` redraws it in place.

    Attributes
    ----------
    spec
        The compiled Vega spec (sent once, with empty datasets).
    datasets
        Dataset name → its columns (name → JSON-ready list, all of one length); each
        assignment is one message and, in the page, one changeset per dataset.
    key
        A label of what is shown (``sku @ location``), echoed on the page after the redraw.
    """

    spec = traitlets.Dict().tag(sync=True)
    datasets = traitlets.Dict().tag(sync=True)
    key = traitlets.Unicode("").tag(sync=True)

    @property
    def _esm(self) -> str:
        return vega_module()

    def show(self, datasets: dict[str, dict[str, list[Any]]], key: str) -> None:
        """Replace the chart's data (one message to the browser)."""
        with self.hold_sync():
            self.key = key
            self.datasets = datasets

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of dataset ``name`` as the page hands them to Vega."""
        return rows_of(self.datasets[name])
