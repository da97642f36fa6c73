"""What the catalog step sends to OpenMetadata 2.0.x, recorded at the HTTP level and checked
against the SDK's generated models and against the dbt artifacts it was built from."""
from __future__ import annotations

import re

import jsonpatch

from include.catalog.recorder import body_model

from .conftest import DAG_TASKS

SERVICE = "fsdp-warehouse"
PRODUCT_TABLES = ["customer_overview_dp", "product_dp", "account_dp", "transaction_dp", "campaign_event_dp"]


def fqn(schema: str, table: str) -> str:
    return f"{SERVICE}.fsdp.{schema}.{table}"


def bodies(fake, method: str, path: str) -> list:
    return [r.body for r in fake.requests if r.method == method and re.fullmatch(path, r.path)]


def last_table_body(fake, name: str) -> dict:
    return [b for b in bodies(fake, "PUT", "tables") if b["name"] == name][-1]


def test_every_request_body_validates_against_the_sdk_generated_models(pushed):
    # Regression: the real server rejects unknown fields and bad enums; the recorder must too.
    checked = 0
    for r in pushed.fake.requests:
        if r.body is None:
            continue
        if r.method == "PATCH":
            jsonpatch.JsonPatch(r.body)     # a JSON Patch document, applied to a validated entity
            continue
        model = body_model(r.method, r.path)
        assert model is not None, f"no SDK model known for {r.method} {r.path}"
        model.model_validate(r.body)
        checked += 1
    assert checked > 50


def test_no_request_failed_except_lookups_of_entities_not_yet_created(pushed):
    failed = [(r.method, r.path, r.status, r.error) for r in pushed.fake.requests
              if r.status >= 400 and not (r.method == "GET" and r.status == 404)]
    assert failed == []


def test_the_version_check_comes_first(pushed):
    first = pushed.fake.requests[0]
    assert (first.method, first.path) == ("GET", "system/version")


def test_warehouse_is_a_custom_database_service_with_a_connection_config(pushed):
    (svc,) = {b["name"]: b for b in bodies(pushed.fake, "PUT", "services/databaseServices")}.values()
    assert svc["serviceType"] == "CustomDatabase"
    assert svc["connection"]["config"]["type"] == "CustomDatabase"
    assert svc["connection"]["config"]["connectionOptions"] == {"engine": "duckdb", "path": "/data/fsdp.duckdb"}
    assert [b["name"] for b in bodies(pushed.fake, "PUT", "databases")] == ["fsdp"]
    assert {b["name"] for b in bodies(pushed.fake, "PUT", "databaseSchemas")} == {"fs_accelerator", "landing", "main",
                                                                                "marketplace"}


def test_every_dbt_table_and_column_is_cataloged_with_types_and_descriptions(pushed, catalog_artifacts):
    import json

    catalog = json.loads((catalog_artifacts / "target" / "catalog.json").read_text())
    manifest = json.loads((catalog_artifacts / "target" / "manifest.json").read_text())
    expected = {**catalog["nodes"], **catalog["sources"]}
    sent = {(b["databaseSchema"], b["name"]): b for b in bodies(pushed.fake, "PUT", "tables")}
    assert len(sent) == len(expected) == 19
    for node in expected.values():
        meta = node["metadata"]
        body = sent[(f"{SERVICE}.fsdp.{meta['schema']}", meta["name"])]
        cols = sorted(node["columns"].values(), key=lambda c: c["index"])
        assert [c["name"] for c in body["columns"]] == [c["name"] for c in cols]
        assert [c["dataTypeDisplay"] for c in body["columns"]] == [c["type"].lower() for c in cols]
    dp = sent[(f"{SERVICE}.fsdp.fs_accelerator", "customer_overview_dp")]
    documented = manifest["nodes"]["model.fsdp.customer_overview_dp"]
    assert dp["description"] == documented["description"]
    assert {c["name"]: c.get("description") for c in dp["columns"]} == {
        name: col["description"] for name, col in documented["columns"].items()}
    assert dp["tableType"] == "Regular"
    assert sent[(f"{SERVICE}.fsdp.main", "stg_landing__customers")]["tableType"] == "View"
    assert sent[(f"{SERVICE}.fsdp.landing", "customers")]["tableType"] == "External"
    types = {c["name"]: c for b in sent.values() for c in b["columns"] if b["name"] in PRODUCT_TABLES}
    assert types["cust_dob"]["dataType"] == "DATE"
    assert types["email_addr"]["dataType"] == "STRING"
    assert (types["balance"]["dataType"], types["balance"]["precision"], types["balance"]["scale"]) == ("DECIMAL", 18, 2)
    assert (types["features"]["dataType"], types["features"]["arrayDataType"]) == ("ARRAY", "STRING")
    assert types["loaded_at"]["dataType"] == "TIMESTAMPZ"


