"""dbt for the DAGs: the Cosmos configuration of the dbt task group, the manifest Cosmos renders
from, and the dbt docs published to the Airflow UI.

Why Cosmos renders from a manifest (LoadMode.DBT_MANIFEST) instead of running ``dbt ls``: the
scheduler re-parses DAG files every 30 s, and ``dbt ls`` costs seconds of CPU per parse on a
2-core machine. ``dbt parse`` runs once, in scripts/run.sh, scripts/airflow.sh, the test
fixtures and docker-compose's init service (``python -m include.pipeline.dbt parse``).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from include.pipeline import settings

log = logging.getLogger(__name__)

DOCS_FILES = ("index.html", "manifest.json", "catalog.json")


def partial_parse_path() -> Path:
    """The partial parse of the pipeline's own ``dbt parse`` (``python -m include.pipeline.dbt parse``)."""
    return settings.dbt_target_dir() / "partial_parse.msgpack"


def dbt_env() -> dict[str, str]:
    """Environment dbt needs whatever its working directory (Cosmos copies the project to a
    temporary directory, so profiles.yml's relative default path would point elsewhere).

    Every dbt invocation of the pipeline reads the partial parse of the pipeline's ``dbt parse``
    (DBT_PARTIAL_PARSE_FILE_PATH; dbt only reads that file, it writes its own into its target
    path), instead of whatever Cosmos finds in dbt_project/target (developers' and tests' dbt runs
    write there, with another DuckDB path: "profile has changed", a full parse) or in its cache.
    It is reused only when dbt's checks match the parse's: the same profile, target and
    connection (FSDP_DUCKDB_PATH), the same env vars of dbt_project.yml and no ``--vars`` (the
    logical date reaches dbt as FSDP_LOGICAL_DATE, see macros/landing_contract.sql)."""
    env = {
        "FSDP_DUCKDB_PATH": str(settings.duckdb_path()),
        "FSDP_REPO_ROOT": str(settings.ROOT),
        "FSDP_DBT_TARGET": settings.DBT_TARGET,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    partial = partial_parse_path()
    if partial.is_file():   # dbt refuses a path that does not exist (before the first parse)
        env["DBT_PARTIAL_PARSE_FILE_PATH"] = str(partial)
    return env


def _run_dbt(*args: str, target_path: Path | None = None, ok_codes: tuple[int, ...] = (0,)) -> int:
    project = settings.dbt_project_dir()
    # --profile and --target as Cosmos passes them: both are in dbt's partial-parse checksum
    cmd = [settings.dbt_executable(), *args, "--project-dir", str(project), "--profiles-dir", str(project),
           "--profile", settings.DBT_PROFILE, "--target", settings.DBT_TARGET]
    if target_path is not None:
        cmd += ["--target-path", str(target_path)]
    env = {**os.environ, **dbt_env()}
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, env=env, cwd=project, text=True, capture_output=True)
    if proc.stdout:
        log.info("%s", proc.stdout[-20000:])
    if proc.returncode not in ok_codes:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise RuntimeError(f"dbt {args[0]} failed (exit {proc.returncode}):\n{tail}")
    return proc.returncode


def parse_manifest() -> Path:
    """Write the manifest Cosmos renders from (``dbt parse``); returns its path.

    Parsed into a temporary folder beside the target folder, then each file replaced atomically:
    a run in progress reads the manifest (role views, output port) while a second script's setup
    parses again, and must never read a half-written file."""
    target = settings.dbt_target_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=target.parent) as tmp:
        partial = target / "partial_parse.msgpack"
        if partial.exists():
            shutil.copyfile(partial, Path(tmp) / partial.name)
        _run_dbt("parse", target_path=Path(tmp))
        for produced in Path(tmp).iterdir():
            if produced.is_file():
                os.replace(produced, target / produced.name)
    path = settings.dbt_manifest_path()
    if not path.exists():
        raise RuntimeError(f"dbt parse did not write {path}")
    return path


