"""Run folders published atomically, crash-safe and one client at a time (DESIGN §9).

``REPORTS_DIR/<client>/<date>`` is a symbolic link to a hidden run folder
``.<date>.run-<stamp>`` beside it.  :func:`publish` renames the finished staging folder to a
new hidden run folder, then swaps the link with one ``rename`` (atomic on POSIX): a reader,
or a kill at any instant, sees the old run or the new one under its date, never neither.
Publishing holds ``REPORTS_DIR/<client>/.lock`` (``flock``), so concurrent audits of one
client both succeed, the later one last.  Under the same lock :func:`tidy` removes what
interrupted runs left: staging folders of processes that are gone, run folders no link
points to, and the ``.<date>.old-<pid>`` folders of driftkit before this layout (put back
under their date when the date is missing).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

#: A staging folder of another host is removed when it is older than this (seconds).
STALE_AFTER = 24 * 3600.0
_HOST = socket.gethostname().replace(".", "_").replace("-", "_") or "host"


def staging_folder(client_folder: Path, run_date: str) -> Path:
    """Where this process builds the run of ``run_date`` before :func:`publish`.

    Parameters
    ----------
    client_folder
        ``REPORTS_DIR/<client>``.
    run_date
        The run's ISO date.

    Returns
    -------
    Path
        ``.<date>.partial-<host>-<pid>`` in ``client_folder`` (not created).
    """
    return client_folder / f".{run_date}.partial-{_HOST}-{os.getpid()}"


@contextlib.contextmanager
def client_lock(client_folder: Path) -> Iterator[None]:
    """Hold ``client_folder/.lock`` (an exclusive ``flock``) while the block runs."""
    client_folder.mkdir(parents=True, exist_ok=True)
    with open(client_folder / ".lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def publish(staging: Path, final: Path) -> None:
    """Make the finished folder ``staging`` the run ``final`` in one atomic step.

    Parameters
    ----------
    staging
        A complete run folder (hidden, beside ``final``).
    final
        ``REPORTS_DIR/<client>/<date>``: replaced if it exists.
    """
    with client_lock(final.parent):
        tidy(final.parent, keep=staging)
        run = final.with_name(f".{final.name}.run-{time.time_ns()}-{os.getpid()}")
        staging.rename(run)
        previous = _target(final)
        try:
            _point(final, run)
        except OSError:
            if previous is not None and not os.path.lexists(final):
                previous.rename(final)  # a plain folder moved aside goes back
            raise
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)


def _target(final: Path) -> Path | None:
    """The hidden run folder ``final`` shows; a plain folder (older layout) is moved aside."""
    if final.is_symlink():
        return final.with_name(os.readlink(final))
    if not final.exists():
        return None
    aside = final.with_name(f".{final.name}.run-{time.time_ns()}-legacy")
    final.rename(aside)  # the one non-atomic step, for a run written before this layout
    return aside


def _point(final: Path, run: Path) -> None:
    link = final.with_name(f".{final.name}.link-{os.getpid()}")
    link.unlink(missing_ok=True)
    link.symlink_to(run.name, target_is_directory=True)
    os.replace(link, final)


def tidy(client_folder: Path, *, keep: Path | None = None) -> list[Path]:
    """Remove what interrupted runs left in ``client_folder``; call it holding the lock.

    Parameters
    ----------
    client_folder
        ``REPORTS_DIR/<client>``.
    keep
        A folder never removed (the staging folder being published).

    Returns
    -------
    list of Path
        What was removed (or, for a run missing its date, relinked).
    """
    if not client_folder.is_dir():
        return []
    entries = [p for p in client_folder.iterdir() if p.name.startswith(".") and "." in p.name[1:]]
    _relink_missing(client_folder, entries)
    dates = [p for p in client_folder.iterdir() if p.is_symlink() and not p.name.startswith(".")]
    shown = {os.readlink(p) for p in dates}
    removed = [p for p in entries if p != keep and os.path.lexists(p) and _leftover(p, shown)]
    for path in removed:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
    return removed


def _relink_missing(client_folder: Path, entries: list[Path]) -> None:
    """A date whose link is missing shows its newest complete hidden run again."""
    for path in sorted(entries, key=lambda p: p.name, reverse=True):
        date, kind = path.name[1:].split(".", 1)[0], _kind(path.name)
        final = client_folder / date
        complete = (path / "summary.json").is_file()
        if kind in ("run", "old") and complete and not os.path.lexists(final):
            run = path
            if kind == "old":
                run = path.with_name(f".{date}.run-{time.time_ns()}-recovered")
                path.rename(run)
            _point(final, run)


def _kind(name: str) -> str:
    rest = name[1:].split(".", 1)[1] if "." in name[1:] else ""
    return rest.split("-", 1)[0]


def _leftover(path: Path, shown: set[str]) -> bool:
    kind = _kind(path.name)
    if kind in ("run", "old"):
        return path.name not in shown
    if kind == "link":
        return True
    if kind == "partial":
        return _abandoned(path)
    return False


def _abandoned(staging: Path) -> bool:
    """A staging folder whose process is gone (this host) or that is stale (another host)."""
    owner = staging.name.split(".partial-", 1)[1]
    host, _, pid = owner.rpartition("-")
    if (host and host != _HOST) or not pid.isdigit():
        return time.time() - staging.stat().st_mtime > STALE_AFTER
    return not _alive(int(pid))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