def test_tw_mask_columns_are_pii_sensitive_and_tw_dob_columns_carry_the_dob_tag(pushed):
    dp = last_table_body(pushed.fake, "customer_overview_dp")
    tags = {c["name"]: [t["tagFQN"] for t in c.get("tags") or []] for c in dp["columns"]}
    assert tags == {"cust_id": [], "cust_dob": ["DataProtection.DateOfBirth"], "email_addr": ["PII.Sensitive"],
                    "mobile_number1": ["PII.Sensitive"], "city": []}
    # the DOB tag exists before it is used; PII is OpenMetadata's own classification, never rewritten
    assert [b["name"] for b in bodies(pushed.fake, "PUT", "classifications")] == ["DataProtection"]
    assert bodies(pushed.fake, "PUT", "tags") == [
        {"classification": "DataProtection", "name": "DateOfBirth", "description": bodies(
            pushed.fake, "PUT", "tags")[0]["description"]}]


def test_owner_team_and_domain_are_set_on_every_table(pushed):
    team = pushed.fake.get("teams", "fs-domain-team")
    for body in bodies(pushed.fake, "PUT", "tables"):
        assert body["owners"] == [{"id": team["id"], "type": "team"}]
        assert body["domains"] == ["financial-services"]
    (domain,) = bodies(pushed.fake, "PUT", "domains")
    assert (domain["name"], domain["domainType"]) == ("financial-services", "Aggregate")


def test_lineage_runs_landing_to_raw_to_product_with_columns_and_the_airflow_pipeline(pushed):
    fake = pushed.fake
    pipeline = fake.get("pipelines", "fsdp-airflow.fsdp_daily")
    assert [t["name"] for t in pipeline["tasks"]] == [t["name"] for t in DAG_TASKS]
    assert pipeline["tasks"][0]["downstreamTasks"] == ["dbt_build"]
    assert fake.get("services/pipelineServices", "fsdp-airflow")["serviceType"] == "Airflow"

    def edge(up: str, down: str) -> dict:
        ids = (fake.get("tables", up)["id"], fake.get("tables", down)["id"])
        return fake.lineage[ids]["lineageDetails"]

    chain = [fqn("landing", "customers"), fqn("fs_accelerator", "customer_overview_raw"),
             fqn("main", "stg_landing__customers"), fqn("fs_accelerator", "customer_overview_dp")]
    for up, down in zip(chain, chain[1:]):
        details = edge(up, down)
        assert details["pipeline"]["id"] == pipeline["id"]
        assert details["source"] == "PipelineLineage"
        pairs = {(c["fromColumns"][0], c["toColumn"]) for c in details["columnsLineage"]}
        for col in ("cust_id", "cust_dob", "email_addr", "mobile_number1", "city"):
            assert (f"{up}.{col}", f"{down}.{col}") in pairs
    # every dbt dependency between cataloged tables is an edge, and only those
    expected = {(e.upstream, e.downstream) for e in pushed.plan.edges}
    sent = {(b["edge"]["fromEntity"]["id"], b["edge"]["toEntity"]["id"]) for b in bodies(fake, "PUT", "lineage")
            if b["edge"]["lineageDetails"].get("pipeline")}
    uid_by_id = {fake.get("tables", f)["id"]: uid for uid, f in pushed.result.table_fqns.items()}
    assert {(uid_by_id[a], uid_by_id[b]) for a, b in sent} == expected
    assert (("source.fsdp.landing.customer_updates", "model.fsdp.customer_overview_raw") in expected)


