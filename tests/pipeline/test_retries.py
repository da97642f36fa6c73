"""Outages absorbed by retries leave a trace: every retry of a storage call (the project's blob
client and the adlfs filesystem dbt reads the landing through) logs one line and is counted as a
run event, against a real Azurite that is stopped and started again."""
from __future__ import annotations

import logging
import shutil
import threading
import time

import pytest

from include.pipeline import events
from tests.conftest import AzuriteProcess, _free_port

pytestmark = [pytest.mark.azurite]


@pytest.fixture
def flaky_azurite(tmp_path):
    """An Azurite of its own (stopping the session's would disturb other tests)."""
    data = tmp_path / "azurite"
    data.mkdir()
    proc = AzuriteProcess(data, _free_port())
    proc.start()
    yield proc
    proc.stop(graceful=False)
    shutil.rmtree(data, ignore_errors=True)


def outage(azurite: AzuriteProcess, seconds: float, graceful: bool = True) -> threading.Thread:
    """Stop Azurite now and start it again after ``seconds`` (in a thread). Graceful keeps what
    was written before (and takes up to ~10 s); SIGKILL may lose it."""
    azurite.stop(graceful=graceful)
    thread = threading.Thread(target=lambda: (time.sleep(seconds), azurite.start()), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def event_file(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv("FSDP_RUN_EVENTS_FILE", str(path))
    return path


def test_a_blob_call_through_an_outage_logs_every_retry_and_records_it(flaky_azurite, event_file, caplog):
    from include.blob_storage import AzureBlobStore

    store = AzureBlobStore(flaky_azurite.connection_string, retries=6, backoff=0.5)
    store.put("outage", "warmup.txt", b"x")
    restart = outage(flaky_azurite, 3)
    with caplog.at_level(logging.WARNING, logger="fsdp.retry"):
        assert store.put("outage", "during.txt", b"written through the outage")
    restart.join()
    assert store.get("outage", "during.txt") == b"written through the outage"
    lines = [r.getMessage() for r in caplog.records if r.name == "fsdp.retry"]
    assert lines and all(line.startswith("retry storage: PUT outage/during.txt: attempt ") for line in lines)
    assert "of 7 failed (" in lines[0] and "next attempt in" in lines[0]
    recorded = events.read_file(event_file)
    assert len(recorded) == len(lines)
    assert [e["attempt"] for e in recorded] == list(range(1, len(recorded) + 1))
    assert all(e["system"] == "storage" and e["wait_s"] > 0 for e in recorded)


def test_dbts_landing_reads_through_an_outage_log_their_retries_too(flaky_azurite, event_file, caplog, monkeypatch):
    from dbt_project.plugins.fsdp_blob import logging_abfs

    monkeypatch.setenv("FSDP_BLOB_BACKOFF", "0.3")
    from include.blob_storage import AzureBlobStore

    AzureBlobStore(flaky_azurite.connection_string).put("landing", "customers/dt=2026-03-02/part-00000.csv", b"a\n1\n")
    fs = logging_abfs(flaky_azurite.connection_string)
    restart = outage(flaky_azurite, 3)
    with caplog.at_level(logging.WARNING, logger="fsdp.retry"):
        assert fs.cat_file("landing/customers/dt=2026-03-02/part-00000.csv") == b"a\n1\n"
    restart.join()
    recorded = events.read_file(event_file)
    assert recorded and all(e["system"] == "storage" for e in recorded)
    assert any("landing/customers/dt=2026-03-02/part-00000.csv" in e["what"] for e in recorded)
    assert any(r.getMessage().startswith("retry storage: ") for r in caplog.records)


def test_the_run_report_counts_retries_per_system(tmp_path, monkeypatch):
    monkeypatch.setenv("FSDP_REPORTS_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-03-02T10:00:00+00:00")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "land_mock_data")
    events.retry("storage", "PUT landing/a.csv", 1, 7, 1.2, "ServiceRequestError: refused")
    events.retry("storage", "PUT landing/a.csv", 2, 7, 3.4, "ServiceRequestError: refused")
    events.retry("catalog", "GET http://om:8585/api/v1/system/version", 1, 3, 10, "ConnectionError")
    summary = events.retry_summary("manual__2026-03-02T10:00:00+00:00")
    assert summary["storage"] == {"retries": 2, "waited_s": 4.6, "calls": {"PUT landing/a.csv": 2},
                                  "tasks": ["land_mock_data"]}
    assert summary["catalog"]["retries"] == 1
    assert (tmp_path / "events" / "manual__2026-03-02T10_00_00_00_00.jsonl").exists()
