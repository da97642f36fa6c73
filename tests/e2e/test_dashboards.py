"""Browser test of the dashboards: a warehouse built by the project's dbt from generated days, its
serving copy, scripts/dashboards.sh (Superset in an isolated home), then Debian's chromium logs in,
opens every dashboard of include/dashboards/assets and waits until every chart has drawn. Checked:
no chart shows an error; the numbers Superset's chart-data API answered equal plain SQL on the
serving copy; a zone role restricts every chart to its zone and an analyst without one sees
nothing; restricted groups have no SQL Lab and cannot reach other tables or PII through adhoc SQL;
nobody reads clear PII or other files through Superset; a new serving copy is served without a
restart. Screenshots: FSDP_TEST_ARTIFACTS (default .local/test-artifacts)/dashboards/<slug>.png;
with FSDP_UPDATE_SCREENSHOTS=1 also docs/dashboards/ (the README's)."""
from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from include import serving
from include.dashboards.assets import load_assets
from tests.e2e import superset as ss

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
DAYS = (date(2026, 11, 30), date(2026, 12, 1))
CUSTOMERS = 800
QUALITY_OK = {"ok": True, "checks": 1, "warnings": [], "failed": [], "run_id": "test-run"}
ARTIFACTS = Path(os.environ.get("FSDP_TEST_ARTIFACTS") or ROOT / ".local" / "test-artifacts") / "dashboards"
README_SHOTS = ROOT / "docs" / "dashboards"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if ss.chromium() is None:
        pytest.skip("Debian's chromium is not installed (scripts/lib.sh ensure_chromium installs it)")
    from tests.semantic.conftest import build_warehouse

    tmp = tmp_path_factory.mktemp("dashboards")
    warehouse = build_warehouse(tmp / "dbt", customers=CUSTOMERS, days=DAYS)
    serving_dir = tmp / "serving"
    copy = serving.publish(warehouse.duckdb_path, "test-run", DAYS[-1], QUALITY_OK,
                           manifest_path=warehouse.target_path / "manifest.json", target_dir=serving_dir)
    with ss.SupersetServer(tmp, serving_dir) as server:
        yield {"server": server, "warehouse": warehouse, "serving_dir": serving_dir, "copy": copy, "tmp": tmp}


@pytest.fixture(scope="module")
def tree():
    return load_assets()


@pytest.fixture(scope="module")
def admin(stack):
    server = stack["server"]
    return server.api(server.admin_user, server.admin_password)


@pytest.fixture(scope="module")
def slices(admin, tree) -> dict[int, str]:
    """Superset's chart id -> the chart's file stem in the tree (lead_total_customers ...)."""
    by_uuid = {c["uuid"]: Path(c["_file"]).stem for c in tree.charts.values()}
    listed = admin.get("/api/v1/chart/", columns=["id", "uuid"], page_size=100)["result"]
    return {c["id"]: by_uuid[c["uuid"]] for c in listed if c["uuid"] in by_uuid}


@pytest.fixture(scope="module")
def renders(stack, tree):
    """Every dashboard of the tree rendered by the admin in chromium (screenshots saved)."""
    server = stack["server"]
    out = {}
    with ss.browser() as b:
        page = b.new_page(viewport={"width": 1600, "height": 1200})
        page.set_default_timeout(ss.RENDER_TIMEOUT * 1000)
        ss.login(page, server.base, server.admin_user, server.admin_password)
        for dash in sorted(tree.dashboards.values(), key=lambda d: d["slug"]):
            shot = ARTIFACTS / f"{dash['slug']}.png"
            out[dash["slug"]] = ss.render_dashboard(page, server.base, dash["slug"], shot)
            if os.environ.get("FSDP_UPDATE_SCREENSHOTS"):
                README_SHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, README_SHOTS / shot.name)
    return out


@pytest.fixture(scope="module")
def sql(stack):
    """Plain SQL on the current serving copy (what Superset reads)."""
    con = duckdb.connect(str(stack["copy"].path), read_only=True)
    yield lambda statement, params=None: con.cursor().execute(statement, params or []).fetchall()
    con.close()


def answer_rows(render_or_answers, slices: dict[int, str], key: str) -> list[dict]:
    answers = render_or_answers.answers if hasattr(render_or_answers, "answers") else render_or_answers
    (slice_id,) = [i for i, k in slices.items() if k == key and i in answers]
    (result,) = answers[slice_id]["result"]
    return result["data"]


def close(a, b) -> bool:
    return a == pytest.approx(float(b), rel=1e-9, abs=0.005)


def by(rows: list[dict], dim: str, metric: str) -> dict:
    return {r[dim]: float(r[metric]) for r in rows}


def test_every_dashboard_renders_every_chart_without_errors(renders, tree):
    assert set(renders) == {d["slug"] for d in tree.dashboards.values()}
    for dash in tree.dashboards.values():
        render = renders[dash["slug"]]
        expected = sorted(c["slice_name"] for c in tree.dashboard_charts(dash["uuid"]))
        assert sorted(c["name"] for c in render.charts.values()) == expected, dash["slug"]
        assert render.errors == [], (dash["slug"], render.errors)
        assert (ARTIFACTS / f"{dash['slug']}.png").stat().st_size > 20_000
        for cid, chart in render.charts.items():
            rows = render.answers[cid]["result"][0]["data"]
            assert rows, f"{dash['slug']}: chart {chart['name']} has no data"


