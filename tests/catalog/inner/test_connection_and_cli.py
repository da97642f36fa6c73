"""Server configuration cases: none (record to a file), unreachable or incompatible (retry, then
fail with one clear message)."""
from __future__ import annotations

import json
import socket

import pytest

from include.catalog import cli
from include.catalog.push import CatalogPushError, connect
from include.catalog.recorder import FakeOpenMetadata, serve, unsigned_jwt


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


def test_unreachable_server_is_retried_then_fails_with_a_clear_message():
    waits = []
    with pytest.raises(CatalogPushError) as err:
        connect(_closed_port_url(), unsigned_jwt(), retries=3, wait_s=5, sleep=waits.append)
    assert waits == [5, 10]                        # backoff between the 3 attempts, none after the last
    assert "unreachable or incompatible after 3 attempts" in str(err.value)


def test_incompatible_server_version_is_retried_then_fails_naming_both_versions():
    with serve(FakeOpenMetadata(version="1.9.4")) as (url, fake):
        with pytest.raises(CatalogPushError) as err:
            connect(url, unsigned_jwt(), retries=2, wait_s=0, sleep=lambda s: None)
    assert "Server version is 1.9.4 vs. Client version 2.0.6" in str(err.value)
    assert [r.path for r in fake.requests].count("system/version") >= 2


def test_a_server_answering_errors_on_the_version_check_is_retried():
    # Regression: 503 while OpenMetadata starts (its migrations run before the API answers)
    with serve(FakeOpenMetadata(fail_version=503)) as (url, fake):
        with pytest.raises(CatalogPushError, match="HTTP 503"):
            connect(url, unsigned_jwt(), retries=2, wait_s=0, sleep=lambda s: None)
        fake.fail_version = None
        assert connect(url, unsigned_jwt(), retries=1).server_version == "2.0.6"


def _args(artifacts, out):
    t = artifacts / "target"
    return ["push", "--manifest", str(t / "manifest.json"), "--catalog", str(t / "catalog.json"),
            "--run-results", str(t / "run_results.json"), "--quality-json", str(artifacts / "soda"),
            "--out", str(out), "--no-dbt-ingestion"]


def test_without_a_server_the_step_says_so_in_one_line_and_writes_what_it_would_send(
        catalog_artifacts, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENMETADATA_HOST_PORT", raising=False)
    out = tmp_path / "sent.json"
    assert cli.main(_args(catalog_artifacts, out)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"catalog: no OpenMetadata server configured (OPENMETADATA_HOST_PORT unset): "
                        f"writing what would be sent to {out}")
    recording = json.loads(out.read_text())
    assert recording["requests"][0]["path"] == "/api/v1/system/version"
    tables = [r["body"]["name"] for r in recording["requests"] if r["method"] == "PUT" and r["path"] == "/api/v1/tables"]
    assert "customer_overview_dp" in tables
    assert recording["summary"]["tables"] == 19


def test_a_configured_but_unreachable_server_fails_the_step_with_a_clear_message(
        catalog_artifacts, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENMETADATA_HOST_PORT", _closed_port_url())
    monkeypatch.setenv("OPENMETADATA_JWT_TOKEN", unsigned_jwt())
    monkeypatch.setenv("OPENMETADATA_RETRIES", "2")
    monkeypatch.setenv("OPENMETADATA_RETRY_WAIT_SECONDS", "0")
    assert cli.main(_args(catalog_artifacts, tmp_path / "unused.json")) == 2
    err = capsys.readouterr().err
    assert "catalog: FAILED: OpenMetadata at http://127.0.0.1:" in err
    assert not (tmp_path / "unused.json").exists()


def test_a_server_without_a_token_is_refused_before_any_request(catalog_artifacts, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENMETADATA_HOST_PORT", "http://localhost:8585/api")
    monkeypatch.delenv("OPENMETADATA_JWT_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="OPENMETADATA_JWT_TOKEN is not"):
        cli.main(_args(catalog_artifacts, tmp_path / "x.json"))


def test_a_bot_not_allowed_to_create_the_owner_team_still_catalogs_everything_without_owners(
        catalog_artifacts, capsys):
    from include.catalog.push import CatalogPusher

    from .conftest import make_plan

    with serve(FakeOpenMetadata(forbidden={"teams"})) as (url, fake):
        result = CatalogPusher(connect(url, unsigned_jwt(), retries=1), make_plan(catalog_artifacts)).run()
    assert "cannot create team fs-domain-team" in capsys.readouterr().err
    assert result.counts["tables"] == 19 and "teams" not in result.counts
    assert all("owners" not in r.body for r in fake.requests if r.method == "PUT" and r.path == "tables")


def test_a_failing_dbt_ingestion_still_publishes_the_rest_then_fails_the_step(catalog_artifacts):
    from include.catalog.push import CatalogPusher

    from .conftest import make_plan

    def broken_dbt_workflow():
        raise RuntimeError("dbt reported errors: dbt Summary: [1 Errors]")

    with serve() as (url, fake):
        pusher = CatalogPusher(connect(url, unsigned_jwt(), retries=1), make_plan(catalog_artifacts),
                               dbt_ingestion=broken_dbt_workflow)
        with pytest.raises(CatalogPushError, match="dbt ingestion workflow reported errors.*1 Errors"):
            pusher.run()
    assert fake.dp_links[("customer-overview-dp", "assets")]     # lineage, product, quality went out
    assert fake.results
