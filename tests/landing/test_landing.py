"""Landing contract against a real Azurite process and the local-directory store."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import date

import pyarrow as pa
import pytest

from include.blob_storage import AzureBlobStore, LocalStore, StorageUnavailable
from include.mockgen.landing import Lander, encode_csv
from include.mockgen.schema import PRODUCTS
from tests.conftest import AzuriteProcess, _free_port, azurite_connection_string

D = date(2026, 11, 20)


def products(n: int, tag: str = "v1") -> pa.Table:
    """A products table with the landing contract's columns, all text."""
    cols = {c: [f"{c}-{tag}-{i}" for i in range(n)] for c in PRODUCTS.column_names}
    cols["product_id"] = [f"PRD{i:04d}" for i in range(n)]
    return pa.table(cols)


@pytest.fixture(params=["azurite", "local"])
def lander(request, tmp_path) -> Lander:
    """A Lander on fresh containers, once on Azurite and once on a local directory."""
    if request.param == "azurite":
        store = AzureBlobStore(request.getfixturevalue("azurite").connection_string, retries=2, backoff=0.1)
    else:
        store = LocalStore(tmp_path / "store")
    suffix = uuid.uuid4().hex[:8]
    return Lander(store, landing=f"landing-{suffix}", history=f"history-{suffix}")


@pytest.mark.azurite
def test_land_writes_parts_manifest_and_history(lander):
    result = lander.land("products", D, [products(3), products(2)])
    assert (result.rows, result.parts) == (5, 2)
    assert lander.landed_paths("products") == [
        "products/dt=2026-11-20/part-00000.csv", "products/dt=2026-11-20/part-00001.csv"]
    manifest = json.loads(lander.store.get(lander.landing, "products/dt=2026-11-20/_manifest.json"))
    assert manifest["rows"] == 5 and [p["rows"] for p in manifest["parts"]] == [3, 2]
    assert len(lander.store.list(lander.history, "products/")) == 2
    assert lander.read("products").num_rows == 5


@pytest.mark.azurite
def test_relanding_a_date_replaces_it_and_history_keeps_every_version(lander):
    lander.land("products", D, [products(3, "v1"), products(2, "v1")])
    lander.land("products", D, [products(4, "v2")])
    # Regression: a re-landing with fewer parts must not leave part-00001 of the first landing behind
    assert lander.landed_paths("products") == ["products/dt=2026-11-20/part-00000.csv"]
    assert lander.read("products").column("product_name").to_pylist()[0] == "product_name-v2-0"
    assert len(lander.store.list(lander.history, "products/")) == 3
    lander.land("products", D, [products(4, "v2")])  # identical bytes: nothing new anywhere
    assert len(lander.store.list(lander.history, "products/")) == 3
    assert lander.read("products").num_rows == 4


@pytest.mark.azurite
def test_dates_land_side_by_side_and_read_returns_all(lander):
    lander.land("products", D, [products(2)])
    lander.land("products", date(2026, 11, 21), [products(3)])
    assert lander.read("products").num_rows == 5
    assert lander.exists("products") and not lander.exists("accounts")


@pytest.mark.azurite
def test_an_empty_landing_still_writes_a_header_only_part(lander):
    result = lander.land("products", D, [])
    assert (result.rows, result.parts) == (0, 1)
    header = lander.store.get(lander.landing, result.paths[0]).decode().strip()
    assert header.replace('"', "").split(",") == PRODUCTS.column_names


def test_columns_that_differ_from_the_contract_are_refused(tmp_path):
    lander = Lander(LocalStore(tmp_path))
    with pytest.raises(ValueError, match="differ from the landing contract"):
        lander.land("products", D, [pa.table({"product_id": ["P1"]})])
    with pytest.raises(ValueError, match="unknown entity"):
        lander.land("nope", D, [])


def test_empty_strings_and_nulls_are_both_written_as_empty_fields():
    data = encode_csv(pa.table({"a": ["x", "", None], "b": [1, 2, 3]})).decode().splitlines()
    assert data == ['"a","b"', '"x",1', ",2", ",3"]


@pytest.mark.azurite
def test_a_reader_never_sees_a_half_written_blob(azurite):
    store = AzureBlobStore(azurite.connection_string, retries=1, backoff=0.1)
    container = f"atomic-{uuid.uuid4().hex[:8]}"
    old, new = b"a" * (12 << 20), b"b" * (12 << 20)  # > 8 MiB: the SDK stages blocks, then commits
    store.put(container, "big.bin", old)
    seen: set[tuple[int, bytes]] = set()
    done = threading.Event()

    def read_until_done():
        while not done.is_set():
            body = store.get(container, "big.bin")
            seen.add((len(body), body[:1] + body[-1:]))

    reader = threading.Thread(target=read_until_done)
    reader.start()
    store.put(container, "big.bin", new)
    time.sleep(0.3)
    done.set()
    reader.join()
    assert seen <= {(len(old), b"aa"), (len(new), b"bb")}
    assert store.get(container, "big.bin") == new


