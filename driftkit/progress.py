"""Progress bars: tqdm's where one is shown, a silent stand-in where none would be.

Importing ``tqdm.auto`` costs ~0.08 s (``tqdm`` itself ~0.04 s, plus ``asyncio``), a few
percent of a sample client's no-HTML audit, which shows no bar when its output is not a
terminal; in a notebook kernel it imports ipywidgets (~0.5 s).  :func:`progress_bar` imports
tqdm only when a bar is asked for and would be seen.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Bar(Protocol):
    """What the runners call on a progress bar."""

    def update(self, n: int = 1) -> Any: ...

    def set_postfix_str(self, s: str = "") -> Any: ...

    def close(self) -> Any: ...


class SilentBar:
    """A bar that shows nothing: tqdm's ``disable=True`` without importing tqdm."""

    def update(self, n: int = 1) -> None:
        """Count nothing."""

    def set_postfix_str(self, s: str = "") -> None:
        """Show nothing."""

    def close(self) -> None:
        """Close nothing."""


def progress_bar(total: int, *, desc: str, unit: str, show: bool | None) -> Bar:
    """A ``tqdm.auto`` bar over ``total`` items, or a :class:`SilentBar` where none is seen.

    ``show=None`` is tqdm's ``disable=None``: a bar in a terminal or a notebook kernel, none
    when the output is a file or a pipe.  ``show=False`` never shows one, ``True`` always.
    """
    if show is False or (show is None and not _seen()):
        return SilentBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None if show is None else False)


def _seen() -> bool:
    """Whether tqdm would show a ``disable=None`` bar: stderr is a terminal, or in a kernel
    (``tqdm.auto`` draws a widget there, whatever stderr is)."""
    return "ipykernel" in sys.modules or bool(getattr(sys.stderr, "isatty", lambda: False)())


def close_bars() -> None:
    """Close every open tqdm bar (ending its line); none is open if tqdm was never imported."""
    std = sys.modules.get("tqdm.std")
    for bar in list(getattr(getattr(std, "tqdm", None), "_instances", ())):
        bar.close()