def test_lineage_keeps_the_dbt_ingestions_column_pairs_of_renamed_columns(pushed):
    fake = pushed.fake
    up, down = fqn("fs_accelerator", "product_raw"), fqn("fs_accelerator", "product_dp")
    details = fake.lineage[(fake.get("tables", up)["id"], fake.get("tables", down)["id"])]["lineageDetails"]
    pairs = {(c["fromColumns"][0], c["toColumn"]) for c in details["columnsLineage"]}
    assert (f"{up}.product_name", f"{down}.product_label") in pairs      # parsed from the SQL by dbt's ingestion
    assert (f"{up}.product_id", f"{down}.product_id") in pairs           # same name: this step
    assert details["pipeline"]["id"] == fake.get("pipelines", "fsdp-airflow.fsdp_daily")["id"]


def test_data_product_is_registered_in_its_domain_with_outputs_as_assets(pushed):
    fake = pushed.fake
    (body,) = bodies(fake, "PUT", "dataProducts")
    assert body["name"] == "customer-overview-dp"
    assert body["domains"] == ["financial-services"]
    assert body["description"].startswith("A unified, accurate, and persistent set of identifiers")

    def linked(kind: str) -> set[str]:
        return {a["fullyQualifiedName"] for a in fake.dp_links[("customer-overview-dp", kind)].values()}

    outputs = {fqn("fs_accelerator", t) for t in PRODUCT_TABLES}
    assert linked("assets") == outputs
    assert linked("outputPorts") == outputs
    assert linked("inputPorts") == {fqn("landing", t) for t in
                                    ("customers", "customer_updates", "products", "accounts", "transactions",
                                     "campaign_events")}


def test_soda_checks_become_test_cases_with_results_in_suites(pushed):
    fake = pushed.fake
    cases = {b["name"]: b for b in bodies(fake, "PUT", "dataQuality/testCases") if b["name"].startswith("soda_")}
    table = fqn("fs_accelerator", "customer_overview_dp")
    assert {c["entityLink"] for c in cases.values()} == {
        f"<#E::table::{table}>", f"<#E::table::{table}::columns::cust_id>",
        f"<#E::table::{table}::columns::email_addr>", f"<#E::table::{fqn('fs_accelerator', 'product_dp')}>"}
    results = {}
    for name in cases:
        case_fqn = next(f for f in fake.entities["dataQuality/testCases"] if f.endswith("." + name))
        (result,) = fake.results[case_fqn].values()
        results[cases[name]["displayName"]] = (result["testCaseStatus"], result["timestamp"])
    assert results == {"row_count_positive": ("Success", 1767571200000),       # the run's logical date
                       "cust_id_unique": ("Success", 1767571200000),
                       "email_addr_not_null": ("Failed", 1767571200000),
                       "row_count > 0": ("Success", 1767484800000)}
    executable = bodies(fake, "PUT", "dataQuality/testSuites/executable")
    # one executable suite per checked table: the Soda-checked ones, and the sources with a freshness result
    assert {b["basicEntityReference"] for b in executable} == {
        table, fqn("fs_accelerator", "product_dp"), fqn("landing", "customers"), fqn("landing", "transactions")}
    logical = fake.get("dataQuality/testSuites", "customer-overview-dp-soda")
    soda_ids = {d["id"] for f, d in fake.entities["dataQuality/testCases"].items()
                if f.split(".")[-1].startswith("soda_")}
    assert fake.logical[logical["id"]] == soda_ids and len(soda_ids) == 4
    defs = {b["name"]: b for b in bodies(fake, "PUT", "dataQuality/testDefinitions")}
    assert defs["sodaTableCheck"]["testPlatforms"] == ["Soda"]
    assert defs["sodaColumnCheck"]["entityType"] == "COLUMN"


