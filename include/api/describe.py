"""The data API described for the catalog (``python -m include.api describe``): the service, its
collections and endpoints with request and response fields (OpenMetadata's field types: STRING,
DOUBLE, INT, BOOLEAN, ARRAY, RECORD ...), and what each endpoint reads (dbt models and metrics,
from the semantic manifest). Plain JSON: the catalog push (its own venv) reads it without FastAPI."""
from __future__ import annotations

import json
from pathlib import Path

from include.api.groups import load as load_groups
from include.api.settings import ApiSettings
from include.api.sqlapis import load_definitions

SERVICE = "fsdp-data-api"
TYPES = {"string": "STRING", "number": "DOUBLE", "time": "TIMESTAMP", "boolean": "BOOLEAN",
         "integer": "INT", "date": "DATE"}


def _f(name: str, data_type: str, description: str = "", children: list | None = None) -> dict:
    out = {"name": name, "dataType": data_type, "description": description}
    if children:
        out["children"] = children
    return out


QUERY_FIELDS = [
    _f("measures", "ARRAY", "measure names, <table>.<measure>"),
    _f("dimensions", "ARRAY", "dimension names, <table>.<dimension>"),
    _f("timeDimensions", "ARRAY", "{dimension, granularity, dateRange}"),
    _f("filters", "ARRAY", "{member, operator, values}; values are bound, never SQL"),
    _f("segments", "ARRAY", "segment names"),
    _f("order", "RECORD", "{member: asc|desc}"),
    _f("limit", "INT", "rows, at most 10000"),
    _f("offset", "INT", "rows to skip"),
]
META_FIELDS = [_f("logicalDate", "DATE", "logical date of the data"), _f("runId", "STRING", "pipeline run"),
               _f("qualityGate", "STRING", "passed / passed_with_warnings"), _f("rowLimit", "INT"),
               _f("truncated", "BOOLEAN"), _f("segments", "ARRAY"), _f("masking", "RECORD"),
               _f("rateLimit", "RECORD", "limit, remaining, used, resetAt")]


def _semantic(settings: ApiSettings) -> dict:
    """Semantic manifest of the current serving copy, else the dbt project's."""
    from include import serving

    copy = serving.current(settings.serving_dir)
    candidates = [copy.semantic_manifest] if copy and copy.semantic_manifest else []
    candidates.append(Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "semantic_manifest.json")
    for path in candidates:
        if path and Path(path).exists():
            return json.loads(Path(path).read_text())
    return {"semantic_models": [], "metrics": []}


def _reads(semantic: dict, tables: set[str] | None, metrics: set[str] | None) -> dict:
    models = {sm["name"]: sm for sm in semantic.get("semantic_models", [])}
    chosen = models if tables is None else {n: m for n, m in models.items() if n in tables}
    out_models = sorted({f"{m['node_relation']['schema_name']}.{m['node_relation']['alias']}" for m in chosen.values()})
    names = {m["name"] for m in semantic.get("metrics", [])}
    return {"relations": out_models, "metrics": sorted(names if metrics is None else names & metrics)}


def describe(settings: ApiSettings) -> dict:
    groups = load_groups(settings.user_groups)
    apis = load_definitions(settings.apis_dir, groups.defaults.max_rows, set(groups.groups))
    semantic = _semantic(settings)
    base = settings.public_url.rstrip("/")
    row = _f("row", "RECORD", "one result row: member name -> value")
    load_response = [_f("query", "RECORD", "the query as served", QUERY_FIELDS), _f("data", "ARRAY", "rows", [row]),
                     _f("annotation", "RECORD", "titles and types of the members"),
                     _f("meta", "RECORD", "data date, run, quality gate, limits, masking", META_FIELDS)]
    semantic_reads = _reads(semantic, None, None)
    v2 = [
        {"name": "load", "path": "/v2/load", "method": "POST", "description": "Run a query of the semantic model",
         "request": [_f("query", "RECORD", "the query", QUERY_FIELDS)], "response": load_response, "reads": semantic_reads},
        {"name": "meta", "path": "/v2/meta", "method": "GET", "description": "Members the caller may use",
         "request": [], "response": [_f("cubes", "ARRAY", "logical tables"), _f("meta", "RECORD")], "reads": semantic_reads},
        {"name": "sql", "path": "/v2/sql", "method": "POST", "description": "The SQL a query would run (not run)",
         "request": [_f("query", "RECORD", "the query", QUERY_FIELDS)],
         "response": [_f("sql", "RECORD", "sql and parameters"), _f("meta", "RECORD")], "reads": semantic_reads},
        {"name": "graphql", "path": "/v2/graphql", "method": "POST",
         "description": "GraphQL: load(query, limit, offset) { data meta rateLimit }",
         "request": [_f("query", "STRING", "GraphQL document"), _f("variables", "RECORD")],
         "response": [_f("data", "RECORD", "load: {data, meta, rateLimit}"), _f("errors", "ARRAY")],
         "reads": semantic_reads},
    ]
    members = {}
    for sm in semantic.get("semantic_models", []):
        for d in sm.get("dimensions", []):
            members[f"{sm['name']}.{d['name']}"] = "TIMESTAMP" if d.get("type") == "time" else "STRING"
    files = []
    for d in apis:
        t = d.template
        tables = {m.split(".")[0] for m in (*t.measures, *t.dimensions, *(x["dimension"] for x in t.time_dimensions))}
        columns = [_f(t.aliases.get(m, m), members.get(m, "STRING")) for m in t.dimensions]
        columns += [_f(t.aliases.get(m, m), "DOUBLE") for m in t.measures]
        files.append({"name": d.name, "path": d.url_path, "method": "GET", "description": d.description,
                      "request": [_f(p.name, "ARRAY" if p.is_list else TYPES[p.type], p.description) for p in d.params],
                      "response": [_f("data", "ARRAY", "rows", [_f("row", "RECORD", "", columns)]),
                                   _f("meta", "RECORD", "data date, run, quality gate", META_FIELDS)],
                      "reads": {**_reads(semantic, tables, None),
                                # the metrics its SQL names, whether or not a manifest is at hand
                                "metrics": sorted({m.split(".", 1)[1] for m in t.measures})},
                      "source": d.source, "file": f"include/api/apis/{d.file}"})
    return {
        "service": {"name": SERVICE, "url": base, "openapi": f"{base}/openapi.json",
                    "description": "Governed data APIs of the customer data market place (include/api)"},
        "collections": [
            {"name": "market-place-v2", "url": f"{base}/v2", "description": "The semantic model over REST and GraphQL",
             "endpoints": v2},
            {"name": "apis-from-files", "url": base, "description": "One API per SQL file (include/api/apis)",
             "endpoints": files},
        ],
    }
