"""Tests for driftkit.report.bundle: the Vega bundle built once per machine, kept on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftkit.errors import ReportError
from driftkit.report import bundle

FAKE = "var vegaEmbed = 1;window.vegaEmbed=vegaEmbed;window.vega=v;window.vegaLite=vl;"


@pytest.fixture
def builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A fresh process's state: no bundle in memory, the cache in ``tmp_path/cache``, and a
    stand-in for vl-convert's builder that records each build."""
    calls: list[str] = []

    def build(globals_line: str, vl_version: str) -> str:
        calls.append(vl_version)
        return FAKE

    monkeypatch.setenv("DRIFTKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(bundle, "_BUILT", {})
    monkeypatch.setattr(bundle.vlc, "javascript_bundle", build)
    return calls


def _cached() -> Path:
    (path,) = bundle.cache_dir().glob("vega-bundle-*.js")
    return path


def test_built_once_then_read_from_the_cache(builds: list[str]) -> None:
    first = bundle.vega_bundle()
    assert first == FAKE and builds == [bundle.VL_VERSION]
    assert bundle.vega_bundle() is first  # in memory
    assert _cached().read_text(encoding="utf-8") == FAKE
    assert f"-vl{bundle.VL_VERSION}.js" in _cached().name
    bundle._BUILT.clear()  # a new process
    assert bundle.vega_bundle() == FAKE and len(builds) == 1
    assert [p.name for p in bundle.cache_dir().iterdir()] == [_cached().name]  # no temp file


@pytest.mark.parametrize(
    "damaged",
    [FAKE[:40], FAKE.replace("var", "</SCRIPT>"), b"\xff\xfe".decode("latin-1")],
    ids=["truncated", "closes-the-script", "not-a-bundle"],
)
def test_a_damaged_cache_file_is_rebuilt(builds: list[str], damaged: str) -> None:
    bundle.vega_bundle()
    _cached().write_text(damaged, encoding="utf-8")
    bundle._BUILT.clear()
    assert bundle.vega_bundle() == FAKE and len(builds) == 2
    assert _cached().read_text(encoding="utf-8") == FAKE


def test_an_unwritable_cache_still_gives_the_bundle(
    builds: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("DRIFTKIT_CACHE_DIR", str(blocker / "cache"))  # under a file: no mkdir
    assert bundle.vega_bundle() == FAKE and len(builds) == 1


def test_a_bad_build_is_refused(builds: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle.vlc, "javascript_bundle", lambda *a, **k: "x</script>y")
    with pytest.raises(ReportError, match="contains '</script'"):
        bundle.vega_bundle()
    assert not bundle.cache_dir().exists()
