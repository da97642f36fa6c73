"""DAG integrity: every DAG in dags/ imports cleanly and fast, and follows the bundle's rules."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
EXPECTED = {"fsdp_daily", "fsdp_product_health"}
POOL = "duckdb_writer"


def test_every_dag_file_imports_without_errors(dagbag_report):
    assert dagbag_report["import_errors"] == {}
    assert EXPECTED <= set(dagbag_report["dags"])


def test_parsing_the_dags_renders_from_the_manifest_and_never_runs_dbt(dagbag_report):
    # Regression: Cosmos' default LoadMode runs `dbt ls` at every parse (tens of seconds); rendering
    # from the manifest runs no dbt. Parse time itself is a figure of benchmarks/, not a timed test.
    loads = dagbag_report["cosmos_loads"]
    assert loads and set(loads) == {"load_from_dbt_manifest"}, loads


def test_every_dag_has_tags_an_owner_docs_and_a_failure_callback(dagbag_report):
    for dag_id, dag in dagbag_report["dags"].items():
        assert dag["tags"], dag_id
        assert dag["doc_md"], dag_id
        assert dag["has_failure_callback"], dag_id
        assert all(t["owner"] not in ("", "airflow") for t in dag["tasks"].values()), dag_id


def test_every_daily_task_reports_its_failure_in_one_line(dagbag_report):
    # Regression: with three failed tasks the run's FAILED line named one of them
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    # quality_warnings fails on purpose to mark a run with warnings: it is not a failed task
    assert {t for t, task in tasks.items() if "log_task_failure" not in task["failure_callbacks"]} == {"quality_warnings"}


def _dbt_tasks(report: dict) -> dict[str, dict]:
    """The tasks of the two dbt task groups that run dbt or watch it (not Cosmos' EmptyOperator)."""
    tasks = report["dags"]["fsdp_daily"]["tasks"]
    return {t: task for t, task in tasks.items()
            if t.startswith(("dbt.", "marketplace.")) and task["operator"] != "EmptyOperator"}


@pytest.mark.parametrize("mode", ["watcher", "local"])
def test_every_dbt_task_builds_the_runs_own_logical_date(mode, dagbag_report, local_dagbag_report):
    # Regression: a run for one date ingested every date landed so far. The date is an environment
    # variable, not --vars (which would make every dbt invocation re-parse the project)
    dbt_tasks = _dbt_tasks(dagbag_report if mode == "watcher" else local_dagbag_report)
    assert dbt_tasks
    assert {t for t, task in dbt_tasks.items() if "logical_date" not in (task["dbt_env_logical_date"] or "")} == set()
    assert {t for t, task in dbt_tasks.items() if task["dbt_vars"]} == set()


def test_every_task_retries(dagbag_report):
    # the one exception: Cosmos never retries a watcher producer's dbt build (it would skip the
    # retry); each node's task retries by running dbt for its node
    no_retry = [f"{d}.{t}" for d, dag in dagbag_report["dags"].items()
                for t, task in dag["tasks"].items() if task["retries"] < 1]
    assert no_retry == ["fsdp_daily.dbt.dbt_producer_watcher", "fsdp_daily.marketplace.dbt_producer_watcher"]


def test_each_dbt_group_runs_one_dbt_build_first_and_a_task_per_node_after_it(dagbag_report):
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    for group in ("dbt", "marketplace"):
        producer = f"{group}.dbt_producer_watcher"
        assert tasks[producer]["operator"] == "DbtProducerWatcherOperator"
        nodes = {t: task for t, task in _dbt_tasks(dagbag_report).items() if t.startswith(f"{group}.") and t != producer}
        assert nodes and {task["operator"] for task in nodes.values()} <= {
            "DbtRunWatcherOperator", "DbtTestWatcherOperator", "DbtSnapshotWatcherOperator", "DbtSeedWatcherOperator"}
        assert {t for t, task in nodes.items() if task["producer_task_id"] != producer} == set()
        # the producer is the group's only entry: `airflow dags test` runs one task at a time, and a
        # node task started before the build would wait for it forever
        firsts = {t for t, task in nodes.items() if not any(u.startswith(f"{group}.") for u in task["upstream"])}
        assert firsts == set()
        entries = {t for t, task in nodes.items() if task["upstream"] == [producer]}
        assert entries and {tasks[t]["trigger_rule"] for t in entries} == {"one_done"}
        assert all(producer in _ancestors(tasks, t) for t in nodes)
        # the other node tasks follow their dbt dependencies: a failed test stops what depends on it
        assert {tasks[t]["trigger_rule"] for t in set(nodes) - entries} == {"all_success"}


def test_local_mode_still_runs_one_dbt_invocation_per_model_and_test(local_dagbag_report):
    assert local_dagbag_report["import_errors"] == {}
    dbt_tasks = _dbt_tasks(local_dagbag_report)
    assert dbt_tasks and {task["operator"] for task in dbt_tasks.values()} <= {
        "DbtRunLocalOperator", "DbtTestLocalOperator", "DbtSnapshotLocalOperator", "DbtSeedLocalOperator"}
    tasks = local_dagbag_report["dags"]["fsdp_daily"]["tasks"]
    assert not [t for t in tasks if t.endswith("dbt_producer_watcher")]
    for group in ("dbt", "marketplace"):
        assert tasks[f"{group}_done"]["trigger_rule"] == "all_done" and f"{group}_done" in tasks["run_report"]["upstream"]
        assert set(tasks[f"{group}_done"]["upstream"]) == {t for t in tasks if t.startswith(f"{group}.")}


def test_blob_io_tasks_retry_with_exponential_backoff(dagbag_report):
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    for task_id in ("land_mock_data", "landing_inventory"):
        assert tasks[task_id]["retries"] >= 3 and tasks[task_id]["exponential"], task_id


def test_every_task_touching_duckdb_runs_in_the_one_slot_pool(dagbag_report):
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    duckdb_tasks = [t for t in tasks if t.startswith(("dbt.", "marketplace."))] + [
        "start_run", "apply_role_views", "semantic_layer", "publish_output_port", "publish_serving_copy",
        "publish_data_product", "publish_dbt_docs", "run_report", "end_run"]
    assert len(duckdb_tasks) > 3
    assert {t: tasks[t]["pool"] for t in duckdb_tasks if tasks[t]["pool"] != POOL} == {}
    health = dagbag_report["dags"]["fsdp_product_health"]["tasks"]
    assert {t["pool"] for t in health.values()} == {POOL}


def test_every_dbt_model_and_test_is_a_task(dagbag_report, dag_env):
    import json

    manifest = json.loads((Path(dag_env["FSDP_DBT_TARGET_DIR"]) / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n["package_name"] == "fsdp"}
    tasks = set(dagbag_report["dags"]["fsdp_daily"]["tasks"])
    assert {m for m in models if f"dbt.{m}.run" not in tasks and f"marketplace.{m}.run" not in tasks} == set()
    # the market place's marts build after the quality gate, the produce side before it
    marketplace = {m for m in models if f"marketplace.{m}.run" in tasks}
    assert {"customers", "transactions", "customer_archetypes"} <= marketplace
    assert "customer_overview_dp" not in marketplace
    # tests run after their model (TestBehavior.AFTER_EACH)
    tests = [t for t in tasks if t.endswith(".test")]
    assert tests


def test_daily_dag_is_daily_without_catchup_and_has_the_trigger_form_params(dagbag_report):
    dag = dagbag_report["dags"]["fsdp_daily"]
    assert dag["catchup"] is False
    assert "@daily" in dag["schedule"] or "0 0 * * *" in dag["schedule"]
    assert set(dag["params"]) == {"rows", "bad_rows", "skip_generation", "full_refresh"}


def test_pipeline_order_lands_then_dbt_then_publishes_then_docs(dagbag_report):
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    assert tasks["landing_inventory"]["upstream"] == ["land_mock_data"]
    assert tasks["source_freshness"]["upstream"] == ["landing_inventory"]
    assert all("source_freshness" in t["upstream"] for t_id, t in tasks.items()
               if t_id.startswith("dbt.") and not any(u.startswith("dbt.") for u in t["upstream"]))
    assert tasks["publish_output_port"]["upstream"] == ["semantic_layer"]
    assert tasks["semantic_layer"]["upstream"] == ["apply_role_views"]
    assert tasks["publish_serving_copy"]["upstream"] == ["publish_output_port", "quality_gate"]
    assert tasks["publish_data_product"]["upstream"] == ["publish_serving_copy"]
    firsts = [t_id for t_id, t in tasks.items() if t_id.startswith("marketplace.")
              and not any(u.startswith("marketplace.") for u in t["upstream"])]
    assert firsts and all(tasks[t]["upstream"] == ["quality_gate"] for t in firsts)
    # the docs, then the catalog, beside the serving side: both after every market-place task, neither
    # waiting for the other branch
    marts = {t for t in tasks if t.startswith("marketplace.")}
    for branch in ("publish_dbt_docs", "apply_role_views"):
        assert set(tasks[branch]["upstream"]) and set(tasks[branch]["upstream"]) <= marts, branch
        assert marts <= _ancestors(tasks, branch), branch
    assert tasks["publish_catalog"]["upstream"] == ["publish_dbt_docs"]
    serving = {"apply_role_views", "semantic_layer", "publish_output_port", "publish_serving_copy", "publish_data_product"}
    assert not serving & _ancestors(tasks, "publish_catalog")
    assert not {"publish_dbt_docs", "publish_catalog"} & _ancestors(tasks, "publish_data_product")
    # the docs go first into the one-slot pool: the catalog step waits for them alone
    assert tasks["publish_dbt_docs"]["priority_weight"] > max(tasks[t]["priority_weight"] for t in serving)


def _ancestors(tasks: dict, task_id: str) -> set[str]:
    seen, todo = set(), list(tasks[task_id]["upstream"])
    while todo:
        t = todo.pop()
        if t not in seen:
            seen.add(t)
            todo += tasks[t]["upstream"]
    return seen


def test_nothing_is_published_before_the_quality_gate(dagbag_report):
    # Regression: the Parquet export was a post-hook of the product models, so it ran before the
    # Soda gate and published rows the gate then failed
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    for publishes in ("publish_output_port", "publish_serving_copy", "publish_data_product"):
        assert "quality_gate" in _ancestors(tasks, publishes)
    assert "publish_output_port" in _ancestors(tasks, "publish_data_product")


def test_every_run_starts_with_the_warehouse_lease_and_ends_by_releasing_it(dagbag_report):
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    assert tasks["start_run"]["upstream"] == []
    assert all("start_run" in _ancestors(tasks, t) for t in tasks if t != "start_run")
    assert tasks["end_run"]["trigger_rule"] == "all_done_setup_success"     # a teardown: runs whatever happened
    assert tasks["end_run"]["is_teardown"]
    # released last: after the run report (which reads the warehouse), and nothing after it
    assert "run_report" in tasks["end_run"]["upstream"] and not [
        t for t, spec in tasks.items() if "end_run" in spec["upstream"]]
    assert _ancestors(tasks, "end_run") == set(tasks) - {"end_run"}


def test_the_reporting_tasks_are_teardowns_that_run_last_and_never_decide_the_run_state(dagbag_report):
    # Regression: an all_done task at the end would turn a failed run green; a teardown does not count
    tasks = dagbag_report["dags"]["fsdp_daily"]["tasks"]
    assert tasks["run_report"]["is_teardown"] and tasks["quality_warnings"]["is_teardown"]
    # after every dbt task too: a failed dbt task makes the gate upstream_failed at once while the
    # group's other tasks still run (Regression: the report of a failed test missed half the dbt tasks)
    assert sorted(tasks["run_report"]["upstream"]) == ["dbt_done", "marketplace_done", "publish_catalog",
                                                       "publish_data_product", "quality_warnings"]
    for group in ("dbt", "marketplace"):
        assert tasks[f"{group}_done"]["trigger_rule"] == "all_done"
        assert set(tasks[f"{group}_done"]["upstream"]) == {t for t in tasks if t.startswith(f"{group}.")}


@pytest.mark.parametrize("mode", ["watcher", "local"])
def test_the_quality_gate_and_the_market_place_wait_for_every_dbt_task_to_succeed(mode, dagbag_report, local_dagbag_report):
    # Regression: with the group's all_done task inside the group, it was the group's only last
    # task, and a failed dbt test let the gate run and the run publish
    tasks = (dagbag_report if mode == "watcher" else local_dagbag_report)["dags"]["fsdp_daily"]["tasks"]
    for group, after in (("dbt", "quality_gate"), ("marketplace", "apply_role_views")):
        assert f"{group}_done" not in _ancestors(tasks, after)
        assert {t for t in _dbt_tasks({"dags": {"fsdp_daily": {"tasks": tasks}}})
                if t.startswith(f"{group}.") and t not in _ancestors(tasks, after)} == set()
        assert all(u.startswith(f"{group}.") for u in tasks[after]["upstream"]), tasks[after]["upstream"]
        # between a dbt task and the gate, only tasks that fail when a task before them failed: a
        # dbt task's own all_success, a first node task's one_done on the producer (the producer's
        # failure is then the node's own outcome), Cosmos' none_failed gate on the producer alone
        between = {t for t in _ancestors(tasks, after) if t.startswith(f"{group}.")}
        for t in between:
            rule, up = tasks[t]["trigger_rule"], tasks[t]["upstream"]
            assert rule == "all_success" or (rule in ("one_done", "none_failed") and up == [f"{group}.dbt_producer_watcher"]), (t, rule, up)
    assert sorted(tasks["quality_warnings"]["upstream"]) == ["quality_gate", "source_freshness"]
    assert not tasks["run_report"]["on_failure_fail_dagrun"]


def test_the_daily_run_has_a_deadline_alert_through_the_notifier(dagbag_report):
    assert dagbag_report["dags"]["fsdp_daily"]["deadline"] == ["SyncCallback:include.pipeline.alerts.FsdpAlertNotifier"]


def test_publish_updates_the_product_assets_that_schedule_the_health_dag(dagbag_report):
    outlets = set(dagbag_report["dags"]["fsdp_daily"]["tasks"]["publish_data_product"]["outlets"])
    assert {"duckdb://fsdp/fs_accelerator/customer_overview_dp"} <= outlets
    assert set(dagbag_report["dags"]["fsdp_product_health"]["asset_schedule"]) == outlets


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_hold_declarations_only(path):
    """No I/O or heavy libraries at module level: imports of those live inside the task bodies."""
    heavy = {"duckdb", "pandas", "pyarrow", "numpy", "azure", "adlfs", "dbt", "include.mockgen", "include.governance"}
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not [n for n in names if n.split(".")[0] in heavy or n in heavy], ast.dump(node)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            assert isinstance(func, ast.Name) and func.id in {t.name for t in tree.body
                                                             if isinstance(t, ast.FunctionDef)}, ast.dump(node)
