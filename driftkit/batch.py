"""Batch audits: many clients, one papermill run each, atomic run folders (DESIGN §9).

A failing client never stops the batch: its error (client, step, message, the executed
notebook kept for debugging) is reported and the others complete.  Clients run here one by
one, ``--jobs`` at a time (threads with HTML, else processes) or as Dask tasks (``--scheduler``:
:func:`driftkit.scale.cluster.run_batch_on_cluster`, given :func:`audit_client`); the notebook
run and its HTML export are :mod:`driftkit.notebook`'s, what fills a client's staging folder
:mod:`driftkit.client_audit`'s.  With HTML, a client audited alone is audited in this process
while its kernel boots, and the notebook picks the audit up (:mod:`driftkit.handover`); in a
pool of clients (threads sharing this process) each kernel audits its own client.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driftkit.client_audit import (
    AuditOptions,
    audit_and_hand_over,
    audit_arguments,
    notebook_parameters,
    run_partitioned,
)
from driftkit.errors import ConfigError, DriftkitError
from driftkit.folders import check_client_id, read_summary, run_folders
from driftkit.progress import progress_bar
from driftkit.runs import publish, staging_folder


@dataclass(frozen=True)
class ClientResult:
    """The outcome of one client's audit."""

    client: str
    ok: bool
    run_dir: Path | None = None
    step: str = ""
    error: str = ""
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)
    notebook: Path | None = None

    def line(self) -> str:
        """One line for the terminal."""
        if self.ok:
            return f"{self.client}: ok in {self.seconds:.1f} s -> {self.run_dir}"
        kept = f" (executed notebook kept: {self.notebook})" if self.notebook else ""
        return f"{self.client}: FAILED at {self.step}: {self.error}{kept}"


def client_dirs(dirs: list[Path], all_dir: Path | None) -> list[Path]:
    """The client folders named on the command line, or every client folder in ``all_dir``."""
    if all_dir is not None:
        if not all_dir.is_dir():
            raise ConfigError(
                f"--all {all_dir}: not a folder; give the folder holding client folders"
            )
        dirs = [*dirs, *sorted(p.parent for p in all_dir.glob("*/client.toml"))]
    if not dirs:
        raise ConfigError("no clients given; name CLIENT_DIR folders or use --all DIR")
    for folder in dirs:
        check_client_id(folder.resolve().name, folder)
        if not (folder / "client.toml").is_file():
            raise ConfigError(f"{folder}: no client.toml there; is this a client folder?")
    return dirs


def run_batch(dirs: list[Path], options: AuditOptions) -> list[ClientResult]:
    """Audit every client (``options.jobs`` at a time), then write ``index.html``."""
    if options.scheduler and options.engine != "dask":
        dispatched = _run_on_cluster(dirs, options)
        _write_index(options.out, dispatched)
        return dispatched
    # A partitioned engine spreads each client's buckets over the processes: clients go one by one.
    # One client per core; with HTML one more, else the third sample ran alone on one of 2 cores.
    cores = (os.cpu_count() or 1) + (1 if options.html else 0)
    jobs = max(1, min(options.jobs or cores, len(dirs)))
    jobs = 1 if options.engine is not None else jobs
    results: list[ClientResult] = []
    bar = progress_bar(len(dirs), desc="audit", unit="client", show=None)
    # One client at a time, in process: with HTML this process audits while the kernel boots.
    options = replace(options, hand_over=jobs == 1 and options.engine is None)
    if jobs == 1:
        for folder in dirs:
            results.append(audit_client(folder, options))
            bar.set_postfix_str(results[-1].client)
            bar.update()
    else:
        with _pool(dirs, options, jobs) as pool:
            futures = {pool.submit(audit_client, folder, options): folder for folder in dirs}
            for future in cf.as_completed(futures):
                results.append(_outcome(future, futures[future]))
                bar.set_postfix_str(results[-1].client)
                bar.update()
    bar.close()
    results.sort(key=lambda r: r.client)
    _write_index(options.out, results)
    return results


def _pool(dirs: list[Path], options: AuditOptions, jobs: int) -> cf.Executor:
    """Threads for HTML audits (each client's audit runs in its own kernel process, so a crash
    stays that client's; papermill and nbconvert are imported once), else ``jobs`` processes:
    without HTML, or when two clients share a name (:func:`driftkit.runs.staging_folder`)."""
    names = {folder.resolve().name for folder in dirs}
    if options.html and len(names) == len(dirs):
        return cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="driftkit-client")
    return cf.ProcessPoolExecutor(max_workers=jobs)


def _run_on_cluster(dirs: list[Path], options: AuditOptions) -> list[ClientResult]:
    """One Dask task per client at ``options.scheduler``; ``out`` made absolute for the workers."""
    from driftkit.scale.cluster import run_batch_on_cluster

    shared = replace(options, out=Path(options.out).resolve())
    lost = functools.partial(_lost, step="dispatch")
    return run_batch_on_cluster(dirs, shared, audit_client, lost, scheduler=options.scheduler)


