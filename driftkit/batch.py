"""Batch audits: many clients, one papermill run each, atomic run folders (DESIGN §9).

A failing client never stops the batch: its error (client, step, message, the executed
notebook kept for debugging) is reported and the others complete.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from tqdm.auto import tqdm

from driftkit.audit import run_audit, run_folders
from driftkit.config import check_client_id
from driftkit.errors import ConfigError, DriftkitError
from driftkit.schema import Cause

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "drift_audit.ipynb"


@dataclass(frozen=True)
class AuditOptions:
    """How a batch runs: where reports go, the window, HTML or not, parallelism."""

    out: Path = Path("reports")
    start: date | None = None
    end: date | None = None
    html: bool = True
    jobs: int | None = None
    engine: str | None = None  # None: in-process; "pandas"/"dask": partitioned (docs/scale.md)
    scheduler: str | None = None


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
        from driftkit.scale.cluster import run_batch_on_cluster

        dispatched = run_batch_on_cluster(dirs, options, scheduler=options.scheduler)
        _write_index(options.out, dispatched)
        return dispatched
    # A partitioned engine spreads each client's buckets over the processes: clients go one by one.
    jobs = (
        1
        if options.engine is not None
        else max(1, min(options.jobs or os.cpu_count() or 1, len(dirs)))
    )
    results: list[ClientResult] = []
    bar = tqdm(total=len(dirs), desc="audit", unit="client", disable=None)
    if jobs == 1:
        for folder in dirs:
            results.append(audit_client(folder, options))
            bar.set_postfix_str(results[-1].client)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(audit_client, folder, options): folder for folder in dirs}
            for future in as_completed(futures):
                results.append(_outcome(future, futures[future]))
                bar.set_postfix_str(results[-1].client)
                bar.update()
    bar.close()
    results.sort(key=lambda r: r.client)
    _write_index(options.out, results)
    return results


def audit_client(client_dir: Path, options: AuditOptions) -> ClientResult:
    """Audit one client into ``REPORTS_DIR/<client>/<date>/``, atomically; never raises."""
    client = client_dir.resolve().name
    started = time.perf_counter()
    run_date = datetime.now(UTC).date().isoformat()
    final = options.out / client / run_date
    staging = options.out / client / f".{run_date}.partial-{os.getpid()}"
    step = "prepare"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if options.html:
            step = "notebook"
            _execute_notebook(client_dir, staging, options)
            step = "html"
            _export_html(staging, client_dir)
        elif options.engine is not None:
            step = "partitioned analysis"
            _run_partitioned(client_dir, staging, options)
        else:
            step = "analysis"
            run_audit(
                client_dir,
                out_dir=staging,
                reports_dir=options.out,
                start=options.start,
                end=options.end,
            )
        step = "publish"
        publish(staging, final)
    except Exception as exc:  # one failing client must not stop the batch
        return _failure(client, step, exc, staging, options, time.perf_counter() - started)
    summary = _read_summary(final)
    return ClientResult(client, True, final, seconds=time.perf_counter() - started, summary=summary)


def _run_partitioned(client_dir: Path, run_dir: Path, options: AuditOptions) -> None:
    """The audit bucket by bucket (docs/scale.md): in a local process pool of ``--jobs``
    (pandas engine) or on Dask; ingest first when stale, then recombine."""
    from driftkit.config import load_config
    from driftkit.scale.partition import ingested, run_partitioned

    config = load_config(client_dir)
    audit = run_partitioned(
        config,
        ingested(config),
        engine=options.engine or "pandas",
        jobs=options.jobs,
        scheduler=options.scheduler if options.engine == "dask" else None,
        start=options.start,
        end=options.end,
        reports_dir=options.out,
    )
    audit.write(run_dir)


def publish(staging: Path, final: Path) -> None:
    """Move a finished run folder into place; a reader never sees a half-written run.

    A run of the same day is replaced: it is renamed aside first and put back if the new
    folder cannot be moved in.
    """
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    try:
        staging.rename(final)
    except OSError:
        if old.exists() and not final.exists():
            old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _outcome(future: Future[ClientResult], client_dir: Path) -> ClientResult:
    """A worker's result; a worker that died (killed, out of memory) is that client's failure."""
    try:
        return future.result()
    except Exception as exc:  # the pool itself broke: report it, keep the batch going
        client = client_dir.resolve().name
        return ClientResult(client, False, step="worker", error=f"{type(exc).__name__}: {exc}")


def _failure(
    client: str, step: str, exc: BaseException, staging: Path, options: AuditOptions, seconds: float
) -> ClientResult:
    failed = options.out / client / "failed"
    shutil.rmtree(failed, ignore_errors=True)
    notebook = None
    if staging.exists():
        staging.rename(failed)
        if (failed / "drift_audit.ipynb").is_file():
            notebook = failed / "drift_audit.ipynb"
    failed.mkdir(parents=True, exist_ok=True)
    (failed / "error.txt").write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    step, message = _describe(step, exc)
    return ClientResult(client, False, step=step, error=message, seconds=seconds, notebook=notebook)


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


def _execute_notebook(client_dir: Path, run_dir: Path, options: AuditOptions) -> None:
    import papermill as pm

    partitioned = options.engine is not None
    parameters = {
        "client_dir": str(client_dir.resolve()),
        "out_dir": str(run_dir.resolve()),
        "reports_dir": str(options.out.resolve()),
        "start": options.start.isoformat() if options.start else None,
        "end": options.end.isoformat() if options.end else None,
        # the notebook audits bucket by bucket with an engine (docs/scale.md)
        "engine": options.engine,
        "jobs": options.jobs if partitioned else None,
        "scheduler": options.scheduler if options.engine == "dask" else None,
    }
    # A fresh thread has no asyncio loop: papermill (nbclient) starts its own there.  In the
    # calling thread, e.g. a Dask worker's executor thread, an event loop may already run and
    # nbclient fails with "This event loop is already running".
    with ThreadPoolExecutor(max_workers=1) as fresh:
        fresh.submit(
            pm.execute_notebook,
            str(NOTEBOOK),
            str(run_dir / "drift_audit.ipynb"),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(Path.cwd()),
            kernel_manager_class=IPCKernelManager,
        ).result()


def _export_html(run_dir: Path, client_dir: Path) -> None:
    from driftkit.report.html import export_html

    summary = _read_summary(run_dir)
    export_html(
        run_dir / "drift_audit.ipynb",
        run_dir / "drift_audit.html",
        title="Inventory drift audit",
        client=str(summary.get("client_name") or client_dir.name),
        window=f"{summary.get('window_start')} to {summary.get('window_end')}",
        generated_at=str(summary.get("run_at")),
    )


def _read_summary(run_dir: Path) -> dict[str, Any]:
    import json

    path = run_dir / "summary.json"
    if not path.is_file():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _write_index(reports_dir: Path, results: list[ClientResult]) -> None:
    from driftkit.report.html import write_index

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
    summary = _read_summary(runs[-1])
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


# --- check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """Limits for ``driftkit check``; None = not checked."""

    min_agreement_rate: float | None = None
    max_value_at_risk: float | None = None
    max_phantom_stockouts: float | None = None
    max_findings: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Thresholds:
        """Thresholds from the ``check`` command's options."""
        rate = args.min_agreement_rate
        if args.max_drift_rate is not None:
            rate = max(rate or 0.0, 1.0 - args.max_drift_rate)
        findings = dict(_cause_limit(item) for item in args.max_findings)
        return cls(rate, args.max_value_at_risk, args.max_phantom_stockouts, findings)


