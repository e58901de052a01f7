"""Row 10: a kill inside publish leaves the old or the new run under its date, never neither;
what an interrupted run left is removed at the next publish."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from driftkit.batch import publish
from driftkit.scale.summary import run_folders

DATE = "2026-10-01"


class Killed(BaseException):
    """A kill: no ``except Exception`` or ``except OSError`` handler runs."""


def _run(folder: Path, label: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"label": label}), encoding="utf-8")
    return folder


def _shown(client: Path) -> str | None:
    summary = client / DATE / "summary.json"
    return json.loads(summary.read_text(encoding="utf-8"))["label"] if summary.is_file() else None


def _kill_at(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """Raise :class:`Killed` at the ``step``-th rename, replace or symlink."""
    calls = [0]
    for name in ("rename", "replace", "symlink"):
        real = getattr(os, name)

        def counted(*args: object, _real: object = real, **kwargs: object) -> object:
            calls[0] += 1
            if calls[0] == step:
                raise Killed
            return _real(*args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(os, name, counted)


@pytest.mark.parametrize("step", range(1, 6), ids=lambda s: f"kill-at-step-{s}")
def test_a_kill_at_any_step_leaves_a_run_under_its_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    client = tmp_path / "acme"
    publish(_run(client / ".first", "old"), client / DATE)
    new = _run(client / f".{DATE}.partial-4194303", "new")  # the killed process's staging
    with monkeypatch.context() as patched:
        _kill_at(patched, step)
        with contextlib.suppress(Killed):
            publish(new, client / DATE)
    assert _shown(client) in ("old", "new")
    publish(_run(client / ".third", "third"), client / DATE)  # the next run tidies up
    assert _shown(client) == "third"
    assert [p.name for p in run_folders(client)] == [DATE]
    hidden = [p.name for p in client.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert len(hidden) == 1 and hidden[0] == os.readlink(client / DATE)


def test_leftovers_of_dead_runs_are_removed_at_the_next_run(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    dead = _run(client / f".{DATE}.partial-4194303", "killed mid-run")  # no such process
    old = _run(client / f".{DATE}.old-4194303", "replaced by a killed publish")
    publish(_run(client / ".mine", "new"), client / DATE)
    assert not dead.exists() and not old.exists() and _shown(client) == "new"


def test_a_run_left_aside_by_a_killed_publish_is_shown_again(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    _run(client / f".{DATE}.old-4194303", "the only complete run")  # its date is missing
    publish(_run(client / ".other", "other day"), client / "2026-10-02")
    assert _shown(client) == "the only complete run"


def test_a_live_runs_staging_folder_is_kept(tmp_path: Path) -> None:
    client = tmp_path / "acme"
    live = _run(client / f".{DATE}.partial-{os.getppid()}", "still running")
    publish(_run(client / ".mine", "new"), client / DATE)
    assert live.is_dir()
