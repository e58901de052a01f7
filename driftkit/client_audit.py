"""One client's audit into its staging run folder, as the batch runs it (DESIGN §9).

:class:`AuditOptions` says how; :func:`run_partitioned` audits bucket by bucket,
:func:`notebook_parameters` are the audit notebook's ``parameters`` for one client, and
:func:`audit_and_hand_over` audits the client in this process while the notebook's kernel boots
and hands the audit to the notebook (:mod:`driftkit.handover`).  :mod:`driftkit.batch` runs
these for every client and publishes the run folders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditOptions:
    """How a batch runs: where reports go, the window, HTML or not, parallelism.

    ``hand_over`` (set by :func:`driftkit.batch.run_batch` for clients audited one at a time,
    in process and with HTML): this process audits the client while the notebook's kernel
    boots, and the notebook picks the audit up (:func:`audit_and_hand_over`).
    """

    out: Path = Path("reports")
    start: date | None = None
    end: date | None = None
    html: bool = True
    jobs: int | None = None
    engine: str | None = None  # None: in-process; "pandas"/"dask": partitioned (docs/scale.md)
    scheduler: str | None = None
    hand_over: bool = False


def run_partitioned(client_dir: Path, run_dir: Path, options: AuditOptions) -> None:
    """The audit bucket by bucket (docs/scale.md): in a local process pool of ``--jobs``
    (pandas engine) or on Dask; ingest first when stale, then recombine."""
    from driftkit.config import load_config
    from driftkit.scale.partition import ingested, run_partitioned
    from driftkit.scale.stored import PARTS, discard_parts

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
        parts_dir=run_dir / PARTS,  # workers store their per-key tables in the run folder
    )
    audit.write(run_dir)
    discard_parts(audit.stored, run_dir)


def notebook_parameters(client_dir: Path, run_dir: Path, options: AuditOptions) -> dict[str, Any]:
    """The audit notebook's ``parameters`` cell for one client (docs/audit.md); ``handover``
    is None here (:func:`audit_and_hand_over` gives it)."""
    partitioned = options.engine is not None
    return {
        "client_dir": str(client_dir.resolve()),
        "out_dir": str(run_dir.resolve()),
        "reports_dir": str(options.out.resolve()),
        "start": options.start.isoformat() if options.start else None,
        "end": options.end.isoformat() if options.end else None,
        # the notebook audits bucket by bucket with an engine (docs/scale.md)
        "engine": options.engine,
        "jobs": options.jobs if partitioned else None,
        "scheduler": options.scheduler if options.engine == "dask" else None,
        "handover": None,
    }


def audit_arguments(run_dir: Path, options: AuditOptions) -> dict[str, Any]:
    """The keyword arguments of :func:`driftkit.audit.run_audit` for one client's in-process
    audit into the staging folder ``run_dir`` (``--no-html``, or before a hand-over)."""
    return {
        "out_dir": run_dir,
        "reports_dir": options.out,
        "start": options.start,
        "end": options.end,
    }


def audit_and_hand_over(client_dir: Path, run_dir: Path, options: AuditOptions) -> dict[str, Any]:
    """Audit the client here as ``--no-html`` does (every run file written into ``run_dir``)
    and pickle the audit into ``run_dir`` for the notebook (:func:`driftkit.handover.write_handover`).

    Run while the notebook's kernel boots (:func:`driftkit.notebook.executed_notebook`'s
    ``meanwhile``).  When the audit fails here, nothing is handed over: the notebook audits the
    client as without a hand-over and fails there with today's error line and executed notebook.

    Parameters
    ----------
    client_dir
        The client folder.
    run_dir
        The staging run folder this process made.
    options
        The batch's options (``out``, ``start``, ``end``).

    Returns
    -------
    dict
        ``{"handover": path}`` for the notebook's parameters, or ``{}`` when the audit failed.
    """
    from driftkit.audit import run_audit
    from driftkit.handover import write_handover

    try:
        audit = run_audit(client_dir, **audit_arguments(run_dir, options))
        return {"handover": str(write_handover(audit, run_dir).resolve())}
    except Exception:  # the notebook audits again and reports the error in its cell
        log.info("%s: the audit failed before the notebook", client_dir, exc_info=True)
        return {}
