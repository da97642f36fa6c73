"""Browser test of the dashboards: a warehouse built by the project's dbt from generated days, its
serving copy, scripts/dashboards.sh (Superset in an isolated home), then Debian's chromium logs in,
opens every dashboard of include/dashboards/assets and waits until every chart has drawn. Checked:
no chart shows an error; the numbers Superset's chart-data API answered equal plain SQL on the
serving copy; a zone role restricts every chart to its zone and an analyst without one sees
nothing; restricted groups have no SQL Lab and cannot reach other tables or PII through adhoc SQL;
nobody reads clear PII or other files through Superset; a new serving copy is served without a
restart; the governance dashboard shows the calls a real data API (uvicorn, over HTTP) answered,
401, 403 and 429 included, with numbers equal to plain SQL over its audit lines, to the admin
group only. Screenshots: FSDP_TEST_ARTIFACTS (default .local/test-artifacts)/dashboards/<slug>.png;
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
    audit_dir = call_the_api(tmp / "api", serving_dir)
    with ss.SupersetServer(tmp, serving_dir, extra_env={"FSDP_API_AUDIT_DIR": str(audit_dir)}) as server:
        yield {"server": server, "warehouse": warehouse, "serving_dir": serving_dir, "copy": copy, "tmp": tmp,
               "audit_dir": audit_dir}


VIEWER_PER_MINUTE = 4     # the API's viewer limit in this test, so a few calls reach a 429
OVER_THE_LIMIT = 2        # viewer calls past it: each answered 429


def call_the_api(work: Path, serving_dir: Path) -> Path:
    """The data API as a real uvicorn on the serving copy, called as admin, analyst and viewer,
    without and with bad credentials, past the scope and past a rate limit; returns its audit
    folder (scripts/dashboards.sh folds it into the governance dashboard's table at start)."""
    import yaml

    from include.api.settings import PACKAGE_DIR
    from tests.api.server import ApiServer

    groups = yaml.safe_load((PACKAGE_DIR / "user_groups.yml").read_text())
    for group in groups["userGroups"]:
        if group["name"] == "viewer":
            group["rateLimits"]["requestsPerMinute"] = VIEWER_PER_MINUTE
    work.mkdir(parents=True, exist_ok=True)
    (work / "user_groups.yml").write_text(yaml.safe_dump(groups, sort_keys=False))
    api = ApiServer(work, serving_dir, user_groups=work / "user_groups.yml",
                    env={"FSDP_API_AUDIT_FOLD_SECONDS": "0"}).start()
    try:
        c = api.client()
        by_zone = {"measures": ["transactions.debit_to_credit_ratio"], "dimensions": ["customers.zone"]}
        count = {"measures": ["customers.customer_count"], "dimensions": ["customers.city"]}
        statuses = []
        for _ in range(3):
            statuses.append(c.load(by_zone, c.auth("admin", sub="gov-admin")).status_code)
        statuses.append(c.load(count, c.auth("analyst", sub="gov-analyst", zone="North")).status_code)
        statuses.append(c.load(count, {}).status_code)                                           # 401
        statuses.append(c.load(count, {"Authorization": "Bearer not-a-token"}).status_code)      # 401
        statuses.append(c.load(count, c.auth("analyst", sub="gov-analyst-nozone")).status_code)  # 403 no claim
        statuses.append(c.get("/v2/meta", headers=c.auth("viewer", sub="gov-viewer")).status_code)  # 403 scope
        for _ in range(VIEWER_PER_MINUTE + OVER_THE_LIMIT):
            statuses.append(c.load(by_zone, c.auth("viewer", sub="gov-viewer")).status_code)    # ... 429
        statuses.append(c.get("/studio/").status_code)
    finally:
        api.stop()
    assert {200, 401, 403, 429} <= set(statuses), statuses
    return api.audit_dir


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


def serving_db_id(admin) -> int:
    (db_id,) = [d["id"] for d in admin.get("/api/v1/database/", columns=["id", "database_name"])["result"]
                if d["database_name"] == "FSDP serving copy"]
    return db_id


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
    db_id = serving_db_id(admin)
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
    db_id = serving_db_id(admin)
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
    db_id = serving_db_id(admin)
    assert _sql_lab(admin, db_id, "select run_id from serving_copy")["data"] == [{"run_id": "test-run-2"}]


# ---- the governance dashboard (the data API's audit trail) --------------------------------------

def audit_sql(stack):
    """Plain SQL over the audit JSON lines themselves (not the folded table Superset reads)."""
    con = duckdb.connect()
    con.execute(f"""create view trail as select
        coalesce(caller, '(unauthenticated)') as caller, coalesce("group", '(none)') as user_group,
        endpoint, status, rows, latency_ms, rate_limit
        from read_json('{stack["audit_dir"]}/audit-*.jsonl', format='newline_delimited',
            columns={{ts: 'TIMESTAMPTZ', caller: 'VARCHAR', "group": 'VARCHAR', endpoint: 'VARCHAR',
                     status: 'INTEGER', rows: 'BIGINT', latency_ms: 'DOUBLE', rate_limit: 'JSON'}})""")
    return lambda statement: con.execute(statement).fetchall()


def test_the_governance_dashboard_shows_the_api_calls_as_plain_sql_over_the_audit_lines(stack, renders, slices):
    q = audit_sql(stack)
    gov = renders["api-governance"]
    assert gov.errors == []
    (calls, refused, limited, rows), = q("""select count(*), count(*) filter (where status in (401, 403, 429)),
        count(*) filter (where status = 429), coalesce(sum(rows), 0) from trail""")
    assert {s for (s,) in q("select distinct status from trail")} >= {200, 401, 403, 429}
    assert answer_rows(gov, slices, "governance_calls")[0]["calls"] == calls
    assert answer_rows(gov, slices, "governance_refusals")[0]["refusals"] == refused
    assert answer_rows(gov, slices, "governance_rate_limit_hits")[0]["rate_limit_hits"] == limited == OVER_THE_LIMIT
    assert answer_rows(gov, slices, "governance_rows_served")[0]["rows_served"] == rows > 0
    # by group and API: calls, refusals by status, p50/p99 latency, rows
    want = {(g, e): (n, r, u, f, x, p50, p99, s) for g, e, n, r, u, f, x, p50, p99, s in q("""
        select user_group, endpoint, count(*), count(*) filter (where status in (401, 403, 429)),
               count(*) filter (where status = 401), count(*) filter (where status = 403),
               count(*) filter (where status = 429), quantile_cont(latency_ms, 0.5),
               quantile_cont(latency_ms, 0.99), coalesce(sum(rows), 0)
        from trail group by all""")}
    got = {(r["user_group"], r["endpoint"]): (r["calls"], r["refusals"], r["unauthenticated"], r["forbidden"],
                                             r["rate_limit_hits"], r["p50_latency_ms"], r["p99_latency_ms"],
                                             r["rows_served"])
           for r in answer_rows(gov, slices, "governance_by_group_and_api")}
    assert set(got) == set(want)
    for key, values in want.items():
        assert got[key][:5] == values[:5] and got[key][7] == values[7], key
        assert close(got[key][5], values[5]) and close(got[key][6], values[6]), key
    assert want[("(none)", "load")][2] == 2 and want[("viewer", "load")][4] == OVER_THE_LIMIT and want[("viewer", "meta")][3] == 1
    # by hour, group and API
    hourly = answer_rows(gov, slices, "governance_by_group_api_and_hour")
    assert sum(r["calls"] for r in hourly) == calls and sum(r["refusals"] for r in hourly) == refused
    # top callers
    top = {r["caller"]: (r["calls"], r["refusals"], r["rate_limit_hits"], r["rows_served"])
           for r in answer_rows(gov, slices, "governance_top_callers")}
    assert top == {c: (n, r, x, s) for c, n, r, x, s in q("""
        select caller, count(*), count(*) filter (where status in (401, 403, 429)), count(*) filter (where status = 429),
               coalesce(sum(rows), 0) from trail group by 1 order by 2 desc limit 10""")}
    # rate-limit hits by the limit that refused them
    hits = {(r["rate_limit_scope"], r["caller"]): r["calls"]
            for r in answer_rows(gov, slices, "governance_rate_limit_hits_by_caller")}
    assert hits == {(scope, c): n for scope, c, n in q("""
        select json_extract_string(rate_limit, '$.scope'), caller, count(*) from trail where status = 429
        group by all""")}
    # refusals per hour and status: every refusal in some hour
    per_hour = answer_rows(gov, slices, "governance_refusals_by_hour_and_status")
    assert sum(v for r in per_hour for k, v in r.items() if k != "hour" and v) == refused


GOVERNANCE = "api-governance"


def test_only_the_admin_group_sees_the_governance_dashboard(stack, renders, slices, users):
    gov = renders[GOVERNANCE]
    mine = {i for i, k in slices.items() if k.startswith("governance_")}
    (top,) = [i for i in mine if slices[i] == "governance_top_callers"]
    admin_rows = _replay(users["adm_group"], gov, slices, "governance_top_callers")
    rendered = answer_rows(gov, slices, "governance_top_callers")
    # the chart sorts by calls only: callers with as many calls come in either order, run to run
    assert [r["calls"] for r in admin_rows] == sorted((r["calls"] for r in admin_rows), reverse=True)
    assert sorted(admin_rows, key=repr) == sorted(rendered, key=repr)
    assert users["adm_group"].get(f"/api/v1/dashboard/{GOVERNANCE}")["result"]["slug"] == GOVERNANCE
    for name in ("ana_north", "ana_nozone", "vic_south", "vic_all"):
        api = users[name]
        with pytest.raises(ss.ApiError) as exc:
            api.get(f"/api/v1/dashboard/{GOVERNANCE}")
        assert exc.value.status in (403, 404), (name, exc.value)
        with pytest.raises(ss.ApiError) as exc:
            api.chart_data({**gov.requests[top], "force": True})
        assert exc.value.status in (403, 404), (name, exc.value)
        listed = {d["slug"] for d in api.get("/api/v1/dashboard/", columns=["slug"], page_size=100)["result"]}
        assert GOVERNANCE not in listed and "market-place" in listed, name
        charts = {c["id"] for c in api.get("/api/v1/chart/", columns=["id"], page_size=100)["result"]}
        assert not charts & mine, name
        datasets = {d["table_name"] for d in api.get("/api/v1/dataset/", columns=["table_name"], page_size=100)["result"]}
        assert "governance_api_calls" not in datasets, name
    # and in the browser: the analyst's page draws no chart and receives no chart data
    server = stack["server"]
    with ss.browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 900})
        ss.login(page, server.base, "ana_north", "pw-ana_north-123")
        answered = []
        page.on("response", lambda r: answered.append(r.status) if "/api/v1/chart/data" in r.url else None)
        page.goto(f"{server.base}/superset/dashboard/{GOVERNANCE}/")
        page.wait_for_timeout(8000)
        assert page.locator("[data-test-chart-id]").count() == 0
        assert 200 not in answered
