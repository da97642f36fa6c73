"""What the warehouse knows about the runs that built it, and what happens when one died.

The warehouse keeps its own run log, ``ops.pipeline_runs`` in the DuckDB file: one row per run
that started building it (``building``), set to ``complete`` or ``failed`` by the run's teardown.
So the file itself says which run last built it completely, and a copy of it says the same.

A run that dies (SIGKILL, OOM, a lost machine) leaves its row at ``building``. The next run
finds it (and, usually first, the dead holder of the warehouse lease, include/pipeline/runlock.py)
and records the death everywhere a reader looks:

* ``ops.pipeline_runs``: ``died``, with what was seen and which run repairs it;
* the dead run's report (``reports/runs/<date>/<run id>.json``, include/pipeline/run_report.py):
  its ``run_state`` section says ``died``, how it was found and what to run, and its verdict is
  ``died``;
* Airflow's metadata DB, when the dead run was an ``airflow dags test`` (scripts/run.sh) in this
  Airflow: its DagRun and unfinished task instances are set to failed, instead of RUNNING forever.
  Runs of a scheduler are not touched: the scheduler fails its own dead (zombie) tasks.

Repair: every model is incremental over what was ingested, so the next run's dbt build picks up
the rows the dead run left between layers (raw rows not yet validated are validated, and so on);
its ``reconciles_with_quarantine`` tests check raw = accepted + rejected again. The report says
which dead run it repaired; if the repair run fails, it says to run ``scripts/run.sh --date <D>
--full-refresh``.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

from include.pipeline import settings

log = logging.getLogger("fsdp.runstate")

TABLE = "ops.pipeline_runs"
DDL = ("create schema if not exists ops",
       "create table if not exists ops.pipeline_runs (run_id varchar primary key, dag_id varchar, "
       "logical_date date, status varchar, started_at timestamptz, finished_at timestamptz, "
       "detail varchar, repaired_by varchar)")
FULL_REFRESH_HINT = "scripts/run.sh --date {day} --full-refresh"


def _rw(db_path=None):
    import duckdb

    from include.pipeline.dbt import release_dbt_duckdb

    release_dbt_duckdb()
    path = Path(db_path or settings.duckdb_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for stmt in DDL:
        con.execute(stmt)
    return con


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, (v.isoformat() if hasattr(v, "isoformat") else v for v in row))) for row in cur.fetchall()]


def begin(run_id: str, dag_id: str, logical_date: str, db_path=None, died_detail: str | None = None) -> dict:
    """The run starts building the warehouse: earlier runs still ``building`` died (they are marked,
    with ``died_detail`` when the caller knows more); returns what this run repairs and which run
    last built the warehouse completely."""
    con = _rw(db_path)
    try:
        con.begin()
        dead = _rows(con, f"select * from {TABLE} where status = 'building' and run_id <> ?", [run_id])
        for row in dead:
            detail = died_detail or "it stopped while building the warehouse (no teardown ran)"
            con.execute(f"update {TABLE} set status = 'died', finished_at = coalesce(finished_at, now()), "
                        f"detail = ? where run_id = ?", [f"{detail}; found by run {run_id}", row["run_id"]])
        unrepaired = _rows(con, f"select * from {TABLE} where status = 'died' and repaired_by is null and run_id <> ?",
                           [run_id])
        con.execute(f"update {TABLE} set repaired_by = ? where status = 'died' and repaired_by is null "
                    f"and run_id <> ?", [run_id, run_id])
        con.execute(f"insert into {TABLE} (run_id, dag_id, logical_date, status, started_at) values (?, ?, ?, "
                    f"'building', now()) on conflict (run_id) do update set status = 'building', "
                    f"finished_at = null", [run_id, dag_id, logical_date])
        last = _rows(con, f"select run_id, logical_date, finished_at from {TABLE} where status = 'complete' "
                          f"order by finished_at desc limit 1")
        con.commit()
    finally:
        con.close()
    repairing = [{"run_id": r["run_id"], "logical_date": r["logical_date"]} for r in unrepaired]
    for r in repairing:
        log.warning("run %s (%s) died while building the warehouse; this run (%s) repairs it: the incremental "
                    "build takes up what it left between layers. If this run fails, run `%s`.", r["run_id"],
                    r["logical_date"], run_id, FULL_REFRESH_HINT.format(day=r["logical_date"]))
    return {"repairing": repairing, "last_complete": last[0] if last else None}


def finish(run_id: str, status: str, db_path=None) -> None:
    """The run's teardown: ``complete`` when every task of the run succeeded, else ``failed``."""
    con = _rw(db_path)
    try:
        con.execute(f"update {TABLE} set status = ?, finished_at = now() where run_id = ?", [status, run_id])
    finally:
        con.close()


