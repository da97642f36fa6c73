"""The dashboards-as-code tree (``include/dashboards/assets``): Superset's own import format, one
YAML per database, dataset, chart and dashboard, as ``superset export-dashboards`` writes it.

    assets = load_assets()              # parsed and cross-checked; AssetsError names the file
    assets.contents()                   # {relative path: text} for Superset's ImportDashboardsCommand

Checks (the import would otherwise fail late, or worse, half-succeed): unique UUIDs, every dataset
on a database of the tree, every chart on a dataset of the tree and on a dashboard, every chart of
a dashboard in the tree, every column and metric a chart names present in its dataset.
Pure Python and PyYAML: shared by Superset's venv, the tests and the catalog push.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
KINDS = ("databases", "datasets", "charts", "dashboards")
# chart params that name dataset columns / saved metrics
COLUMN_PARAMS = ("x_axis", "groupby", "groupbyRows", "groupbyColumns", "source", "target", "all_columns",
                 "columns", "series", "entity")
METRIC_PARAMS = ("metrics", "metric", "percent_metrics", "timeseries_limit_metric", "x_axis_sort", "secondary_metric")


class AssetsError(ValueError):
    """The tree is inconsistent; the message names the file."""


@dataclass
class Assets:
    root: Path
    files: dict[str, dict] = field(default_factory=dict)          # relative path -> parsed YAML
    databases: dict[str, dict] = field(default_factory=dict)      # uuid -> body
    datasets: dict[str, dict] = field(default_factory=dict)
    charts: dict[str, dict] = field(default_factory=dict)
    dashboards: dict[str, dict] = field(default_factory=dict)

    def contents(self) -> dict[str, str]:
        """What Superset's importer takes: relative path -> YAML text."""
        return {rel: (self.root / rel).read_text() for rel in self.files}

    def uuids(self) -> set[str]:
        return set(self.databases) | set(self.datasets) | set(self.charts) | set(self.dashboards)

    def dashboard_charts(self, dashboard_uuid: str) -> list[dict]:
        """The charts of a dashboard, in layout order."""
        position = self.dashboards[dashboard_uuid].get("position") or {}
        out = []

        def walk(node_id: str) -> None:
            node = position.get(node_id) or {}
            if node.get("type") == "CHART":
                out.append(self.charts[node["meta"]["uuid"]])
            for child in node.get("children") or []:
                walk(child)

        walk("ROOT_ID")
        return out

    def dataset_of(self, chart: dict) -> dict:
        return self.datasets[chart["dataset_uuid"]]

    def database_of(self, dataset: dict) -> dict:
        return self.databases[dataset["database_uuid"]]


def chart_columns(params: dict) -> set[str]:
    """Dataset columns a chart's params name (plain column names; adhoc objects by their column)."""
    out = set()
    for key in COLUMN_PARAMS:
        value = params.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                out.add(item)
            elif isinstance(item, dict) and item.get("column_name"):
                out.add(item["column_name"])
    for f in params.get("adhoc_filters") or []:
        if f.get("expressionType") == "SIMPLE" and f.get("subject"):
            out.add(f["subject"])
    return out


def chart_metrics(params: dict) -> set[str]:
    """Saved metric names a chart's params use (adhoc metrics carry their own SQL)."""
    out = set()
    for key in METRIC_PARAMS:
        value = params.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                out.add(item)
    return out


def load_assets(root: str | Path | None = None) -> Assets:
    root = Path(root) if root else ASSETS_DIR
    assets = Assets(root)
    if not (root / "metadata.yaml").exists():
        raise AssetsError(f"{root}: metadata.yaml is missing (not an import tree)")
    seen: dict[str, str] = {}
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        try:
            body = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise AssetsError(f"{rel}: invalid YAML ({exc})") from None
        if not isinstance(body, dict):
            raise AssetsError(f"{rel}: expected a mapping")
        assets.files[rel] = body
        kind = rel.split("/", 1)[0]
        if rel == "metadata.yaml":
            continue
        if kind not in KINDS:
            raise AssetsError(f"{rel}: unknown folder {kind} (expected one of {', '.join(KINDS)})")
        uuid = str(body.get("uuid") or "")
        if not uuid:
            raise AssetsError(f"{rel}: uuid is required")
        if uuid in seen:
            raise AssetsError(f"{rel}: uuid {uuid} is also used by {seen[uuid]}")
        seen[uuid] = rel
        getattr(assets, kind)[uuid] = {**body, "_file": rel}
    _check(assets)
    return assets


def _check(assets: Assets) -> None:
    for ds in assets.datasets.values():
        if ds.get("database_uuid") not in assets.databases:
            raise AssetsError(f"{ds['_file']}: database {ds.get('database_uuid')} is not in the tree")
    on_dashboards: set[str] = set()
    for dash in assets.dashboards.values():
        position = dash.get("position") or {}
        for node in position.values():
            if isinstance(node, dict) and node.get("type") == "CHART":
                uuid = (node.get("meta") or {}).get("uuid")
                if uuid not in assets.charts:
                    raise AssetsError(f"{dash['_file']}: chart {uuid} ({node.get('meta', {}).get('sliceName')}) "
                                      "is not in the tree")
                on_dashboards.add(uuid)
    for chart in assets.charts.values():
        where = chart["_file"]
        if chart.get("dataset_uuid") not in assets.datasets:
            raise AssetsError(f"{where}: dataset {chart.get('dataset_uuid')} is not in the tree")
        if chart["uuid"] not in on_dashboards:
            raise AssetsError(f"{where}: the chart is on no dashboard (it would not be imported)")
        ds = assets.datasets[chart["dataset_uuid"]]
        columns = {c["column_name"] for c in ds.get("columns") or []}
        metrics = {m["metric_name"] for m in ds.get("metrics") or []}
        params = chart.get("params") or {}
        if params.get("viz_type") != chart.get("viz_type"):
            raise AssetsError(f"{where}: params.viz_type differs from viz_type")
        for col in sorted(chart_columns(params) - columns):
            raise AssetsError(f"{where}: column {col} is not in dataset {ds['table_name']}")
        for metric in sorted(chart_metrics(params) - metrics - columns):
            raise AssetsError(f"{where}: metric {metric} is not in dataset {ds['table_name']}")
