"""The audit notebook under papermill: a private kernel per run, then the offline HTML.

:func:`executed_notebook` runs ``notebooks/drift_audit.ipynb`` with the values of its
``parameters`` cell (``client_dir, out_dir, reports_dir, start, end, engine, jobs,
scheduler, handover``; docs/audit.md) on an IPC-transport kernel (:class:`IPCKernelManager`), so
parallel runs never collide on TCP ports.  The kernel is started before this process imports
papermill, and it imports the notebook's modules while it boots (``python -m driftkit.kernel``,
:data:`~driftkit.kernel.KERNEL_MODULES`), so its start and imports overlap this process's own.
:func:`export_report` turns the executed notebook into the run folder's self-contained
``drift_audit.html``, its header taken from the run's ``summary.json`` (:func:`read_summary`),
while the kernel shuts down;
its modules and the Vega bundle are loaded in a thread while the kernel runs, when this process
only waits.  The batch runner (:mod:`driftkit.batch`) calls them for every client with HTML;
for a client audited alone it audits the client itself while the kernel boots and hands the
audit over to the notebook (``meanwhile``, :mod:`driftkit.handover`).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from driftkit.folders import read_summary
from driftkit.kernel import KERNEL_MODULES  # noqa: F401  # re-exported: the first cell's imports

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "drift_audit.ipynb"

#: The papermill engine that runs the audit notebook (:func:`_register_engine`).
ENGINE = "driftkit"

#: The module that launches the audit notebook's kernel (``python -m driftkit.kernel``).
LAUNCHER = "driftkit.kernel"


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


class AuditKernelManager(IPCKernelManager):
    """The audit notebook's kernel: launched by ``python -m driftkit.kernel``, which imports
    :data:`~driftkit.kernel.KERNEL_MODULES` while the kernel boots, and started before papermill
    connects to it.

    papermill leaves a kernel it did not start running: :meth:`stop` shuts it down and closes
    the clients papermill made.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clients: list[Any] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernel spec's command with ``ipykernel_launcher`` replaced by this module; a
        kernel spec that does not use it is left as it is (then nothing is imported early)."""
        command = super().format_kernel_cmd(extra_arguments)
        return [LAUNCHER if part == "ipykernel_launcher" else part for part in command]

    def client(self, **kwargs: Any) -> Any:
        """A client of the kernel, remembered so that :meth:`stop` closes its channels."""
        made = super().client(**kwargs)
        self._clients.append(made)
        return made

    async def stop(self) -> None:
        """Shut the kernel down (if it still runs) and close every client's channels."""
        try:
            if await self.is_alive():
                await self.shutdown_kernel()
        finally:
            await self.cleanup_resources()
            for made in self._clients:
                made.stop_channels()


@contextlib.contextmanager
def executed_notebook(
    run_dir: Path,
    parameters: Mapping[str, Any],
    *,
    meanwhile: Callable[[], Mapping[str, Any]] | None = None,
) -> Iterator[Path]:
    """Run the audit notebook into ``run_dir/drift_audit.ipynb``; the body runs while the
    kernel shuts down.

    The kernel starts first; papermill is imported while it boots, and the export is prepared
    once it answers (while the audit cell runs), so the kernel's start has a core to itself.
    Once the executed notebook is written, the kernel's shutdown (about 0.3-1 s: the kernel
    process tears down pandas, Altair and vl-convert) goes on in a thread while the ``with``
    body exports the HTML; leaving the body waits for it.

    ``meanwhile`` runs in the calling thread while the kernel boots (papermill is imported
    beside it), before papermill connects; the parameters it returns are added to
    ``parameters``: the batch audits the client here and hands the audit over
    (:mod:`driftkit.handover`).

    Parameters
    ----------
    run_dir
        The (staging) run folder; the executed notebook is written there, also when a cell
        fails (papermill then raises ``PapermillExecutionError`` naming the cell, and the body
        does not run).
    parameters
        Values for the notebook's ``parameters`` cell.
    meanwhile
        Work for this thread during the kernel's start, returning more parameters; when it
        raises, the kernel is stopped and the error raised here.

    Yields
    ------
    Path
        The executed notebook, ``run_dir/drift_audit.ipynb``.
    """
    # Fresh threads have no asyncio loop: the kernel's start, papermill (nbclient) and the
    # kernel's shutdown run in one of them, on its loop.  In the calling thread, e.g. a Dask
    # worker's executor thread, an event loop may already run and nbclient fails with "This
    # event loop is already running".  The other thread prepares the export meanwhile.
    manager = AuditKernelManager(kernel_name="python3")
    answered = threading.Event()  # set at the notebook's first cell, or when papermill ends
    with ThreadPoolExecutor(1) as kernel, ThreadPoolExecutor(1) as helper:
        kernel.submit(run_sync(manager.start_kernel), cwd=str(Path.cwd())).result()
        helper.submit(_prepare_export, answered)
        try:
            if meanwhile is not None:
                kernel.submit(_import_papermill)
                parameters = {**parameters, **meanwhile()}
            kernel.submit(_run_papermill, manager, run_dir, parameters, answered).result()
        except BaseException:
            kernel.submit(run_sync(manager.stop)).result()
            raise
        finally:
            answered.set()
        stopping = kernel.submit(run_sync(manager.stop))
        try:
            yield run_dir / "drift_audit.ipynb"
        finally:
            stopping.result()