def mark_died(run_id: str, dag_id: str | None, logical_date: str | None, detail: str, db_path=None) -> None:
    con = _rw(db_path)
    try:
        con.execute(f"insert into {TABLE} (run_id, dag_id, logical_date, status, started_at, finished_at, detail) "
                    f"values (?, ?, ?, 'died', now(), now(), ?) on conflict (run_id) do update set "
                    f"status = 'died', finished_at = coalesce({TABLE}.finished_at, now()), detail = excluded.detail "
                    f"where {TABLE}.status in ('building', 'died')", [run_id, dag_id, logical_date, detail])
    finally:
        con.close()


def warehouse_runs(con, limit: int = 5) -> dict:
    """The run log as the summary shows it (read-only connection): the last complete build and the
    latest runs."""
    has = con.execute("select count(*) from information_schema.tables where table_schema = 'ops' "
                      "and table_name = 'pipeline_runs'").fetchone()[0]
    if not has:
        return {"last_complete": None, "latest": []}
    last = _rows(con, f"select run_id, logical_date, finished_at from {TABLE} where status = 'complete' "
                      f"order by finished_at desc limit 1")
    latest = _rows(con, f"select run_id, logical_date, status, started_at, finished_at, detail, repaired_by "
                        f"from {TABLE} order by started_at desc limit {int(limit)}")
    return {"last_complete": last[0] if last else None, "latest": latest}


# ---- the run report's run_state section (include/pipeline/report_sections.py) -----------------

def report_section(con, run_id: str, logical_date: date | str, lock=None) -> dict | None:
    """What the run log says about ``run_id`` (read-only connection): its status, the dead runs it
    repairs, the run that last built the warehouse completely, the run of the same date before it,
    and how it died if it did. A run still ``building`` whose lease has no live holder died without
    anything recording it yet (the next run will): it is shown as died already."""
    has = con.execute("select count(*) from information_schema.tables where table_schema = 'ops' "
                      "and table_name = 'pipeline_runs'").fetchone()[0]
    if not has:
        return None
    day = logical_date.isoformat() if isinstance(logical_date, date) else str(logical_date)[:10]
    me = _rows(con, f"select status, detail, started_at, finished_at from {TABLE} where run_id = ?", [run_id])
    if not me:
        return None
    row = me[0]
    last = _rows(con, f"select run_id, logical_date, finished_at from {TABLE} where status = 'complete' "
                      f"order by finished_at desc limit 1")
    repairing = _rows(con, f"select run_id, logical_date from {TABLE} where repaired_by = ? order by started_at",
                      [run_id])
    prev = _rows(con, f"select run_id, status, detail from {TABLE} where logical_date = ? and run_id <> ? "
                      f"and started_at <= ? order by started_at desc limit 1", [day, run_id, row["started_at"]])
    out = {"run_log": row["status"], "repairing": repairing,
           "warehouse_last_complete": last[0] if last else None, "previous_run": prev[0] if prev else None}
    if row["status"] == "building" and not _holder_alive(run_id, lock):
        out["run_log"] = "died"
        row["detail"] = ("died: its process is gone (no live holder of the warehouse lease); "
                         "the next run records and repairs it")
    if out["run_log"] == "died":
        out["died"] = {"detail": row["detail"], "at": row["finished_at"],
                       "repair": f"the next run repairs it; if that fails: {FULL_REFRESH_HINT.format(day=day)}"}
    return out


def _holder_alive(run_id: str, lock=None) -> bool:
    from include.pipeline import runlock

    lock = lock or runlock.RunLock(settings.duckdb_path())
    lease = lock.read()
    return lease is not None and lease.run_id == run_id and lock.holder_state(lease)[0]


