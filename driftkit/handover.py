"""A finished audit handed from ``driftkit audit`` to its report notebook's kernel.

With HTML, for clients audited one at a time, the ``driftkit`` process audits the client itself
(exactly the ``--no-html`` path: :func:`driftkit.audit.run_audit` writing every run file into
the staging folder) while the notebook's kernel boots on the other core.  It then pickles the
:class:`~driftkit.scale.combine.Audit` into the staging folder (:func:`write_handover`), and the
notebook's ``handover`` parameter names that file: the audit cell picks the audit up
(:func:`read_handover`) instead of computing it again (docs/audit.md).

A pickle runs code when it is loaded.  :func:`write_handover` creates the file anew (it never
opens an existing file or follows a link), readable and writable by this user only, in the
staging folder the same process has just made.  :func:`read_handover` loads only a regular file
named :data:`HANDOVER`, owned by this user and writable by no one else, and deletes it.  The path
comes from the ``driftkit`` process, never from client data; never point ``handover`` at a file
you did not write yourself.
"""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from driftkit.errors import ReportError

if TYPE_CHECKING:
    from driftkit.scale.combine import Audit

#: The hand-over file's name in the staging run folder (removed before the run is published).
HANDOVER = ".audit-handover.pickle"


def write_handover(audit: Audit, folder: Path) -> Path:
    """Pickle ``audit`` into a new file :data:`HANDOVER` in ``folder`` (mode 0600).

    Parameters
    ----------
    audit
        The finished audit.
    folder
        The staging run folder this process made; an existing hand-over file there is an error.

    Returns
    -------
    Path
        The file written, for the notebook's ``handover`` parameter.
    """
    path = folder / HANDOVER
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o600), "wb") as handle:
        pickle.dump(audit, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def read_handover(path: str | Path) -> Audit:
    """The audit in the hand-over file ``path``, which is deleted once read.

    Parameters
    ----------
    path
        A file written by :func:`write_handover` of this user's ``driftkit`` process.

    Returns
    -------
    Audit
        The audit as the ``driftkit`` process computed it (its run files are already written).

    Raises
    ------
    ReportError
        When ``path`` is not named :data:`HANDOVER`, is a link or not a regular file, belongs
        to another user or is writable by others: it is then neither loaded nor deleted.
    """
    path = Path(path)
    if path.name != HANDOVER or path.is_symlink():
        raise ReportError(f"handover {path}: not a driftkit hand-over file ({HANDOVER})")
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    if not _private(os.fstat(descriptor)):
        os.close(descriptor)
        raise ReportError(
            f"handover {path}: not a private regular file of this user; run the notebook "
            "with handover = None to audit the client in the notebook"
        )
    with os.fdopen(descriptor, "rb") as handle:
        audit: Audit = pickle.load(handle)
    path.unlink()
    return audit


def _private(status: os.stat_result) -> bool:
    """A regular file of this user that no one else may write."""
    mode = status.st_mode
    return stat.S_ISREG(mode) and status.st_uid == os.getuid() and not mode & 0o022
