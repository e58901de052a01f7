"""Explorer: one client's audit as ipywidgets in JupyterLab (DESIGN §11).

In: an audit (or a client folder).  Out: a widget — pick systems, a key, a window and a
cause; the chart redraws from per-key indexes built once.  ``app`` is the public surface.
"""

from driftkit.explorer.app import Explorer, explore

__all__ = ["Explorer", "explore"]