def audit_client(client_dir: Path, options: AuditOptions) -> ClientResult:
    """Audit one client into ``REPORTS_DIR/<client>/<date>/``, atomically; never raises."""
    client = client_dir.resolve().name
    started = time.perf_counter()
    run_date = datetime.now(UTC).date().isoformat()
    final = options.out / client / run_date
    staging = staging_folder(options.out / client, run_date)
    step = "prepare"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if options.html:  # the audit runs in the notebook's kernel, or here while it boots
            from driftkit.handover import HANDOVER
            from driftkit.notebook import executed_notebook, export_report

            step = "notebook"
            parameters = notebook_parameters(client_dir, staging, options)
            meanwhile = functools.partial(audit_and_hand_over, client_dir, staging, options)
            try:
                with executed_notebook(
                    staging, parameters, meanwhile=meanwhile if options.hand_over else None
                ):
                    step = "html"  # exported while the kernel shuts down
                    export_report(staging, client_dir)
            finally:  # the notebook deletes it once read; not if it never got that far
                (staging / HANDOVER).unlink(missing_ok=True)
        elif options.engine is not None:
            step = "partitioned analysis"
            run_partitioned(client_dir, staging, options)
        else:
            step = "analysis"
            run_audit(client_dir, **audit_arguments(staging, options))
        step = "publish"
        publish(staging, final)
    except Exception as exc:  # one failing client must not stop the batch
        return _failure(client, step, exc, staging, options, time.perf_counter() - started)
    summary = read_summary(final)
    return ClientResult(client, True, final, seconds=time.perf_counter() - started, summary=summary)


def run_audit(client_dir: Path, **options: Any) -> None:
    """:func:`driftkit.audit.run_audit`, imported on first use: with HTML in a pool of clients,
    this process only waits for the notebooks' kernels and never loads the pipeline."""
    from driftkit.audit import run_audit as audit

    audit(client_dir, **options)


def _outcome(future: cf.Future[ClientResult], client_dir: Path) -> ClientResult:
    """A worker's result; a worker that died (killed, out of memory) is that client's failure."""
    try:
        return future.result()
    except Exception as exc:  # the pool itself broke: report it, keep the batch going
        return _lost(client_dir, exc)


def _lost(client_dir: Path, exc: BaseException, *, step: str = "worker") -> ClientResult:
    """The failure of a client whose worker died or whose Dask task was lost (``dispatch``)."""
    error = f"{type(exc).__name__}: {exc}"
    return ClientResult(client_dir.resolve().name, False, step=step, error=error)


def _failure(
    client: str, step: str, exc: BaseException, staging: Path, options: AuditOptions, seconds: float
) -> ClientResult:
    step, message = _describe(step, exc)
    try:
        notebook = _keep_failed(options.out / client / "failed", staging, exc)
    except OSError as kept:  # an unwritable folder: that client fails, with one line
        message += f" (the failed run could not be kept: {_one_line(str(kept))})"
        notebook = None
    return ClientResult(client, False, step=step, error=message, seconds=seconds, notebook=notebook)


def _keep_failed(failed: Path, staging: Path, exc: BaseException) -> Path | None:
    """Move the staging folder to ``failed/`` with ``error.txt``; the notebook kept, if any."""
    shutil.rmtree(failed, ignore_errors=True)
    if staging.exists():
        staging.rename(failed)
    failed.mkdir(parents=True, exist_ok=True)
    (failed / "error.txt").write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    notebook = failed / "drift_audit.ipynb"
    return notebook if notebook.is_file() else None


def _describe(step: str, exc: BaseException) -> tuple[str, str]:
    """The failing step and a one-line message; a notebook error names its cell and exception."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename is not None:  # papermill's PapermillExecutionError: the kernel's exception
        cell = getattr(exc, "exec_count", None)
        return f"{step} cell {cell}" if cell else step, _one_line(f"{ename}: {evalue}")
    text = str(exc).strip()
    message = text if isinstance(exc, DriftkitError) else f"{type(exc).__name__}: {text}"
    return step, _one_line(message)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unknown error"


def _write_index(reports_dir: Path, results: list[ClientResult]) -> None:
    from driftkit.report.index import write_index

    rows = [_index_row(reports_dir, r) for r in results]
    known = {r.client for r in results}
    rows += [_latest_row(p) for p in sorted(reports_dir.glob("*/")) if p.name not in known]
    write_index(reports_dir, [r for r in rows if r])


def _index_row(reports_dir: Path, result: ClientResult) -> dict[str, Any]:
    if not result.ok:
        return {"client": result.client, "error": f"failed at {result.step}: {result.error}"}
    assert result.run_dir is not None
    return _latest_row(result.run_dir.parent) or {"client": result.client}


def _latest_row(client_folder: Path) -> dict[str, Any]:
    runs = run_folders(client_folder)
    if not runs:
        return {}
    summary = read_summary(runs[-1])
    html = runs[-1] / "drift_audit.html"
    return {
        "client": client_folder.name,
        "run_date": runs[-1].name,
        "report": f"{client_folder.name}/{runs[-1].name}/drift_audit.html"
        if html.is_file()
        else None,
        "summary": summary,
        "previous": summary.get("previous"),
    }
