"""The dashboards-as-code tree (include/dashboards/assets) is consistent, and a broken one is refused
with the file named, before Superset starts."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from include.dashboards.assets import ASSETS_DIR, AssetsError, load_assets

DASHBOARDS = {"campaign-funnel", "lead-generation", "spend-analysis", "market-place", "api-governance"}
SERVING_URI, AUDIT_URI = "duckdb:///fsdp-serving-copy", "duckdb:///fsdp-api-audit"


def test_the_tree_holds_the_dashboards_and_every_chart_is_on_one():
    tree = load_assets()
    assert {d["slug"] for d in tree.dashboards.values()} == DASHBOARDS
    on = {c["uuid"] for d in tree.dashboards.values() for c in tree.dashboard_charts(d["uuid"])}
    assert on == set(tree.charts)
    # the serving copy and the API's audit table, both placeholders (include.dashboards.serving),
    # read-only, no DML, no uploads
    assert sorted(d["sqlalchemy_uri"] for d in tree.databases.values()) == [AUDIT_URI, SERVING_URI]
    for database in tree.databases.values():
        assert not database["allow_dml"] and not database["allow_file_upload"] and not database["allow_ctas"]


def test_every_chart_names_its_saved_query_and_reads_a_dataset_with_a_zone():
    tree = load_assets()
    served = [c for c in tree.charts.values() if tree.database_of(tree.dataset_of(c))["sqlalchemy_uri"] == SERVING_URI]
    for chart in served:
        columns = {c["column_name"] for c in tree.dataset_of(chart)["columns"]}
        assert "zone" in columns, chart["_file"]
    described = [c for c in served if (c.get("description") or "").startswith("Semantic layer saved query")]
    assert len(described) >= len(served) - 1


def test_the_governance_dashboard_reads_only_the_audit_table_and_is_the_admin_groups():
    tree = load_assets()
    (dash,) = [d for d in tree.dashboards.values() if d["slug"] == "api-governance"]
    charts = tree.dashboard_charts(dash["uuid"])
    datasets = {tree.dataset_of(c)["uuid"]: tree.dataset_of(c) for c in charts}
    assert len(charts) >= 10 and len(datasets) == 1
    (ds,) = datasets.values()
    assert tree.database_of(ds)["sqlalchemy_uri"] == AUDIT_URI
    assert ds["extra"] == {"fsdp_groups": ["admin"]} and "from main.api_calls" in ds["sql"]
    # the audit table holds who called, never what they asked or from where
    assert not {"query", "params", "client"} & {c["column_name"] for c in ds["columns"]}
    # and no other dataset reads the audit database
    assert [d for d in tree.datasets.values() if tree.database_of(d)["sqlalchemy_uri"] == AUDIT_URI] == [ds]
    metrics = {m["metric_name"] for m in ds["metrics"]}
    assert {"calls", "refusals", "unauthenticated", "forbidden", "rate_limit_hits", "p50_latency_ms",
            "p99_latency_ms", "rows_served"} <= metrics


def test_dataset_members_are_semantic_layer_names():
    tree = load_assets()
    for ds in tree.datasets.values():
        for col in ds["columns"]:
            member = (col.get("extra") or {}).get("fsdp_member")
            if member:
                table, _, name = member.partition(".")
                assert table in {"customers", "transactions", "accounts", "products", "campaign_events"} and name, member


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "assets"
    shutil.copytree(ASSETS_DIR, root)
    return root


def _edit(path: Path, change) -> None:
    body = yaml.safe_load(path.read_text())
    change(body)
    path.write_text(yaml.safe_dump(body, sort_keys=False))


@pytest.mark.parametrize("breakage, message", [
    (lambda root: _edit(root / "charts/lead_total_customers.yaml", lambda b: b["params"].update(metric="no_such_metric")),
     "metric no_such_metric is not in dataset dashboard_customers"),
    (lambda root: _edit(root / "charts/lead_customers_by_state.yaml", lambda b: b["params"].update(x_axis="email_addr")),
     "column email_addr is not in dataset dashboard_customers"),
    (lambda root: _edit(root / "charts/spend_treemap.yaml", lambda b: b.update(uuid=yaml.safe_load(
        (root / "charts/spend_by_segment.yaml").read_text())["uuid"])), "is also used by"),
    (lambda root: (root / "datasets/fsdp_serving_copy/accounts.yaml").unlink(), "is not in the tree"),
    (lambda root: (root / "dashboards/market_place.yaml").unlink(), "the chart is on no dashboard"),
    (lambda root: (root / "metadata.yaml").unlink(), "metadata.yaml is missing"),
])
def test_a_broken_tree_is_refused_naming_the_file(tmp_path, breakage, message):
    root = _copy(tmp_path)
    breakage(root)
    with pytest.raises(AssetsError, match=message):
        load_assets(root)
