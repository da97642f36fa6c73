"""The landing ledger's inspection of one file (include/ledger), for every class of malformed file
the catalogue generates, for every entity of the contract (campaign events included): the outcome, the refusal reason, a
detail a person can act on, the rows counted, and an accepted file's spooled rows by name."""
from __future__ import annotations

import hashlib
import json
from datetime import date

import duckdb
import pytest

from include.ledger.inspect import REASONS, inspect_file, parse_manifest
from include.ledger.paths import classify, is_temporary
from include.mockgen.schema import ENTITIES
from tests.dbt import fixtures
from tests.ledger import badfiles

DAY = date(2026, 1, 5)
CONTRACTS = {name: e.column_names for name, e in ENTITIES.items()}
VALID = {
    "customers": [fixtures.customer(i) for i in range(1, 6)],
    "customer_updates": [fixtures.customer(i) for i in range(1, 6)],
    "products": [fixtures.product(i) for i in range(1, 6)],
    "accounts": [fixtures.account(i, cust=i, prod=1) for i in range(1, 6)],
    "transactions": [fixtures.transaction(i, acct=1) for i in range(1, 6)],
    "campaign_events": [fixtures.campaign_event(i, i, "Customer Reached", "08:00") for i in range(1, 6)],
}
CASES = [(entity, f) for entity in ENTITIES for f in badfiles.catalogue(entity, DAY, VALID[entity])]


def inspect(f: badfiles.BadFile, spool_dir, manifest: dict | None = "auto"):
    lp = classify(f.path, CONTRACTS)
    if manifest == "auto":
        entries = ([{**badfiles.manifest_entry(f.path, f.data, f.rows or 0), **f.manifest_override}]
                   if f.manifest else [{"path": f"{lp.entity}/dt={DAY}/other.csv", "rows": 1, "bytes": 1, "sha256": "0" * 64}])
        manifest = badfiles.manifest_bytes(lp.entity or "x", DAY, entries)
    parsed = parse_manifest(lp.manifest_path or "", "m1", manifest) if manifest is not None else None
    return inspect_file(lp, f"abfs://landing/{f.path}", "v1", f.data, CONTRACTS, parsed, spool_dir)


@pytest.mark.parametrize("entity, bad", CASES, ids=[f"{e}-{f.kind}" for e, f in CASES])
def test_each_malformed_file_gets_its_outcome_reason_and_a_detail_naming_the_problem(entity, bad, tmp_path):
    result = inspect(bad, tmp_path)

    assert (result.outcome, result.reason) == (bad.outcome, bad.reason), result.detail
    if bad.detail_contains:
        assert bad.detail_contains in result.detail
    if bad.note_contains:
        assert bad.note_contains in (result.notes or "")
    assert result.rows == bad.rows
    assert result.sha256 == hashlib.sha256(bad.data).hexdigest() and result.size_bytes == len(bad.data)
    if bad.outcome == badfiles.REFUSED:
        assert result.reason in REASONS and result.spool is None
        assert "\n" not in result.detail          # one line a person can read
    else:
        assert result.spool and result.detail is None


@pytest.mark.parametrize("kind", ["columns_reordered", "columns_reversed", "bom_at_start", "crlf_line_ends",
                                  "blank_lines_between_rows", "quote_in_name"])
def test_accepted_files_are_spooled_by_name_in_file_order(kind, tmp_path):
    # Regression: columns were read by position, so swapped columns were served swapped.
    entity = "accounts"
    bad = next(f for f in badfiles.catalogue(entity, DAY, VALID[entity]) if f.kind == kind)
    result = inspect(bad, tmp_path)
    names = CONTRACTS[entity]

    rows = duckdb.sql(f"select {', '.join(names)}, file_row_number from read_parquet('{result.spool}', "
                      f"file_row_number = true) order by file_row_number").fetchall()
    assert [list(r[:-1]) for r in rows] == [[v for v in row] for row in badfiles.table_rows(entity, VALID[entity])[1]]
    meta = duckdb.sql(f"select distinct _source_file, _source_file_version, _landed_date, _landing_entity "
                      f"from read_parquet('{result.spool}')").fetchall()
    assert meta == [(f"abfs://landing/{bad.path}", "v1", DAY, entity)]


def test_a_file_without_a_manifest_is_refused_and_a_manifest_change_is_what_cures_it(tmp_path):
    good = next(f for f in badfiles.catalogue("products", DAY, VALID["products"]) if f.kind == "crlf_line_ends")
    refused = inspect(good, tmp_path, manifest=None)
    assert (refused.outcome, refused.reason) == ("refused", "manifest_missing")
    assert "manifest" in refused.detail
    accepted = inspect(good, tmp_path)
    assert accepted.outcome == "accepted"


