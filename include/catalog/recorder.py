"""An in-process stand-in for an OpenMetadata 2.0.x server that records every request.

It answers the endpoints the catalog step (and the SDK's dbt workflow) use the way OpenMetadata
2.0.x does: entities are created or updated by PUT and come back with ids and fully qualified
names, looked up by name or id, patched with JSON Patch, searched by FQN; lineage edges, data
product assets and ports, test results and table profiles are kept. Every request body is
validated against the SDK's generated pydantic models (a body the real server would reject gets
a 400 here too).

Two users: the tests (a contract test of what the SDK really sends), and the step itself when no
server is configured - it then pushes here and writes the recording to a file, so "what it would
have sent" is exactly the HTTP traffic, not a re-description of it.
"""
from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonpatch
from pydantic import BaseModel, ValidationError

from metadata.generated.schema.api.classification.createClassification import CreateClassificationRequest
from metadata.generated.schema.api.data.createAPICollection import CreateAPICollectionRequest
from metadata.generated.schema.api.data.createAPIEndpoint import CreateAPIEndpointRequest
from metadata.generated.schema.api.services.createApiService import CreateApiServiceRequest
from metadata.generated.schema.entity.data.apiCollection import APICollection
from metadata.generated.schema.entity.data.apiEndpoint import APIEndpoint
from metadata.generated.schema.entity.services.apiService import ApiService
from metadata.generated.schema.api.classification.createTag import CreateTagRequest
from metadata.generated.schema.api.data.createChart import CreateChartRequest
from metadata.generated.schema.api.data.createDashboard import CreateDashboardRequest
from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createMetric import CreateMetricRequest
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
from metadata.generated.schema.entity.classification.classification import Classification
from metadata.generated.schema.entity.classification.tag import Tag
from metadata.generated.schema.entity.data.chart import Chart
from metadata.generated.schema.entity.data.dashboard import Dashboard
from metadata.generated.schema.entity.data.database import Database
from metadata.generated.schema.entity.data.databaseSchema import DatabaseSchema
from metadata.generated.schema.entity.data.metric import Metric
from metadata.generated.schema.entity.data.pipeline import Pipeline
from metadata.generated.schema.entity.data.table import DataModel, Table
from metadata.generated.schema.entity.domains.dataProduct import DataProduct
from metadata.generated.schema.entity.domains.domain import Domain
from metadata.generated.schema.entity.services.dashboardService import DashboardService
from metadata.generated.schema.entity.services.databaseService import DatabaseService
from metadata.generated.schema.entity.services.pipelineService import PipelineService
from metadata.generated.schema.entity.teams.team import Team
from metadata.generated.schema.tests.basic import TestCaseResult
from metadata.generated.schema.tests.testCase import TestCase
from metadata.generated.schema.tests.testDefinition import TestDefinition
from metadata.generated.schema.tests.testSuite import TestSuite
from metadata.generated.schema.api.bulkAssets import BulkAssets
from metadata.generated.schema.type.entityLineage import LineageDetails
from metadata.utils import fqn as om_fqn

SERVER_VERSION = "2.0.6"


def child_fqn(parent_fqn: str, name: str) -> str:
    """FQN of a child: the parent's FQN (already quoted) + the child's name, quoted if needed."""
    return f"{parent_fqn}.{om_fqn.quote_name(name)}"


@dataclass(frozen=True)
class Collection:
    path: str                  # under /api/v1
    create: type[BaseModel]
    entity: type[BaseModel]
    type: str                  # EntityReference.type
    parent: tuple[str, str] | None = None   # (create field holding the parent FQN, parent collection)


