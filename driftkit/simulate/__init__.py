"""Simulate: clients with known faults, in real export formats, with ground truth (DESIGN §8).

In: a seed, a size and fault rates.  Out: a client folder (``client.toml``, raw exports,
``ground_truth.csv``) or, for large clients, canonical Parquet in the ingest layout
(``chunks``).  ``simulation`` is the public surface and ``prepare`` checks its options;
``faults`` sets the fault rates, ``plan`` fixes the world, ``world`` moves stock day by day,
``records`` and ``core`` give each system's view, ``formats`` and ``write`` spell it out;
``score`` measures attribution against the ground truth.
"""

from driftkit.simulate.simulation import (
    Faults,
    Simulation,
    simulate,
    simulate_ingested,
    write_samples,
)

__all__ = ["Faults", "Simulation", "simulate", "simulate_ingested", "write_samples"]