# ---- a run that died -------------------------------------------------------------------------

def handle_died(lease, why: str, found_by: str, airflow: bool = False, db_path=None) -> dict:
    """Record everywhere that the lease's run died (see the module docstring). ``airflow``: also
    fail its DagRun in this process's Airflow DB (CLI processes only: task processes may not use
    the metadata DB in Airflow 3)."""
    detail = f"died: {why} (found by {found_by})"
    out = {"run_id": lease.run_id, "logical_date": lease.logical_date, "detail": detail}
    log.error("run %s for %s %s", lease.run_id or "(not started)", lease.logical_date or "?", detail)
    if airflow and lease.dag_id:
        out["airflow"] = mark_airflow_died(lease.dag_id, lease.run_id, lease.logical_date, detail)
        if not lease.run_id and out["airflow"]:
            lease.run_id = out["airflow"][0]
            out["run_id"] = lease.run_id
    if lease.run_id:
        try:
            mark_died(lease.run_id, lease.dag_id, lease.logical_date, detail, db_path)
        except Exception as exc:  # noqa: BLE001 - the report and Airflow still get the death
            log.warning("could not record the death of run %s in the warehouse: %s", lease.run_id, exc)
        if lease.logical_date:
            from include.pipeline import run_report

            run_report.record_section(lease.logical_date, lease.run_id, "run_state", {
                "run_log": "died", "died": {
                    "detail": detail, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "repair": f"the next run repairs it; if that fails: "
                              f"{FULL_REFRESH_HINT.format(day=lease.logical_date)}"}},
                fields={"dag_id": lease.dag_id} if lease.dag_id else None)
    return out


def airflow_dag_run_state(dag_id: str, run_id: str) -> str | None:
    """The state of a DagRun in this process's Airflow DB (CLI processes only), None if unknown."""
    try:
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).first()
            return str(run.state).lower().split(".")[-1] if run is not None else None
    except Exception:  # noqa: BLE001 - no Airflow DB here: judged on the heartbeat instead
        return None


def mark_airflow_died(dag_id: str, run_id: str | None, logical_date: str | None, detail: str) -> list[str]:
    """Fail the dead ``airflow dags test`` DagRun (and its unfinished tasks) in this process's
    Airflow DB. Without a run id: the running test DagRuns of ``dag_id`` for ``logical_date``.
    Returns the run ids changed; [] when there is no Airflow DB here."""
    try:
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import DagRunState, TaskInstanceState
        from sqlalchemy import func, select
    except Exception:  # noqa: BLE001 - no Airflow in this venv/process
        return []
    changed = []
    try:
        with create_session() as session:
            query = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.state.in_([DagRunState.RUNNING,
                                                                                    DagRunState.QUEUED]))
            if run_id:
                query = query.where(DagRun.run_id == run_id)
            elif logical_date:
                query = query.where(func.date(DagRun.logical_date) == str(logical_date)[:10])
            else:
                return []
            for run in session.scalars(query).all():
                if not run_id and str(getattr(run, "triggered_by", "")).lower().split(".")[-1] != "test":
                    continue   # a scheduler's run: its scheduler handles its own dead tasks
                for ti in session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id,
                                                                     TaskInstance.run_id == run.run_id)).all():
                    if ti.state in (None, TaskInstanceState.RUNNING, TaskInstanceState.QUEUED,
                                    TaskInstanceState.SCHEDULED, TaskInstanceState.UP_FOR_RETRY,
                                    TaskInstanceState.DEFERRED, TaskInstanceState.RESTARTING):
                        ti.state = TaskInstanceState.FAILED if ti.state == TaskInstanceState.RUNNING \
                            else TaskInstanceState.UPSTREAM_FAILED
                run.state = DagRunState.FAILED
                run.end_date = datetime.now(timezone.utc)
                changed.append(run.run_id)
    except Exception as exc:  # noqa: BLE001 - the warehouse and the report still record the death
        log.warning("could not mark run %s failed in the Airflow DB: %s", run_id, exc)
    for rid in changed:
        log.error("Airflow: DagRun %s of %s set to failed (%s)", rid, dag_id, detail)
    return changed
