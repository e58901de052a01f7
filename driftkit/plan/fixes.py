"""The write-gating plan: for each failing write path, what should change and why, by money.

Each item is one handoff failure — the findings of one cause on one edge (``counterpart`` →
``system`` of findings.csv: the record the write came from → the record it left wrong) —
as :func:`driftkit.impact.projection.handoff_fixes` ranks them, with the rule its cause
calls for (:data:`RULES`), the evidence (findings, keys, examples, the edge's handoff-map
counts) and the drift its fix would remove.  Every rule is explained in docs/fix_plan.md.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from driftkit.causes.context import SOURCE, TARGET
from driftkit.plan.digest import EDGE, FindingsDigest, findings_digest, handoff_table
from driftkit.schema import SKU, SYSTEM, Cause

COUNTERPART = "counterpart"

#: cause → (rule, action); ``{source}``, ``{target}``, ``{p95}`` are filled in per edge.
RULES: dict[str, tuple[str, str]] = {
    Cause.DUPLICATE_EVENT: (
        "idempotency_key",
        "Send an idempotency key with every write from {source} to {target} and have {target} "
        "refuse a key it already applied (e.g. Shopify's idempotency key on inventory "
        "adjustments).",
    ),
    Cause.STALE_OVERWRITE: (
        "compare_and_set",
        "Make the {source} → {target} sync compare-and-set: send the quantity it read with the "
        "new one (e.g. Shopify's changeFromQuantity) so {target} refuses a write whose base "
        "changed, and never push a value older than {target}'s last count.",
    ),
    Cause.MISSING_EVENT: (
        "delivery_confirmation",
        "Make {source} → {target} writes acknowledged: retry until {target} confirms, and "
        "alert on a write still unconfirmed after the edge's p95 latency ({p95}).",
    ),
    Cause.SYNC_LAG: (
        "latency_budget",
        "Give the {source} → {target} path a latency budget (p95 now {p95}) and alert on "
        "writes that exceed it; until then hold back {target}'s sellable quantity by the "
        "units in flight.",
    ),
    Cause.UNIT_MISMATCH: (
        "normalize_units",
        "Normalize units at the source: {target} records packs or rounded quantities where "
        "{source} records eaches; send eaches (pack size from the catalog) and validate "
        "the unit on receipt.",
    ),
}
#: Missing events whose references cluster on one format (a callout): fix the format.
FORMAT_RULE = (
    "validate_reference",
    "Validate or normalize the reference format at {source} before it is sent: {target} "
    "loses the events whose reference has an unusual format (see the callout).",
)
#: A callout of :mod:`driftkit.causes.callouts`: ``<target> never received … whose <source> reference``.
CALLOUT = re.compile(r"^(\S+) never received .* whose (\S+) reference ")
GATE = "Gate this path through {owner}: {target} should read the count from {owner} instead of taking writes from {source}. "

FIX_COLUMNS = [
    "rank",
    SOURCE,
    TARGET,
    "cause",
    "rule",
    "action",
    "findings",
    "keys",
    "units",
    "value",
    "share",
    "evidence",
]


def fix_plan(
    findings: pd.DataFrame | FindingsDigest,
    handoffs: pd.DataFrame,
    callouts: list[str] | tuple[str, ...],
    *,
    owner: str,
) -> pd.DataFrame:
    """The write-gating plan, one item per (edge, cause), ranked by the money it costs.

    Parameters
    ----------
    findings
        The audit's findings (findings.csv), or their :class:`~driftkit.plan.digest.FindingsDigest`.
    handoffs
        The handoff map (handoffs.csv).
    callouts
        The attribution's reference-format callouts.
    owner
        The recommended authority: paths between two other systems are gated through it.

    Returns
    -------
    pandas.DataFrame
        :data:`FIX_COLUMNS`: ``source`` (the findings' counterpart) → ``target`` (the wrong
        record), ``rule`` and ``action`` (:data:`RULES`), ``findings``, ``keys`` (distinct
        SKU-locations), ``units`` (Σ|units|: the drift its fix removes), ``value``
        (Σ value, money), ``share`` (of all findings' units), ``evidence`` (text);
        ``unrecorded_change`` is left out (no write path to fix).  Ranked by value, then
        units; ``rank`` from 1.
    """
    digest = findings if isinstance(findings, FindingsDigest) else findings_digest(findings)
    items = handoff_table(digest).rename(columns={SYSTEM: TARGET, COUNTERPART: SOURCE})
    if items.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in FIX_COLUMNS})
    items[SOURCE] = items[SOURCE].fillna("(none)").astype("str")
    keys = digest.keys.set_index(EDGE)["keys"]
    items["keys"] = keys.reindex(_edge_of_items(items)).fillna(0).astype(np.int64).to_numpy()
    p95 = _edge_stats(handoffs, items)
    rules = _rules(items, p95["latency_p95_h"], callouts, owner)
    evidence = _evidence(items, p95, _examples(digest.examples, items))
    out = items.assign(rank=np.arange(1, len(items) + 1), evidence=evidence, **rules)
    return out[FIX_COLUMNS].reset_index(drop=True)


def _edge_of_items(items: pd.DataFrame) -> pd.Series:
    return items[SOURCE] + "→" + items[TARGET].astype("str") + ":" + items["cause"].astype("str")


def _edge_stats(handoffs: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Per item, its edge's handoff-map totals over kinds: events, missing, duplicated, p95."""
    columns = ["events", "missing", "duplicated", "latency_p95_h"]
    if handoffs.empty:
        return pd.DataFrame(np.nan, index=items.index, columns=columns)
    sums = handoffs.groupby([SOURCE, TARGET])[columns].agg(
        {"events": "sum", "missing": "sum", "duplicated": "sum", "latency_p95_h": "max"}
    )
    index = pd.MultiIndex.from_frame(items[[SOURCE, TARGET]])
    return sums.reindex(index).set_axis(items.index)


def _rules(
    items: pd.DataFrame, p95: pd.Series, callouts: list[str] | tuple[str, ...], owner: str
) -> dict[str, list[str]]:
    """The ``rule`` and ``action`` of every item (missing events on an edge a callout names
    get :data:`FORMAT_RULE`; an edge between two systems other than ``owner`` is gated)."""
    lost_format = {m.groups() for m in map(CALLOUT.match, callouts) if m}  # (target, source)
    rules, actions = [], []
    for item, latency in zip(items.to_dict("records"), p95, strict=True):  # one per edge
        rule, action = RULES[item["cause"]]
        if item["cause"] == Cause.MISSING_EVENT and (item[TARGET], item[SOURCE]) in lost_format:
            rule, action = FORMAT_RULE
        gate = item[SOURCE] not in (owner, "(none)") and item[TARGET] != owner
        text = (GATE if gate else "") + action
        hours = "unknown" if pd.isna(latency) else f"{latency:.1f} h"
        rules.append(f"gate+{rule}" if gate else rule)
        actions.append(
            text.format(source=item[SOURCE], target=item[TARGET], owner=owner, p95=hours)
        )
    return {"rule": rules, "action": actions}


def _examples(top: pd.DataFrame, items: pd.DataFrame) -> pd.Series:
    """Per item, its costliest findings (``top``: the digest's examples) as
    ``SKU@location (reference)``."""
    if top.empty:
        return pd.Series("", index=items.index)
    ref = top["reference"] if "reference" in top else pd.Series("", index=top.index)
    label = top[SKU].astype("str") + "@" + top["location"].astype("str")
    label = label.where(ref.isna() | (ref == ""), label + " (" + ref.astype("str") + ")")
    joined = label.groupby(top[EDGE]).agg(", ".join)
    return joined.reindex(_edge_of_items(items)).fillna("").set_axis(items.index)


def _evidence(items: pd.DataFrame, edge: pd.DataFrame, examples: pd.Series) -> pd.Series:
    """The human-readable evidence of every item."""
    base = (
        items["findings"].astype(int).astype("str")
        + " findings on "
        + items["keys"].astype("str")
        + " SKU-locations, "
        + items["units"].astype(float).round(1).astype("str")
        + " units; e.g. "
        + examples
    )
    known = edge["events"].notna()
    counts = (
        "; handoff map: "
        + edge["events"].fillna(0).astype(int).astype("str")
        + " events, "
        + edge["missing"].fillna(0).astype(int).astype("str")
        + " missing, "
        + edge["duplicated"].fillna(0).astype(int).astype("str")
        + " duplicated, p95 latency "
        + edge["latency_p95_h"].round(1).astype("str")
        + " h"
    )
    return base + counts.where(known, "; no event flows on this edge in the handoff map")