def publish_docs(docs_dir: Path | None = None) -> Path:
    """Generate the dbt docs of the warehouse as it is now and publish them to ``docs_dir``
    (default FSDP_DBT_DOCS_DIR), where Cosmos' docs view in the Airflow UI reads them.

    Generated into a temporary target path, then each file replaced atomically (os.replace), so
    the UI never serves a half-written catalog. Opens the DuckDB file (catalog queries): run it in
    the DuckDB pool. Returns the docs directory."""
    release_dbt_duckdb()
    docs_dir = Path(docs_dir or settings.dbt_docs_dir())
    docs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fsdp-dbt-docs-") as tmp:
        _run_dbt("docs", "generate", target_path=Path(tmp))
        for name in DOCS_FILES:
            staged = docs_dir / f".{name}.tmp"
            shutil.copyfile(Path(tmp) / name, staged)
            os.replace(staged, docs_dir / name)
    log.info("dbt docs published to %s", docs_dir)
    return docs_dir


def release_dbt_duckdb(*_args, **_kwargs) -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an in-process dbt run.

    Cosmos' dbt runner mode runs dbt inside the task process, and dbt-duckdb keeps its database
    instance (and the file lock) in a class attribute after the run. Harmless when each task is
    its own process (any Airflow executor), but `airflow dags test` runs every task in one
    process: the next task opening the file (read-only, or from a subprocess) would fail. Used as
    the Cosmos operators' callback and before our own DuckDB work."""
    module = sys.modules.get("dbt.adapters.duckdb.connections")
    if module is None:
        return
    manager = module.DuckDBConnectionManager
    with manager._LOCK:
        env, manager._ENV = manager._ENV, None
    if env is not None:
        try:
            env.close()
        except Exception:  # closing is best effort: a failed close leaves what was there
            log.debug("closing dbt-duckdb's environment failed", exc_info=True)


def run_results_dir(run_id: str) -> Path:
    """Where the run's dbt tasks leave their run_results.json, one file per task."""
    from include.pipeline.events import run_key

    return settings.reports_dir() / "dbt_results" / run_key(run_id)


def after_dbt_task(project_dir: str, context=None, **_kwargs) -> None:
    """Cosmos callback after every dbt task: release dbt-duckdb's database (see
    release_dbt_duckdb) and keep the task's run_results.json for the run (Cosmos runs each task in
    a temporary copy of the project, deleted afterwards): the catalog step merges them into the
    run's one run_results.json, so dbt's test results reach OpenMetadata."""
    release_dbt_duckdb()
    produced = Path(project_dir) / "target" / "run_results.json"
    ti = (context or {}).get("ti")
    run_id = (context or {}).get("run_id") or getattr((context or {}).get("dag_run"), "run_id", None)
    if not produced.is_file() or ti is None or not run_id:
        return
    out = run_results_dir(run_id)
    out.mkdir(parents=True, exist_ok=True)
    staged = out / f".{ti.task_id}.tmp"
    shutil.copyfile(produced, staged)
    os.replace(staged, out / f"{ti.task_id}.json")


def merge_run_results(run_id: str) -> Path:
    """One dbt run_results.json for the whole run (every task's results; the latest try of a node
    wins), written next to the per-task files; raises when no dbt task left results."""
    import json

    folder = run_results_dir(run_id)
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    files = [f for f in files if f.name != "run_results.json"]
    if not files:
        raise RuntimeError(f"no dbt run results in {folder}: the dbt tasks of run {run_id} left none, so "
                           "dbt's test results cannot be published")
    merged: dict[str, dict] = {}
    meta, elapsed = None, 0.0
    for f in sorted(files, key=lambda f: f.stat().st_mtime):
        doc = json.loads(f.read_text())
        meta = doc.get("metadata") or meta
        elapsed += float(doc.get("elapsed_time") or 0)
        for result in doc.get("results") or []:
            merged[result["unique_id"]] = result
    path = folder / "run_results.json"
    staged = folder / ".run_results.json.tmp"
    staged.write_text(json.dumps({"metadata": meta, "results": list(merged.values()), "elapsed_time": elapsed,
                                  "args": {"which": "build"}}))
    os.replace(staged, path)
    log.info("dbt run results of %d tasks merged into %s (%d nodes)", len(files), path, len(merged))
    return path


EXECUTION_MODES = ("watcher", "local")