@pytest.mark.azurite
def test_landing_retries_through_an_azurite_restart(tmp_path):
    # Regression: a storage blip (emulator or network restart) must not fail a landing
    az = AzuriteProcess(tmp_path / "az", _free_port())
    az.start()
    try:
        lander = Lander(AzureBlobStore(az.connection_string, retries=6, backoff=0.5))
        lander.land("products", D, [products(1)])
        az.stop()
        outcome: dict = {}
        worker = threading.Thread(target=lambda: outcome.update(r=lander.land("products", D, [products(2, "v2")])))
        worker.start()
        time.sleep(1.5)
        az.start()
        worker.join(60)
        assert outcome["r"].rows == 2
        assert lander.read("products").num_rows == 2
    finally:
        az.stop(graceful=False)


def test_a_dead_endpoint_ends_with_one_clear_message():
    store = AzureBlobStore(azurite_connection_string(_free_port()), retries=1, backoff=0.05)
    with pytest.raises(StorageUnavailable) as err:
        Lander(store).land("products", D, [products(1)])
    message = str(err.value)
    assert "is unreachable" in message and "127.0.0.1" in message and "\n" not in message


# ------------------------------------------------------------------ one write, two names (#16)

@pytest.mark.azurite
def test_history_is_written_once_from_the_landing_bytes(lander):
    """put_and_copy: the history copy holds exactly the landed bytes, is created only when absent
    and survives the landing being replaced and deleted."""
    store, data = lander.store, b"a,b\n1,2\n"
    assert store.put_and_copy(lander.landing, "x/part.csv", data, lander.history, "x/part-h.csv") is True
    assert store.get(lander.landing, "x/part.csv") == data == store.get(lander.history, "x/part-h.csv")
    # the copy's name is taken: kept as it was, the landing still replaced
    assert store.put_and_copy(lander.landing, "x/part.csv", b"a,b\n3,4\n", lander.history, "x/part-h.csv") is False
    assert store.get(lander.history, "x/part-h.csv") == data
    assert store.get(lander.landing, "x/part.csv") == b"a,b\n3,4\n"
    store.delete(lander.landing, "x/part.csv")
    assert store.get(lander.history, "x/part-h.csv") == data


@pytest.mark.azurite
def test_azure_history_is_a_server_side_copy(azurite):
    """On Azure the bytes cross the network once: the history blob is a Copy Blob of the landing
    blob (the service records the copy's source and its status)."""
    store = AzureBlobStore(azurite.connection_string, retries=1, backoff=0.1)
    suffix = uuid.uuid4().hex[:8]
    store.put_and_copy(f"landing-{suffix}", "p.csv", b"x\n1\n", f"history-{suffix}", "p-h.csv")
    props = store.client.get_blob_client(f"history-{suffix}", "p-h.csv").get_blob_properties()
    assert props.copy.status == "success"
    assert props.copy.source.endswith(f"/landing-{suffix}/p.csv")
    assert props.content_settings.content_type == "text/csv"


@pytest.mark.azurite
def test_azure_copy_refused_falls_back_to_an_upload_of_the_same_bytes(azurite, monkeypatch):
    """When the service refuses the copy (here: the landing was replaced between upload and copy,
    so the source ETag no longer matches), the history gets the bytes of this call, never the other
    version's."""
    store = AzureBlobStore(azurite.connection_string, retries=1, backoff=0.1)
    suffix = uuid.uuid4().hex[:8]
    landing, history = f"landing-{suffix}", f"history-{suffix}"
    real_call = store._call

    def racing_call(what, fn, *args, **kwargs):
        if what.startswith("copy "):   # another writer replaces the landing first
            store.client.get_blob_client(landing, "p.csv").upload_blob(b"other\n", overwrite=True)
        return real_call(what, fn, *args, **kwargs)

    monkeypatch.setattr(store, "_call", racing_call)
    assert store.put_and_copy(landing, "p.csv", b"mine\n", history, "p-h.csv") is True
    assert store.get(history, "p-h.csv") == b"mine\n"


def test_local_history_is_a_second_name_of_one_read_only_file(tmp_path):
    import os
    import stat

    store = LocalStore(tmp_path)
    store.put_and_copy("landing", "e/part.csv", b"v1\n", "history", "e/part-1.csv")
    landed, kept = tmp_path / "landing/e/part.csv", tmp_path / "history/e/part-1.csv"
    assert os.path.samefile(landed, kept)                 # one write: one inode, two names
    assert stat.S_IMODE(kept.stat().st_mode) == 0o444    # never written in place
    store.put_and_copy("landing", "e/part.csv", b"v2\n", "history", "e/part-2.csv")
    assert kept.read_bytes() == b"v1\n" and landed.read_bytes() == b"v2\n"
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]   # no staging file left


def test_a_failing_part_stops_the_landing_and_writes_no_manifest(tmp_path):
    """Parts are written on a worker thread while the next is generated: an error in either
    still fails the landing, and no manifest claims parts that were not written."""
    lander = Lander(LocalStore(tmp_path))

    def parts():
        yield products(3)
        yield products(2)
        raise RuntimeError("generator broke")

    with pytest.raises(RuntimeError, match="generator broke"):
        lander.land("products", D, parts())
    assert lander.store.list(lander.landing, "products/dt=2026-11-20/_manifest.json") == []
    bad = products(2).rename_columns([*PRODUCTS.column_names[:-1], "other"])
    with pytest.raises(ValueError, match="differ from the landing contract"):
        lander.land("products", D, [products(3), bad])
    assert lander.store.list(lander.landing, "products/dt=2026-11-20/_manifest.json") == []