COLLECTIONS = {c.path: c for c in [
    Collection("services/databaseServices", CreateDatabaseServiceRequest, DatabaseService, "databaseService"),
    Collection("databases", CreateDatabaseRequest, Database, "database", ("service", "services/databaseServices")),
    Collection("databaseSchemas", CreateDatabaseSchemaRequest, DatabaseSchema, "databaseSchema",
               ("database", "databases")),
    Collection("tables", CreateTableRequest, Table, "table", ("databaseSchema", "databaseSchemas")),
    Collection("teams", CreateTeamRequest, Team, "team"),
    Collection("domains", CreateDomainRequest, Domain, "domain"),
    Collection("dataProducts", CreateDataProductRequest, DataProduct, "dataProduct"),
    Collection("classifications", CreateClassificationRequest, Classification, "classification"),
    Collection("tags", CreateTagRequest, Tag, "tag", ("classification", "classifications")),
    Collection("services/pipelineServices", CreatePipelineServiceRequest, PipelineService, "pipelineService"),
    Collection("pipelines", CreatePipelineRequest, Pipeline, "pipeline", ("service", "services/pipelineServices")),
    Collection("dataQuality/testDefinitions", CreateTestDefinitionRequest, TestDefinition, "testDefinition"),
    Collection("dataQuality/testSuites", CreateTestSuiteRequest, TestSuite, "testSuite"),
    Collection("dataQuality/testCases", CreateTestCaseRequest, TestCase, "testCase"),
    # the Superset dashboards (include/dashboards)
    Collection("services/dashboardServices", CreateDashboardServiceRequest, DashboardService, "dashboardService"),
    Collection("charts", CreateChartRequest, Chart, "chart", ("service", "services/dashboardServices")),
    Collection("dashboards", CreateDashboardRequest, Dashboard, "dashboard", ("service", "services/dashboardServices")),
    Collection("services/apiServices", CreateApiServiceRequest, ApiService, "apiService"),
    Collection("apiCollections", CreateAPICollectionRequest, APICollection, "apiCollection",
               ("service", "services/apiServices")),
    Collection("apiEndpoints", CreateAPIEndpointRequest, APIEndpoint, "apiEndpoint",
               ("apiCollection", "apiCollections")),
    Collection("metrics", CreateMetricRequest, Metric, "metric"),
]}
SEARCH_INDEX = {"table_search_index": "tables", "pipeline_search_index": "pipelines",
                "api_endpoint_search_index": "apiEndpoints",
                "database_search_index": "databases", "database_schema_search_index": "databaseSchemas",
                "data_product_search_index": "dataProducts", "domain_search_index": "domains",
                "test_case_search_index": "dataQuality/testCases", "metric_search_index": "metrics"}

# (method, path regex under /api/v1) -> the SDK model every body of that request must validate as
BODY_MODELS: list[tuple[str, re.Pattern, type[BaseModel]]] = [
    *[("PUT", re.compile(rf"{re.escape(c.path)}"), c.create) for c in COLLECTIONS.values()],
    *[("POST", re.compile(rf"{re.escape(c.path)}"), c.create) for c in COLLECTIONS.values()],
    ("PUT", re.compile(r"lineage"), AddLineageRequest),
    ("PUT", re.compile(r"lineage/[^/]+/name/[^/]+/[^/]+/name/[^/]+"), LineageDetails),
    ("PUT", re.compile(r"tables/[0-9a-f-]{36}/dataModel"), DataModel),
    ("PUT", re.compile(r"dataQuality/testSuites/executable"), CreateTestSuiteRequest),
    ("PUT", re.compile(r"dataQuality/testCases/logicalTestCases"), CreateLogicalTestCases),
    ("POST", re.compile(r"dataQuality/testCases/testCaseResults/.+"), TestCaseResult),
    ("PUT", re.compile(r"tables/[0-9a-f-]{36}/tableProfile"), CreateTableProfileRequest),
    ("PUT", re.compile(r"dataProducts/[^/]+/(assets|inputPorts|outputPorts)/(add|remove)"), BulkAssets),
]