def execute_notebook(run_dir: Path, parameters: Mapping[str, Any]) -> None:
    """Run the audit notebook into ``run_dir/drift_audit.ipynb`` and stop its kernel
    (:func:`executed_notebook` with nothing to do while the kernel shuts down)."""
    with executed_notebook(run_dir, parameters):
        pass


def _run_papermill(
    manager: AuditKernelManager,
    run_dir: Path,
    parameters: Mapping[str, Any],
    answered: threading.Event,
) -> None:
    """papermill on the started kernel ``manager``: the notebook into ``run_dir``; ``answered``
    is set when the kernel has answered and the first cell starts."""
    pm = _import_papermill()
    pm.execute_notebook(
        str(NOTEBOOK),
        str(run_dir / "drift_audit.ipynb"),
        parameters=dict(parameters),
        engine_name=_register_engine(),
        kernel_name="python3",
        progress_bar=False,
        km=manager,
        on_first_cell=answered.set,
    )


def _import_papermill() -> Any:
    """papermill, imported after :func:`~driftkit.report.startup.skip_iri_grammar`."""
    from driftkit.report.startup import skip_iri_grammar

    skip_iri_grammar()  # before papermill imports nbformat (bench/README.md, "HTML audit")
    import papermill

    return papermill


@functools.cache
def _register_engine() -> str:
    """Register :data:`ENGINE` with papermill (imported here) and return its name.

    papermill's own engine serializes, validates and writes the notebook at every cell's start
    and end, 48 times for the audit notebook, each while the kernel waits for the next cell
    (bench/README.md, "HTML audit, fourth pass").  This one writes it when the run starts, every
    ``autosave_cell_every`` seconds of a long cell, and when the run ends, failed or not.  Its
    ``on_first_cell`` is called when the kernel has answered and the first cell starts.
    """
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class Bookkeeping(NotebookExecutionManager):
        writes = 0  # > 0 inside the calls whose writes are kept
        on_first_cell: Any = None

        def cell_start(self, cell: Any, cell_index: Any = None, **kwargs: Any) -> None:
            if self.on_first_cell is not None:
                self.on_first_cell()
                self.on_first_cell = None
            super().cell_start(cell, cell_index, **kwargs)

        def save(self, **kwargs: Any) -> None:
            if self.writes:
                super().save(**kwargs)

        def notebook_start(self, **kwargs: Any) -> None:
            with self._writing():
                super().notebook_start(**kwargs)

        def autosave_cell(self) -> None:
            with self._writing():
                super().autosave_cell()

        def notebook_complete(self, **kwargs: Any) -> None:
            with self._writing():
                super().notebook_complete(**kwargs)

        @contextlib.contextmanager
        def _writing(self) -> Iterator[None]:
            self.writes += 1
            try:
                yield
            finally:
                self.writes -= 1

    class Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, **kwargs: Any) -> Any:
            """papermill's ``Engine.execute_notebook`` with :class:`Bookkeeping`."""
            keys = ("output_path", "progress_bar", "log_output", "autosave_cell_every")
            manager = Bookkeeping(nb, **{k: kwargs.pop(k) for k in keys if k in kwargs})
            manager.on_first_cell = kwargs.pop("on_first_cell", None)
            manager.notebook_start()
            try:
                cls.execute_managed_notebook(
                    manager, kernel_name, log_output=manager.log_output, **kwargs
                )
            finally:
                manager.cleanup_pbar()
                manager.notebook_complete()
            return manager.nb

    papermill_engines.register(ENGINE, Engine)
    return ENGINE


def _prepare_export(answered: threading.Event) -> None:
    """Once ``answered`` is set, import the export's modules, load the Vega bundle and export a
    tiny notebook (:func:`driftkit.report.export.warm_up_export`), so that :func:`export_report`
    finds everything imported and compiled.

    Run beside the kernel's audit cell (~1.5 s of CPU: during the kernel's start it took a core
    from it); an error here is raised again, with its message, by the export.
    """
    answered.wait()
    from driftkit.report.export import warm_up_export

    warm_up_export()


def export_report(run_dir: Path, client_dir: Path) -> None:
    """Write ``run_dir/drift_audit.html`` from the executed notebook in ``run_dir``."""
    from driftkit.report.export import export_html  # not report.html: no pandas here

    summary = read_summary(run_dir)
    export_html(
        run_dir / "drift_audit.ipynb",
        run_dir / "drift_audit.html",
        title="Inventory drift audit",
        client=str(summary.get("client_name") or client_dir.name),
        window=f"{summary.get('window_start')} to {summary.get('window_end')}",
        generated_at=str(summary.get("run_at")),
    )
