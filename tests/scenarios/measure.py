"""Precision and recall per cause on the independent scenario stack, clean and dirty.

``python -m tests.scenarios.measure`` (part of ``make accuracy``) prints the table.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from driftkit.load.client import ClientData, load_client
from driftkit.simulate.score import attribute_data, score
from tests.scenarios.client import build, truth, write_client
from tests.scenarios.stack import Key

VARIANTS = {"clean": False, "dirty": True}


def run_variant(keys: list[Key], *, dirty: bool) -> tuple[pd.DataFrame, ClientData]:
    """Findings and loaded data of the stack written as a client (``dirty``: junk rows)."""
    with tempfile.TemporaryDirectory(prefix="driftkit-scenarios-") as tmp:
        data = load_client(write_client(Path(tmp) / "stack", keys, dirty=dirty))
        result, _ = attribute_data(data)
    return result.findings, data


def measure(copies: int = 2) -> pd.DataFrame:
    """``variant, cause, truth, found, right, precision, recall`` (one row per cause + all)."""
    keys = build(copies=copies)
    tables = []
    for variant, dirty in VARIANTS.items():  # two runs
        findings, _ = run_variant(keys, dirty=dirty)
        tables.append(score(findings, truth(keys)).assign(variant=variant))
    table = pd.concat(tables, ignore_index=True)
    return table[["variant", "cause", "truth", "found", "right", "precision", "recall"]]


def main() -> None:
    """Print the table."""
    out = sys.stdout
    out.write(
        "Independent scenario stack (tests/scenarios, written from DESIGN §6): 14 "
        "manifestations the simulator does not produce, 2 keys each, 12 clean keys\n"
    )
    out.write(measure().to_string(index=False, float_format="{:.3f}".format) + "\n")


if __name__ == "__main__":
    main()
