"""Empty-shelf checks: a second list the count list interleaves with its money ranking.

DESIGN §7 ranks the count list by the money each key's records are about to cost.  An empty
shelf behind a record of one or two units costs those units, so a money ranking lists it
deep down, below the disagreements worth a hundred and more (docs/impact.md, seventh pass);
yet nobody reorders or recounts it, and the storefront keeps selling it.  Cycle-count
programs run zero- and low-balance confirmations beside their value-ranked counts for this
reason, and the count list does the same (issue 15 point 6): every
``empty_check_every``-th rank goes to the key most likely to be found empty while its
relied-on record shows stock (:func:`check_columns`: the count history's chance, at least
``empty_check_at``), unless the money ranking already lists that key above the rank; the
other ranks keep the money order.  A row's ``list`` says which list put it there.  The
second list holds two kinds of keys: a believed record showing stock that the count history
says may be lost (:func:`~driftkit.impact.sellout.lost_reaches_record`), and a believed
record at zero while a selling system still offers stock (a zero-balance confirmation,
:func:`zero_balance`).

The interleave (:func:`interleaved`) reads the money-ordered rows in batches, so the
partitioned audit applies it to its k-way merge of the buckets' parts
(:mod:`driftkit.scale.stored`) as the in-process audit does to its one frame.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from typing import Protocol

import numpy as np
import pandas as pd

from driftkit.config import ImpactParams
from driftkit.impact import theory
from driftkit.impact.sellout import SoldOutState, lost_reaches_record, texts
from driftkit.impact.silence import authority_names

#: count_rows' check inputs: check_columns' and the check system's drift and cause
CHECK_COLUMNS = (
    "check_chance", "check_every", "check_reason", "check_system", "check_drift", "check_cause"
)  # fmt: skip

LIST = "list"
MONEY = "money"
EMPTY_CHECK = "empty_check"
POSITION = "_money"  # a candidate's 0-based position in the money order (never written)
SLOT = "_slot"  # merged order (never written)
SHOWN_AT = 0.5  # a selling record shows stock above half a unit (as lift's truth)


class CheckState(SoldOutState, Protocol):
    """What :func:`check_columns` reads of a count list's key state (arrays per key)."""

    @property
    def selling_systems(self) -> tuple[str, ...]: ...


def check_columns(state: CheckState, params: ImpactParams) -> dict[str, np.ndarray]:
    """Per key, what the empty-shelf checks read of a count-list row.

    ``check_chance`` = P(E ≥ A) (:func:`~driftkit.impact.sellout.lost_reaches_record`: E
    the units the records overstate by since the last count, A > 0 the believed record's
    last sellable stock), or for a zero-balance confirmation (A ≤ 0 while a selling system
    shows S > 0.5) P(E ≥ S) (:func:`zero_balance`), where it is at least
    ``params.empty_check_at``, else 0 (not a candidate); ``check_every`` =
    ``params.empty_check_every`` (0: no checks); ``check_reason`` the reason a check row
    shows ("" for non-candidates); ``check_system`` the system a check row names as the record
    to correct, the one showing the stock the count would find gone (the believed record
    for A > 0, the selling system for a zero-balance confirmation; "" for non-candidates).

    Returns
    -------
    dict of numpy.ndarray
        :data:`CHECK_COLUMNS` → per-key arrays.
    """
    zero, shown, seller = zero_balance(state)
    chance = np.maximum(lost_reaches_record(state), zero)  # A > 0 and A ≤ 0: disjoint
    every = params.empty_check_every
    wanted = (chance > 0) & (chance >= params.empty_check_at) & (every >= 2)
    lost = np.zeros(len(chance)) if state.record_error is None else state.record_error
    believed = authority_names(state)
    holds = believed + " shows " + texts(state.authority, "{:g}")
    selling = ", " + seller + " shows " + texts(shown, "{:g}") + " available"
    reason = (
        np.where(zero > 0, "zero-balance check: ", "empty-shelf check: ")
        + holds
        + np.where(zero > 0, selling, "")
        + ", counts find "
        + texts(np.nan_to_num(lost), "{:.2f}")
        + " units lost unrecorded since the last count (P(empty) "
        + texts(chance, "{:.2f}")
        + ")"
    )
    return {
        "check_chance": np.where(wanted, chance, 0.0),
        "check_every": np.full(len(chance), every, dtype=np.int64),
        "check_reason": np.where(wanted, reason, ""),
        "check_system": np.where(wanted, np.where(zero > 0, seller, believed), ""),
    }


