"""The explorer's chart as a live Vega view: the spec is sent once, each key's data in place.

``LiveChart`` is an anywidget whose JavaScript holds one Vega view.  Python sends the compiled
Vega spec once and each key's data once (``datasets``: every system, the whole window); the
page filters it by the systems and days widgets itself and applies it as Vega changesets,
so the chart is updated, never re-rendered, and a filter change needs no kernel round trip.  The JavaScript
module is the Vega, Vega-Lite and vega-embed bundle of ``vl-convert-python`` plus a few
lines of our own: nothing is fetched from a CDN.  Bundling costs a few seconds, so the module
is cached on disk per vl-convert version (:func:`vega_module`).
Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import version
from typing import Any

import anywidget
import traitlets

from driftkit.explorer.payload import CHART_MAX_EVENTS, rows_of
from driftkit.report.cache import cache_dir, store_atomically

#: How many keys' chart data the kernel remembers having sent (``Explorer._prefetch`` sends
#: none of them again); the page keeps four times as many, so it holds every one of them.
SENT_KEPT = 64

# The page marks each finished redraw on the chart's element (data-redraws, data-key) and
# keeps its timing in window.driftkitRedraws: the browser test and benchmark read them.
_SNIPPET = """
// Python sends a key's data once, for every system and the whole window, as columns
// ({day: [...], system: [...]}).  The systems and days filters are applied here, from the
// two widgets' models in the page, so a filter change redraws without a kernel round trip.
// Times are ISO text of the same length, so they compare as strings.  Only vegaEmbed is
// usable from this bundle (a bare vega.* resolves to an empty module), so changesets come
// from the view itself.  The first data is embedded with the spec, so no scale is ever
// computed over empty data.
const MAX_EVENTS = @MAX_EVENTS@;
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
function shown(data, calendar, systems, [lo, hi]) {
  const first = calendar.day[lo], last = calendar.day[hi], next = calendar.next[hi];
  const from = calendar.minus12[lo], to = calendar.plus12[hi];
  const series = rows(data.series).filter(
    (r) => systems.has(r.system) && r.day >= first && r.day <= last);
  const counts = rows(data.counts).filter((r) => r.day >= first && r.day < next);
  const events = rows(data.events).filter(
    (r) => systems.has(r.system) && r.day >= first && r.day < next).slice(-MAX_EVENTS);
  const episodes = rows(data.episodes)
    .filter((r) => systems.has(r.system) && r.day <= calendar.minus12[hi]
      && r.day_end >= calendar.plus12[lo])
    .map((r) => ({ ...r, day: r.day < from ? from : r.day, day_end: r.day_end > to ? to : r.day_end }));
  const levels = [...series.map((r) => r.value), ...counts.map((r) => r.counted_qty)]
    .filter((v) => v !== null).map((value) => ({ value }));
  return { series, counts, events, episodes, frame: [{ day: from }, { day: to }],
           levels: levels.length ? levels : [{ value: 0 }] };
}
// The page keeps the kernel's prefetch: the keys ◀ ▶ lead to ({from, clicks, next: [{code,
// key, datasets?}], previous: [...]}); an entry has no datasets when the kernel sent that key
// before, so the page keeps every key it received (`cache`, at most CACHED, the kernel
// assumes fewer).  `sent` holds the offset of each click; the kernel has handled the first
// `clicks` of them, so the page's key is at `pending` (the sum of the others) from the
// kernel's key in the latest prefetch's line.  A click draws that key at once when the page
// holds it, even while the kernel is clicks behind; else the page waits for the next
// prefetch.  The click still reaches the kernel, which steps to the same key and sends its
// data (skipped here: that key is drawn).  Once the kernel has handled every click, its key
// is the truth and is drawn if the page shows another (e.g. a filter changed the list).
const CACHED = @CACHED@;
async function render({ model, el, host }) {
  const opening = (window.driftkitOpen = { render: Date.now() });
  el.classList.add("dk-live-chart");
  const [systemsModel, daysModel] = await Promise.all(
    [host.getModel(model.get("systems")), host.getModel(model.get("days"))]);
  let data = model.get("datasets"), code = model.get("code"), label = model.get("key");
  // the latest prefetch's line of key codes and the kernel's key in it; clicks sent, handled
  let line = null, base = 0;
  const sent = [], cache = new Map();
  let kernelClicks = 0;
  const keep = (entry) => {
    cache.delete(entry.code);
    cache.set(entry.code, entry);  // the most recent last, like the kernel's list
    if (cache.size > CACHED) cache.delete(cache.keys().next().value);
  };
  const current = () => shown(data, model.get("calendar"),
    new Set(systemsModel.get("index").map((i) => systemsModel.get("_options_labels")[i])),
    daysModel.get("index"));
  const box = document.createElement("div");
  el.appendChild(box);
  const first = current();
  const spec = model.get("spec");
  const initial = spec.data.map((d) => (d.name in first ? { ...d, values: first[d.name] } : d));
  const embedded = await vegaEmbed(box, { ...spec, data: initial }, {
    mode: "vega", renderer: "canvas", actions: false,
  });
  const view = embedded.view;
  el.vegaView = view;
  el.driftkitShown = shown;  // the filter, for the browser test
  el.driftkitModel = model;  // the kernel's side, for the browser test
  opening.drawn = Date.now();
  let redraws = 0;
  async function fill(source) {
    const started = performance.now();
    for (const [name, values] of Object.entries(current())) {
      view.change(name, view.changeset().remove(() => true).insert(values));
    }
    await view.runAsync();
    redraws += 1;
    el.dataset.redraws = String(redraws);
    el.dataset.key = label;
    el.dataset.source = source;
    (window.driftkitRedraws = window.driftkitRedraws || []).push({
      key: label, at: performance.now(), ms: performance.now() - started, source,
    });
  }
  function fromKernel() {
    const kernel = { code: model.get("code"), key: model.get("key"), datasets: model.get("datasets") };
    keep(kernel);
    if (kernel.code === code) return;  // drawn already, from the prefetch
    if (sent.length > kernelClicks) return;  // clicks in flight: the kernel is behind the page
    line = null;
    [data, code, label] = [kernel.datasets, kernel.code, kernel.key];
    fill("kernel");
  }
  function ahead() {  // draw the key the clicks sent lead to, when the page holds it
    const pending = sent.slice(kernelClicks).reduce((sum, offset) => sum + offset, 0);
    const target = line && cache.get(line[base + pending]);
    if (!target || target.code === code) return;
    [data, code, label] = [target.datasets, target.code, target.key];
    fill("prefetch");
  }
  function prefetched() {
    const next = model.get("prefetch");
    kernelClicks = next.clicks || 0;
    for (const entry of [...(next.previous || []), ...(next.next || [])]) {
      const known = entry.datasets === undefined ? cache.get(entry.code) : entry;
      if (known) keep(known);
    }
    fromKernel();  // the kernel's key, once it has handled every click
    const before = (next.previous || []).map((e) => e.code).reverse();
    line = next.from === model.get("code") ? [...before, next.from, ...(next.next || []).map((e) => e.code)] : null;
    base = before.length;
    ahead();
  }
  function clicked(offset) {
    sent.push(offset);
    ahead();
  }
  // The buttons' own models are out of reach (anywidget hands out proxies), so their clicks
  // are caught in the capture phase, before the button's view sends them to the kernel.
  const group = model.get("group");
  const onClick = (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest(`.dk-next-${group}`)) clicked(1);
    else if (target?.closest(`.dk-previous-${group}`)) clicked(-1);
  };
  document.addEventListener("click", onClick, true);
  prefetched();
  model.on("change:datasets", fromKernel);
  model.on("change:prefetch", prefetched);
  systemsModel.on("change:index", () => fill("filter"));
  daysModel.on("change:index", () => fill("filter"));
  el.dataset.redraws = "0";
  el.dataset.key = label;
  return () => {
    document.removeEventListener("click", onClick, true);
    view.finalize();
  };
}
export default { render };
""".replace("@MAX_EVENTS@", str(CHART_MAX_EVENTS)).replace("@CACHED@", str(4 * SENT_KEPT))


def vega_module() -> str:
    """The chart's JavaScript module: the vl-convert Vega bundle plus the render function.

    Built once per vl-convert version and snippet, then read from the user's cache folder
    (:func:`driftkit.report.cache.cache_dir`).
    """
    return _cached_module(
        version("vl-convert-python"), hashlib.sha256(_SNIPPET.encode()).hexdigest()[:12]
    )


@functools.lru_cache(maxsize=1)
def _cached_module(version: str, digest: str) -> str:
    root = cache_dir()
    path = root / f"explorer-vega-{version}-{digest}.js"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    import vl_convert as vlc  # only to build the bundle (the cached module needs no import)

    module = vlc.javascript_bundle(_SNIPPET)
    store_atomically(path, module)  # a concurrent reader never sees half a file
    return module


class LiveChart(anywidget.AnyWidget):
    """One Vega view in the browser; assigning ``datasets`` redraws it in place.

    Attributes
    ----------
    spec
        The compiled Vega spec (sent once, with empty datasets).
    datasets
        The key's ``series``, ``events``, ``counts`` and ``episodes`` for every system and the
        whole window, each as columns (name → JSON-ready list, all of one length); each
        assignment is one message.  The page filters them (``frame`` and ``levels`` are
        computed there) and applies one changeset per dataset.
    key, code
        A label of what is shown (``sku @ location``), echoed on the page after the redraw,
        and its grid key code (the page's identity of a key).
    prefetch
        The chart data of the keys ◀ ▶ lead to (``{"from": code, "clicks": n, "next": [...],
        "previous": [...]}``, entries ``{"code", "key", "datasets"}``), so the page draws them
        on a click without a kernel round trip; ``clicks`` counts the clicks the kernel handled.
    calendar
        The window's days as ISO text: ``day`` (midnight), ``minus12`` / ``plus12`` (half a
        day either side), ``next`` (the next midnight); the page compares times with them.
    systems, days
        The systems and days widgets: the page reads their values and redraws when they
        change, without a kernel round trip.
    group
        A token in the CSS classes of this explorer's ◀ ▶ buttons (``dk-previous-<group>``,
        ``dk-next-<group>``): the page draws the prefetched key when one is clicked (the
        click still reaches the kernel, which then shows the same key).
    """

    spec = traitlets.Dict().tag(sync=True)
    datasets = traitlets.Dict().tag(sync=True)
    key = traitlets.Unicode("").tag(sync=True)
    calendar = traitlets.Dict().tag(sync=True)
    code = traitlets.Int(-1).tag(sync=True)
    prefetch = traitlets.Dict().tag(sync=True)
    systems = anywidget.WidgetTrait().tag(sync=True)  # sent as "anywidget:<model id>"
    days = anywidget.WidgetTrait().tag(sync=True)
    group = traitlets.Unicode("").tag(sync=True)

    @property
    def _esm(self) -> str:
        return vega_module()

    def show(self, datasets: dict[str, dict[str, list[Any]]], key: str, code: int = -1) -> None:
        """Replace the chart's data (one message to the browser)."""
        with self.hold_sync():
            self.key = key
            self.code = code
            self.datasets = datasets

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of dataset ``name`` as the page hands them to Vega."""
        return rows_of(self.datasets[name])
