"""The ``driftkit`` command line: exit codes 0/1/2, one-line errors, simulate, audit, check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from driftkit import cli
from driftkit.check import Thresholds, crossed
from driftkit.config import load_config
from tests.audit_clients import simulate_small, write_markup_client


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_small(tmp_path_factory.mktemp("small") / "small", seed=5)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_writes_a_client_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sim-one"
    code, out, err = _run(capsys, "simulate", str(target), "--skus", "20", "--days", "5",
                          "--seed", "9")  # fmt: skip
    assert (code, err) == (0, "")
    assert str(target) in out and "injected faults" in out
    config = load_config(target)
    assert config.id == "sim-one" and len(config.systems) >= 2
    assert (target / "ground_truth.csv").is_file()


def test_audit_without_html(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "reports"
    code, out, err = _run(capsys, "audit", str(small), "--out", str(out_dir), "--no-html")
    assert code == 0, err
    assert out.startswith("small: ok in ") and "index of reports" in out
    runs = [p for p in (out_dir / "small").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1 and (runs[0] / "summary.json").is_file()
    assert not (runs[0] / "drift_audit.html").exists()
    summary = json.loads((runs[0] / "summary.json").read_text(encoding="utf-8"))
    assert summary["client"] == "small"
    assert (out_dir / "index.html").is_file()


def test_audit_all_runs_every_client_and_reports_a_broken_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clients = tmp_path / "clients"
    write_markup_client(clients / "good")
    bad = write_markup_client(clients / "corrupt")
    (bad / "wms.csv").write_bytes(b"\xff\xfe\x00garbage\x00\x00\n\x01")
    code, out, err = _run(capsys, "audit", "--all", str(clients), "--out",
                          str(tmp_path / "reports"), "--no-html", "--jobs", "1")  # fmt: skip
    assert code == 1
    assert out.startswith("good: ok in ")
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("corrupt: FAILED at analysis: "), err
    assert "wms.csv" in lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["audit", "{tmp}/Bad_Client", "--no-html"], "Bad_Client", id="bad-client-id"),
        pytest.param(["audit", "{tmp}/absent", "--no-html"], "absent", id="missing-folder"),
        pytest.param(["audit", "--all", "{tmp}/nowhere"], "nowhere", id="missing-all-folder"),
        pytest.param(["audit", "--no-html"], "no clients given", id="no-clients"),
        pytest.param(["check", "{tmp}/typo"], "colour", id="config-unknown-key"),
        pytest.param(["check", "{small}", "--max-findings", "duplicate_event=x"], "CAUSE=N",
                     id="max-findings-not-a-number"),
        pytest.param(["check", "{small}", "--max-findings", "duplicates=0"], "allowed causes",
                     id="max-findings-unknown-cause"),
    ],
)  # fmt: skip
def test_usage_and_config_errors_exit_2_with_one_line(
    args: list[str], expected: str, small: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bad_id = write_markup_client(tmp_path / "Bad_Client")
    assert bad_id.is_dir()
    typo = write_markup_client(tmp_path / "typo")
    toml = (typo / "client.toml").read_text(encoding="utf-8")
    (typo / "client.toml").write_text(toml.replace("[client]\n", '[client]\ncolour = "red"\n'))
    filled = [a.format(tmp=tmp_path, small=small) for a in args]
    code, out, err = _run(capsys, *filled)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("driftkit: error: ") and expected in lines[0]


def test_argparse_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["audit", "--start", "not-a-date"])
    assert exited.value.code == 2
    assert "invalid fromisoformat value" in capsys.readouterr().err


@pytest.fixture(scope="module")
def small_summary(small: Path) -> dict:
    from driftkit.audit import run_audit

    return run_audit(small).summary


def test_small_client_has_duplicate_events(small_summary: dict) -> None:
    assert small_summary["findings_by_cause"]["duplicate_event"] > 0  # the checks below rely on it


@pytest.mark.parametrize(
    ("args", "code", "reason"),
    [
        pytest.param(["--max-findings", "duplicate_event=0"], 1, "duplicate_event findings exceed 0",
                     id="duplicates-crossed"),
        pytest.param(["--max-drift-rate", "0.5", "--max-findings", "duplicate_event=1000"], 0,
                     "all thresholds met", id="met"),
    ],
)  # fmt: skip
def test_check_exit_codes(
    args: list[str], code: int, reason: str, small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = _run(capsys, "check", str(small), *args)
    assert got == code
    text = err if code else out
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("driftkit check: small: ")
    assert reason in lines[0]
    assert (err if not code else out) == ""


@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        pytest.param(Thresholds(min_agreement_rate=0.0), [], id="rate-met"),
        pytest.param(Thresholds(max_value_at_risk=-1.0), ["value at risk"], id="var-crossed"),
        pytest.param(Thresholds(max_phantom_stockouts=1e9), [], id="phantom-met"),
        pytest.param(Thresholds(max_findings={"unit_mismatch": 10**6}), [], id="cause-met"),
        pytest.param(Thresholds(min_agreement_rate=1.0, max_value_at_risk=-1.0),
                     ["agreement rate", "value at risk"], id="two-crossed"),
    ],
)  # fmt: skip
def test_crossed_names_each_threshold(
    small_summary: dict, thresholds: Thresholds, expected: list[str]
) -> None:
    reasons = crossed(small_summary, thresholds)
    assert len(reasons) == len(expected)
    assert all(e in r for e, r in zip(expected, reasons, strict=True))


def test_check_of_a_missing_client_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(tmp_path / "gone", ignore_errors=True)
    code, _, err = _run(capsys, "check", str(tmp_path / "gone"))
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_simulate_accepts_cause_rates(tmp_path: Path) -> None:
    out = tmp_path / "rates"
    code = cli.main(
        ["simulate", str(out), "--skus", "20", "--days", "5", "--faults", "duplicate_event=0.3"]
    )
    assert code == 0
    truth = pd.read_csv(out / "ground_truth.csv")
    assert set(truth["cause"]) == {"duplicate_event"}


def test_simulate_refuses_an_unknown_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["simulate", str(tmp_path / "x"), "--skus", "5", "--days", "3", "--faults", "dupe=1"]
    )
    assert code == 2
    assert "unknown cause 'dupe'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("engine", "jobs"), [("dask", "1"), ("pandas", "2")], ids=["dask", "pandas-pool"]
)
def test_partitioned_engines_equal_the_in_process_audit(
    tmp_path: Path, engine: str, jobs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--engine dask` (a LocalCluster) and `--engine pandas` (a local process pool of --jobs)
    audit bucket by bucket and write the same headline numbers as the in-process audit."""
    from driftkit.audit import run_audit

    monkeypatch.chdir(tmp_path)  # the ingest goes to tmp_path/data/processed, not the repo's
    client = tmp_path / "small"
    shutil.copytree(simulate_small(tmp_path / "sim"), client)
    code = cli.main(
        [
            "audit",
            str(client),
            "--out",
            str(tmp_path / "r"),
            "--no-html",
            "--engine",
            engine,
            "--jobs",
            jobs,
        ]
    )
    assert code == 0
    (run,) = (tmp_path / "r" / "small").glob("????-??-??")
    written = json.loads((run / "summary.json").read_text())
    expected = run_audit(client).summary
    for key in ("compared_cells", "agreement_rate", "drifted_sku_locations", "findings_by_cause"):
        assert written[key] == expected[key], key


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([], (None, None, None), id="in-process"),
        pytest.param(["--engine", "pandas", "--jobs", "2"], ("pandas", 2, None), id="pandas"),
        pytest.param(
            ["--engine", "dask", "--jobs", "3", "--scheduler", "tcp://host:8786"],
            ("dask", 3, "tcp://host:8786"),
            id="dask",
        ),
    ],
)
def test_audit_with_html_passes_the_engine_to_the_notebook(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    expected: tuple[object, ...],
) -> None:
    """The report notebook gets ``engine, jobs, scheduler`` (tests/test_partition_report.py
    runs it for real); here papermill is replaced by a recorder that stops the run."""
    import papermill

    seen: list[dict[str, object]] = []

    def record(*_: object, parameters: dict[str, object], **__: object) -> None:
        seen.append(parameters)
        raise RuntimeError("recorded")

    monkeypatch.setattr(papermill, "execute_notebook", record)
    client = write_markup_client(tmp_path / "clients" / "markup")
    code, _, err = _run(capsys, "audit", str(client), "--out", str(tmp_path / "r"), *args)
    assert code == 1 and "markup: FAILED at notebook: RuntimeError: recorded" in err
    (parameters,) = seen
    assert (parameters["engine"], parameters["jobs"], parameters["scheduler"]) == expected
    assert parameters["client_dir"] == str(client.resolve())
