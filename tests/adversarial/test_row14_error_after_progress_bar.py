"""Row 14: an error line after a progress bar starts on its own line."""

from __future__ import annotations

import sys

import pytest
from tqdm import tqdm

from driftkit import cli


def test_an_error_starts_on_a_new_line_below_an_open_bar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bar = tqdm(total=3, desc="loading acme", file=sys.stderr, disable=False)
    bar.update(1)  # a failure mid-loop leaves the bar open, its line unterminated
    cli._error(ValueError("raw/s.csv: the file is empty"))
    err = capsys.readouterr().err
    assert "\ndriftkit: error: raw/s.csv: the file is empty\n" in err
    bar.close()
