"""driftkit: find where and why inventory counts drift across systems, and what it costs."""

from __future__ import annotations

from driftkit.config import ClientConfig, load_config
from driftkit.errors import ConfigError, DriftkitError, InputError, ReportError

__all__ = [
    "ClientConfig",
    "ConfigError",
    "DriftkitError",
    "InputError",
    "ReportError",
    "load_config",
]
__version__ = "0.1.0"