def test_source_freshness_becomes_a_dbt_test_case_per_source_table_with_its_result(pushed):
    fake = pushed.fake
    cases = {b["name"]: b for b in bodies(fake, "PUT", "dataQuality/testCases") if b["name"].startswith("dbt_freshness_")}
    assert set(cases) == {"dbt_freshness_landing_customers", "dbt_freshness_landing_transactions"}
    assert all(c["testDefinition"] == "dbtSourceFreshness" for c in cases.values())
    assert all(c["entityLink"].startswith("<#E::table::") and ".landing." in c["entityLink"] for c in cases.values())
    statuses = {}
    for name in cases:
        case_fqn = next(f for f in fake.entities["dataQuality/testCases"] if f.endswith("." + name))
        (result,) = fake.results[case_fqn].values()
        statuses[name] = result["testCaseStatus"]
    assert statuses == {"dbt_freshness_landing_customers": "Success", "dbt_freshness_landing_transactions": "Success"}
    defs = {b["name"]: b for b in bodies(fake, "PUT", "dataQuality/testDefinitions")}
    assert defs["dbtSourceFreshness"]["testPlatforms"] == ["dbt"] and defs["dbtSourceFreshness"]["entityType"] == "TABLE"


def test_quality_profiles_become_table_profiles(pushed):
    (profile,) = pushed.fake.profiles[fqn("fs_accelerator", "customer_overview_dp")].values()
    assert profile["tableProfile"]["rowCount"] == 3
    assert profile["tableProfile"]["columnCount"] == 5
    cols = {c["name"]: c for c in profile["columnProfile"]}
    assert set(cols) == {"cust_id", "city"}                 # not_a_column is not in the table
    assert (cols["city"]["nullCount"], cols["city"]["valuesCount"], cols["city"]["distinctCount"]) == (1, 2, 2)
    (product,) = pushed.fake.profiles[fqn("fs_accelerator", "product_dp")].values()
    assert product["tableProfile"]["timestamp"] == 1767484800000


def test_dbt_ingestion_ran_through_the_sdk_workflow_on_the_local_artifacts(pushed):
    # the dbt source attaches each model's dbt data model (SQL, upstream, description) to its table
    models = [r.path for r in pushed.fake.requests if r.method == "PUT" and r.path.endswith("/dataModel")]
    assert len(models) == 19
    dp = pushed.fake.get("tables", fqn("fs_accelerator", "customer_overview_dp"))
    assert dp["dataModel"]["modelType"] == "DBT"
    assert "stg_landing__customers" in dp["dataModel"]["sql"]
    # and publishes dbt's own tests with their run results
    dbt_cases = [f for f in pushed.fake.results if f.endswith(("not_null_customer_overview_dp_cust_id",
                                                               "unique_customer_overview_dp_cust_id"))]
    assert len(dbt_cases) == 2


def test_every_metricflow_metric_is_a_metric_entity_with_its_definition(pushed, catalog_artifacts):
    import json

    manifest = json.loads((catalog_artifacts / "target" / "manifest.json").read_text())
    sent = {b["name"]: b for b in bodies(pushed.fake, "PUT", "metrics")}     # validated as CreateMetricRequest
    assert set(sent) == {m["name"] for m in manifest["metrics"].values()} == {
        "transaction_amount", "transaction_count", "average_ticket"}
    for m in manifest["metrics"].values():
        body = sent[m["name"]]
        assert (body["displayName"], body["description"]) == (m["label"], m["description"])
    assert sent["average_ticket"]["metricType"] == "RATIO"
    assert sent["average_ticket"]["metricExpression"] == {"language": "SQL",
                                                          "code": "transaction_amount / transaction_count"}
    assert ("txn_amount_total", "sum") in {(x["name"], x["aggregation"]) for x in sent["transaction_amount"]["measures"]}
    assert sorted(sent["average_ticket"]["relatedMetrics"]) == ["transaction_amount", "transaction_count"]