def zero_balance(state: CheckState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per key: a zero-balance confirmation's chance that a count finds the shelf empty.

    A candidate's believed record (the authority, or the record standing in for it) shows
    A ≤ 0 on its last day while the selling system showing most shows S > 0.5 available:
    the storefront offers what the count owner's record says is gone.  Its chance is
    P(E ≥ S), E ~ Poisson(the units the records overstate by since the key's last count,
    :func:`~driftkit.impact.recount.lost_since_count`): the count history's chance that
    the shelf is empty even if the selling record, not the believed one, is right (a lower
    bound; docs/impact.md, ninth pass).  0 elsewhere, or without a count history or a
    selling system.

    Returns
    -------
    tuple of numpy.ndarray
        Per key: the chance, S, and that selling system's name (object; "" without one).
    """
    n_keys = len(state.rate)
    if state.record_error is None or not state.selling_systems:
        return np.zeros(n_keys), np.full(n_keys, np.nan), np.full(n_keys, "", dtype=object)
    offered = np.nan_to_num(state.selling, nan=-np.inf)
    row = np.argmax(offered, axis=0)
    shown = state.selling[row, np.arange(n_keys)]
    seller = np.asarray(state.selling_systems, dtype=object)[row]
    confirm = (np.nan_to_num(state.authority, nan=1.0) <= 0) & (np.nan_to_num(shown) > SHOWN_AT)
    ones = np.ones(n_keys)
    chance = theory.demand_at_least(np.nan_to_num(state.record_error), ones, shown)
    return np.where(confirm, chance, 0.0), shown, seller


def candidates(money: pd.DataFrame, *, start: int = 0) -> pd.DataFrame:
    """The rows of money-ordered ``money`` that are check candidates (``check_chance`` > 0),
    with their position in the money order (``start`` + row) in :data:`POSITION`."""
    chance = money["check_chance"].to_numpy(dtype=float)
    rows = np.flatnonzero(chance > 0)
    return money.iloc[rows].assign(**{POSITION: rows + start})


def check_order(found: pd.DataFrame) -> pd.DataFrame:
    """:func:`candidates` as the second list: most likely empty first, ties in money order."""
    chance = found["check_chance"].to_numpy(dtype=float)
    order = np.lexsort((found[POSITION].to_numpy(), -chance))
    return found.iloc[order].reset_index(drop=True)


def taken_checks(position: np.ndarray, every: int) -> np.ndarray:
    """Which candidates take a check rank, in check order (``position``: each one's place in
    the money order).

    The j-th check (j = 1, 2, …) is rank j × ``every``; (j)(every − 1) money rows come
    before it.  A candidate the money order lists before its turn (its position is among
    the money rows consumed by then, check-listed rows skipped) is listed by money and not
    again; the next candidate takes the rank.  The loop runs over the candidates only (a
    small share of the keys), each step a binary search over the ranks taken.

    Returns
    -------
    numpy.ndarray
        bool per candidate.
    """
    taken = np.zeros(len(position), dtype=bool)
    passed: list[int] = []  # money positions of the candidates taken, sorted
    for i, pos in enumerate(np.asarray(position, dtype=np.int64).tolist()):
        need = (len(passed) + 1) * (every - 1)  # money rows before the next check rank
        consumed = need
        while (more := need + bisect_left(passed, consumed)) != consumed:
            consumed = more
        if pos >= consumed:
            insort(passed, pos)
            taken[i] = True
    return taken


def interleaved(
    batches: Iterable[pd.DataFrame], order: pd.DataFrame, every: int
) -> Iterator[pd.DataFrame]:
    """The count list's rows in their final order, batch by batch.

    Parameters
    ----------
    batches
        Every count-list row in the money order (:func:`~driftkit.impact.countlist.count_list_keys`),
        in consecutive batches.
    order
        :func:`check_order` of the candidates among those rows (positions over all batches).
    every
        ``empty_check_every`` (< 2: no checks).

    Returns
    -------
    Iterator of pandas.DataFrame
        The rows, with ``list`` (``money`` | ``empty_check``) and a check row's reason,
        system, drift and cause (``check_reason, check_system, check_drift,
        check_cause``); the taken candidates leave the money order and come back at
        their check rank.  Ranks are not numbered.
    """
    if every < 2 or not len(order):
        yield from (batch.assign(**{LIST: MONEY}) for batch in batches)
        return
    checks = order[taken_checks(order[POSITION].to_numpy(), every)]
    passed = np.sort(checks[POSITION].to_numpy())
    slots = (np.arange(len(checks)) + 1) * every - 1  # the j-th check's place
    checks = checks.drop(columns=POSITION).assign(
        reason=checks["check_reason"],
        system=checks["check_system"],
        drift_units=checks["check_drift"],
        cause=checks["check_cause"].replace("", np.nan),
    )
    checks[LIST], checks[SLOT] = EMPTY_CHECK, slots
    start = left = 0
    for batch in batches:
        at = start + np.arange(len(batch))
        start += len(batch)
        keep = ~np.isin(at, passed)
        index = at[keep] - np.searchsorted(passed, at[keep])  # among the money rows
        money = batch[keep].assign(**{LIST: MONEY})
        money[SLOT] = index + index // (every - 1)
        last = int(money[SLOT].iloc[-1]) if len(money) else -1
        upto = max(int(np.searchsorted(slots, last)), left)
        yield _by_slot([money, checks.iloc[left:upto]])
        left = upto
    if left < len(checks):
        yield _by_slot([checks.iloc[left:]])


def kept_head(money: pd.DataFrame, n: int) -> pd.DataFrame:
    """The rows of one part (money-ordered) that the list's first ``n`` ranks can hold: its
    first ``n`` by money and its first 2n candidates of the second list, in money order.

    The first n ranks hold at most n money rows, and consume at most 2n candidates (n/every
    taken, and the skipped ones, which the money order lists among its first n), so the
    parts' kept rows ranked together give the whole list's first n (:mod:`driftkit.scale`).
    """
    if "check_chance" not in money:
        return money.head(n)
    first = check_order(candidates(money)).head(2 * n)[POSITION].to_numpy()
    kept = np.zeros(len(money), dtype=bool)
    kept[:n] = True
    kept[first] = True
    return money[kept]


def _by_slot(frames: list[pd.DataFrame]) -> pd.DataFrame:
    table = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    return table.sort_values(SLOT, kind="stable").drop(columns=SLOT).reset_index(drop=True)
