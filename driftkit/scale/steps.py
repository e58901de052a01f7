"""Step times of an audit: each step logs its wall time (``driftkit -v audit ...``).

The logger is ``driftkit.steps`` at INFO, so ``-v`` (or ``logging.getLogger("driftkit.steps")
.setLevel(logging.INFO)`` in a notebook) shows where an audit's time goes, one line per step
and part: ``step attribution  1.23 s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("driftkit.steps")


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Log the wall time of the ``with`` block as step ``step`` (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        log.info("step %-16s %8.2f s", step, time.perf_counter() - started)
