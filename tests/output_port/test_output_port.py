"""The output port on a real warehouse (dbt build) and a real Azurite: what it publishes equals
the warehouse as its audience may read it, no clear PII, atomic per table, healed when files go
missing or change, never reported as published when the container does not match."""
from __future__ import annotations

import hashlib
import json
from datetime import date

import duckdb
import pytest

from include.blob_storage import StorageUnavailable
from include.governance.publication import ClearPIIRefused, published_select, load_rules
from include.output_port import OutputPortMismatch
from include.output_port.ports import Port as OutputPort, PortConfigError, ports
from include.output_port.publish import EXCLUDED_COLUMNS, POINTER
from include.output_port.reader import current_files, read_table
from include.pipeline import product

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

TABLES = [t.name for t in product.exported_tables()]


def _published(port, table, tmp_path):
    return read_table(port.store(), port.container, table, tmp_path / table)


def _warehouse_select(port, table, audience):
    manifest, policies = load_rules(manifest_path=port.manifest)
    con = duckdb.connect(str(port.db), read_only=True)
    t = next(t for t in product.exported_tables() if t.name == table)
    return con, published_select(con, t.schema, t.name, audience, manifest=manifest, policy_set=policies,
                                 exclude=EXCLUDED_COLUMNS)


def test_every_table_is_published_exactly_as_its_audience_reads_it_in_the_warehouse(port, tmp_path):
    result = port.publish()
    assert {t: r["status"] for t, r in result.items()} == {t: "created" for t in TABLES}
    audience = port.ports()[0].audience
    for table in TABLES:
        wh, ps = _warehouse_select(port, table, audience)
        expected = wh.execute(ps.sql).fetchall()
        pub = _published(port, table, tmp_path)
        got = pub.execute("select * from t").fetchall()
        assert len(got) == len(expected) == result[table]["rows"] > 0, table
        assert sorted(map(repr, got)) == sorted(map(repr, expected)), table   # same rows, nothing else
        assert [d[0] for d in pub.execute("select * from t").description] == [c for c, _ in ps.columns]
        assert "_published_run_id" not in [c for c, _ in ps.columns]
        wh.close()
    # the seed's partitioning, in hive layout under the version's folder
    manifest, files = current_files(port.store(), port.container, "customer_overview_dp")
    assert manifest["partition_by"] == ["country", "state"]
    assert all(f.startswith(f"customer_overview_dp/runs/{manifest['version']}/country=") for f in files)
    assert len(files) >= len(manifest["partitions"]) == len({(c, s) for c, s in _warehouse_select(
        port, "customer_overview_dp", audience)[0].execute(
        "select distinct country, state from fs_accelerator.customer_overview_dp").fetchall()})


