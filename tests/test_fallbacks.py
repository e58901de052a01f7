"""Chart SVG fallbacks rendered on background threads (driftkit/report/fallbacks.py): shown
in place once rendered, placeholders replaced in the audit notebook's last cell."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pandas as pd
import pytest

from driftkit.report import charts, fallbacks
from driftkit.report.html import chart, embed

Published = list[tuple[dict[str, str], dict[str, Any]]]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    """What the fragments publish to the notebook, instead of a kernel's IOPub."""
    seen: Published = []
    monkeypatch.setattr(
        "IPython.display.publish_display_data", lambda data, **kw: seen.append((data, kw))
    )
    monkeypatch.setattr(fallbacks, "_PENDING", [])
    return seen


def _top() -> pd.DataFrame:
    return pd.DataFrame(
        {"sku": ["A-1", "B-2"], "location": ["main", "main"], "expected_value": [500.0, 50.0],
         "reason": ["oversell", "late reorder"], "system": ["shop", "shop"]}
    )  # fmt: skip


def test_a_chart_is_the_inline_fragment_with_its_svg() -> None:
    shown = chart(charts.count_list(_top()), "count-list")
    assert shown.html == embed(charts.count_list(_top()), "count-list")
    assert shown.html.count("<svg") == 1 and "</svg></div></div>" in shown.html


def test_without_deferral_a_fragment_is_shown_whole(published: Published) -> None:
    svg: Future[str] = Future()
    svg.set_result("<svg/>")
    fallbacks.Fragment(["<div>", svg, "</div>"])._ipython_display_()
    assert published == [
        ({"text/plain": "HTML(17 characters)", "text/html": "<div><svg/></div>"}, {})
    ]


def test_deferred_fragments_are_placeholders_until_the_last_cell(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(fallbacks._STATE, "deferred", True)
    first, second = Future(), Future()
    fallbacks.Fragment(["<p>a</p>", first])._ipython_display_()
    fallbacks.Fragment(["<p>b</p>", second])._ipython_display_()
    ids = [kw["transient"]["display_id"] for _, kw in published]
    assert len(set(ids)) == 2 and all("<svg" not in data["text/html"] for data, _ in published)
    second.set_result("<svg>2</svg>")
    first.set_result("<svg>1</svg>")
    fallbacks.finish_fallbacks()
    updates = published[2:]
    assert [kw for _, kw in updates] == [
        {"transient": {"display_id": i}, "update": True} for i in ids
    ]
    assert [data["text/html"] for data, _ in updates] == [
        "<p>a</p><svg>1</svg>",
        "<p>b</p><svg>2</svg>",
    ]
    assert fallbacks._PENDING == []


def test_a_deferred_fragment_already_rendered_is_shown_whole(
    published: Published, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(fallbacks._STATE, "deferred", True)
    fallbacks.Fragment(["<p>done</p>"])._ipython_display_()
    assert published == [({"text/plain": "HTML(11 characters)", "text/html": "<p>done</p>"}, {})]
    assert fallbacks._PENDING == []


def test_a_failed_render_fails_where_the_fragment_is_needed() -> None:
    svg: Future[str] = Future()
    svg.set_exception(ValueError("bad spec"))
    with pytest.raises(ValueError, match="bad spec"):
        str(fallbacks.Fragment(["<div>", svg]))
