"""Step times of an audit: each step logs its wall and CPU time (``driftkit -v audit ...``).

The logger is ``driftkit.steps`` at INFO, so ``-v`` (or ``logging.getLogger("driftkit.steps")
.setLevel(logging.INFO)`` in a notebook) shows where an audit's time goes, one line per step
and part: ``step attribution  1.23 s  cpu 1.20 s  peak 812 MB``.  CPU time is this
process's (other jobs on the machine barely move it); peak is the process's peak resident
memory so far (Linux ``ru_maxrss``), so the step whose line first shows a rise made it.
"""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("driftkit.steps")


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Log the wall time of the ``with`` block as step ``step`` (also when it raises)."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        log.info(
            "step %-16s %8.2f s  cpu %7.2f s  peak %6.0f MB",
            step,
            time.perf_counter() - started,
            time.process_time() - cpu,
            _peak_mb(),
        )


def _peak_mb() -> float:
    """This process's peak resident memory so far, in MB (``ru_maxrss``: kB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024
