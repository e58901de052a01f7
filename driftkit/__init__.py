"""driftkit: find where and why inventory counts drift across systems, and what it costs.

The pipeline, one folder per step (DESIGN §1, docs/architecture.md)::

    load/ → drift/ → causes/ → impact/ → report/      (scale/ runs them per part)

``run_audit`` runs all of it for one client; ``run_partitioned`` the same code bucket by
bucket; ``explore`` opens the interactive explorer.  Everything not in ``__all__`` is
internal.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below, imported on first use (``__getattr__``)
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


# Where each public name lives: importing ``driftkit`` (e.g. for ``driftkit --help`` or
# ``driftkit.errors``) loads none of them, so pandas and the pipeline load only when used.
_HOMES = {
    "Audit": "driftkit.audit",
    "run_audit": "driftkit.audit",
    "Attribution": "driftkit.causes.attribute",
    "attribute": "driftkit.causes.attribute",
    "map_handoffs": "driftkit.causes.handoffs",
    "match_events": "driftkit.causes.match",
    "ClientConfig": "driftkit.config",
    "load_config": "driftkit.config",
    "count_accuracy": "driftkit.drift.accuracy",
    "rollforward": "driftkit.drift.accuracy",
    "Grid": "driftkit.drift.align",
    "align": "driftkit.drift.align",
    "Comparison": "driftkit.drift.compare",
    "compare": "driftkit.drift.compare",
    "ConfigError": "driftkit.errors",
    "DriftkitError": "driftkit.errors",
    "InputError": "driftkit.errors",
    "ReportError": "driftkit.errors",
    "Impact": "driftkit.impact.estimate",
    "estimate_impact": "driftkit.impact.estimate",
    "ClientData": "driftkit.load.client",
    "load_client": "driftkit.load.client",
    "ingest": "driftkit.load.ingest",
    "read_processed": "driftkit.load.ingest",
    "PartitionedAudit": "driftkit.scale.partition",
    "run_partitioned": "driftkit.scale.partition",
    "Faults": "driftkit.simulate.simulation",
    "Simulation": "driftkit.simulate.simulation",
    "simulate": "driftkit.simulate.simulation",
    "write_samples": "driftkit.simulate.simulation",
    "explore": "driftkit.explorer.app",  # ipywidgets and Altair's compiler
}


def __getattr__(name: str) -> object:
    """The public names are imported on first use: ``import driftkit`` itself loads nothing."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'driftkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


class _Facade(types.ModuleType):
    """``driftkit.simulate`` stays the function: importing the ``driftkit.simulate`` package
    makes Python set it as this module's attribute, which would hide the function."""

    def __setattr__(self, name: str, value: object) -> None:
        package = f"driftkit.{name}"
        hidden = _HOMES.get(name, "").startswith(package + ".")
        if hidden and isinstance(value, types.ModuleType) and value.__name__ == package:
            return  # the public name wins, as when this module imported it eagerly
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