def test_every_metric_is_linked_to_the_tables_it_is_computed_on(pushed):
    fake = pushed.fake
    table = fake.get("tables", fqn("fs_accelerator", "transaction_dp"))
    for name in ("transaction_amount", "transaction_count", "average_ticket"):
        metric = fake.get("metrics", name)
        # the first-class link (this step's JSON Patch) ...
        assert [a["id"] for a in metric["assets"]] == [table["id"]]
        # ... and the lineage edge table -> metric (the dbt ingestion's)
        assert (table["id"], metric["id"]) in fake.lineage
        assert fake.lineage[(table["id"], metric["id"])]["toEntity"]["type"] == "metric"
    assert pushed.result.counts["metrics"] == 3 and pushed.result.counts["metric_assets"] == 3
    # a ratio is also downstream of the metrics it divides
    ids = {n: fake.get("metrics", n)["id"] for n in ("transaction_amount", "transaction_count", "average_ticket")}
    assert {(ids["transaction_amount"], ids["average_ticket"]), (ids["transaction_count"], ids["average_ticket"])} \
        <= set(fake.lineage)
    patches = [r for r in fake.requests if r.method == "PATCH" and r.path.startswith("metrics/")]
    assert patches and all(p.status == 200 for p in patches)


def test_a_rerun_updates_and_never_duplicates(pushed):
    fake = pushed.fake
    before = {coll: {f: d["id"] for f, d in docs.items()} for coll, docs in fake.entities.items()}
    versions = {f: d["version"] for f, d in fake.entities["tables"].items()}
    edges, results = dict(fake.lineage), {k: dict(v) for k, v in fake.results.items()}
    links = {k: dict(v) for k, v in fake.dp_links.items()}
    again = pushed.push_again()
    assert again.counts == pushed.result.counts
    assert {coll: {f: d["id"] for f, d in docs.items()} for coll, docs in fake.entities.items()} == before
    assert {f: d["version"] for f, d in fake.entities["tables"].items()} == versions
    assert fake.lineage.keys() == edges.keys()
    assert {k: v.keys() for k, v in fake.results.items()} == {k: v.keys() for k, v in results.items()}
    assert {k: v.keys() for k, v in fake.dp_links.items()} == {k: v.keys() for k, v in links.items()}
    assert all(len(p) == 1 for p in fake.profiles.values())


def test_test_case_names_are_stable_across_runs():
    from include.catalog.plan import check_case_name

    assert check_case_name("customer_overview_dp", "cust_id", "duplicate_count(cust_id) = 0") == \
        "soda_customer_overview_dp_duplicate_count_cust_id_0"
    assert check_case_name("customer_overview_dp", "city", "missing_count = 0") == \
        "soda_customer_overview_dp_city_missing_count_0"