def test_no_clear_tw_mask_or_tw_dob_value_is_in_any_published_file(port, tmp_path):
    port.publish()
    manifest_doc, _ = load_rules(manifest_path=port.manifest)
    node = manifest_doc["nodes"]["model.fsdp.customer_overview_dp"]
    masked = [c for c, col in node["columns"].items() if "TW.mask" in (col.get("tags") or [])]
    dob = [c for c, col in node["columns"].items() if "TW.dob" in (col.get("tags") or [])]
    assert len(masked) == 8 and dob == ["cust_dob"]
    with duckdb.connect(str(port.db), read_only=True) as wh:
        clear = {str(v) for c in masked for (v,) in wh.execute(
            f'select distinct cast("{c}" as varchar) from fs_accelerator.customer_overview_dp '
            f'where "{c}" is not null').fetchall()}
        # a value some untagged column also holds (a date, a city) says nothing about a person
        untagged = {str(v) for t in TABLES for (c,) in wh.execute(
            "select column_name from information_schema.columns where table_schema = 'fs_accelerator' "
            "and table_name = ?", [t]).fetchall() if c not in masked + dob
            for (v,) in wh.execute(f'select distinct cast("{c}" as varchar) from fs_accelerator.{t}').fetchall()}
        by_id = {r[0]: r[1:] for r in wh.execute(
            f'select cust_id, {", ".join(masked)}, cust_dob from fs_accelerator.customer_overview_dp').fetchall()}
    clear -= untagged
    assert len(clear) > 500
    # every value of every column of every file of every table, as text
    store = port.store()
    seen = 0
    for name in store.list(port.container):
        if not name.endswith(".parquet"):
            continue
        path = tmp_path / "scan.parquet"
        path.write_bytes(store.get(port.container, name))
        with duckdb.connect() as con:
            cols = [r[0] for r in con.execute(f"describe select * from read_parquet('{path}')").fetchall()]
            for c in cols:
                values = {v for (v,) in con.execute(
                    f'select distinct cast("{c}" as varchar) from read_parquet(\'{path}\', '
                    f'hive_partitioning = false)').fetchall()}
                leaked = (values - {None}) & clear
                assert not leaked, f"{name}: column {c} holds clear PII, e.g. {sorted(leaked)[:3]}"
                seen += len(values)
    assert seen > 1000
    # and what is there is the policy's treatment: sha256 of the clear text, the quarter of the DOB
    pub = _published(port, "customer_overview_dp", tmp_path)
    for row in pub.execute(f'select cust_id, {", ".join(masked)}, cust_dob from t').fetchall():
        clear_row = by_id[row[0]]
        for got, value in zip(row[1:-1], clear_row[:-1]):
            assert got == (hashlib.sha256(str(value).encode()).hexdigest() if value is not None else None)
        dob_clear = clear_row[-1]
        if dob_clear is not None:
            assert row[-1] == date(dob_clear.year, 3 * ((dob_clear.month - 1) // 3) + 1, 1)
    manifest, _ = current_files(port.store(), port.container, "customer_overview_dp")
    assert manifest["audience"]["user_tags"] == ["roles:id:dob-bucketing"]
    assert manifest["treatments"]["cust_dob"] == "bucket_date(quarter)"
    assert manifest["treatments"]["email_addr"] == "hash(sha256)"


def test_an_audience_that_would_read_pii_in_clear_is_refused_for_the_output_port(port):
    with pytest.raises(ClearPIIRefused, match="would read .*cust_dob.* in clear"):
        port.publish(ports_=port.ports(audience="roles:id:pii-reader"))
    assert port.store().list(port.container, "customer_overview_dp/") == []
    # no audience (the public defaults) is allowed: names hashed, the date of birth withheld
    port.publish(ports_=port.ports(audience=""))


def test_the_clear_export_goes_only_to_its_own_configured_destination(port, tmp_path):
    with pytest.raises(PortConfigError, match="must go to its own destination"):
        ports({"FSDP_CURATED_CONTAINER": port.container, "FSDP_CLEAR_EXPORT_CONTAINER": port.container})
    clear_container = port.container + "-clear"
    both = ports({"FSDP_CURATED_CONTAINER": port.container, "FSDP_CLEAR_EXPORT_CONTAINER": clear_container})
    assert [p.name for p in both] == ["curated", "curated-clear"] and both[1].audience.clear
    summary = port.publish(ports_=both)
    assert set(summary["ports"]) == {"curated", "curated-clear"}
    clear = read_table(port.store(), clear_container, "customer_overview_dp", tmp_path / "clear")
    masked = read_table(port.store(), port.container, "customer_overview_dp", tmp_path / "masked")
    with duckdb.connect(str(port.db), read_only=True) as wh:
        emails = {e for (e,) in wh.execute("select email_addr from fs_accelerator.customer_overview_dp").fetchall()}
    assert {e for (e,) in clear.execute("select email_addr from t").fetchall()} == emails
    assert not {e for (e,) in masked.execute("select email_addr from t").fetchall()} & emails


def test_a_run_that_changes_nothing_writes_nothing(port):
    first = port.publish()
    files = set(port.store().list(port.container))
    again = port.publish("run-2")
    assert {r["status"] for r in again.values()} == {"unchanged"}
    assert sum(r["files_uploaded"] for r in again.values()) == 0
    assert {t: r["version"] for t, r in again.items()} == {t: r["version"] for t, r in first.items()}
    assert set(port.store().list(port.container)) - {"_port.json"} == files - {"_port.json"}


def test_a_changed_row_rewrites_only_its_partitions_and_keeps_the_other_files(port):
    port.publish()
    before_manifest, before = current_files(port.store(), port.container, "customer_overview_dp")
    with duckdb.connect(str(port.db)) as con:
        cust, country, state = con.execute("select cust_id, country, state from fs_accelerator.customer_overview_dp "
                                           "order by cust_id limit 1").fetchone()
        con.execute("update fs_accelerator.customer_overview_dp set city = 'Elsewhere' where cust_id = ?", [cust])
    result = port.publish("run-2")["customer_overview_dp"]
    assert (result["status"], result["rewritten"], result["reasons"]) == ("published", 1, {"rows changed": 1})
    manifest, after = current_files(port.store(), port.container, "customer_overview_dp")
    kept = [f for f in after if f in before]
    assert len(kept) == len(before) - 1                  # every other partition's file is the same object
    changed = [p for p in manifest["partitions"] if p["key"] == [country, state]]
    assert changed[0]["files"][0]["path"].startswith(f"runs/{manifest['version']}/")
    assert manifest["previous"] == before_manifest["version"]
    assert port.status()["customer_overview_dp"]["problems"] == []


def test_files_lost_or_altered_in_the_container_are_rewritten_on_the_next_run(port):
    port.publish()
    store = port.store()
    _, files = current_files(store, port.container, "customer_overview_dp")
    store.delete(port.container, files[0])                               # lost in an outage
    altered = files[1]
    store.put(port.container, altered, b"not the parquet that was published")   # replaced by someone
    store.delete(port.container, f"account_dp/{POINTER}")                # pointer lost
    _, tx_files = current_files(store, port.container, "transaction_dp")
    for f in tx_files:                                                   # a whole table's files lost
        store.delete(port.container, f)
    problems = port.status()
    assert any("is missing" in p for p in problems["customer_overview_dp"]["problems"])
    assert any("was replaced" in p for p in problems["customer_overview_dp"]["problems"])
    assert problems["account_dp"]["problems"] == ["never published (no pointer)"]
    assert problems["transaction_dp"]["problems"]
    healed = port.publish("run-2")
    assert (healed["customer_overview_dp"]["status"], healed["customer_overview_dp"]["rewritten"]) == ("healed", 2)
    assert healed["account_dp"]["status"] == healed["transaction_dp"]["status"] == "healed"
    assert healed["product_dp"]["status"] == "unchanged"
    from include.output_port import status

    after = status(port.db, manifest_path=port.manifest, ports_=port.ports(), content=True)["curated"]
    assert {t: s["problems"] for t, s in after.items()} == {t: [] for t in TABLES}


class FailingStore:
    """A store that fails after ``uploads`` file uploads, like storage going away mid-publication."""

    def __init__(self, store, uploads: int):
        self.store, self.left = store, uploads

    def put_file(self, container, path, local):
        if self.left <= 0:
            raise StorageUnavailable("blob storage at http://127.0.0.1 is unreachable: upload failed after 7 attempts")
        self.left -= 1
        return self.store.put_file(container, path, local)

    def __getattr__(self, name):
        return getattr(self.store, name)


class LyingStore(FailingStore):
    """Says every upload succeeded, writes nothing (adlfs-style swallowed failures)."""

    def put_file(self, container, path, local):
        from include.blob_storage import BlobInfo

        return BlobInfo(size=local.stat().st_size, etag="0x1", md5=None)


def _with_store(port, store_cls, **kw):
    p = port.ports()[0]

    class Wrapped(OutputPort):
        def store(self):
            return store_cls(port.store(), **kw)
    return [Wrapped(p.name, p.target, p.container, p.audience)]


def test_storage_failing_mid_publication_leaves_readers_on_the_previous_complete_version(port, tmp_path):
    port.publish()
    old_manifest, old_files = current_files(port.store(), port.container, "customer_overview_dp")
    with duckdb.connect(str(port.db)) as con:
        con.execute("update fs_accelerator.customer_overview_dp set city = city || ' (moved)'")   # every partition
    with pytest.raises(StorageUnavailable):
        port.publish("run-2", ports_=_with_store(port, FailingStore, uploads=5))
    manifest, files = current_files(port.store(), port.container, "customer_overview_dp")
    assert manifest["version"] == old_manifest["version"] and files == old_files
    assert _published(port, "customer_overview_dp", tmp_path).execute("select count(*) from t").fetchone()[0] == \
        old_manifest["rows"]                              # the old version, complete and readable
    listing = set(port.store().list(port.container, "customer_overview_dp/runs/"))
    assert len(listing) == len(old_files) + 5             # the half-written version's files, unreferenced
    result = port.publish("run-3")["customer_overview_dp"]
    assert result["status"] == "published" and result["rewritten"] == len(old_manifest["partitions"])
    assert port.status()["customer_overview_dp"]["problems"] == []
    manifest, files = current_files(port.store(), port.container, "customer_overview_dp")
    left = set(port.store().list(port.container, "customer_overview_dp/runs/"))
    assert left == set(files) | set(old_files)           # orphans gone; the previous version kept for readers


def test_a_publication_whose_files_did_not_land_is_never_reported_as_published(port):
    with pytest.raises(OutputPortMismatch, match="does not match the warehouse after publishing.*is missing"):
        port.publish(ports_=_with_store(port, LyingStore, uploads=0))


def test_the_pointer_is_written_after_every_file_of_its_version(port):
    writes = []

    class Recording(FailingStore):
        def put_file(self, container, path, local):
            writes.append(path)
            return self.store.put_file(container, path, local)

        def put(self, container, path, data, **kw):
            writes.append(path)
            return self.store.put(container, path, data, **kw)

    port.publish(ports_=_with_store(port, Recording, uploads=10 ** 6))
    for table in TABLES:
        mine = [w for w in writes if w.startswith(f"{table}/")]
        assert mine[-1] == f"{table}/{POINTER}" and mine[-2].startswith(f"{table}/_versions/")
        assert all("/runs/" in w for w in mine[:-2])


def test_the_previous_version_stays_readable_until_the_next_publication(port):
    port.publish()
    store = port.store()
    v1, files1 = current_files(store, port.container, "product_dp")
    with duckdb.connect(str(port.db)) as con:
        con.execute("update fs_accelerator.product_dp set product_name = product_name || ' v2'")
    port.publish("run-2")
    assert all(f in store.list(port.container, "product_dp/") for f in files1)    # a reader on v1 can finish
    with duckdb.connect(str(port.db)) as con:
        con.execute("update fs_accelerator.product_dp set product_name = product_name || ' v3'")
    port.publish("run-3")
    assert not any(f in store.list(port.container, "product_dp/") for f in files1)
    versions = store.list(port.container, "product_dp/_versions/")
    assert len(versions) == 3 and json.loads(store.get(port.container, versions[0]))["version"] == v1["version"]


def test_the_cli_verifies_the_port_against_the_warehouse(port, monkeypatch, capsys):
    from include.output_port.__main__ import main

    port.publish()
    monkeypatch.setenv("FSDP_CURATED_CONTAINER", port.container)
    monkeypatch.setenv("FSDP_DBT_TARGET_DIR", str(port.manifest.parent))
    assert main(["verify", "--content", "--db", str(port.db)]) == 0
    assert capsys.readouterr().out.count("in sync") == len(TABLES)
    _, files = current_files(port.store(), port.container, "account_dp")
    port.store().delete(port.container, files[0])
    assert main(["verify", "--db", str(port.db)]) == 1
    assert "account_dp" in capsys.readouterr().out.split("DIFFERS")[0].splitlines()[-1]
