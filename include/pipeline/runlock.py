"""One run at a time per warehouse, across processes: a lease file next to the DuckDB file.

DuckDB allows one writing process per file, and the Airflow pool ``duckdb_writer`` only orders
the tasks of one Airflow. Two runs in different processes (two ``scripts/run.sh``, run.sh while
``scripts/airflow.sh``'s scheduler runs the DAG, the compose stack's scheduler beside anything
else writing the same file) interleave their tasks, and one fails on DuckDB's file lock with its
downstream tasks upstream-failed. So every run takes the warehouse's lease first and waits for
it (or refuses, after ``FSDP_RUN_LOCK_WAIT_S``) with one line naming the run that holds it.

Files, next to ``<warehouse>`` (e.g. ``.local/warehouse/fsdp.duckdb``):

``<warehouse>.run.json``  the lease: which run holds the warehouse (run id, DAG, logical date,
                          the process and host, since when, last heartbeat).
``<warehouse>.run.lock``  an exclusive ``flock`` held for the few milliseconds it takes to read
                          and rewrite the lease, so two acquirers never both win.
``<warehouse>.run.alive`` a shared ``flock`` held by every live process working for the holder
                          (the run.sh wrapper for its whole run, ``airflow dags test`` for its
                          whole run, each executor task process while it runs). The kernel drops
                          it when a process dies, SIGKILL included, so a crashed holder is seen as
                          dead at once and no stale lock survives a crash.

A holder of kind ``process`` (one process runs the whole run: the run.sh wrapper, ``airflow
dags test``) is dead as soon as no process holds the alive lock. A holder of kind ``dag`` (a
scheduler runs each task in its own process) is dead when no task process holds the alive lock
and either its DagRun has ended in the same Airflow DB or no task of it started for
``FSDP_RUN_LOCK_STALE_S`` (default 600 s). A dead holder's lease is taken over and returned to
the caller as ``died`` (include/pipeline/runstate.py records and repairs it).

``flock`` works across processes and containers of one host that share the file (the compose
stack's services mount one volume for the warehouse). Executors that run tasks on several hosts
need the warehouse on one host anyway (DuckDB is a local file); see README "Concurrency".

Stdlib only.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

log = logging.getLogger("fsdp.runlock")

TOKEN_ENV = "FSDP_RUN_LOCK_TOKEN"    # set by the wrapper for the run it holds the lease for
DEFAULT_WAIT_S = 3600.0
DEFAULT_STALE_S = 600.0

_alive_fd: int | None = None          # this process's shared lock on <warehouse>.run.alive


class WarehouseBusy(RuntimeError):
    """Another live run holds the warehouse (after waiting as long as allowed)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _age_s(iso: str | None) -> float | None:
    if not iso:
        return None
    return (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds()


@dataclass
class Lease:
    token: str
    kind: str                          # "process" | "dag"
    run_id: str | None = None
    dag_id: str | None = None
    logical_date: str | None = None
    pid: int | None = None
    host: str = field(default_factory=socket.gethostname)
    command: str = ""
    airflow_db: str | None = None
    acquired_at: str = field(default_factory=_now)
    heartbeat_at: str = field(default_factory=_now)
    finished: str | None = None        # the run's end state once its teardown ran (success/failed)

    def describe(self) -> str:
        what = f"run {self.run_id}" if self.run_id else "a run"
        if self.logical_date:
            what += f" for {self.logical_date}"
        who = f"pid {self.pid} on {self.host}" if self.pid else f"host {self.host}"
        return f"{what} ({self.command or self.kind}; {who}; since {self.acquired_at})"


def airflow_db_identity(environ=None) -> str | None:
    """Which Airflow metadata DB this process uses (its URL without credentials), to tell whether a
    lease's DagRun can be looked up here."""
    env = os.environ if environ is None else environ
    url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if not url:
        return None
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{rest.split('@', 1)[1]}"
    return url


def runs_whole_dag_in_this_process(argv=None) -> bool:
    """``airflow dags test`` runs every task of the run in its own process."""
    argv = sys.argv if argv is None else argv
    return len(argv) >= 3 and Path(argv[0]).name.startswith("airflow") and argv[1:3] == ["dags", "test"]


class RunLock:
    def __init__(self, warehouse: str | os.PathLike):
        self.warehouse = Path(warehouse).resolve()
        self.lease_path = Path(f"{self.warehouse}.run.json")
        self.lock_path = Path(f"{self.warehouse}.run.lock")
        self.alive_path = Path(f"{self.warehouse}.run.alive")

    # -- primitives --
    @contextmanager
    def _mutex(self):
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def read(self) -> Lease | None:
        try:
            data = json.loads(self.lease_path.read_text())
            return Lease(**{k: v for k, v in data.items() if k in Lease.__dataclass_fields__})
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _write(self, lease: Lease | None) -> None:
        if lease is None:
            self.lease_path.unlink(missing_ok=True)
            return
        tmp = self.lease_path.with_name(f".{self.lease_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(lease), indent=1, sort_keys=True) + "\n")
        os.replace(tmp, self.lease_path)

    def hold_alive(self) -> None:
        """Take this process's shared lock on the alive file (idempotent; the kernel releases it
        when the process ends)."""
        global _alive_fd
        if _alive_fd is not None:
            return
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.alive_path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        _alive_fd = fd

    @staticmethod
    def drop_alive() -> None:
        global _alive_fd
        if _alive_fd is not None:
            os.close(_alive_fd)
            _alive_fd = None

    def anyone_alive(self) -> bool:
        """Does any live process hold the alive lock (other than this one's own shared hold)?"""
        if _alive_fd is not None:
            return True
        if not self.alive_path.exists():
            return False
        fd = os.open(self.alive_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)     # closing releases the probe's lock, if it got one
        return False

    # -- liveness --
    def holder_state(self, lease: Lease, dag_run_state: Callable[[str, str], str | None] | None = None,
                     stale_s: float | None = None) -> tuple[bool, str]:
        """(alive, why) of a lease's holder."""
        if lease.finished and lease.kind == "dag":
            return False, f"its run finished ({lease.finished})"
        if self.anyone_alive():
            return True, "a process of it is running"
        if lease.kind == "process":
            return False, "its process is gone"
        if dag_run_state and lease.run_id and lease.dag_id and lease.airflow_db == airflow_db_identity():
            state = dag_run_state(lease.dag_id, lease.run_id)
            if state not in (None, "running", "queued"):
                return False, f"its DagRun is {state}"
        stale_s = float(os.environ.get("FSDP_RUN_LOCK_STALE_S", DEFAULT_STALE_S)) if stale_s is None else stale_s
        age = _age_s(lease.heartbeat_at) or 0.0
        if age > stale_s:
            return False, f"no task of it started for {age:.0f} s (FSDP_RUN_LOCK_STALE_S={stale_s:.0f})"
        return True, f"between tasks (last task started {age:.0f} s ago)"

    # -- the lease --
    def acquire(self, *, kind: str, run_id: str | None = None, dag_id: str | None = None,
                logical_date: str | None = None, command: str = "", wait_s: float | None = None,
                poll_s: float = 2.0, dag_run_state=None,
                on_wait: Callable[[str], None] | None = None) -> tuple[Lease, Lease | None, str | None]:
        """Take the lease, waiting up to ``wait_s`` (default FSDP_RUN_LOCK_WAIT_S, 3600 s) for a live
        holder to finish. Returns (our lease, the dead holder's lease we took over or None, why it
        was dead). Raises WarehouseBusy after the wait."""
        wait_s = float(os.environ.get("FSDP_RUN_LOCK_WAIT_S", DEFAULT_WAIT_S)) if wait_s is None else wait_s
        deadline = time.monotonic() + wait_s
        announced = 0.0
        say = on_wait or (lambda msg: log.warning("%s", msg))
        while True:
            with self._mutex():
                held = self.read()
                died, why = None, None
                if held is not None and not (run_id and held.run_id == run_id):
                    alive, why = self.holder_state(held, dag_run_state)
                    if not alive:
                        died = held
                if held is None or died is not None or (run_id and held.run_id == run_id):
                    lease = Lease(token=uuid.uuid4().hex, kind=kind, run_id=run_id, dag_id=dag_id,
                                  logical_date=logical_date, pid=os.getpid(), command=command,
                                  airflow_db=airflow_db_identity())
                    if held is not None and run_id and held.run_id == run_id:
                        lease.token, lease.acquired_at = held.token, held.acquired_at
                    self._write(lease)
                    self.hold_alive()
                    return lease, died, why
            now = time.monotonic()
            if now >= deadline:
                raise WarehouseBusy(
                    f"warehouse {self.warehouse} is in use by {held.describe()}: {why}; waited {wait_s:.0f} s "
                    f"(FSDP_RUN_LOCK_WAIT_S). Run again when it has finished.")
            if not announced or now - announced >= 60:
                say(f"warehouse {self.warehouse} is in use by {held.describe()} ({why}): waiting for it to "
                    f"finish (up to {max(deadline - now, 0):.0f} s more)")
                announced = now
            time.sleep(min(poll_s, max(deadline - now, 0.05)))

    def adopt(self, token: str, *, run_id: str, dag_id: str, logical_date: str) -> Lease:
        """The DAG run started under a wrapper's lease (``FSDP_RUN_LOCK_TOKEN``) writes its run id into it."""
        with self._mutex():
            lease = self.read()
            if lease is None or lease.token != token:
                raise WarehouseBusy(f"this run's lease on {self.warehouse} was taken over by "
                                    f"{lease.describe() if lease else 'nobody (it was released)'}")
            lease.run_id, lease.dag_id, lease.logical_date = run_id, dag_id, logical_date
            lease.heartbeat_at = _now()
            self._write(lease)
        self.hold_alive()
        return lease

    def heartbeat(self, run_id: str) -> Lease | None:
        """A task of ``run_id`` starts: refresh the lease, hold the alive lock, and fail when another
        run has taken the warehouse over (it judged this run dead)."""
        with self._mutex():
            lease = self.read()
            if lease is None or lease.run_id != run_id:
                raise WarehouseBusy(f"run {run_id} no longer holds warehouse {self.warehouse}: "
                                    f"{'held by ' + lease.describe() if lease else 'its lease was released'}")
            lease.heartbeat_at = _now()
            self._write(lease)
        self.hold_alive()
        return lease

    def finish(self, token: str, state: str, release: bool) -> None:
        """The run's teardown: record its end state; release the lease unless a wrapper holds it
        (the wrapper releases when its process ends)."""
        with self._mutex():
            lease = self.read()
            if lease is None or lease.token != token:
                return
            if release:
                self._write(None)
            else:
                lease.finished = state
                self._write(lease)
        if release:
            self.drop_alive()

    def release(self, token: str) -> None:
        with self._mutex():
            lease = self.read()
            if lease is not None and lease.token == token:
                self._write(None)
        self.drop_alive()


# ---- the wrapper: python -m include.pipeline.runlock run -- <command> -----------------------

def main(argv: list[str] | None = None) -> int:
    import argparse
    import signal
    import subprocess

    parser = argparse.ArgumentParser(prog="python -m include.pipeline.runlock",
                                     description="Hold the warehouse's run lease while a command runs.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="wait for the warehouse, run COMMAND holding its lease, release it")
    run.add_argument("--warehouse", default=None, help="DuckDB file (default FSDP_DUCKDB_PATH)")
    run.add_argument("--wait", type=float, default=None, help="seconds to wait for a running run (default "
                     "FSDP_RUN_LOCK_WAIT_S or 3600; 0 refuses at once)")
    run.add_argument("--date", default=None, help="the logical date the command runs (for messages)")
    run.add_argument("--label", default="", help="what the command is, for whoever waits on it")
    run.add_argument("--log", default=None, help="write the command's output to this file")
    run.add_argument("--dag-id", default=None, help="the command is a run of this DAG (`airflow dags test`): "
                     "if it dies, its DagRun is marked failed in this Airflow's DB")
    run.add_argument("command", nargs=argparse.REMAINDER)
    show = sub.add_parser("show", help="print who holds the warehouse, if anyone")
    show.add_argument("--warehouse", default=None)
    args = parser.parse_args(argv)
    # this module's and runstate's lines on the terminal; Airflow's own loggers (imported to mark a
    # dead DagRun) stay quiet
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("==> %(message)s"))
    fsdp = logging.getLogger("fsdp")
    fsdp.addHandler(handler)
    fsdp.setLevel(logging.INFO)
    fsdp.propagate = False
    from include.pipeline import settings

    lock = RunLock(args.warehouse or settings.duckdb_path())
    if args.cmd == "show":
        lease = lock.read()
        if lease is None:
            print(f"warehouse {lock.warehouse}: free")
            return 0
        alive, why = lock.holder_state(lease)
        print(f"warehouse {lock.warehouse}: {'held' if alive else 'left behind'} by {lease.describe()} ({why})")
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")

    def say(message: str) -> None:
        """To the terminal and, when there is one, into the run's log (which then says why it is short)."""
        print(message, file=sys.stderr, flush=True)
        if args.log:
            with open(args.log, "a") as fh:
                fh.write(message + "\n")
    from include.pipeline import runstate

    try:
        # a scheduler's run holding the lease (scripts/airflow.sh) is looked up in the Airflow DB
        # this wrapper's command would use: ended there means dead, whatever its heartbeat
        lease, died, why = lock.acquire(kind="process", logical_date=args.date, dag_id=args.dag_id,
                                        command=args.label or command[0], wait_s=args.wait,
                                        dag_run_state=runstate.airflow_dag_run_state if args.dag_id else None,
                                        on_wait=lambda msg: say(f"==> {msg}"))
    except WarehouseBusy as exc:
        say(f"refused: {exc}")
        return 75          # EX_TEMPFAIL: try again later

    if died is not None:
        runstate.handle_died(died, why, found_by=f"{args.label or command[0]} (pid {os.getpid()})",
                             airflow=bool(died.dag_id))
    out = open(args.log, "ab") if args.log else None  # noqa: SIM115 - open for the child's lifetime
    child = subprocess.Popen(command, env={**os.environ, TOKEN_ENV: lease.token}, stdout=out,
                             stderr=subprocess.STDOUT if out else None)

    def forward(signum, _frame):
        child.send_signal(signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    code = child.wait()
    try:
        final = lock.read()
        if args.dag_id and code != 0 and final is not None and final.token == lease.token and not final.finished:
            # the DAG run did not reach its teardown: killed, crashed, or stopped before its first task
            reason = f"its process exited with {'signal ' + str(-code) if code < 0 else 'code ' + str(code)} " \
                     f"before the run finished"
            runstate.handle_died(final, reason, found_by="its own wrapper", airflow=True)
    finally:
        lock.release(lease.token)
        if out:
            out.close()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
