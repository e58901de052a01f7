"""The audit notebook's kernel process: ``python -m driftkit.kernel`` starts an IPython kernel
that imports the notebook's modules and starts vl-convert's JavaScript runtime after its set-up
and before it answers.

:class:`driftkit.notebook.AuditKernelManager` launches it in place of ``ipykernel_launcher``.
What runs in the kernel process, apart from :mod:`driftkit.notebook`'s side (the parent's kernel
manager and papermill engine).  The kernel starts without debugpy (~0.1 s of its start: an
audit's kernel has no debugger).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from pathlib import Path

#: What the audit notebook's first cell imports: its kernel imports them while it boots.
KERNEL_MODULES = (
    "IPython.display",
    "driftkit.audit",
    "driftkit.report.charts",
    "driftkit.report.fallbacks",
    "driftkit.report.story",
)


def launch_kernel() -> None:
    """Start an IPython kernel as ``ipykernel_launcher`` does, with :data:`KERNEL_MODULES`
    imported after its set-up and before it answers (:func:`import_kernel_modules`)."""
    if sys.path and Path(sys.path[0] or ".").resolve() == Path.cwd().resolve():
        del sys.path[0]  # as ipykernel_launcher; the kernel's set-up puts '' in its place
    sys.modules.setdefault("debugpy", None)  # type: ignore[arg-type]  # no debugger: ~0.1 s
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize()
    import_kernel_modules()
    app.start()


def import_kernel_modules() -> None:
    """Import :data:`KERNEL_MODULES`, Altair first without its widget class
    (:func:`driftkit.report.startup.import_altair_without_widgets`), then start vl-convert's
    JavaScript runtime (:func:`driftkit.report.fallbacks.start_runtime`: it holds the GIL for
    ~1 s, which the notebook's first cell waited for); one that fails is left to the notebook's
    cells, which report the error in the executed notebook."""
    with contextlib.suppress(Exception):  # the notebook's cell raises it again
        from driftkit.report.startup import import_altair_without_widgets

        import_altair_without_widgets()
    for module in KERNEL_MODULES:
        with contextlib.suppress(Exception):  # the notebook's cell raises it again
            importlib.import_module(module)
    with contextlib.suppress(Exception):  # the first chart's SVG raises it again
        from driftkit.report.fallbacks import start_runtime

        start_runtime()


if __name__ == "__main__":
    launch_kernel()
