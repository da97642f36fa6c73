"""One storage endpoint for every client: the Python clients, dbt's adlfs filesystem and the
scripts read the same setting (Regression: AZURITE_BLOB_PORT moved only the Azurite the scripts
start; blob_storage.py and profiles.yml kept 127.0.0.1:10000, so a second checkout read and wrote
the first one's storage)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from include import blob_storage
from include.blob_storage import StorageError, connection_string, storage_exports

ROOT = Path(__file__).resolve().parents[2]


def test_the_port_alone_moves_the_python_clients():
    conn = connection_string({"AZURITE_BLOB_PORT": "23456"})
    assert "BlobEndpoint=http://127.0.0.1:23456/devstoreaccount1;" in conn
    store = blob_storage.AzureBlobStore(conn)
    assert store.describe() == "blob storage at http://127.0.0.1:23456/devstoreaccount1"


def test_a_connection_string_wins_and_names_the_azurite_port_the_scripts_start():
    explicit = blob_storage.azurite_connection_string("127.0.0.1", 24680)
    assert storage_exports({"AZURE_STORAGE_CONNECTION_STRING": explicit}) == {
        "AZURE_STORAGE_CONNECTION_STRING": explicit, "AZURITE_BLOB_HOST": "127.0.0.1", "AZURITE_BLOB_PORT": "24680"}
    real = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=abc==;EndpointSuffix=core.windows.net"
    assert storage_exports({"AZURE_STORAGE_CONNECTION_STRING": real}) == {"AZURE_STORAGE_CONNECTION_STRING": real}


def test_a_connection_string_and_a_port_that_disagree_are_refused():
    explicit = blob_storage.azurite_connection_string("127.0.0.1", 24680)
    with pytest.raises(StorageError, match="points at Azurite port 24680 but AZURITE_BLOB_PORT is 11111"):
        storage_exports({"AZURE_STORAGE_CONNECTION_STRING": explicit, "AZURITE_BLOB_PORT": "11111"})


def test_dbt_reads_the_landing_through_the_same_endpoint(monkeypatch):
    from dbt.adapters.duckdb.plugins import BasePlugin

    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("AZURITE_BLOB_PORT", "23457")
    plugin = BasePlugin.create("dbt_project.plugins.fsdp_blob", config={})
    assert plugin._connection_string == connection_string()
    fs = plugin._filesystem("abfs")
    assert fs.connection_string == connection_string()
    assert fs.service_client.url.startswith("http://127.0.0.1:23457/devstoreaccount1")


def test_the_profile_repeats_no_endpoint():
    profile = (ROOT / "dbt_project" / "profiles.yml").read_text()
    assert "10000" not in profile and "BlobEndpoint" not in profile and "AccountKey" not in profile


def test_the_scripts_export_what_python_decides():
    out = subprocess.run([sys.executable, "-m", "include.blob_storage", "--exports"], cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "AZURITE_BLOB_PORT": "23458"}, capture_output=True,
                         text=True, check=True).stdout
    assert "export AZURITE_BLOB_PORT=23458" in out
    assert "BlobEndpoint=http://127.0.0.1:23458/devstoreaccount1;" in out
