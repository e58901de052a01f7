"""driftkit.notebook: the audit notebook's run, its kernel's shutdown beside the export."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import nbformat
import pytest

from driftkit import notebook


def _tiny_notebook(folder: Path, code: str) -> Path:
    """A notebook with a ``parameters`` cell (``out_dir``) and one cell running ``code``."""
    parameters = nbformat.v4.new_code_cell("out_dir = None")
    parameters.metadata["tags"] = ["parameters"]
    cells = [parameters, nbformat.v4.new_code_cell(code)]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def _stop_waiting_for(event: threading.Event, seen: list[bool], pids: list[int]) -> object:
    """A replacement for ``AuditKernelManager.stop`` that first waits (at most 60 s) for the
    ``with`` body to set ``event``, records whether it did, then stops the kernel."""
    original = notebook.AuditKernelManager.stop

    async def stop(self: notebook.AuditKernelManager) -> None:
        pids.append(self.provisioner.process.pid)  # type: ignore[union-attr]
        seen.append(await asyncio.to_thread(event.wait, 60))
        await original(self)

    return stop


def test_the_body_runs_while_the_kernel_shuts_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export (the body) runs on the written notebook before the kernel's stop finishes,
    and leaving the body waits for the stop: the kernel process is gone afterwards."""
    tiny = _tiny_notebook(tmp_path, "print('audited')")
    monkeypatch.setattr(notebook, "NOTEBOOK", tiny)
    body_ran, seen, pids = threading.Event(), [], []
    monkeypatch.setattr(
        notebook.AuditKernelManager, "stop", _stop_waiting_for(body_ran, seen, pids)
    )
    with notebook.executed_notebook(tmp_path, {"out_dir": str(tmp_path)}) as executed:
        assert executed == tmp_path / "drift_audit.ipynb"
        assert "audited" in executed.read_text(encoding="utf-8")
        assert not seen  # the stop is still waiting for this body
        body_ran.set()
    assert seen == [True]
    assert not Path(f"/proc/{pids[0]}").exists() or _is_zombie(pids[0])


def test_a_failing_cell_skips_the_body_and_stops_the_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """papermill's error leaves the ``with`` statement (the body never runs); the kernel is
    stopped before it does."""
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setattr(notebook, "NOTEBOOK", _tiny_notebook(tmp_path, "raise ValueError('x')"))
    never, seen, pids = threading.Event(), [], []
    monkeypatch.setattr(notebook.AuditKernelManager, "stop", _stop_waiting_for(never, seen, pids))
    never.set()  # nothing to wait for: the stop must not depend on a body
    ran = []
    with (
        pytest.raises(PapermillExecutionError, match="ValueError"),
        notebook.executed_notebook(tmp_path, {"out_dir": None}),
    ):
        ran.append(True)
    assert ran == [] and seen == [True]
    assert "ValueError" in (tmp_path / "drift_audit.ipynb").read_text(encoding="utf-8")
    assert not Path(f"/proc/{pids[0]}").exists() or _is_zombie(pids[0])


def _is_zombie(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text().lower()


def test_the_engine_writes_the_notebook_at_its_start_and_end_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """papermill's own engine writes the notebook at every cell's start and end (the kernel
    waits meanwhile); the audit's engine writes it twice, the second time complete."""
    import papermill.engines

    code = "print(6 * 7)"
    monkeypatch.setattr(notebook, "NOTEBOOK", _tiny_notebook(tmp_path, code))
    written: list[str] = []
    original = papermill.engines.write_ipynb

    def write(nb: nbformat.NotebookNode, path: str) -> None:
        written.append(nbformat.writes(nb))
        original(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", write)
    notebook.execute_notebook(tmp_path, {"out_dir": None})
    assert len(written) == 2
    shown = '"42\\n"'  # the output, as nbformat writes it
    assert shown not in written[0] and shown in written[1]
    assert written[1] in (tmp_path / "drift_audit.ipynb").read_text(encoding="utf-8")


def test_the_export_is_prepared_once_the_kernel_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export's warm-up (~1.5 s of CPU) waits for the notebook's first cell: during the
    kernel's start it took a core from it."""
    import papermill.engines

    import driftkit.report.export

    monkeypatch.setattr(notebook, "NOTEBOOK", _tiny_notebook(tmp_path, "print(1)"))
    order: list[str] = []
    original = papermill.engines.NotebookExecutionManager.cell_start

    def cell_start(self: object, *args: object, **kwargs: object) -> None:
        order.append("cell")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(papermill.engines.NotebookExecutionManager, "cell_start", cell_start)
    monkeypatch.setattr(driftkit.report.export, "warm_up_export", lambda: order.append("warm"))
    notebook.execute_notebook(tmp_path, {"out_dir": None})
    assert order[0] == "cell" and order.count("warm") == 1


def test_meanwhile_runs_while_the_kernel_boots_and_adds_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's in-process audit runs after the kernel's start and before papermill."""
    monkeypatch.setattr(notebook, "NOTEBOOK", _tiny_notebook(tmp_path, "print('got', out_dir)"))
    order: list[str] = []
    start = notebook.AuditKernelManager.start_kernel

    async def start_kernel(self: notebook.AuditKernelManager, **kw: object) -> None:
        await start(self, **kw)
        order.append("kernel started")

    def meanwhile() -> dict[str, str]:
        assert not (tmp_path / "drift_audit.ipynb").exists()  # papermill has not started
        order.append("meanwhile")
        return {"out_dir": "handed over"}

    monkeypatch.setattr(notebook.AuditKernelManager, "start_kernel", start_kernel)
    with notebook.executed_notebook(tmp_path, {"out_dir": None}, meanwhile=meanwhile) as done:
        assert "got handed over" in done.read_text(encoding="utf-8")
    assert order == ["kernel started", "meanwhile"]


def test_a_failing_meanwhile_stops_the_kernel_and_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notebook, "NOTEBOOK", _tiny_notebook(tmp_path, "print(1)"))
    never, seen, pids = threading.Event(), [], []
    monkeypatch.setattr(notebook.AuditKernelManager, "stop", _stop_waiting_for(never, seen, pids))
    never.set()

    def meanwhile() -> dict[str, str]:
        raise KeyboardInterrupt

    with (
        pytest.raises(KeyboardInterrupt),
        notebook.executed_notebook(tmp_path, {"out_dir": None}, meanwhile=meanwhile),
    ):
        pass
    assert seen == [True] and not (tmp_path / "drift_audit.ipynb").exists()
    assert not Path(f"/proc/{pids[0]}").exists() or _is_zombie(pids[0])