def _cause_limit(item: str) -> tuple[str, int]:
    """``CAUSE=N`` of ``--max-findings``, the cause checked against the closed vocabulary."""
    cause, _, limit = item.partition("=")
    allowed = ", ".join(Cause)
    if not limit.isdigit():
        raise ConfigError(f"--max-findings {item!r}: expected CAUSE=N, e.g. duplicate_event=0")
    if cause not in set(Cause):
        raise ConfigError(
            f"--max-findings {item!r}: unknown cause {cause!r}; allowed causes: {allowed}"
        )
    return cause, int(limit)


def check_client(
    client_dir: Path, thresholds: Thresholds, *, start: date | None = None, end: date | None = None
) -> list[str]:
    """Audit ``client_dir`` without writing anything; the reasons of every crossed threshold."""
    summary = run_audit(client_dir, start=start, end=end).summary
    return crossed(summary, thresholds)


def crossed(summary: dict[str, Any], t: Thresholds) -> list[str]:
    """One line per threshold ``summary`` crosses (empty when all are met)."""
    client = summary.get("client", "?")
    reasons = []
    rate = summary.get("agreement_rate")
    if t.min_agreement_rate is not None and rate is not None and rate < t.min_agreement_rate:
        reasons.append(f"{client}: agreement rate {rate:.4f} is below {t.min_agreement_rate:.4f}")
    var = summary.get("value_at_risk_last_day")
    if t.max_value_at_risk is not None and var is not None and var > t.max_value_at_risk:
        reasons.append(f"{client}: value at risk {var:,.2f} exceeds {t.max_value_at_risk:,.2f}")
    phantom = summary.get("phantom_stockout_sku_days")
    if (
        t.max_phantom_stockouts is not None
        and phantom is not None
        and phantom > t.max_phantom_stockouts
    ):
        reasons.append(
            f"{client}: {phantom} phantom stockout SKU-days exceed {t.max_phantom_stockouts:g}"
        )
    by_cause = summary.get("findings_by_cause") or {}
    for cause, limit in t.max_findings.items():
        if by_cause.get(cause, 0) > limit:
            reasons.append(f"{client}: {by_cause[cause]} {cause} findings exceed {limit}")
    return reasons
