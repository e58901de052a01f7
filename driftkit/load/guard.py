"""Checks on what a client folder hands the loader: no escape, no leak, no ambiguity.

* :func:`inside_folder` refuses a matched file whose real path (symbolic links resolved)
  lies outside the client folder, so a link in ``raw/`` cannot make driftkit read
  ``/etc/passwd`` or another client's exports.
* :func:`excerpt` is the only way file content reaches an error message: a short,
  ``repr``-escaped start of the header.
* :func:`refuse_duplicate_headers` makes a header naming one column twice an error that
  names the columns, instead of silently using the first.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from driftkit.errors import InputError

#: How many characters of a file's header an error message may show.
EXCERPT_CHARS = 120


def inside_folder(paths: list[Path], root: Path, *, source: Path, key: str) -> list[Path]:
    """``paths`` unchanged, after checking that each really lies inside ``root``.

    Parameters
    ----------
    paths
        Files matched by a pattern of ``client.toml``.
    root
        The client folder (already resolved).
    source, key
        The ``client.toml`` and the setting that matched the files, for the message.

    Returns
    -------
    list of Path
        ``paths``.

    Raises
    ------
    InputError
        A path is (or passes through) a symbolic link whose target is outside ``root``.
    """
    real_root = root.resolve()
    for path in paths:
        if not path.resolve().is_relative_to(real_root):
            shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
            raise InputError(
                f"{source}: {key} matches {shown}, a symbolic link to a file outside the client folder; driftkit reads only "
                f"files inside {root}: copy the export into the folder instead of linking it"
            )
    return paths


def excerpt(value: object, *, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped rendering of file content for an error message.

    Parameters
    ----------
    value
        A header line or the list of header names.
    limit
        Characters kept.

    Returns
    -------
    str
        ``repr(value)`` (control characters escaped), cut to ``limit`` characters with
        ``…`` and the full length when longer.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def refuse_duplicate_headers(header: list[str], *, source_file: str) -> None:
    """Raise when a non-empty column name appears twice in ``header`` (after trimming).

    Parameters
    ----------
    header
        The file's column names, as read.
    source_file
        The file, for the message.

    Raises
    ------
    InputError
        Naming each duplicated column and its positions.
    """
    names = [name.strip().lstrip("\ufeff") for name in header]
    counts = Counter(name for name in names if name)
    twice = [name for name, n in counts.items() if n > 1]
    if not twice:
        return
    where = "; ".join(
        f"{excerpt(name, limit=60)} in columns "
        + ", ".join(str(i + 1) for i, n in enumerate(names) if n == name)
        for name in twice[:5]
    )
    raise InputError(
        f"{source_file}: the header names a column more than once ({where}); driftkit "
        "will not guess which one holds the data: rename or remove the duplicate column"
    )
