"""`python -m include.catalog push ...` (inside .venv-catalog): the catalog step's entry point."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / ".local" / "catalog" / "openmetadata-requests.json"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m include.catalog",
                                description="Push the data product's metadata to OpenMetadata 2.0.x.")
    sub = p.add_subparsers(dest="command", required=True)
    push = sub.add_parser("push", help="create or update everything the catalog holds (idempotent)")
    target = ROOT / "dbt_project" / "target"
    push.add_argument("--manifest", default=str(target / "manifest.json"))
    push.add_argument("--catalog", default=str(target / "catalog.json"))
    push.add_argument("--run-results", default=str(target / "run_results.json"))
    push.add_argument("--quality-json", default=None,
                      help="Soda scan result JSON file, or a directory of them")
    push.add_argument("--freshness-json", default=None,
                      help="dbt source freshness result of the run (include/pipeline/freshness.py)")
    push.add_argument("--dp-manifest", default=str(Path(__file__).with_name("data_product.yaml")))
    push.add_argument("--api-json", default=None,
                      help="the data API's description (python -m include.api describe): service, endpoints, lineage")
    push.add_argument("--dag-tasks", default=None,
                      help="JSON file: [{name, downstream: [...]}] of the Airflow DAG's tasks")
    push.add_argument("--out", default=os.environ.get("FSDP_CATALOG_OUT", str(DEFAULT_OUT)),
                      help="where to write what would have been sent when no server is configured")
    push.add_argument("--no-dbt-ingestion", action="store_true",
                      help="skip the SDK's dbt workflow (descriptions and dbt lineage)")
    return p


def push_command(args: argparse.Namespace) -> dict:
    """Build the plan and push it; returns the summary printed by main()."""
    from include.catalog.plan import build_plan
    from include.catalog.push import CatalogPusher, connect, dbt_workflow_config, run_dbt_workflow

    plan = build_plan(args.manifest, args.catalog, args.quality_json, args.dp_manifest, args.api_json,
                      freshness_path=args.freshness_json)
    for w in plan.warnings:
        print(f"catalog: warning: {w}", file=sys.stderr)
    dag_tasks = json.loads(Path(args.dag_tasks).read_text()) if args.dag_tasks else []

    host_port = os.environ.get("OPENMETADATA_HOST_PORT", "").strip()
    jwt = os.environ.get("OPENMETADATA_JWT_TOKEN", "").strip()
    recorder_ctx = None
    if not host_port:
        from include.catalog.recorder import serve, unsigned_jwt
        print(f"catalog: no OpenMetadata server configured (OPENMETADATA_HOST_PORT unset): "
              f"writing what would be sent to {args.out}")
        recorder_ctx = serve()
        host_port, fake = recorder_ctx.__enter__()
        jwt = unsigned_jwt()
    elif not jwt:
        raise SystemExit("catalog: OPENMETADATA_HOST_PORT is set but OPENMETADATA_JWT_TOKEN is not "
                         "(the ingestion-bot's token: OpenMetadata UI > Settings > Bots > ingestion-bot)")
    try:
        om = connect(host_port, jwt, retries=int(os.environ.get("OPENMETADATA_RETRIES", "3")),
                     wait_s=float(os.environ.get("OPENMETADATA_RETRY_WAIT_SECONDS", "10")))
        wh_service = plan.dp["warehouse"]["service"]
        dbt = None
        if not args.no_dbt_ingestion:
            # recording only: the workflow's warnings about a local run are noise, keep the one line
            config = dbt_workflow_config(host_port, jwt, wh_service, args.manifest, args.catalog, args.run_results,
                                         logger_level="ERROR" if recorder_ctx else "WARN")
            dbt = lambda: run_dbt_workflow(config)  # noqa: E731
        pusher = CatalogPusher(om, plan, dag_tasks=dag_tasks, dbt_ingestion=dbt,
                               airflow_url=os.environ.get("FSDP_AIRFLOW_URL", "http://localhost:8080"),
                               duckdb_path=os.environ.get("FSDP_DUCKDB_PATH", ""),
                               superset_url=os.environ.get("FSDP_SUPERSET_URL", "http://localhost:8088"))
        result = pusher.run()
        summary = {"server": "recorder" if recorder_ctx else host_port, **result.counts}
        if recorder_ctx:
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            tmp.write_text(json.dumps({"summary": summary, "requests": fake.recording()}, indent=1, default=str))
            tmp.replace(out)
            summary["requests_written"] = len(fake.requests)
        return summary
    finally:
        if recorder_ctx:
            recorder_ctx.__exit__(None, None, None)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("FSDP_CATALOG_LOG_LEVEL", "WARNING"),
                        format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    from include.catalog.push import CatalogPushError
    try:
        summary = push_command(args)
    except CatalogPushError as exc:
        print(f"catalog: FAILED: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a rejected write, a bad artifact: one line after the trace
        traceback.print_exc()
        print(f"catalog: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print("catalog: " + json.dumps(summary, sort_keys=True))
    return 0