def execution_mode() -> str:
    """How the DAG's dbt task groups run dbt (``FSDP_COSMOS_EXECUTION_MODE``):

    * ``watcher`` (default): one ``dbt build`` per task group, in its first task
      (``<group>.dbt_producer_watcher``, Cosmos ExecutionMode.WATCHER); every model, snapshot and
      test is still an Airflow task of its own, a sensor that takes its node's outcome from that
      build (a failed test fails its task, and dbt build skips what depends on it, which fails
      those tasks too). One dbt start-up and one parse per group instead of one per task.
    * ``local``: one dbt invocation per model and per test (Cosmos ExecutionMode.LOCAL)."""
    value = (os.environ.get("FSDP_COSMOS_EXECUTION_MODE") or "watcher").strip().lower()
    if value not in EXECUTION_MODES:
        raise ValueError(f"FSDP_COSMOS_EXECUTION_MODE must be one of {', '.join(EXECUTION_MODES)}, got {value!r}")
    return value


# What the daily build leaves out (the watcher's one `dbt build` per group): unit tests, which test
# the models' logic on fixed inputs and so give the same answer every day (dbt's own advice: run
# them in development and CI; tests/dbt runs them all), and the saved queries and exposures, which
# `dbt build` only lists as NO-OP nodes (the semantic_layer task runs the saved queries). 42 of the
# 165 nodes of a build; the data tests, which check each day's rows, all run.
PRODUCER_FLAGS = ("--exclude-resource-type", "unit_test", "--exclude-resource-type", "saved_query",
                  "--exclude-resource-type", "exposure")


