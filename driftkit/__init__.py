"""driftkit: find where and why inventory counts drift across systems, and what it costs.

The pipeline, one folder per step (DESIGN §1, docs/architecture.md)::

    load/ → drift/ → causes/ → impact/ → report/      (scale/ runs them per part)

``run_audit`` runs all of it for one client; ``run_partitioned`` the same code bucket by
bucket; ``explore`` opens the interactive explorer.  Everything not in ``__all__`` is
internal.
"""

from __future__ import annotations

from driftkit.audit import Audit, run_audit
from driftkit.causes.attribute import Attribution, attribute
from driftkit.causes.handoffs import map_handoffs
from driftkit.causes.match import match_events
from driftkit.config import ClientConfig, load_config
from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import Grid, align
from driftkit.drift.compare import Comparison, compare
from driftkit.errors import ConfigError, DriftkitError, InputError, ReportError
from driftkit.impact.estimate import Impact, estimate_impact
from driftkit.load.client import ClientData, load_client
from driftkit.load.ingest import ingest, read_processed
from driftkit.scale.partition import PartitionedAudit, run_partitioned
from driftkit.simulate.simulation import Faults, Simulation, simulate, write_samples

__all__ = [
    "Attribution",
    "Audit",
    "ClientConfig",
    "ClientData",
    "Comparison",
    "ConfigError",
    "DriftkitError",
    "Faults",
    "Grid",
    "Impact",
    "InputError",
    "PartitionedAudit",
    "ReportError",
    "Simulation",
    "align",
    "attribute",
    "compare",
    "count_accuracy",
    "estimate_impact",
    "explore",
    "ingest",
    "load_client",
    "load_config",
    "map_handoffs",
    "match_events",
    "read_processed",
    "rollforward",
    "run_audit",
    "run_partitioned",
    "simulate",
    "write_samples",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``driftkit.explore`` is imported lazily: it pulls in ipywidgets and Altair's compiler."""
    if name == "explore":
        from driftkit.explorer.app import explore

        return explore
    raise AttributeError(f"module 'driftkit' has no attribute {name!r}")
