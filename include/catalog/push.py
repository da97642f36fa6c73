"""Push a CatalogPlan to OpenMetadata 2.0.x through the official SDK (runs in .venv-catalog).

Every write is a create-or-update (PUT) keyed by name, a lineage edge keyed by its two ends, a
data product asset/port add (a set), or a time-series point keyed by its timestamp (the Soda
scan's data timestamp): a re-run updates what is there and never duplicates it.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from metadata.generated.schema.api.classification.createClassification import CreateClassificationRequest
from metadata.generated.schema.api.classification.createTag import CreateTagRequest
from metadata.generated.schema.api.data.createChart import CreateChartRequest
from metadata.generated.schema.api.data.createDashboard import CreateDashboardRequest
from metadata.generated.schema.api.data.createAPICollection import CreateAPICollectionRequest
from metadata.generated.schema.api.data.createAPIEndpoint import CreateAPIEndpointRequest
from metadata.generated.schema.api.services.createApiService import CreateApiServiceRequest
from metadata.generated.schema.entity.data.apiEndpoint import ApiRequestMethod
from metadata.generated.schema.entity.services.apiService import ApiConnection, ApiServiceType
from metadata.generated.schema.entity.services.connections.api.openAPISchemaURL import OpenAPISchemaURL
from metadata.generated.schema.entity.services.connections.api.restConnection import RestConnection, RestType
from metadata.generated.schema.type.apiSchema import APISchema
from metadata.generated.schema.type.schema import DataTypeTopic, FieldModel, SchemaType
from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.data.createTableProfile import CreateTableProfileRequest
from metadata.generated.schema.api.domains.createDataProduct import CreateDataProductRequest
from metadata.generated.schema.api.domains.createDomain import CreateDomainRequest
from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
from metadata.generated.schema.api.services.createDashboardService import CreateDashboardServiceRequest
from metadata.generated.schema.api.services.createDatabaseService import CreateDatabaseServiceRequest
from metadata.generated.schema.api.services.createPipelineService import CreatePipelineServiceRequest
from metadata.generated.schema.api.teams.createTeam import CreateTeamRequest
from metadata.generated.schema.api.tests.createLogicalTestCases import CreateLogicalTestCases
from metadata.generated.schema.api.tests.createTestCase import CreateTestCaseRequest
from metadata.generated.schema.api.tests.createTestDefinition import CreateTestDefinitionRequest
from metadata.generated.schema.api.tests.createTestSuite import CreateTestSuiteRequest
from metadata.generated.schema.entity.data.chart import ChartType
from metadata.generated.schema.entity.data.metric import Metric
from metadata.generated.schema.entity.data.pipeline import Pipeline, Task
from metadata.generated.schema.entity.data.table import Column, ColumnProfile, DataType, Table, TableProfile, TableType
from metadata.generated.schema.entity.domains.domain import DomainType
from metadata.generated.schema.entity.services.connections.database.customDatabaseConnection import (
    CustomDatabaseConnection, CustomDatabaseType,
)
from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (
    OpenMetadataConnection,
)
from metadata.generated.schema.entity.services.connections.pipeline.airflowConnection import AirflowConnection
from metadata.generated.schema.entity.services.connections.pipeline.backendConnection import BackendConnection
from metadata.generated.schema.entity.services.dashboardService import DashboardServiceType
from metadata.generated.schema.entity.services.databaseService import DatabaseConnection, DatabaseServiceType
from metadata.generated.schema.entity.services.pipelineService import PipelineConnection, PipelineServiceType
from metadata.generated.schema.entity.teams.team import Team, TeamType
from metadata.generated.schema.security.client.openMetadataJWTClientConfig import OpenMetadataJWTClientConfig
from metadata.generated.schema.tests.basic import TestCaseResult, TestCaseStatus, TestResultValue
from metadata.generated.schema.tests.testDefinition import EntityType, TestPlatform
from metadata.generated.schema.type.entityLineage import ColumnLineage, EntitiesEdge, LineageDetails, Source
from metadata.generated.schema.type.entityReference import EntityReference
from metadata.generated.schema.type.entityReferenceList import EntityReferenceList
from metadata.generated.schema.type.tagLabel import LabelType, State, TagLabel, TagSource
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.ometa_api import OpenMetadata
from metadata.utils import fqn as om_fqn

from include.catalog.plan import CatalogPlan, ColumnPlan, TablePlan, resolve_ref

log = logging.getLogger("fsdp.catalog")

SODA_TABLE_TEST = "sodaTableCheck"
SODA_COLUMN_TEST = "sodaColumnCheck"
FRESHNESS_TEST = "dbtSourceFreshness"
SYSTEM_CLASSIFICATIONS = {"PII", "Tier", "PersonalData", "Certification"}


class CatalogPushError(RuntimeError):
    """The push failed in a way the task must report (bad answer, rejected write)."""


# ---- connection -------------------------------------------------------------------------------

def connect(host_port: str, jwt: str, retries: int = 3, wait_s: float = 10.0,
            sleep: Callable[[float], None] = time.sleep) -> OpenMetadata:
    """A connected SDK client; the version check is retried, then fails with one clear message.

    The SDK itself raises on an unreachable server, an HTML answer, a bad token or a
    major.minor mismatch (it only accepts a 2.0.x server with openmetadata-ingestion 2.0.6)."""
    config = OpenMetadataConnection(
        hostPort=host_port, authProvider="openmetadata",
        securityConfig=OpenMetadataJWTClientConfig(jwtToken=jwt),
    )
    last: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            om = OpenMetadata(config)
            # a dead endpoint is reported by the SDK as a failure, never as a healthy server
            if not om.health_check():
                raise CatalogPushError("empty answer to GET /v1/system/version")
            return om
        except Exception as exc:  # noqa: BLE001 - every cause gets retried, the last one is reported
            last = exc
            log.warning("OpenMetadata at %s not usable (attempt %d/%d): %s", host_port, attempt, retries, exc)
            if attempt < retries:
                sleep(wait_s * attempt)
    raise CatalogPushError(
        f"OpenMetadata at {host_port} is unreachable or incompatible after {retries} attempts "
        f"(this step needs a 2.0.x server reachable with the JWT in OPENMETADATA_JWT_TOKEN): {last}"
    ) from last


# ---- mapping helpers (pure) -------------------------------------------------------------------

_SIMPLE_TYPES = {
    "VARCHAR": "STRING", "TEXT": "STRING", "STRING": "STRING", "CHAR": "STRING", "BPCHAR": "STRING",
    "INTEGER": "INT", "INT": "INT", "INT4": "INT", "BIGINT": "BIGINT", "INT8": "BIGINT", "LONG": "BIGINT",
    "SMALLINT": "SMALLINT", "INT2": "SMALLINT", "TINYINT": "TINYINT", "INT1": "TINYINT",
    "HUGEINT": "NUMERIC", "UBIGINT": "NUMERIC", "UINTEGER": "BIGINT", "USMALLINT": "INT", "UTINYINT": "SMALLINT",
    "DOUBLE": "DOUBLE", "FLOAT8": "DOUBLE", "FLOAT": "FLOAT", "REAL": "FLOAT", "FLOAT4": "FLOAT",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN", "DATE": "DATE", "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP", "DATETIME": "DATETIME", "TIMESTAMP_NS": "TIMESTAMP", "TIMESTAMP_MS": "TIMESTAMP",
    "TIMESTAMP_S": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMPZ", "TIMESTAMPTZ": "TIMESTAMPZ",
    "INTERVAL": "INTERVAL", "BLOB": "BLOB", "BYTEA": "BLOB", "UUID": "UUID", "JSON": "JSON",
    "UNKNOWN": "UNKNOWN",
}


def om_column(col: ColumnPlan) -> Column:
    """An OpenMetadata column for a warehouse (DuckDB) column, its description and tags.

    VARCHAR maps to STRING: DuckDB strings have no length, and OpenMetadata requires a dataLength
    for VARCHAR."""
    raw = col.data_type.strip().upper()
    kwargs: dict[str, Any] = {}
    if raw.endswith("[]"):
        inner = _SIMPLE_TYPES.get(raw[:-2].split("(")[0].strip(), "UNKNOWN")
        dtype, kwargs["arrayDataType"] = "ARRAY", DataType(inner)
    elif m := re.fullmatch(r"(?:DECIMAL|NUMERIC)\s*\((\d+)\s*,\s*(\d+)\)", raw):
        dtype, kwargs["precision"], kwargs["scale"] = "DECIMAL", int(m[1]), int(m[2])
    elif raw.startswith(("DECIMAL", "NUMERIC")):
        dtype = "DECIMAL"
    elif raw.startswith("STRUCT"):
        dtype = "STRUCT"
    elif raw.startswith("MAP"):
        dtype = "MAP"
    elif raw.startswith(("VARCHAR", "CHAR")):
        dtype = "STRING"
    else:
        dtype = _SIMPLE_TYPES.get(raw, "UNKNOWN")
    return Column(
        name=col.name, dataType=DataType(dtype), dataTypeDisplay=col.data_type.lower(),
        description=col.description, tags=[tag_label(t) for t in col.om_tags] or None, **kwargs,
    )


def tag_label(tag_fqn: str) -> TagLabel:
    return TagLabel(tagFQN=tag_fqn, source=TagSource.Classification, labelType=LabelType.Automated,
                    state=State.Confirmed)


def table_type(t: TablePlan) -> TableType:
    return {"view": TableType.View, "source": TableType.External}.get(t.kind, TableType.Regular)


def ref(entity: Any, kind: str) -> EntityReference:
    return EntityReference(id=entity.id, type=kind)


def api_schema(fields: list[dict]) -> APISchema | None:
    """An endpoint's request or response fields as OpenMetadata's JSON API schema."""
    def field_model(f: dict) -> FieldModel:
        return FieldModel(name=f["name"], dataType=DataTypeTopic(f["dataType"]), description=f.get("description") or None,
                          children=[field_model(c) for c in f.get("children") or []] or None)

    return APISchema(schemaType=SchemaType.JSON, schemaFields=[field_model(f) for f in fields]) if fields else None


def outcome_status(outcome: str) -> TestCaseStatus:
    return {"pass": TestCaseStatus.Success, "warn": TestCaseStatus.Success,
            "fail": TestCaseStatus.Failed}.get(outcome, TestCaseStatus.Aborted)


# ---- the push ---------------------------------------------------------------------------------

@dataclass
class PushResult:
    counts: dict[str, int] = field(default_factory=dict)
    table_fqns: dict[str, str] = field(default_factory=dict)   # dbt unique_id -> table FQN

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


class CatalogPusher:
    """Sends one plan; `run()` does every step in dependency order."""

    def __init__(self, om: OpenMetadata, plan: CatalogPlan, *, dag_tasks: list[dict] | None = None,
                 airflow_url: str = "http://localhost:8080", duckdb_path: str = "",
                 dbt_ingestion: Callable[[], None] | None = None, superset_url: str = "http://localhost:8088"):
        self.om, self.plan, self.dp = om, plan, plan.dp
        self.dag_tasks = dag_tasks or []
        self.airflow_url, self.duckdb_path = airflow_url, duckdb_path
        self.superset_url = superset_url
        self.dbt_ingestion = dbt_ingestion
        self.result = PushResult()
        self.tables: dict[str, Table] = {}

    # -- steps --
    def run(self) -> PushResult:
        self.owners = self.push_owner()
        self.push_domain()
        self.push_classifications()
        self.push_warehouse()
        dbt_error = None
        if self.dbt_ingestion:
            try:
                self.dbt_ingestion()
                self.result.add("dbt_ingestion")
            except Exception as exc:  # noqa: BLE001 - publish the rest, then fail the step
                dbt_error = exc
                log.error("dbt ingestion failed: %s", exc)
        self.pipeline = self.push_pipeline()
        if self.dbt_ingestion and dbt_error is None and self.plan.metrics:
            self.link_metrics()
        self.push_lineage()
        self.push_dashboards()
        self.push_data_product()
        self.push_api()
        self.push_quality()
        if dbt_error is not None:
            raise CatalogPushError(f"the dbt ingestion workflow reported errors (everything else was "
                                   f"published): {dbt_error}") from dbt_error
        return self.result

    def push_owner(self) -> EntityReferenceList | None:
        owner = self.dp["owner"]
        try:
            team = self.om.create_or_update(CreateTeamRequest(
                name=owner["team"], displayName=owner.get("displayName"), teamType=TeamType.Group,
                description=f"Owns the {self.dp['name']} data product."))
        except APIError as exc:
            # a bot whose role may not create teams: the catalog is still worth having without owners
            if exc.status_code not in (401, 403):
                raise
            team = self.om.get_by_name(Team, owner["team"])
            if team is None:
                print(f"catalog: warning: cannot create team {owner['team']} ({exc}); create it in "
                      "OpenMetadata (Settings > Teams) to set owners. Owners left unset.", file=sys.stderr)
                return None
        self.result.add("teams")
        return EntityReferenceList(root=[ref(team, "team")])

    def push_domain(self) -> None:
        d = self.dp["domain"]
        self.om.create_or_update(CreateDomainRequest(
            name=d["name"], displayName=d.get("displayName"), description=d["description"],
            domainType=DomainType(d.get("type", "Aggregate")), owners=self.owners))
        self.result.add("domains")

    def push_classifications(self) -> None:
        for cname, spec in (self.dp.get("classifications") or {}).items():
            if cname in SYSTEM_CLASSIFICATIONS:
                continue   # OpenMetadata's own; never overwritten
            self.om.create_or_update(CreateClassificationRequest(
                name=cname, description=spec["description"], mutuallyExclusive=False))
            self.result.add("classifications")
            for tname, tdesc in (spec.get("tags") or {}).items():
                self.om.create_or_update(CreateTagRequest(classification=cname, name=tname, description=tdesc))
                self.result.add("tags")

    def push_warehouse(self) -> None:
        wh, domain = self.dp["warehouse"], [self.dp["domain"]["name"]]
        service = self.om.create_or_update(CreateDatabaseServiceRequest(
            name=wh["service"], serviceType=DatabaseServiceType.CustomDatabase, description=wh.get("description"),
            connection=DatabaseConnection(config=CustomDatabaseConnection(
                type=CustomDatabaseType.CustomDatabase,
                connectionOptions={"engine": "duckdb", "path": self.duckdb_path or "(dbt profile fsdp)"})),
            owners=self.owners, domains=domain))
        self.result.add("database_services")
        svc = service.fullyQualifiedName.root
        databases = sorted({t.database for t in self.plan.tables.values()})
        schemas = sorted({(t.database, t.schema) for t in self.plan.tables.values()})
        for db in databases:
            self.om.create_or_update(CreateDatabaseRequest(name=db, service=svc, owners=self.owners, domains=domain))
            self.result.add("databases")
        for db, schema in schemas:
            self.om.create_or_update(CreateDatabaseSchemaRequest(
                name=schema, database=om_fqn._build(svc, db), owners=self.owners, domains=domain))
            self.result.add("database_schemas")
        for uid, t in sorted(self.plan.tables.items()):
            table = self.om.create_or_update(CreateTableRequest(
                name=t.name, databaseSchema=om_fqn._build(svc, t.database, t.schema),
                tableType=table_type(t), description=t.description,
                columns=[om_column(c) for c in t.columns], owners=self.owners, domains=domain))
            self.tables[uid] = table
            self.result.table_fqns[uid] = table.fullyQualifiedName.root
            self.result.add("tables")
            self.result.add("columns", len(t.columns))

    def push_pipeline(self) -> Pipeline:
        res = self.dp["resources"][0]
        self.om.create_or_update(CreatePipelineServiceRequest(
            name=res["pipeline_service"], serviceType=PipelineServiceType.Airflow,
            description="The Airflow that runs the data product pipeline.",
            connection=PipelineConnection(config=AirflowConnection(
                hostPort=self.airflow_url, connection=BackendConnection())),
            owners=self.owners, domains=[self.dp["domain"]["name"]]))
        self.result.add("pipeline_services")
        pipeline = self.om.create_or_update(CreatePipelineRequest(
            name=res["name"], service=res["pipeline_service"],
            description=f"{res['description']}: {res['purpose']} ({self.dp['name']}).",
            sourceUrl=f"{self.airflow_url.rstrip('/')}/dags/{res['name']}",
            tasks=[Task(name=t["name"], displayName=t.get("displayName") or t["name"],
                        taskType=t.get("taskType"), downstreamTasks=sorted(t.get("downstream") or []) or None)
                   for t in self.dag_tasks] or None,
            owners=self.owners, domains=[self.dp["domain"]["name"]]))
        self.result.add("pipelines")
        self.result.add("pipeline_tasks", len(self.dag_tasks))
        return pipeline

    def _existing_column_lineage(self, up: Table, down: Table) -> list[tuple[tuple[str, ...], str]]:
        """Column pairs already on the edge (the dbt ingestion's, parsed from the compiled SQL)."""
        try:
            # the client directly: the SDK's edge getters cache answers for the whole process
            answer = self.om.client.get(f"/lineage/getLineageEdge/{up.id.root}/{down.id.root}")
        except APIError as exc:
            if exc.status_code == 404:
                return []
            raise
        cols = ((answer or {}).get("edge") or {}).get("columnsLineage") or []
        return [(tuple(c["fromColumns"]), c["toColumn"]) for c in cols if c.get("fromColumns") and c.get("toColumn")]

    def push_lineage(self) -> None:
        """One edge per dbt dependency, the pipeline on it, its column pairs merged with the edge's
        existing ones (a PUT replaces the edge's details: merging keeps the dbt ingestion's pairs of
        renamed columns, and a re-run sends the same union)."""
        for e in self.plan.edges:
            up, down = self.tables[e.upstream], self.tables[e.downstream]
            up_fqn, down_fqn = up.fullyQualifiedName.root, down.fullyQualifiedName.root
            ours = [((f"{up_fqn}.{om_fqn.quote_name(a)}",), f"{down_fqn}.{om_fqn.quote_name(b)}") for a, b in e.columns]
            pairs = list(dict.fromkeys(self._existing_column_lineage(up, down) + ours))
            details = LineageDetails(
                pipeline=ref(self.pipeline, "pipeline"), source=Source.PipelineLineage,
                description=f"dbt {self.plan.tables[e.downstream].kind} built by the Airflow DAG "
                            f"{self.pipeline.name.root}",
                columnsLineage=[ColumnLineage(fromColumns=list(f), toColumn=t) for f, t in pairs] or None)
            answer = self.om.add_lineage(AddLineageRequest(edge=EntitiesEdge(
                fromEntity=ref(up, "table"), toEntity=ref(down, "table"), lineageDetails=details)),
                return_lineage=False)
            # add_lineage reports server errors in its answer instead of raising
            if isinstance(answer, dict) and answer.get("error"):
                raise CatalogPushError(f"lineage {up_fqn} -> {down_fqn} rejected: {answer['error']}")
            self.result.add("lineage_edges")
            self.result.add("column_lineage", len(pairs))

    def push_dashboards(self) -> None:
        """The Superset dashboards (include/dashboards/assets): a Superset DashboardService (no
        credentials: the catalog is pushed, not pulled), its charts and dashboards, and lineage
        from every table a dashboard's datasets read to the dashboard."""
        if not self.plan.dashboards:
            return
        spec = self.dp.get("dashboards") or {}
        service_name = spec.get("service", "fsdp-superset")
        domain = [self.dp["domain"]["name"]]
        service = self.om.create_or_update(CreateDashboardServiceRequest(
            name=service_name, serviceType=DashboardServiceType.Superset,
            description=spec.get("description"), owners=self.owners, domains=domain))
        self.result.add("dashboard_services")
        svc = service.fullyQualifiedName.root
        base = self.superset_url.rstrip("/")
        for d in self.plan.dashboards:
            for c in d.charts:
                self.om.create_or_update(CreateChartRequest(
                    name=c.name, displayName=c.title, description=c.description, chartType=ChartType(c.chart_type),
                    sourceUrl=f"{base}{d.url_path}", service=svc, owners=self.owners, domains=domain))
                self.result.add("charts")
            dashboard = self.om.create_or_update(CreateDashboardRequest(
                name=d.name, displayName=d.title, description=d.description, sourceUrl=f"{base}{d.url_path}",
                charts=[om_fqn._build(svc, c.name) for c in d.charts], service=svc, owners=self.owners,
                domains=domain))
            self.result.add("dashboards")
            for uid in d.reads:
                table = self.tables[uid]
                answer = self.om.add_lineage(AddLineageRequest(edge=EntitiesEdge(
                    fromEntity=ref(table, "table"), toEntity=ref(dashboard, "dashboard"),
                    lineageDetails=LineageDetails(source=Source.DashboardLineage,
                                                  description=f"read by the Superset dashboard {d.title}"))),
                    return_lineage=False)
                if isinstance(answer, dict) and answer.get("error"):
                    raise CatalogPushError(f"lineage {table.fullyQualifiedName.root} -> dashboard {d.name} "
                                           f"rejected: {answer['error']}")
                self.result.add("dashboard_lineage_edges")
    def link_metrics(self) -> None:
        """Every MetricFlow metric is a Metric entity (created by the dbt ingestion, with its type,
        expression, measures, dimensions and table -> metric lineage); this step checks each one is
        there and sets its `assets`, the tables it is computed on (OpenMetadata's first-class
        metric-to-asset link, which the ingestion leaves empty), with a JSON Patch."""
        for m in self.plan.metrics:
            metric = self.om.get_by_name(Metric, m.name, fields=["assets"])
            if metric is None:
                raise CatalogPushError(f"metric {m.name} was not created by the dbt ingestion "
                                       "(sourceConfig includeMetrics)")
            assets = [{"id": str(self.tables[t].id.root), "type": "table"} for t in m.tables if t in self.tables]
            current = sorted(str(a.id.root) for a in (metric.assets.root if metric.assets else []))
            if current != sorted(a["id"] for a in assets):
                self.om.client.patch(f"/metrics/{metric.id.root}",
                                     data=json.dumps([{"op": "add", "path": "/assets", "value": assets}]))
            self.result.add("metrics")
            self.result.add("metric_assets", len(assets))

    def push_data_product(self) -> None:
        dp = self.dp
        self.om.create_or_update(CreateDataProductRequest(
            name=dp["name"], displayName=dp.get("displayName"), description=dp["description"],
            domains=[dp["domain"]["name"]], owners=self.owners))
        self.result.add("data_products")

        def refs(ports: list[dict]) -> list[EntityReference]:
            return [ref(self.tables[resolve_ref(self.plan.tables, p["ref"])], "table") for p in ports]

        outputs, inputs = refs(dp["outputs"]), refs(dp["inputs"])
        for what, call in (("assets", lambda: self.om.add_assets_to_data_product(dp["name"], outputs)),
                           ("output_ports", lambda: self.om.add_output_ports_to_data_product(dp["name"], outputs)),
                           ("input_ports", lambda: self.om.add_input_ports_to_data_product(dp["name"], inputs))):
            answer = call()
            if not isinstance(answer, dict) or str(answer.get("status", "")).lower() not in ("success", ""):
                raise CatalogPushError(f"data product {dp['name']}: adding {what} failed: {answer}")
            self.result.add(f"data_product_{what}", len(outputs if what != "input_ports" else inputs))

    def push_api(self) -> None:
        """The data API (include/api): its service, collections and endpoints with request and
        response schemas, and a lineage edge from every table an endpoint reads to the endpoint."""
        api = self.plan.api
        if not api:
            return
        svc, domain = api["service"], [self.dp["domain"]["name"]]
        service = self.om.create_or_update(CreateApiServiceRequest(
            name=svc["name"], serviceType=ApiServiceType.Rest, description=svc["description"],
            connection=ApiConnection(config=RestConnection(
                type=RestType.Rest, openAPISchemaConnection=OpenAPISchemaURL(openAPISchemaURL=svc["openapi"]))),
            owners=self.owners, domains=domain))
        self.result.add("api_services")
        for coll in api["collections"]:
            collection = self.om.create_or_update(CreateAPICollectionRequest(
                name=coll["name"], service=service.fullyQualifiedName.root, description=coll["description"],
                endpointURL=coll["url"], owners=self.owners, domains=domain))
            self.result.add("api_collections")
            for ep in coll["endpoints"]:
                reads = ep.get("reads") or {}
                metrics = ", ".join(reads.get("metrics") or [])
                endpoint = self.om.create_or_update(CreateAPIEndpointRequest(
                    name=ep["name"], apiCollection=collection.fullyQualifiedName.root,
                    endpointURL=svc["url"].rstrip("/") + ep["path"], requestMethod=ApiRequestMethod(ep["method"]),
                    description=ep["description"] + (f". Metrics: {metrics}." if metrics else ""),
                    requestSchema=api_schema(ep["request"]), responseSchema=api_schema(ep["response"]),
                    owners=self.owners, domains=domain))
                self.result.add("api_endpoints")
                sources = [(self.tables[uid], "table") for uid in reads.get("tables", []) if uid in self.tables]
                for name in reads.get("metrics", []):
                    metric = self._metric(name)     # the dbt ingestion's Metric entities, when there
                    if metric is not None:
                        sources.append((metric, "metric"))
                for entity, kind in sources:
                    answer = self.om.add_lineage(AddLineageRequest(edge=EntitiesEdge(
                        fromEntity=ref(entity, kind), toEntity=ref(endpoint, "apiEndpoint"),
                        lineageDetails=LineageDetails(source=Source.Manual,
                                                      description=f"read by the data API's {ep['path']} "
                                                                  "through the semantic layer"))),
                        return_lineage=False)
                    if isinstance(answer, dict) and answer.get("error"):
                        raise CatalogPushError(f"lineage {entity.name.root} -> {ep['path']} rejected: {answer['error']}")
                    self.result.add("api_lineage_edges" if kind == "table" else "api_metric_lineage_edges")

    def _metric(self, name: str):
        cache = self.__dict__.setdefault("_metrics_by_name", {})
        if name not in cache:
            cache[name] = self.om.get_by_name(Metric, name)
        return cache[name]

    def push_quality(self) -> None:
        if not (self.plan.checks or self.plan.profiles):
            return
        for name, etype in ((SODA_TABLE_TEST, EntityType.TABLE), (SODA_COLUMN_TEST, EntityType.COLUMN)):
            self.om.create_or_update(CreateTestDefinitionRequest(
                name=name, displayName=f"Soda {etype.value.lower()} check", entityType=etype,
                testPlatforms=[TestPlatform.Soda],
                description=f"A SodaCL check on a {etype.value.lower()}, run by Soda Core in the pipeline "
                            "(include/quality); OpenMetadata stores its results."))
            self.result.add("test_definitions")
        if any(c.kind == "freshness" for c in self.plan.checks):
            self.om.create_or_update(CreateTestDefinitionRequest(
                name=FRESHNESS_TEST, displayName="dbt source freshness", entityType=EntityType.TABLE,
                testPlatforms=[TestPlatform.dbt],
                description="How long ago the source last landed a file, against the source's warn_after / "
                            "error_after (dbt source freshness, run by every fsdp_daily run); value in hours."))
            self.result.add("test_definitions")
        for uid in sorted({c.table for c in self.plan.checks}):
            self.om.create_or_update_executable_test_suite(CreateTestSuiteRequest(
                name=f"{self.tables[uid].fullyQualifiedName.root}.testSuite",
                basicEntityReference=self.tables[uid].fullyQualifiedName.root))
            self.result.add("test_suites")
        cases: dict[str, Any] = {}
        for chk in self.plan.checks:          # sorted by time: a case gets its latest definition
            table_fqn = self.tables[chk.table].fullyQualifiedName.root
            link = f"<#E::table::{table_fqn}" + (f"::columns::{chk.column}>" if chk.column else ">")
            if chk.name not in cases:
                cases[chk.name] = self.om.create_or_update(CreateTestCaseRequest(
                    name=chk.name, displayName=chk.check[:256], entityLink=link,
                    testDefinition=FRESHNESS_TEST if chk.kind == "freshness" else
                    SODA_COLUMN_TEST if chk.column else SODA_TABLE_TEST,
                    description=(f"{chk.check} (include/pipeline/freshness.py)." if chk.kind == "freshness"
                                 else f"SodaCL check `{chk.check}` (include/quality)."), owners=self.owners))
                self.result.add("test_cases")
            answer = self.om.add_test_case_results(TestCaseResult(
                timestamp=chk.timestamp_ms, testCaseStatus=outcome_status(chk.outcome),
                result=(f"freshness: {chk.outcome}; last landed {chk.value} h ago" if chk.kind == "freshness"
                        else f"Soda outcome: {chk.outcome or 'none'}; value: {chk.value}"),
                testResultValue=[TestResultValue(name="value", value=str(chk.value))]),
                cases[chk.name].fullyQualifiedName.root)
            if answer is None:      # the client logs and swallows some failures: do not
                raise CatalogPushError(f"test result of {chk.name} was not accepted")
            self.result.add("test_results")
        if cases:
            suite = self.om.create_or_update(CreateTestSuiteRequest(
                name=f"{self.dp['name']}-soda", displayName=f"{self.dp['name']} quality gate (Soda)",
                description="Every Soda check the pipeline runs on the data product.", owners=self.owners,
                domains=[self.dp["domain"]["name"]]))
            soda = {c.name for c in self.plan.checks if c.kind == "soda"}
            self.om.add_logical_test_cases(CreateLogicalTestCases(
                testSuiteId=suite.id, testCaseIds=[c.id for n, c in cases.items() if n in soda]))
            self.result.add("test_suites")
        for prof in self.plan.profiles:
            cols = [ColumnProfile(timestamp=prof.timestamp_ms, **{k: v for k, v in c.items() if v is not None})
                    for c in prof.columns]
            self.om.ingest_profile_data(self.tables[prof.table], CreateTableProfileRequest(
                tableProfile=TableProfile(timestamp=prof.timestamp_ms, rowCount=prof.row_count,
                                          columnCount=len(self.plan.tables[prof.table].columns)),
                columnProfile=cols or None))
            self.result.add("table_profiles")
            self.result.add("column_profiles", len(cols))


# ---- dbt ingestion (the SDK's own workflow, reading local artifact files) -----------------------

def dbt_workflow_config(host_port: str, jwt: str, service: str, manifest: str | Path,
                        catalog: str | Path | None, run_results: str | Path | None,
                        logger_level: str = "WARN") -> dict:
    """The `metadata ingest` config for a dbt source reading local artifacts (same as a YAML file)."""
    # the SDK's local reader resolves relative paths against its own package: pass absolute ones
    source: dict[str, Any] = {"dbtConfigType": "local", "dbtManifestFilePath": str(Path(manifest).resolve())}
    if catalog and Path(catalog).exists():
        source["dbtCatalogFilePath"] = str(Path(catalog).resolve())
    if run_results and Path(run_results).exists():
        source["dbtRunResultsFilePath"] = str(Path(run_results).resolve())
    return {
        "source": {"type": "dbt", "serviceName": service, "sourceConfig": {"config": {
            "type": "DBT", "dbtConfigSource": source,
            "dbtUpdateDescriptions": True,
            # MetricFlow metrics as Metric entities, with table -> metric lineage
            "includeMetrics": True,
            # tags are ours (TW.* mapped above); dbt's own tags would land in a dbtTags classification
            "includeTags": False,
        }}},
        "sink": {"type": "metadata-rest", "config": {}},
        "workflowConfig": {"loggerLevel": logger_level, "openMetadataServerConfig": {
            "hostPort": host_port, "authProvider": "openmetadata", "securityConfig": {"jwtToken": jwt}}},
    }


def run_dbt_workflow(config: dict) -> None:
    """Run the dbt ingestion workflow; raises when it reports failures."""
    from metadata.workflow.metadata import MetadataWorkflow

    workflow = MetadataWorkflow.create(config)
    try:
        workflow.execute()
        workflow.raise_from_status()
    finally:
        workflow.stop()