def test_a_manifest_that_is_not_json_refuses_its_parts_and_itself(tmp_path):
    good = next(f for f in badfiles.catalogue("products", DAY, VALID["products"]) if f.kind == "crlf_line_ends")
    assert inspect(good, tmp_path, manifest=b"{not json").reason == "manifest_invalid"
    lp = classify(f"products/dt={DAY}/_manifest.json", CONTRACTS)
    own = inspect_file(lp, "abfs://landing/x", "v1", b"[1, 2]", CONTRACTS, None, tmp_path)
    assert (own.outcome, own.reason) == ("refused", "manifest_invalid")


def test_a_manifest_listing_a_part_the_folder_lacks_is_refused(tmp_path):
    path = f"transactions/dt={DAY}/_manifest.json"
    data = badfiles.manifest_bytes("transactions", DAY, [{"path": f"transactions/dt={DAY}/part-00000.csv", "rows": 3,
                                                         "bytes": 10, "sha256": "0" * 64}])
    result = inspect_file(classify(path, CONTRACTS), "abfs://landing/" + path, "v1", data, CONTRACTS, None, tmp_path,
                          folder_paths={path})
    assert (result.outcome, result.reason) == ("refused", "manifest_lists_missing_files")
    assert "part-00000.csv" in result.detail


def test_control_characters_are_found_per_row_only_in_files_that_hold_them(tmp_path):
    names, values = badfiles.table_rows("transactions", VALID["transactions"])
    values[2][9] = "Big\x00Bazaar"
    values[3][9] = "Tab\there"
    data = badfiles.csv_bytes(names, values)
    f = badfiles.BadFile("nul", f"transactions/dt={DAY}/part-00000.csv", data, "accepted", rows=len(values))
    result = inspect(f, tmp_path)
    assert result.outcome == "accepted" and result.has_control_characters
    flags = duckdb.sql(f"select _has_control_characters from read_parquet('{result.spool}')").fetchall()
    assert [r[0] for r in flags] == [False, False, True, True, False]
    clean = inspect(badfiles.BadFile("clean", f.path, badfiles.csv_bytes(names, VALID_TX()), "accepted", rows=5),
                    tmp_path)
    assert clean.has_control_characters is False


def VALID_TX():
    return badfiles.table_rows("transactions", VALID["transactions"])[1]


def test_a_line_break_inside_a_quoted_value_is_one_row_and_checked(tmp_path):
    names, values = badfiles.table_rows("transactions", VALID["transactions"])
    values[1][9] = "Big\nBazaar"
    data = badfiles.csv_bytes(names, values)
    result = inspect(badfiles.BadFile("nl", f"transactions/dt={DAY}/part-00000.csv", data, "accepted", rows=5),
                     tmp_path)
    assert result.outcome == "accepted" and result.rows == 5 and result.has_control_characters


def test_paths_are_classified_by_entity_folder_and_date():
    assert classify("customers/dt=2026-01-05/part-00000.csv", CONTRACTS).kind == "part"
    assert classify("customers/dt=2026-01-05/_manifest.json", CONTRACTS).kind == "manifest"
    assert classify("customers/dt=2026-02-30/part-00000.csv", CONTRACTS).reason == "folder_not_a_date"
    assert classify("part-00000.csv", CONTRACTS).reason == "unexpected_path"
    assert classify("customers/dt=2026-01-05/notes.txt", CONTRACTS).reason == "not_a_csv_file"
    assert is_temporary("customers/dt=2026-01-05/.part-00000.csv.123.tmp")
    assert not is_temporary("customers/dt=2026-01-05/part-00000.csv")


def test_every_reason_says_what_to_do():
    assert all(text and not text.endswith(".") for text in REASONS.values())
    reasons = {f.reason for _, f in CASES if f.reason}
    # the catalogue exercises every reason a part or its folder can get from its own content
    assert reasons >= set(REASONS) - {"manifest_missing", "manifest_invalid", "manifest_lists_missing_files"}


def test_the_manifest_json_the_lander_writes_is_what_the_inspection_reads(tmp_path):
    from include.blob_storage import LocalStore
    from include.mockgen.landing import Lander

    lander = Lander(LocalStore(tmp_path))
    lander.land("products", DAY, [fixtures.to_table("products", VALID["products"])])
    path = f"products/dt={DAY}/part-00000.csv"
    data = (tmp_path / "landing" / path).read_bytes()
    manifest = parse_manifest(f"products/dt={DAY}/_manifest.json", "m",
                              (tmp_path / "landing" / "products" / f"dt={DAY}" / "_manifest.json").read_bytes())
    result = inspect_file(classify(path, CONTRACTS), "x", "v", data, CONTRACTS, manifest, tmp_path / "spool")
    assert result.outcome == "accepted", result.detail
    assert json.loads(json.dumps(result.as_dict()))["rows"] == 5