def test_key_numbers_equal_plain_sql_on_the_marts(renders, slices, sql):
    lead, spend, market = renders["lead-generation"], renders["spend-analysis"], renders["market-place"]
    (total,) = sql("select count(*) from fs_accelerator.customer_overview_dp")[0]
    assert answer_rows(lead, slices, "lead_total_customers")[0]["customer_count"] == total
    assert by(answer_rows(lead, slices, "lead_customers_by_archetype"), "cross_sell_archetype", "customer_count") == \
        {k: float(v) for k, v in sql("select cross_sell_archetype, count(*) from marketplace.customers group by 1")}
    assert by(answer_rows(lead, slices, "lead_customers_by_segment"), "cust_segment", "customer_count") == \
        {k: float(v) for k, v in sql("select cust_segment, count(*) from fs_accelerator.customer_overview_dp group by 1")}
    assert by(answer_rows(lead, slices, "lead_sales_by_product"), "product_name", "account_count") == \
        {k: float(v) for k, v in sql("select p.product_name, count(*) from fs_accelerator.account_dp a join "
                                     "fs_accelerator.product_dp p using (product_id) group by 1")}
    assert by(answer_rows(lead, slices, "lead_transactions_by_reason"), "txn_reason", "transaction_count") == \
        {k: float(v) for k, v in sql("select txn_reason, count(*) from marketplace.transactions group by 1")}
    # spend: successful debits
    (total_spend,) = sql("select sum(amount) from fs_accelerator.transaction_dp "
                         "where txn_status = 'Success' and txn_type = 'Debit'")[0]
    cumulative = answer_rows(spend, slices, "spend_cumulative_over_time")
    assert close(max(r["spend"] for r in cumulative), total_spend)
    got = by(answer_rows(spend, slices, "spend_by_segment"), "spend_segment", "spend")
    want = dict(sql("select c.spend_segment, sum(t.debit_amount) from marketplace.transactions t "
                    "join marketplace.customers c using (cust_id) group by 1"))
    assert set(got) == set(want) and all(close(got[k], want[k]) for k in want)
    sankey = answer_rows(spend, slices, "spend_sankey_reason_mode")
    assert close(sum(r["spend"] for r in sankey), total_spend)
    # market place: debit-to-credit ratio by zone
    got = by(answer_rows(market, slices, "market_dtc_by_zone"), "zone", "debit_to_credit_ratio")
    want = dict(sql("select c.zone, sum(t.debit_amount) / sum(t.credit_amount) from marketplace.transactions t "
                    "join marketplace.customers c using (cust_id) group by 1 having sum(t.credit_amount) > 0"))
    assert set(got) == set(want) and all(close(got[k], want[k]) for k in want)


def _replay(api, render, slices, key) -> list[dict]:
    (slice_id,) = [i for i, k in slices.items() if k == key and i in render.requests]
    answer = api.chart_data({**render.requests[slice_id], "force": True})
    return answer["result"][0]["data"]


USERS = [("ana_north", "analyst", {"zone": "North"}), ("ana_nozone", "analyst", {}),
         ("vic_south", "viewer", {"zone": "South"}), ("vic_all", "viewer", {}), ("adm_group", "admin", {})]


@pytest.fixture(scope="module")
def users(stack):
    """One user per case, created in one `include.dashboards user apply` (one app start)."""
    import yaml

    server = stack["server"]
    spec = stack["tmp"] / "users.yml"
    spec.write_text(yaml.safe_dump([{"username": n, "group": g, "claims": c, "password": f"pw-{n}-123"}
                                    for n, g, c in USERS]))
    server.cli("user", "apply", "--file", str(spec))
    return {n: server.api(n, f"pw-{n}-123") for n, _, _ in USERS}


def test_a_zone_role_restricts_every_chart_and_an_analyst_without_one_sees_nothing(renders, slices, users, sql):
    lead, market = renders["lead-generation"], renders["market-place"]
    north = dict(sql("select cross_sell_archetype, count(*) from marketplace.customers where zone = 'North' group by 1"))
    assert north, "the fixture needs customers in North"
    got = by(_replay(users["ana_north"], lead, slices, "lead_customers_by_archetype"), "cross_sell_archetype",
             "customer_count")
    assert got == {k: float(v) for k, v in north.items()}
    zones = {r["zone"] for r in _replay(users["ana_north"], market, slices, "market_dtc_by_zone")}
    assert zones == {"North"}
    assert {r["zone"] for r in _replay(users["vic_south"], market, slices, "market_dtc_by_zone")} == {"South"}
    (south_total,) = sql("select count(*) from marketplace.customers where zone = 'South'")[0]
    assert _replay(users["vic_south"], lead, slices, "lead_total_customers")[0]["customer_count"] == south_total
    # no zone role: the analyst's segment filters everything out, never serves it unfiltered
    rows = _replay(users["ana_nozone"], lead, slices, "lead_total_customers")
    assert rows[0]["customer_count"] == 0
    assert _replay(users["ana_nozone"], market, slices, "market_dtc_by_zone") == []
    # a viewer without a zone role reads every zone (the viewer group has no segment)
    assert len({r["zone"] for r in _replay(users["vic_all"], market, slices, "market_dtc_by_zone")}) > 1


