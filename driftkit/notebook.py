"""The audit notebook under papermill: a private kernel per run, then the offline HTML.

:func:`execute_notebook` runs ``notebooks/drift_audit.ipynb`` with the values of its
``parameters`` cell (``client_dir, out_dir, reports_dir, start, end, engine, jobs,
scheduler``; docs/audit.md) on an IPC-transport kernel (:class:`IPCKernelManager`), so
parallel runs never collide on TCP ports.  :func:`export_report` turns the executed notebook
into the run folder's self-contained ``drift_audit.html``, its header taken from the run's
``summary.json`` (:func:`read_summary`); its modules and the Vega bundle are loaded in a thread
while the kernel runs, when this process only waits.  The batch runner (:mod:`driftkit.batch`) calls
them for every client with HTML.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from driftkit.folders import read_summary

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "drift_audit.ipynb"


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager on IPC sockets in a private folder: no TCP port collisions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = str(Path(tempfile.mkdtemp(prefix="driftkit-kernel-")) / "kernel")

    async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]  # async here
        """Start the kernel with its stderr discarded: the kernel's own log lines (e.g. an
        interrupt during shutdown) must not mix into the one-line-per-problem CLI output;
        errors in cells reach the executed notebook and the batch's error line."""
        kw.setdefault("stderr", subprocess.DEVNULL)
        await super().start_kernel(**kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:  # the private socket folder goes with the kernel
            shutil.rmtree(Path(self.ip).parent, ignore_errors=True)


def execute_notebook(run_dir: Path, parameters: Mapping[str, Any]) -> None:
    """Run the audit notebook into ``run_dir/drift_audit.ipynb`` with ``parameters``.

    Parameters
    ----------
    run_dir
        The (staging) run folder; the executed notebook is written there, also when a cell
        fails (papermill then raises ``PapermillExecutionError`` naming the cell).
    parameters
        Values for the notebook's ``parameters`` cell.
    """
    from driftkit.report.startup import skip_iri_grammar

    skip_iri_grammar()  # before papermill imports nbformat (bench/README.md, "HTML audit")
    import papermill as pm

    # A fresh thread has no asyncio loop: papermill (nbclient) starts its own there.  In the
    # calling thread, e.g. a Dask worker's executor thread, an event loop may already run and
    # nbclient fails with "This event loop is already running".  A second thread prepares the
    # export meanwhile: this process only waits while the kernel audits.
    with ThreadPoolExecutor(max_workers=2) as fresh:
        fresh.submit(_prepare_export)
        fresh.submit(
            pm.execute_notebook,
            str(NOTEBOOK),
            str(run_dir / "drift_audit.ipynb"),
            parameters=dict(parameters),
            kernel_name="python3",
            progress_bar=False,
            cwd=str(Path.cwd()),
            kernel_manager_class=IPCKernelManager,
        ).result()


def _prepare_export() -> None:
    """Import the export's modules and load the Vega bundle (:func:`export_report` needs both).

    Run beside the kernel; an error here is raised again, with its message, by the export.
    """
    from driftkit.report.html import vega_bundle

    vega_bundle()


def export_report(run_dir: Path, client_dir: Path) -> None:
    """Write ``run_dir/drift_audit.html`` from the executed notebook in ``run_dir``."""
    from driftkit.report.html import export_html

    summary = read_summary(run_dir)
    export_html(
        run_dir / "drift_audit.ipynb",
        run_dir / "drift_audit.html",
        title="Inventory drift audit",
        client=str(summary.get("client_name") or client_dir.name),
        window=f"{summary.get('window_start')} to {summary.get('window_end')}",
        generated_at=str(summary.get("run_at")),
    )
