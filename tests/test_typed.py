"""Typed Parquet snapshots (``load/typed.py``) against the careful per-file path.

Clean rows are copied; the suspect ones (empty SKU, unknown or out-of-range time, no
measure, a sentinel, a key two rows hold, also after normalization and aliases) go through
the careful path.  Both give the same rows, rejects, notes and ``files`` row; a file with
text quantities or ``unit = "pack"`` takes the careful path whole.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftkit.config import load_config
from driftkit.errors import InputError
from driftkit.load import rowkeys, typed
from driftkit.load.client import load_client
from driftkit.load.file import load_file
from driftkit.load.read import read_table
from driftkit.load.reference import finish_aliases
from tests.conftest import assert_rows_add_up, make_client

TOML = """[client]
timezone = "America/Chicago"
[sku]
remove = "-"
aliases = "raw/aliases.csv"
[systems.wms]
kind = "wms"
format = "parquet"
snapshots = "raw/wms_*.parquet"
[systems.wms.columns]
sku = "Item"
location = "Whse"
as_of = "Snapshot Time"
on_hand = "On Hand"
committed = "Allocated"
[systems.wms.locations]
"Main Whse" = "main"
[systems.erp]
kind = "erp"
format = "parquet"
snapshots = "raw/erp_*.parquet"
as_of_pattern = "erp_%Y-%m-%d.parquet"
scale = 2
[systems.shop]
kind = "storefront"
format = "parquet"
snapshots = "raw/shop.parquet"
as_of = "2026-11-01T23:00:00"
[systems.tpl]
kind = "3pl"
format = "parquet"
snapshots = "raw/tpl.parquet"
as_of = "2026-11-01T23:00:00"
unit = "pack"
"""
T1 = pd.Timestamp("2026-11-01 23:00")
T2 = pd.Timestamp("2026-11-02 23:00")
# (Item, Whse, Snapshot Time, On Hand, Allocated) and what the careful path does with it
WMS = [
    ("SKU-1", "Main Whse", T1, 5, 1.0),  # clean
    (" sku-2 ", None, T1, 3, None),  # clean once normalized; no location = main
    (None, "Main Whse", T1, 4, 0.0),  # empty SKU
    ("  ", "Main Whse", T1, 4, 0.0),  # empty SKU
    ("SKU-5", "Main Whse", pd.NaT, 4, 0.0),  # no time
    ("SKU-6", "Main Whse", T1, None, None),  # no measure
    ("SKU-7", "Main Whse", T1, 999999, 2.0),  # sentinel: kept, on_hand unknown, a note
    ("SKU-1", "Main Whse", T1, 5, 1.0),  # exact duplicate of line 1
    ("SKU-3", "Main Whse", T1, 1, 0.0),  # conflicting duplicates
    ("SKU3", "main", T1, 2, 0.0),  # ... the same key once normalized
    ("OLD-8", "Main Whse", T1, 6, 0.0),  # an alias of SKU-8
    ("SKU-8", "Main Whse", T2, 6, 0.0),  # clean: another time
    ("SKU-9", "Main Whse", pd.Timestamp("2250-01-01"), 1, 0.0),  # out of range
    ("SKU-10", "Main Whse", T2, -3, 0.0),  # negative: kept as it is
]
SUSPECT_ROWS = 10  # lines 3-10, 13 and line 1 (line 8 duplicates it)


def _parquet(frame: pd.DataFrame, schema: pa.Schema | None = None) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), sink)
    return sink.getvalue()


def _wms(rows: list[tuple[object, ...]]) -> bytes:
    frame = pd.DataFrame(rows, columns=["Item", "Whse", "Snapshot Time", "On Hand", "Allocated"])
    frame["On Hand"] = frame["On Hand"].astype("Int64")
    return _parquet(frame)


FILES: dict[str, str | bytes] = {
    "raw/aliases.csv": "system,raw_sku,sku\nwms,OLD-8,SKU-8\n",
    "raw/wms_1.parquet": _wms(WMS),
    "raw/wms_2.parquet": _wms(WMS[:2] + WMS[10:12]),  # no suspect row
    "raw/wms_3.parquet": _wms(list(reversed(WMS))),  # not sorted: duplicates by sorting
    "raw/erp_2026-11-01.parquet": _parquet(
        pd.DataFrame({"sku": ["B-1", "b1", "B-2"], "on_hand": [1, 1, 7]})
    ),
    "raw/shop.parquet": _parquet(pd.DataFrame({"sku": ["A", "B"], "on_hand": ["1", "x"]})),
    "raw/tpl.parquet": _parquet(pd.DataFrame({"sku": ["A"], "on_hand": [1.0]})),
}
TYPED = [
    "raw/wms_1.parquet",
    "raw/wms_2.parquet",
    "raw/wms_3.parquet",
    "raw/erp_2026-11-01.parquet",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    config = load_config(make_client(tmp_path_factory.mktemp("typed"), TOML, FILES))
    raw = read_table(config.root / "raw/aliases.csv", source_file="raw/aliases.csv")
    return config, finish_aliases(raw, config).table


def _system(name: str) -> str:
    return name.split("/")[1].split("_")[0].split(".")[0]


@pytest.mark.parametrize("name", TYPED)
def test_typed_equals_careful(client, name: str) -> None:
    config, aliases = client
    system, path = config.systems[_system(name)], config.root / name
    pack_sizes = pd.Series(dtype="float64")
    fast = typed.load_typed(config, system, path, aliases, pack_sizes)
    careful = load_file(config, system.id, "snapshots", path, system, aliases, pack_sizes)
    assert fast is not None
    pd.testing.assert_frame_equal(fast.finished.table, careful.finished.table)
    pd.testing.assert_frame_equal(fast.finished.rejects, careful.finished.rejects)
    assert fast.finished.notes == careful.finished.notes
    assert fast.file == careful.file


def test_only_suspect_rows_are_careful(client, monkeypatch: pytest.MonkeyPatch) -> None:
    config, aliases = client
    seen: list[int] = []
    finish = typed.finish_snapshots
    monkeypatch.setattr(
        typed, "finish_snapshots", lambda rows, *a: seen.append(len(rows)) or finish(rows, *a)
    )
    for name in ("raw/wms_1.parquet", "raw/wms_2.parquet"):
        path = config.root / name
        part = typed.load_typed(
            config, config.systems["wms"], path, aliases, pd.Series(dtype="float64")
        )
        assert part is not None
    assert seen == [SUSPECT_ROWS]
    assert part.finished.rows_accepted == 4


def test_dirty_file_rejects(client) -> None:
    config, aliases = client
    path = config.root / "raw/wms_1.parquet"
    part = typed.load_typed(
        config, config.systems["wms"], path, aliases, pd.Series(dtype="float64")
    )
    assert part is not None
    rejects = part.finished.rejects
    assert rejects["line"].tolist() == [3, 4, 5, 6, 8, 9, 10, 13]
    assert rejects["reason"].str.startswith("conflicting duplicates").sum() == 2
    assert part.file["rows_read"] == len(WMS) == 6 + len(rejects)
    assert part.finished.table["sku"].tolist() == ["SKU1", "SKU2", "SKU7", "SKU8", "SKU8", "SKU10"]
    assert part.finished.table["on_hand"].isna().tolist() == [
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    assert any("sentinel" in note for note in part.finished.notes)


@pytest.mark.parametrize("system", ["shop", "tpl"], ids=["text-quantities", "unit-pack"])
def test_other_files_take_the_careful_path(client, system: str) -> None:
    config, aliases = client
    source = config.systems[system]
    path = config.resolve(source.snapshots)[0]
    assert typed.load_typed(config, source, path, aliases, pd.Series(dtype="float64")) is None


def test_client_rows_add_up(client) -> None:
    data = load_client(client[0].root)
    assert_rows_add_up(data)
    assert data.files["rows_read"].sum() == 1 + len(WMS) * 2 + 4 + 3 + 2 + 1  # 1: the alias


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_keys_match_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    key, moment = rng.integers(0, 5, 200), rng.integers(0, 4, 200)
    expected = pd.DataFrame({"k": key, "m": moment}).duplicated(keep=False).to_numpy()
    assert (rowkeys.shared_keys(key, moment) == expected).all()
    order = np.lexsort((moment, key))
    assert (rowkeys.shared_keys(key[order], moment[order]) == expected[order]).all()


def test_unreadable_file_says_so(tmp_path) -> None:
    good = FILES["raw/wms_2.parquet"]
    assert isinstance(good, bytes)
    toml = TOML.split("[systems.erp]")[0]
    broken = {
        "raw/aliases.csv": FILES["raw/aliases.csv"],
        "raw/wms_1.parquet": good[:40] + good[-60:],
    }
    root = make_client(tmp_path, toml, broken)
    with pytest.raises(InputError, match="not a readable Parquet file"):
        load_client(root)