def task_group_kwargs(select: list[str] | None = None, exclude: list[str] | None = None,
                      mode: str | None = None) -> dict:
    """Keyword arguments of the Cosmos DbtTaskGroup: every model, seed, snapshot and test is an
    Airflow task (tests right after their model, TestBehavior.AFTER_EACH), run by the venv's dbt
    (``mode``: see execution_mode()), each in the one-slot DuckDB pool. ``select`` / ``exclude``:
    dbt selectors of the group's nodes (the DAG builds the market-place marts, tag:marketplace, in
    a group of their own after the quality gate).

    Cosmos reads the manifest when the group is built (parse time: one JSON file, no dbt run)."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    mode = mode or execution_mode()
    project = settings.dbt_project_dir()
    manifest = settings.dbt_manifest_path()
    if not manifest.exists():  # one stat, to replace Cosmos' error with the command that fixes it
        raise FileNotFoundError(f"dbt manifest {manifest} is missing: run `python -m include.pipeline.dbt parse`")
    watcher = mode == "watcher"
    project_config = ProjectConfig(
        dbt_project_path=project,
        manifest_path=manifest,
        project_name="fsdp",
        install_dbt_deps=False,
        env_vars={
            **dbt_env(),
            # the run builds its own date: the landing models register and ingest the files of
            # this logical date and earlier ones not ingested yet, never of a later date (a
            # backfill of past dates in order gives the warehouse the days gave one by one).
            # An environment variable, not --vars: dbt re-parses everything when --vars change
            "FSDP_LOGICAL_DATE": "{{ (logical_date or dag_run.run_after) | ds }}",
        },
    )
    # Cosmos turns the path into an ObjectStoragePath, whose first open() at parse time loads
    # Airflow's hook-lineage plugins, i.e. every plugin of the bundle (~0.6 s of each parse of the
    # DAG file); the manifest is a local file: a plain Path (which Cosmos accepts) opens it directly
    project_config.manifest_path = manifest
    return {
        "project_config": project_config,
        "profile_config": ProfileConfig(
            profile_name=settings.DBT_PROFILE,
            target_name=settings.DBT_TARGET,
            profiles_yml_filepath=project / "profiles.yml",
        ),
        "execution_config": ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            # dbt's Python API in the task process: a subprocess per task costs ~3 s of interpreter
            # start and dbt import, times one task per model and test
            invocation_mode=InvocationMode(os.environ.get("FSDP_COSMOS_INVOCATION_MODE", "dbt_runner")),
            dbt_executable_path=settings.dbt_executable(),
            # the producer's build is not retried (Cosmos would skip the retry): each node's task
            # retries on its own, running dbt for its node only
            **({"setup_operator_args": {"retries": 0, "dbt_cmd_flags": list(PRODUCER_FLAGS)}} if watcher else {}),
        ),
        "render_config": RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=list(select or []),
            exclude=list(exclude or []),
            test_behavior=TestBehavior.AFTER_EACH,
            # a test over several models (e.g. raw = accepted + rejected) becomes its own task after
            # all of them, instead of running with its first model before the others exist
            should_detach_multiple_parents_tests=True,
            # the product DAG publishes its own Assets (include.pipeline.product), one per product table
            emit_datasets=False,
        ),
        "operator_args": {
            "pool": settings.DUCKDB_POOL,
            "install_deps": False,
            # Cosmos passes only `env` to dbt unless told to inherit: dbt needs PATH, the storage
            # connection string and the FSDP_* settings of the worker
            "append_env": True,
            # "True"/"False" from the trigger form; Cosmos converts templated strings to booleans
            "full_refresh": "{{ params.full_refresh }}",
            # dbt reads the landing over the network: one quick retry for a transient blob error
            "retries": 1,
            "retry_delay": timedelta(seconds=10),
            "callback": "include.pipeline.dbt.after_dbt_task",
        },
    }


def dbt_task_group(group_id: str, select: list[str] | None = None, exclude: list[str] | None = None,
                   mode: str | None = None):
    """The Cosmos DbtTaskGroup of ``select`` / ``exclude`` (see task_group_kwargs), built at DAG
    parse time from the manifest, and its ``done`` task (see group_done()).

    In watcher mode, Cosmos leaves the node tasks of a task group beside the producer (the task
    running ``dbt build``), sensing its progress while it runs. Here the producer is the group's
    only first task and the node tasks come after it:

    * `airflow dags test` (scripts/run.sh) runs one task at a time: a node task started before the
      producer would wait for a build that never starts;
    * every task of the group is in the one-slot DuckDB pool (a node task that retries runs dbt
      for its node itself), so none of them could run beside the build anyway.

    The first node tasks run when the producer is done, succeeded or failed (trigger rule
    one_done: a failed build still tells which node failed; a producer that never ran, its
    upstream failed, skips them); the others follow their dbt dependencies as in local mode."""
    from airflow.providers.standard.operators.empty import EmptyOperator
    from cosmos import DbtTaskGroup

    mode = mode or execution_mode()
    group = DbtTaskGroup(group_id=group_id, **task_group_kwargs(select=select, exclude=exclude, mode=mode))
    tasks = {t.task_id: t for t in _group_tasks(group)}
    if mode == "watcher":
        from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

        producer = tasks[f"{group_id}.{PRODUCER_WATCHER_TASK_ID}"]
        # Cosmos' gate after the producer (none_failed): never runs anything (an EmptyOperator)
        tasks[f"{group_id}.{PRODUCER_WATCHER_DONE_TASK_ID}"].pool = settings.DUCKDB_POOL
        nodes = {t: task for t, task in tasks.items()
                 if t not in (producer.task_id, f"{group_id}.{PRODUCER_WATCHER_DONE_TASK_ID}")}
        for task in nodes.values():
            if not set(task.upstream_task_ids) & set(nodes):
                producer >> task
                task.trigger_rule = "one_done"
    # Done when every task of the group is, whatever their outcome, and outside the group (the
    # tasks after the group follow its own last tasks, so a failed dbt task still stops them): a
    # failed dbt task makes what follows the group upstream_failed at once, while the group's other
    # tasks (a retry, another branch) still run, and the run report must wait for them
    done = EmptyOperator(task_id=f"{group_id}_done", trigger_rule="all_done", pool=settings.DUCKDB_POOL,
                         doc_md=f"Done when every task of the dbt task group `{group_id}` is done, whatever "
                                "its outcome: the run report waits for it.")
    for task in tasks.values():
        task >> done
    group.fsdp_done = done
    return group


def group_done(group):
    """The task done when every task of a dbt_task_group() is (``<group_id>_done``)."""
    return group.fsdp_done


def _group_tasks(group):
    for child in group.children.values():
        if hasattr(child, "children"):
            yield from _group_tasks(child)
        else:
            yield child


def main(argv: list[str]) -> int:
    commands = {"parse": parse_manifest, "docs": publish_docs}
    if len(argv) != 2 or argv[1] not in commands:
        print(f"usage: python -m include.pipeline.dbt {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    try:
        print(commands[argv[1]]())
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
