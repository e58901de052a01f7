"""Progress bars: tqdm only where a bar is seen (driftkit/progress.py)."""

from __future__ import annotations

import io
import sys

import pytest

from driftkit.progress import SilentBar, close_bars, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_in_a_pipe_or_when_not_asked(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # not in a kernel
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress_bar(3, desc="audit", unit="client", show=None), SilentBar)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert isinstance(progress_bar(3, desc="audit", unit="client", show=False), SilentBar)


@pytest.mark.parametrize("show", [None, True], ids=["terminal", "asked"])
def test_a_terminal_or_a_request_gets_a_tqdm_bar(monkeypatch, show: bool | None) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    bar = progress_bar(3, desc="audit", unit="client", show=show)
    bar.update()
    assert type(bar).__module__.startswith("tqdm")
    assert not bar.disable
    bar.close()
    assert "audit" in sys.stderr.getvalue()


def test_close_bars_closes_an_open_bar(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    bar = progress_bar(2, desc="loading", unit="file", show=True)
    close_bars()
    assert bar.disable  # tqdm marks a closed bar disabled


def test_the_silent_bar_takes_every_call() -> None:
    bar = SilentBar()
    bar.update(2)
    bar.set_postfix_str("acme")
    bar.close()
