"""story: the report's sentences and tables escape client strings and show deltas."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd
import pytest

from driftkit.audit import Audit, run_audit
from driftkit.plan.fixes import fix_plan
from driftkit.report import story
from tests.audit_clients import LOCATION, SKU, TITLE, write_markup_client

EVIL = '<img src=x onerror="alert(1)">'


def _escaped(text: str) -> str:
    return escape(text)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    folder = write_markup_client(tmp_path_factory.mktemp("story") / "markup")
    return run_audit(folder, run_at=datetime(2026, 10, 1, tzinfo=UTC))


def _with(audit: Audit, **summary: object) -> Audit:
    return dataclasses.replace(audit, summary={**audit.summary, **summary})


def _evil_findings(audit: Audit) -> Audit:
    findings = audit.attribution.findings.assign(
        cause="missing_event", counterpart=EVIL, evidence=EVIL
    )
    attribution = dataclasses.replace(audit.attribution, findings=findings)
    plan = fix_plan(findings, audit.attribution.handoffs, [], owner=EVIL)
    tables = {**audit.tables, "fix_plan": plan}
    return dataclasses.replace(audit, attribution=attribution, tables=tables)


def test_answer_escapes_client_strings(audit: Audit) -> None:
    evil = _evil_findings(_with(audit, previous={"run_at": EVIL, "agreement_rate": 0.1}))
    html = story.answer(evil).html
    assert "Fix #1" in html and _escaped(EVIL) in html
    assert "<img" not in html


def test_answer_shows_deltas_against_the_previous_run(audit: Audit) -> None:
    rate = audit.summary["agreement_rate"]
    var = audit.summary["value_at_risk_last_day"]
    previous = {"run_at": "2026-09-24T06:00:00+00:00", "agreement_rate": rate - 0.2,
                "value_at_risk_last_day": var - 50.0}  # fmt: skip
    html = story.answer(_with(audit, previous=previous)).html
    assert "Change since the previous audit (2026-09-24T06:00:00+00:00)" in html
    deltas = re.findall(r"<span class='dk-delta (good|bad)'>([▲▼]) ([^<]*)</span>", html)
    assert ("good", "▲", "20.0%") in deltas  # agreement rose: better
    assert ("bad", "▲", "USD 50") in deltas  # more value at risk: worse
    assert len(deltas) == 2  # unchanged or absent numbers show no delta


def test_answer_without_previous_says_first_audit(audit: Audit) -> None:
    html = story.answer(audit).html
    assert audit.summary["previous"] is None
    assert "First audit of this client" in html and "dk-delta" not in html


def test_with_titles_keeps_rows_and_order(audit: Audit) -> None:
    frame = audit.impact.count_list
    titled = story.with_titles(audit, frame)
    assert list(titled.columns) == [*frame.columns[:2], "title", *frame.columns[2:]]
    assert titled.index.equals(frame.index)
    assert titled["sku"].tolist() == frame["sku"].tolist()
    assert titled.set_index("sku")["title"].to_dict() == {SKU: TITLE, "PLAIN-2": "Plain Mug"}
    assert "title" not in frame.columns  # the input is not modified


@pytest.mark.parametrize("build", [story.count_list_table, story.findings_table],
                         ids=["count-list", "findings"])  # fmt: skip
def test_tables_show_titles_escaped(audit: Audit, build: object) -> None:
    html = build(audit).html  # type: ignore[operator]
    for text in (TITLE, SKU, LOCATION):
        assert _escaped(text) in html
    assert "<script" not in html and "<b>" not in html and "<i>" not in html


def test_drilldowns_name_the_product_escaped(audit: Audit) -> None:
    html = story.drilldowns(audit, n=1).html
    heading = re.search(r"<h3>(.*?)</h3>", html)
    assert heading is not None
    assert heading.group(1) == f"1. {_escaped(SKU)} @ {_escaped(LOCATION)} — {_escaped(TITLE)}"


@pytest.mark.parametrize("section", ["drift", "handoffs", "causes", "impact", "count_list",
                                     "quality"])  # fmt: skip
def test_sentences_escape_and_stay_one_paragraph(audit: Audit, section: str) -> None:
    evil = _with(audit, authority=EVIL, window_start=EVIL)
    html = story.say(evil, section).html
    assert html.startswith("<p class='dk-say'>") and html.count("<p") == 1
    assert "<img" not in html


def test_cause_totals_sum_the_findings(audit: Audit) -> None:
    totals = story.cause_totals(audit)
    findings = audit.attribution.findings
    assert totals["findings"].sum() == len(findings)
    assert totals["units"].sum() == pytest.approx(findings["units"].abs().sum())
    assert isinstance(totals, pd.DataFrame)


def test_story_does_not_mutate_the_audit(audit: Audit, tmp_path: Path) -> None:
    before = audit.impact.count_list.copy()
    story.count_list_table(audit)
    story.drilldowns(audit, n=1)
    pd.testing.assert_frame_equal(audit.impact.count_list, before)


def test_fix_plan_and_authority_tables_leave_the_long_texts_to_the_csv(audit: Audit) -> None:
    evil = _evil_findings(audit)
    plan = story.fix_plan_table(evil).html
    assert ">rule<" in plan and ">value<" in plan
    assert ">action<" not in plan and ">evidence<" not in plan
    assert "chars #" not in plan  # nothing shortened for display
    owners = story.authority_table(audit).html
    assert ">record_accuracy<" in owners and ">handoff_score<" not in owners