def body_model(method: str, path: str) -> type[BaseModel] | None:
    """The SDK model a request body must validate as, or None when the request has no JSON model."""
    for m, pattern, model in BODY_MODELS:
        if m == method and pattern.fullmatch(path):
            return model
    return None


@dataclass
class Recorded:
    method: str
    path: str                   # under /api/v1, unquoted
    query: dict[str, list[str]]
    body: Any
    status: int
    error: str | None = None

    def as_dict(self) -> dict:
        return {"method": self.method, "path": "/api/v1/" + self.path, "query": self.query,
                "status": self.status, "body": self.body, **({"error": self.error} if self.error else {})}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class FakeOpenMetadata:
    """The server state and request log; `serve()` exposes it over HTTP."""
    version: str = SERVER_VERSION
    fail_version: int | None = None          # answer GET /system/version with this HTTP status
    forbidden: set[str] = field(default_factory=set)   # collections the caller may not write (403)
    requests: list[Recorded] = field(default_factory=list)
    entities: dict[str, dict[str, dict]] = field(default_factory=dict)   # collection -> fqn -> doc
    lineage: dict[tuple[str, str], dict] = field(default_factory=dict)   # (from id, to id) -> edge
    dp_links: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # (dp, kind) -> id -> ref
    results: dict[str, dict[int, dict]] = field(default_factory=dict)    # test case fqn -> ts -> result
    profiles: dict[str, dict[int, dict]] = field(default_factory=dict)   # table fqn -> ts -> profile
    logical: dict[str, set[str]] = field(default_factory=dict)           # suite id -> test case ids

    def __post_init__(self):
        self._lock = threading.Lock()
        self._by_id: dict[str, tuple[str, str]] = {}

    # -- lookups --
    def get(self, coll: str, fqn: str) -> dict | None:
        return self.entities.get(coll, {}).get(fqn)

    def by_id(self, eid: str) -> dict | None:
        hit = self._by_id.get(str(eid))
        return self.entities[hit[0]][hit[1]] if hit else None

    def ref(self, coll: str, doc: dict) -> dict:
        return {"id": doc["id"], "type": COLLECTIONS[coll].type, "name": doc["name"],
                "fullyQualifiedName": doc["fullyQualifiedName"], "deleted": False}

    def _ref_by_fqn(self, coll: str, fqn: str) -> dict:
        doc = self.get(coll, fqn)
        if doc is None:
            raise ApiError(404, f"{COLLECTIONS[coll].type} instance for {fqn} not found")
        return self.ref(coll, doc)

    # -- entity writes --
    def _fqn(self, coll: Collection, body: dict) -> str:
        if coll.path == "dataQuality/testCases":
            m = re.fullmatch(r"<#E::table::(.+?)(?:::columns::(.+))?>", body["entityLink"])
            if not m:
                raise ApiError(400, f"bad entityLink {body['entityLink']}")
            return child_fqn(child_fqn(m[1], m[2]) if m[2] else m[1], body["name"])
        if coll.parent:
            return child_fqn(body[coll.parent[0]], body["name"])
        return om_fqn.quote_name(body["name"])

    def _to_entity(self, coll: Collection, body: dict, fqn: str) -> dict:
        doc = dict(body)
        if coll.parent:
            field_name, parent_coll = coll.parent
            parent = self.get(parent_coll, body[field_name])
            if parent is None:
                raise ApiError(404, f"{COLLECTIONS[parent_coll].type} instance for {body[field_name]} not found")
            doc[field_name] = self.ref(parent_coll, parent)
            for inherited in ("service", "database"):      # tables/schemas carry their ancestors too
                if inherited in parent and inherited != field_name:
                    doc[inherited] = parent[inherited]
            if coll.path == "databases":
                doc["serviceType"] = parent.get("serviceType")
            if coll.path in ("databaseSchemas", "tables", "pipelines", "apiCollections", "apiEndpoints", "charts",
                             "dashboards"):
                doc["serviceType"] = parent.get("serviceType") or (
                    self.by_id(parent["service"]["id"]) or {}).get("serviceType")
        if isinstance(body.get("domains"), list):
            doc["domains"] = [self._ref_by_fqn("domains", d) for d in body["domains"]]
        if isinstance(body.get("dataProducts"), list):
            doc["dataProducts"] = [self._ref_by_fqn("dataProducts", d) for d in body["dataProducts"]]
        if coll.path == "dashboards" and isinstance(body.get("charts"), list):
            doc["charts"] = [self._ref_by_fqn("charts", c) for c in body["charts"]]
        if coll.path == "tables":
            for col in doc.get("columns", []):
                col["fullyQualifiedName"] = child_fqn(fqn, col["name"])
        if coll.path == "dataQuality/testCases":
            doc["testDefinition"] = self._ref_by_fqn("dataQuality/testDefinitions", body["testDefinition"])
            m = re.fullmatch(r"<#E::table::(.+?)(?:::columns::(.+))?>", body["entityLink"])
            doc["entityFQN"] = child_fqn(m[1], m[2]) if m[2] else m[1]
            table = self.get("tables", m[1])
            if table is None:
                raise ApiError(404, f"table instance for {m[1]} not found")
            suite_fqn = f"{m[1]}.testSuite"   # OpenMetadata creates a table's basic suite on demand
            if self.get("dataQuality/testSuites", suite_fqn) is None:
                self._put(COLLECTIONS["dataQuality/testSuites"], {"name": suite_fqn, "basicEntityReference": m[1]},
                          executable=True)
            doc["testSuite"] = self.ref("dataQuality/testSuites", self.get("dataQuality/testSuites", suite_fqn))
        if coll.path == "dataQuality/testSuites" and body.get("basicEntityReference"):
            doc["basic"] = True
            doc["basicEntityReference"] = self._ref_by_fqn("tables", body["basicEntityReference"])
        if coll.path == "classifications":
            doc.setdefault("provider", "user")
        if coll.path == "metrics":
            # OpenMetadata names a metric's parts '<metric FQN>.dimension.<name>' / '.measure.<name>'
            for part, kind in (("dimensions", "dimension"), ("measures", "measure")):
                for item in doc.get(part) or []:
                    item["fullyQualifiedName"] = f"{fqn}.{kind}.{item['name']}"
            if isinstance(body.get("relatedMetrics"), list):
                doc["relatedMetrics"] = [self._ref_by_fqn("metrics", m) for m in body["relatedMetrics"]]
        return doc

    def _put(self, coll: Collection, body: dict, executable: bool = False) -> dict:
        # a table's basic (executable) suite is named `<table FQN>.testSuite`, used as its FQN unquoted
        fqn = body["name"] if executable else self._fqn(coll, body)
        doc = self._to_entity(coll, body, fqn)
        old = self.get(coll.path, fqn)
        now = int(time.time() * 1000)
        base = {"id": old["id"] if old else str(uuid.uuid4()), "fullyQualifiedName": fqn, "deleted": False,
                "href": f"http://localhost:8585/api/v1/{coll.path}/{old['id'] if old else ''}",
                "updatedBy": "ingestion-bot", "updatedAt": now}
        if old:
            merged = {**old, **doc, "id": old["id"], "fullyQualifiedName": fqn}
            changed = {k: v for k, v in merged.items() if k not in ("updatedAt", "version")} != \
                      {k: v for k, v in old.items() if k not in ("updatedAt", "version")}
            merged["version"] = round(old["version"] + 0.1, 1) if changed else old["version"]
            doc = merged
        else:
            doc = {**doc, **base, "version": 0.1}
            doc["href"] = f"http://localhost:8585/api/v1/{coll.path}/{doc['id']}"
        doc = self._validated(coll, doc)
        self.entities.setdefault(coll.path, {})[fqn] = doc
        self._by_id[doc["id"]] = (coll.path, fqn)
        if coll.path == "dataQuality/testSuites" and doc.get("basic"):
            table = self.get("tables", doc["basicEntityReference"]["fullyQualifiedName"])
            table["testSuite"] = self.ref(coll.path, doc)
        return doc

    @staticmethod
    def _validated(coll: Collection, doc: dict) -> dict:
        """The entity as the SDK will parse it; create-only fields the entity lacks are dropped."""
        for _ in range(20):
            try:
                coll.entity.model_validate(doc)
                return doc
            except ValidationError as exc:
                extra = [e["loc"][0] for e in exc.errors() if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]
                if not extra:
                    raise ApiError(500, f"fake server built an invalid {coll.entity.__name__}: {exc}") from exc
                doc = {k: v for k, v in doc.items() if k not in extra}
        raise ApiError(500, "entity validation did not converge")

    def _patch(self, coll: Collection, doc: dict, body: list) -> dict:
        patched = jsonpatch.JsonPatch(body).apply(doc)
        patched["version"] = round(doc["version"] + 0.1, 1)
        patched = self._validated(coll, patched)
        self.entities[coll.path][doc["fullyQualifiedName"]] = patched
        return patched

    # -- request dispatch --
    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        model = body_model(method, path)
        if model is not None:
            try:
                model.model_validate(body)
            except ValidationError as exc:
                raise ApiError(400, f"body is not a valid {model.__name__}: {exc}") from exc
        if method in ("PUT", "POST", "PATCH") and path in self.forbidden:
            raise ApiError(403, f"Principal: CatalogPrincipal{{name='ingestion-bot'}} operations [Create] "
                                f"not allowed on {path}")
        with self._lock:
            return self._route(method, path, query, body)

    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:  # noqa: C901
        q = {k: v[0] for k, v in query.items()}
        if path == "system/version" and method == "GET":
            if self.fail_version:
                return self.fail_version, {"code": self.fail_version, "message": "unavailable"}
            return 200, {"version": self.version, "revision": "recorder", "timestamp": 0}
        if path == "lineage" and method == "PUT":
            edge = body["edge"]
            for end in ("fromEntity", "toEntity"):
                if self.by_id(edge[end]["id"]) is None:
                    raise ApiError(404, f"{edge[end]['type']} instance for {edge[end]['id']} not found")
            self.lineage[(edge["fromEntity"]["id"], edge["toEntity"]["id"])] = edge
            return 200, None
        if m := re.fullmatch(r"lineage/getLineageEdge/([^/]+)/([^/]+)", path):
            edge = self.lineage.get((m[1], m[2]))
            if not edge:
                raise ApiError(404, "edge not found")
            return 200, {"edge": {"fromEntity": self._edge_end(edge["fromEntity"]),
                                  "toEntity": self._edge_end(edge["toEntity"]),
                                  **(edge.get("lineageDetails") or {})}}
        if m := re.fullmatch(r"lineage/[^/]+/(name/)?(.+)", path):
            if method == "GET":
                doc = self.get("tables", m[2]) if m[1] else self.by_id(m[2])
                return 200, self._lineage_of(doc)
        if m := re.fullmatch(r"dataProducts/([^/]+)/(assets|inputPorts|outputPorts)/(add|remove)", path):
            dp = self.get("dataProducts", om_fqn.quote_name(m[1]))
            if dp is None:
                raise ApiError(404, f"dataProduct instance for {m[1]} not found")
            links = self.dp_links.setdefault((dp["name"], m[2]), {})
            for a in body.get("assets") or []:
                target = self.by_id(a["id"])
                if target is None:
                    raise ApiError(404, f"{a['type']} instance for {a['id']} not found")
                if m[3] == "add":
                    links[a["id"]] = {"id": a["id"], "type": a["type"],
                                      "fullyQualifiedName": target["fullyQualifiedName"]}
                else:
                    links.pop(a["id"], None)
            n = len(body.get("assets") or [])
            return 200, {"status": "success", "numberOfRowsProcessed": n, "numberOfRowsPassed": n,
                         "numberOfRowsFailed": 0}
        if m := re.fullmatch(r"dataProducts/name/([^/]+)/assets", path):
            data = list(self.dp_links.get((m[1], "assets"), {}).values())
            return 200, {"data": data, "paging": {"total": len(data)}}
        if path == "dataQuality/testSuites/executable" and method == "PUT":
            return 200, self._put(COLLECTIONS["dataQuality/testSuites"], body, executable=True)
        if path == "dataQuality/testCases/logicalTestCases" and method == "PUT":
            self.logical.setdefault(body["testSuiteId"], set()).update(body["testCaseIds"])
            return 200, self.by_id(body["testSuiteId"])
        if m := re.fullmatch(r"dataQuality/testCases/testCaseResults/(.+)", path):
            case = self.get("dataQuality/testCases", m[1])
            if case is None:
                raise ApiError(404, f"testCase instance for {m[1]} not found")
            if method == "POST":
                # one result per test case and timestamp: a re-run of the same scan overwrites it
                self.results.setdefault(m[1], {})[body["timestamp"]] = body
                return 200, body
            data = list(self.results.get(m[1], {}).values())
            return 200, {"data": data, "paging": {"total": len(data)}}
        if m := re.fullmatch(r"tables/([0-9a-f-]{36})/tableProfile", path):
            table = self.by_id(m[1])
            if table is None:
                raise ApiError(404, f"table instance for {m[1]} not found")
            self.profiles.setdefault(table["fullyQualifiedName"], {})[body["tableProfile"]["timestamp"]] = body
            return 200, {**table, "profile": body["tableProfile"]}
        if m := re.fullmatch(r"tables/([0-9a-f-]{36})/dataModel", path):
            table = self.by_id(m[1])
            if table is None:
                raise ApiError(404, f"table instance for {m[1]} not found")
            table["dataModel"] = body
            return 200, table
        if m := re.fullmatch(r"lineage/([^/]+)/name/([^/]+)/([^/]+)/name/([^/]+)", path):
            # add_lineage_by_name: the body is the edge's LineageDetails
            ends = []
            for etype, efqn in ((m[1], m[2]), (m[3], m[4])):
                coll = next(c for c in COLLECTIONS.values() if c.type == etype)
                ends.append(self._ref_by_fqn(coll.path, efqn))
            self.lineage[(ends[0]["id"], ends[1]["id"])] = {
                "fromEntity": {"id": ends[0]["id"], "type": m[1]}, "toEntity": {"id": ends[1]["id"], "type": m[3]},
                "lineageDetails": body}
            return 200, None
        if m := re.fullmatch(r"metadata/types/name/([^/]+)", path):
            # entity types and their custom properties (this project defines none)
            return 200, {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, m[1])), "name": m[1], "fullyQualifiedName": m[1],
                         "category": "entity", "schema": "{}", "customProperties": []}
        if path in ("search/fieldQuery", "search/query"):
            return 200, self._search(q)
        if path in COLLECTIONS and method in ("PUT", "POST"):
            coll = COLLECTIONS[path]
            if method == "POST" and self.get(path, self._fqn(coll, body)):
                raise ApiError(409, "Entity already exists")
            return (201 if method == "POST" else 200), self._put(coll, body)
        if path in COLLECTIONS and method == "GET":
            data = list(self.entities.get(path, {}).values())
            return 200, {"data": data, "paging": {"total": len(data)}}
        for cpath in sorted(COLLECTIONS, key=len, reverse=True):
            if not path.startswith(cpath + "/"):
                continue
            rest = path[len(cpath) + 1:]
            if rest.startswith("name/"):
                doc = self.get(cpath, rest[5:])
            else:
                doc = self.by_id(rest)
                doc = doc if doc is not None and self._by_id[rest][0] == cpath else None
            if doc is None:
                raise ApiError(404, f"{COLLECTIONS[cpath].type} instance for {rest} not found")
            if method == "GET":
                return 200, doc
            if method == "PATCH":
                return 200, self._patch(COLLECTIONS[cpath], doc, body)
        raise ApiError(404, f"HTTP 404 Not Found: {method} /api/v1/{path} is not answered by this stand-in")

    def _edge_end(self, end: dict) -> dict:
        doc = self.by_id(end["id"])
        return {"id": end["id"], "type": end["type"], "fullyQualifiedName": doc["fullyQualifiedName"]}

    def _lineage_of(self, doc: dict | None) -> dict:
        if doc is None:
            raise ApiError(404, "entity not found")
        up = [e for (f, t), e in self.lineage.items() if t == doc["id"]]
        down = [e for (f, t), e in self.lineage.items() if f == doc["id"]]

        def edge(e: dict) -> dict:
            return {"fromEntity": e["fromEntity"]["id"], "toEntity": e["toEntity"]["id"],
                    "lineageDetails": e.get("lineageDetails")}
        nodes = {x for e in up + down for x in (e["fromEntity"]["id"], e["toEntity"]["id"])} - {doc["id"]}
        return {"entity": self.ref("tables", doc), "nodes": [self.ref("tables", self.by_id(n)) for n in nodes],
                "upstreamEdges": [edge(e) for e in up], "downstreamEdges": [edge(e) for e in down]}

    def _search(self, q: dict) -> dict:
        coll = SEARCH_INDEX.get(q.get("index", ""), "tables")
        value = (q.get("fieldValue") or q.get("q") or "").strip()
        value = value.split(":", 1)[1].strip('"') if q.get("q") and ":" in value else value
        docs = [d for f, d in self.entities.get(coll, {}).items()
                if value and (fnmatch.fnmatchcase(f.lower(), value.lower()) or f.lower() == value.lower())]
        hits = [{"_index": q.get("index", ""), "_id": d["id"], "_source": d} for d in docs]
        return {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}

    # -- recording --
    def record(self, method: str, path: str, query: dict, body: Any, status: int, error: str | None) -> None:
        with self._lock:
            self.requests.append(Recorded(method, path, query, body, status, error))

    def recording(self) -> list[dict]:
        return [r.as_dict() for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeOpenMetadata/" + SERVER_VERSION
    fake: FakeOpenMetadata

    def log_message(self, *args):  # quiet
        pass

    def _do(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else None
        path = unquote(url.path)
        if not path.startswith("/api/v1/"):
            status, answer, error = 404, {"code": 404, "message": f"{path} is not under /api/v1"}, "not api"
        else:
            path = path[len("/api/v1/"):]
            try:
                status, answer = self.fake.handle(self.command, path, parse_qs(url.query), body)
                error = None
            except ApiError as exc:
                status, answer, error = exc.status, {"code": exc.status, "message": exc.message}, exc.message
            except Exception as exc:  # noqa: BLE001 - a bug in the stand-in must show, not hang the client
                import traceback
                status, answer, error = 500, {"code": 500, "message": repr(exc)}, traceback.format_exc()
        self.fake.record(self.command, path, parse_qs(url.query), body, status, error)
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _do


class serve:  # noqa: N801 - used as a context manager: `with serve() as (url, fake):`
    """Run a FakeOpenMetadata on a free loopback port; yields (host_port for the SDK, state)."""

    def __init__(self, fake: FakeOpenMetadata | None = None):
        self.fake = fake or FakeOpenMetadata()

    def __enter__(self) -> tuple[str, FakeOpenMetadata]:
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api", self.fake

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def unsigned_jwt(subject: str = "ingestion-bot") -> str:
    """A well-formed, unsigned JWT for the stand-in (which checks no signature)."""
    import base64

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': subject, 'iss': 'fsdp-recorder'})}.x"
