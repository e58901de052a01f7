"""The chart SVG cache (driftkit/report/svgcache.py): a spec drawn once is read back, a
damaged or unsafe file is drawn again, the folder is bounded, an unwritable one is harmless."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftkit.report import svgcache

SPEC = {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict]:
    """The specs vl-convert was asked to draw (a stand-in that answers ``<svg>n</svg>``)."""
    calls: list[dict] = []

    def draw(spec: dict, *, vl_version: str) -> str:
        calls.append(spec)
        return f"<svg>{len(calls)}</svg>"

    monkeypatch.setenv("DRIFTKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(svgcache.vlc, "vegalite_to_svg", draw)
    return calls


def test_a_spec_drawn_once_is_read_back(drawn: list[dict]) -> None:
    assert svgcache.cached_svg(SPEC) == "<svg>1</svg>"
    assert svgcache.cached_svg(dict(reversed(SPEC.items()))) == "<svg>1</svg>"  # key order
    assert len(drawn) == 1
    other = {**SPEC, "mark": "bar"}
    assert svgcache.cached_svg(other) == "<svg>2</svg>" and len(drawn) == 2
    assert sorted(p.name for p in svgcache.svg_path(SPEC).parent.iterdir()) == sorted(
        [svgcache.svg_path(SPEC).name, svgcache.svg_path(other).name]
    )  # no temporary file left


@pytest.mark.parametrize(
    "stored",
    ["<svg>cut", "<svg><script>alert(1)</script></svg>", "not svg at all"],
    ids=["cut-short", "script", "not-svg"],
)
def test_a_damaged_or_unsafe_file_is_drawn_again(drawn: list[dict], stored: str) -> None:
    path = svgcache.svg_path(SPEC)
    path.parent.mkdir(parents=True)
    path.write_text(stored, encoding="utf-8")
    assert svgcache.cached_svg(SPEC) == "<svg>1</svg>"
    assert path.read_text(encoding="utf-8") == "<svg>1</svg>"


def test_the_folder_keeps_the_newest_files(
    drawn: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(svgcache, "KEEP", 2)
    for mark in ("point", "bar", "line"):
        svgcache.cached_svg({**SPEC, "mark": mark})
    assert len(list(svgcache.svg_path(SPEC).parent.glob("*.svg"))) == 2


def test_an_unwritable_cache_folder_changes_nothing_but_the_time(
    drawn: list[dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("DRIFTKIT_CACHE_DIR", str(blocker / "cache"))
    first, second = svgcache.cached_svg(SPEC), svgcache.cached_svg(SPEC)
    assert (first, second) == ("<svg>1</svg>", "<svg>2</svg>")  # drawn each time, no error


def test_a_real_chart_reads_back_byte_identical(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DRIFTKIT_CACHE_DIR", str(tmp_path / "cache"))
    drawn = svgcache.cached_svg(SPEC)
    assert drawn.startswith("<svg") and svgcache.svg_path(SPEC).is_file()
    assert svgcache.cached_svg(SPEC) == drawn
