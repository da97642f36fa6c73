"""Loads the DAG folder once, in a subprocess with the embedded Airflow's environment (Airflow
reads its configuration when first imported, so the test process's own imports must not decide
it), and returns what the integrity tests assert on as JSON."""
from __future__ import annotations

import json

import pytest

from tests.e2e import harness

INSPECT = r'''
import functools, json, time
from cosmos.dbt import graph as cosmos_graph
loads = []  # how Cosmos read the dbt project at this parse (a manifest, or `dbt ls` and its cache)
for name in ("load_from_dbt_manifest", "load_via_dbt_ls", "load_via_dbt_ls_file", "load_via_custom_parser"):
    method = getattr(cosmos_graph.DbtGraph, name, None)
    if method is not None:
        def recorded(self, *a, _name=name, _method=method, **kw):
            loads.append(_name)
            return _method(self, *a, **kw)
        setattr(cosmos_graph.DbtGraph, name, functools.wraps(method)(recorded))
t0 = time.monotonic()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder="dags")
out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()},
       "load_seconds": time.monotonic() - t0,
       "file_seconds": {s.file: s.duration.total_seconds() for s in bag.dagbag_stats},
       "cosmos_loads": loads,
       "dags": {}}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "retries": t.retries, "exponential": bool(t.retry_exponential_backoff), "pool": t.pool,
            "owner": t.owner, "upstream": sorted(t.upstream_task_ids),
            "outlets": [getattr(o, "uri", str(o)) for o in t.outlets],
            "operator": type(t).__name__, "trigger_rule": str(getattr(t.trigger_rule, "value", t.trigger_rule)),
            "is_teardown": bool(t.is_teardown),
            # the scheduler's weight: absolute, or (default) the task's own plus every downstream task's
            "priority_weight": t.priority_weight if "absolute" in str(getattr(t, "weight_rule", "")).lower()
            else t.priority_weight + sum(dag.task_dict[d].priority_weight
                                         for d in t.get_flat_relative_ids(upstream=False)),
            "on_failure_fail_dagrun": bool(getattr(t, "on_failure_fail_dagrun", False)),
            "failure_callbacks": [getattr(c, "__name__", str(c)) for c in
                                  (t.on_failure_callback if isinstance(t.on_failure_callback, list)
                                   else [t.on_failure_callback] if t.on_failure_callback else [])],
            "dbt_vars": getattr(t, "vars", None),
            "dbt_env_logical_date": (getattr(t, "env", None) or {}).get("FSDP_LOGICAL_DATE"),
            "producer_task_id": getattr(t, "producer_task_id", None),
        }
    out["dags"][dag_id] = {
        "tags": sorted(dag.tags), "catchup": dag.catchup, "doc_md": bool(dag.doc_md),
        "schedule": str(dag.schedule) if isinstance(dag.schedule, str) else type(dag.timetable).__name__, "params": sorted(dag.params.keys()),
        "has_failure_callback": dag.has_on_failure_callback, "tasks": tasks,
        "deadline": [type(d.callback).__name__ + ":" + d.callback.path for d in (dag.deadline or [])]
            if isinstance(dag.deadline, list) else ([type(dag.deadline.callback).__name__ + ":" + dag.deadline.callback.path]
                                                     if dag.deadline else []),
        "asset_schedule": sorted(o.uri for o in dag.timetable.asset_condition.objects if hasattr(o, "uri"))
            if getattr(dag.timetable, "asset_condition", None) is not None else [],
    }
print("@@JSON@@" + json.dumps(out))
'''


@pytest.fixture(scope="session")
def dag_env(tmp_path_factory) -> dict[str, str]:
    env = harness.isolated_env(tmp_path_factory.mktemp("dag_integrity"))
    harness.parse_manifest(env)
    return env


def _report(env: dict[str, str]) -> dict:
    proc = harness.run([str(harness.PYTHON), "-c", INSPECT], env, timeout=300)
    return json.loads(proc.stdout.split("@@JSON@@", 1)[1])


@pytest.fixture(scope="session")
def dagbag_report(dag_env) -> dict:
    """The DAG folder as the default settings render it (FSDP_COSMOS_EXECUTION_MODE unset: watcher)."""
    env = {k: v for k, v in dag_env.items() if k != "FSDP_COSMOS_EXECUTION_MODE"}
    return _report(env)


@pytest.fixture(scope="session")
def local_dagbag_report(dag_env) -> dict:
    """The DAG folder with FSDP_COSMOS_EXECUTION_MODE=local (one dbt invocation per task)."""
    return _report({**dag_env, "FSDP_COSMOS_EXECUTION_MODE": "local"})