def test_the_data_api_is_an_api_service_with_collections_endpoints_schemas_and_lineage(pushed):
    (svc,) = bodies(pushed.fake, "PUT", "services/apiServices")[-1:]
    assert svc["name"] == "fsdp-data-api" and svc["serviceType"] == "Rest"
    assert svc["connection"]["config"]["openAPISchemaConnection"]["openAPISchemaURL"].endswith("/openapi.json")
    collections = {b["name"]: b for b in bodies(pushed.fake, "PUT", "apiCollections")}
    assert set(collections) == {"market-place-v2", "apis-from-files"}
    endpoints = {b["name"]: b for b in bodies(pushed.fake, "PUT", "apiEndpoints")}
    assert {"load", "meta", "sql", "graphql", "debit-credit-ratio"} <= set(endpoints)
    ratio = endpoints["debit-credit-ratio"]
    assert ratio["requestMethod"] == "GET" and ratio["endpointURL"].endswith("/debit_credit_ratio_api")
    assert ratio["apiCollection"] == "fsdp-data-api.apis-from-files"
    assert [f["name"] for f in ratio["requestSchema"]["schemaFields"]] == ["zone", "channel"]
    row = ratio["responseSchema"]["schemaFields"][0]["children"][0]["children"]
    assert {f["name"]: f["dataType"] for f in row}["transactions.debit_to_credit_ratio"] == "DOUBLE"
    assert "Metrics: debit_to_credit_ratio" in ratio["description"]
    # lineage: every table an endpoint reads -> the endpoint
    # one edge per (from, to): other tests of this module push the same plan again
    edges = list({(b["edge"]["fromEntity"]["id"], b["edge"]["toEntity"]["id"]): b["edge"]
                  for b in bodies(pushed.fake, "PUT", "lineage") if b["edge"]["toEntity"]["type"] == "apiEndpoint"}.values())
    table_edges = [e for e in edges if e["fromEntity"]["type"] == "table"]
    assert len(table_edges) == 2 * len(endpoints)
    # metric -> endpoint for every metric an endpoint reads that the catalog holds
    metrics = {m["name"] for m in pushed.fake.entities.get("metrics", {}).values()}
    expected = sum(len(set(ep["reads"]["metrics"]) & metrics) for c in pushed.plan.api["collections"]
                   for ep in c["endpoints"])
    assert len(edges) - len(table_edges) == expected
    ends = {(pushed.fake.by_id(e["fromEntity"]["id"])["name"], pushed.fake.by_id(e["toEntity"]["id"])["name"])
            for e in edges}
    assert ("transaction_dp", "debit-credit-ratio") in ends and ("customer_overview_dp", "load") in ends
    if "debit_to_credit_ratio" in metrics:
        assert ("debit_to_credit_ratio", "debit-credit-ratio") in ends
    assert pushed.result.counts["api_endpoints"] == len(endpoints)


def test_the_dashboards_are_a_superset_service_with_charts_dashboards_and_lineage_from_their_tables(pushed):
    from include.dashboards.assets import load_assets

    tree = load_assets()
    (svc,) = bodies(pushed.fake, "PUT", "services/dashboardServices")[-1:]
    assert svc["name"] == "fsdp-superset" and svc["serviceType"] == "Superset" and "connection" not in svc
    dashboards = {b["name"]: b for b in bodies(pushed.fake, "PUT", "dashboards")}
    assert set(dashboards) == {d["slug"] for d in tree.dashboards.values()}
    charts = {b["name"]: b for b in bodies(pushed.fake, "PUT", "charts")}
    assert set(charts) == set(tree.charts)
    for dash in tree.dashboards.values():
        body = dashboards[dash["slug"]]
        assert body["displayName"] == dash["dashboard_title"]
        assert body["sourceUrl"].endswith(f"/superset/dashboard/{dash['slug']}/")
        assert body["charts"] == [f"fsdp-superset.{c['uuid']}" for c in tree.dashboard_charts(dash["uuid"])]
    types = {tree.charts[name]["viz_type"]: b["chartType"] for name, b in charts.items()}
    assert types["treemap_v2"] == "Other" and types["sankey_v2"] == "SanKey" and types["pie"] == "Pie"
    assert types["echarts_timeseries_bar"] == "Bar" and types["pivot_table_v2"] == "Table"
    # lineage: every cataloged table a dashboard's datasets read -> the dashboard
    edges = [b["edge"] for b in bodies(pushed.fake, "PUT", "lineage") if b["edge"]["toEntity"]["type"] == "dashboard"]
    ends = {(pushed.fake.by_id(e["fromEntity"]["id"])["name"], pushed.fake.by_id(e["toEntity"]["id"])["name"])
            for e in edges}
    assert {("account_dp", "lead-generation"), ("product_dp", "lead-generation")} <= ends
    assert all(e["lineageDetails"]["source"] == "DashboardLineage" for e in edges)
    assert pushed.result.counts["dashboards"] == len(tree.dashboards)
    assert pushed.result.counts["charts"] == len(tree.charts)
