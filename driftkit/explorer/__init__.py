"""Explorer: one client's audit as ipywidgets in JupyterLab (DESIGN §11).

In: an audit (or a client folder).  Out: a widget — pick systems, a key, a window and a
cause; the chart redraws from per-key indexes built once.  ``app`` is the public surface
(``Explorer``, ``explore``); its parts, bottom up: ``data`` (inputs and the view's frames),
``payload`` (the chart's per-key columns), ``rows`` (tables copied in key order, key
lookup), ``index`` (per-key indexes, drift ranking, search), ``widgets`` (the controls), ``views``
(one key's frames after the filters), ``chart`` (the count-line chart), ``selection`` (the
current key: select, step, redraw) and ``lab`` (the JupyterLab launcher).
"""

from driftkit.explorer.app import Explorer, explore, open_explorer

__all__ = ["Explorer", "explore", "open_explorer"]
