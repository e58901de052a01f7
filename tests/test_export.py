"""Tests for driftkit.report.export: which chart SVGs the offline check must parse."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftkit.report import export

# The forward pattern _may_load replaces (0.35 s for acme's ten SVGs): the reference.
FORWARD = re.compile(
    r"\b(?:src|href|srcset|action|formaction|poster|data|background|cite|longdesc|manifest"
    r"|ping|icon|codebase|archive|content)\s*=|<style|dk-chart"
    r"|\bstyle\s*=\s*(?:\"[^\"]*|'[^']*|[^\s>\"']*)(?:url\(|@import)",
    re.IGNORECASE,
)

# Pieces an SVG (or a client string inside one) could put next to each other; the odd ones
# are word characters, non-ASCII case folds (long s, Kelvin sign, dotted I) and whitespace.
PIECES = [
    "src", "HREF", "xlink:href", "srcset", "data", "data-x", "content", "Background", "ping",
    "shipping", "icon", "archive", "ſrc", "\u212aey", "İcon", "style", "STYLE", "<style", "<ſtyle",
    "dk-chart", "DK-CHART", "url(", "@import", "clip-path", "=", " = ", "\t", "\n", '"', "'",
    ">", "<", "_", "x", "1", "-", ":", "#a", " ",
]  # fmt: skip


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a loaded machine
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_may_load_is_the_forward_pattern(pieces: list[str]) -> None:
    svg = "".join(pieces)
    assert export._may_load(svg) == bool(FORWARD.search(svg))


@pytest.mark.parametrize(
    ("svg", "expected"),
    [
        ('<svg><path clip-path="url(#a)" d="M0,0"/><text>shipping = 3</text></svg>', False),
        ('<svg><image href="https://example.com/a.png"/></svg>', True),
        ('<svg><a xlink:href="//example.com/x"/></svg>', True),
        ('<svg><rect style="fill: url(https://example.com/p)"/></svg>', True),
        ("<svg><STYLE>@import 'x.css';</STYLE></svg>", True),
        ('<svg><g class="dk-chart"/></svg>', True),
        ('<svg><g data-x="1" srcs="2"/></svg>', False),
    ],
    ids=["plain", "href", "xlink", "style-url", "style-element", "chart-id", "near-misses"],
)
def test_may_load(svg: str, expected: bool) -> None:
    assert export._may_load(svg) is expected