def test_restricted_groups_get_no_sql_lab_and_no_other_table_or_pii_through_adhoc_sql(renders, slices, users, admin):
    lead = renders["lead-generation"]
    db_id = admin.get("/api/v1/database/", columns=["id", "database_name"])["result"][0]["id"]
    (slice_id,) = [i for i, k in slices.items() if k == "lead_customers_by_archetype"]
    base = lead.requests[slice_id]
    for name in ("ana_north", "vic_all"):
        api = users[name]
        with pytest.raises(ss.ApiError) as exc:
            api.sql_lab(db_id, "select email_addr from marketplace.customers")
        assert exc.value.status in (401, 403), exc.value
        attacks = [
            # another table through a subquery in a custom SQL metric
            {"expressionType": "SQL", "sqlExpression": "(select max(email_addr) from marketplace.customers)",
             "label": "x"},
            {"expressionType": "SQL", "sqlExpression": "max(email_addr)", "label": "x"},
            {"expressionType": "SQL", "sqlExpression": "max(length(read_text('/etc/hostname')))", "label": "x"},
        ]
        for metric in attacks:
            query = {**base["queries"][0], "metrics": [metric]}
            try:
                answer = api.chart_data({**base, "queries": [query], "force": True})
            except ss.ApiError as refused:
                assert refused.status in (400, 403, 422, 500), refused
                continue
            result = answer["result"][0]
            assert result.get("error") or result.get("status") == "failed", (name, metric, result)
        # a column the dataset does not have (PII is not in any dataset)
        query = {**base["queries"][0], "columns": ["email_addr"]}
        with pytest.raises(ss.ApiError):
            api.chart_data({**base, "queries": [query], "force": True})
        # the dataset list shows the tree's datasets only
        listed = {d["table_name"] for d in api.get("/api/v1/dataset/", columns=["table_name"], page_size=100)["result"]}
        assert listed <= {"dashboard_customers", "dashboard_transactions", "dashboard_accounts", "dashboard_campaign_events"}


def _sql_lab(api, db_id: int, statement: str) -> dict:
    try:
        return api.sql_lab(db_id, statement)
    except ss.ApiError as exc:
        return {"error": exc.body, "status": exc.status}


def test_sql_lab_of_the_admin_group_reads_no_clear_pii_and_no_other_file(stack, admin, users):
    api = users["adm_group"]
    db_id = admin.get("/api/v1/database/", columns=["id", "database_name"])["result"][0]["id"]
    clear = {r[0] for r in duckdb.connect(str(stack["warehouse"].duckdb_path), read_only=True).execute(
        "select email_addr from marketplace.customers where email_addr is not null").fetchall()}
    answer = _sql_lab(api, db_id, "select email_addr, cust_dob from marketplace.customers")
    served = {r["email_addr"] for r in answer["data"]}
    assert served and not served & clear
    assert all(len(v) == 64 for v in served if v) and {r["cust_dob"] for r in answer["data"]} == {None}
    for statement in (f"attach '{stack['copy'].pii_path}' as p (read_only)",
                      "select * from role_pii_reader.customers limit 1",
                      "select * from read_text('/etc/hostname')",
                      "set enable_external_access = true",
                      "create table x as select 1"):
        result = _sql_lab(api, db_id, statement)
        assert "error" in result or result.get("status") == "failed", (statement, result)


def test_a_new_serving_copy_is_served_without_a_restart(stack, admin, renders, slices, tmp_path):
    """Publish a copy without the North customers: the next query (same chart, cache on) answers from it."""
    lead = renders["lead-generation"]
    changed = tmp_path / "changed.duckdb"
    shutil.copy(stack["warehouse"].duckdb_path, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("delete from marketplace.customers where zone = 'North'")
        (left,) = con.execute("select count(*) from marketplace.customers").fetchone()
    before = _replay(admin, lead, slices, "lead_total_customers")[0]["customer_count"]
    serving.publish(changed, "test-run-2", DAYS[-1], QUALITY_OK,
                    manifest_path=stack["warehouse"].target_path / "manifest.json", target_dir=stack["serving_dir"])
    (slice_id,) = [i for i, k in slices.items() if k == "lead_total_customers"]
    answer = admin.chart_data({**lead.requests[slice_id], "force": False})   # cached answers are per copy
    assert left < before
    assert answer["result"][0]["data"][0]["customer_count"] == left
    db_id = admin.get("/api/v1/database/", columns=["id"])["result"][0]["id"]
    assert _sql_lab(admin, db_id, "select run_id from serving_copy")["data"] == [{"run_id": "test-run-2"}]
