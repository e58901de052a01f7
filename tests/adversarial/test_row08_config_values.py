"""Row 8: bad client.toml values are one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftkit import cli
from tests.conftest import make_client

SYSTEM = '[client]\nname = "x"\n{client}\n[systems.wms]\nkind = "wms"\nsnapshots = "s.csv"\n'
CASES = {
    "empty-delimiter": ("", 'delimiter = ""', "[systems.wms.delimiter] is ''"),
    "two-char-delimiter": ("", 'delimiter = ";;"', "[systems.wms.delimiter]"),
    "bad-strftime": ("", 'timestamp_format = "%Q%%"', "[systems.wms.timestamp_format]"),
    "bad-encoding": ("", 'encoding = "utf-99"', "[systems.wms.encoding]"),
    "huge-tolerance": ("tolerance = 1e300", "", "[client.tolerance] is 1e+300"),
    "infinite-staleness": ("staleness_hours = inf", "", "[client.staleness_hours] is inf"),
    "deep-array": ("", "x = " + "[" * 1200 + "]" * 1200, "nested too deeply"),
    "deep-table": ("", "x = " + "{a = " * 1200 + "1" + "}" * 1200, "nested too deeply"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_config_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    client_line, system_line, expected = CASES[case]
    toml = SYSTEM.format(client=client_line) + system_line + "\n"
    root = make_client(tmp_path, toml, {"s.csv": "sku,as_of,on_hand\nA,2024-01-01,1\n"})
    code = cli.main(["check", str(root)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("driftkit: error: ")
    assert expected in err and "Traceback" not in err


def test_an_unexpected_error_is_still_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("something nobody foresaw")

    monkeypatch.setattr("driftkit.check.check_client", boom)
    code = cli.main(["check", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "something nobody foresaw" in err
