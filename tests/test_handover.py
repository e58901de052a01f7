"""driftkit.handover: the audit pickled by ``driftkit audit`` for its notebook, read once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftkit import audit as audit_module
from driftkit.errors import ReportError
from driftkit.handover import HANDOVER, read_handover, write_handover

AUDIT = {"summary": {"client": "<b>x</b>", "agreement_rate": 0.97}}  # any picklable value


def test_the_audit_comes_back_once_and_the_file_goes(tmp_path: Path) -> None:
    path = write_handover(AUDIT, tmp_path)  # type: ignore[arg-type]
    assert path == tmp_path / HANDOVER
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert read_handover(path) == AUDIT
    assert not path.exists()


def test_an_existing_file_is_never_reused(tmp_path: Path) -> None:
    (tmp_path / HANDOVER).write_bytes(b"not ours")
    with pytest.raises(FileExistsError):
        write_handover(AUDIT, tmp_path)  # type: ignore[arg-type]
    assert (tmp_path / HANDOVER).read_bytes() == b"not ours"


def _other_name(folder: Path) -> Path:
    path = write_handover(AUDIT, folder)  # type: ignore[arg-type]
    return path.rename(folder / "audit.pickle")


def _group_writable(folder: Path) -> Path:
    path = write_handover(AUDIT, folder)  # type: ignore[arg-type]
    path.chmod(0o620)
    return path


def _link(folder: Path) -> Path:
    target = write_handover(AUDIT, folder / "elsewhere")  # type: ignore[arg-type]
    (folder / HANDOVER).symlink_to(target)
    return folder / HANDOVER


def _folder(folder: Path) -> Path:
    (folder / HANDOVER).mkdir()
    return folder / HANDOVER


@pytest.mark.parametrize(
    "make", [_other_name, _group_writable, _link, _folder],
    ids=["other-name", "group-writable", "symlink", "not-a-file"],
)  # fmt: skip
def test_anything_but_a_private_handover_file_is_refused_and_kept(
    tmp_path: Path, make: object
) -> None:
    (tmp_path / "elsewhere").mkdir()
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ReportError, match="handover"):
        read_handover(path)
    assert os.path.lexists(path)


def test_audit_for_report_returns_the_handed_over_audit_and_computes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_audit(*args: object, **kwargs: object) -> None:
        raise AssertionError("audited again")

    monkeypatch.setattr(audit_module, "run_audit", no_audit)
    monkeypatch.setattr(audit_module, "partitioned_report", no_audit)
    path = write_handover(AUDIT, tmp_path)  # type: ignore[arg-type]
    out = tmp_path / "out"
    got = audit_module.audit_for_report("no/such/client", out_dir=out, handover=str(path))
    assert got == AUDIT and not path.exists() and not out.exists()
