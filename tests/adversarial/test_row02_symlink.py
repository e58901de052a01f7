"""Row 2: a symbolic link in raw/ pointing outside the client folder is refused, unread."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftkit.errors import InputError
from driftkit.load.client import load_client
from tests.adversarial.conftest import ONE_SYSTEM
from tests.conftest import make_client

SECRET = "root:x:0:0:secret-first-line:/root:/bin/bash"


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    outside = tmp_path / "elsewhere" / "passwd"
    outside.parent.mkdir()
    outside.write_text(f"{SECRET}\n", encoding="utf-8")
    root = make_client(tmp_path, ONE_SYSTEM, {"raw/s.csv": "sku,as_of,on_hand\nA,2024-01-01,1\n"})
    (root / "raw" / "p.csv").symlink_to(outside)
    return root


def test_a_link_out_of_the_folder_is_refused_without_leaking(linked: Path) -> None:
    with pytest.raises(InputError) as info:
        load_client(linked)
    message = str(info.value)
    assert "raw/p.csv" in message and "outside the client folder" in message
    assert "secret-first-line" not in message and "root:x" not in message


def test_a_link_inside_the_folder_is_read(tmp_path: Path) -> None:
    root = make_client(tmp_path, ONE_SYSTEM, {"data/a.txt": "sku,as_of,on_hand\nA,2024-01-01,1\n"})
    (root / "raw").mkdir()
    (root / "raw" / "s.csv").symlink_to(root / "data" / "a.txt")
    assert load_client(root).snapshots["sku"].tolist() == ["A"]


def test_a_header_in_an_error_is_short_and_escaped(tmp_path: Path) -> None:
    header = "\x1b[31m" + "h" * 5000
    root = make_client(tmp_path, ONE_SYSTEM, {"raw/s.csv": f"{header}\nA\n"})
    with pytest.raises(InputError) as info:
        load_client(root)
    message = str(info.value)
    assert "\x1b" not in message and len(message) < 2000
