"""A running Airflow for the e2e tests (the real `recon airflow up`: api-server, scheduler, dag-processor, triggerer)
in its own Airflow home and port, and a small client of its REST API (/api/v2) as ops tools would use it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import httpx

REPO = Path(__file__).resolve().parents[2]
RECON = str(Path(sys.executable).parent / "recon")
PORT = int(os.environ.get("RECON_TEST_AIRFLOW_PORT", "8093"))  # not 8080: `make airflow` may be running
HOME = REPO / ".stack" / "airflow-test-running"
FINISHED = {"success", "failed"}


def service_environment() -> dict[str, str]:
    """The test namespace's settings, with this Airflow's own home and port: every AIRFLOW_* value derived from
    the in-process Airflow home of the other tests is dropped, and `recon` derives them again."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(HOME), RECON_AIRFLOW_PORT=str(PORT),
               AIRFLOW__CORE__PARALLELISM="4",  # 2 cores: a few dbt processes at once
               RECON_RECONCILE_LOCK_POKE_SECONDS="10")  # a backfill's waiting runs notice the free lock sooner
    return env


def recon(*args: str, timeout: float = 300) -> str:
    result = subprocess.run([RECON, *args], env=service_environment(), capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"recon {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                           f"{result.stderr[-3000:]}")
    return result.stdout


def admin_password() -> str:
    from recon import paths

    for line in (paths.stack_dir() / "credentials.env").read_text().splitlines():
        if line.startswith("RECON_AIRFLOW_ADMIN_PASSWORD="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError("RECON_AIRFLOW_ADMIN_PASSWORD is not in the stack's credentials.env: did `recon airflow up` run?")


def iso(day: date, hour: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc).isoformat()


@dataclass
class Run:
    dag_id: str
    run_id: str
    state: str
    run_type: str
    logical_date: str | None


class AirflowAPI:
    def __init__(self, base_url: str = f"http://127.0.0.1:{PORT}") -> None:
        self.base_url = base_url
        token = httpx.post(f"{base_url}/auth/token", json={"username": "admin", "password": admin_password()},
                           timeout=30)
        token.raise_for_status()
        self.http = httpx.Client(base_url=base_url, timeout=60,
                                 headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; a 5xx is tried again (up to 5 times), as an ops tool would: on the local stack's SQLite
        metadata a write can meet "database is locked" while the scheduler writes, and the API rolls it back."""
        for attempt in range(5):
            try:
                response = self.http.request(method, f"/api/v2{path}", **kwargs)
            except httpx.TransportError:  # uvicorn resets the connection of a request that raised
                if method != "GET" or attempt == 4:
                    raise
                time.sleep(1 + attempt)
                continue
            if response.status_code < 500:
                break
            time.sleep(1 + attempt)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json=body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("PATCH", path, json=body)

    # -- DAGs
    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted = set(dag_ids)
        deadline = time.monotonic() + timeout
        while True:
            found = {d["dag_id"] for d in self.get("/dags", limit=100)["dags"]}
            if wanted <= found:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"DAGs not parsed within {timeout}s: missing {sorted(wanted - found)}")
            time.sleep(2)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.patch(f"/dags/{dag_id}", {"is_paused": paused})

    def block_schedule_catch_up(self, dag_id: str) -> None:
        """Unpausing a DAG makes the scheduler create a run for its latest interval (today): the test replays
        January 2026, so that run is created first, by hand, and marked success; the scheduler skips it."""
        logical = self.get(f"/dags/{dag_id}/details")["next_dagrun_logical_date"]
        if logical:
            run = self.post(f"/dags/{dag_id}/dagRuns", {"logical_date": logical,
                                                        "note": "placeholder: the e2e test replays January 2026"})
            path = f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}"
            # "mark success" leaves a run with an unfinished teardown task running: mark the teardowns first
            for task in self.get(f"/dags/{dag_id}/tasks")["tasks"]:
                if task["trigger_rule"] == "all_done_setup_success":  # how the API shows a teardown task
                    self.patch(f"{path}/taskInstances/{task['task_id']}", {"new_state": "success"})
            assert self.patch(path, {"state": "success"})["state"] == "success"

    # -- runs
    def runs(self, dag_id: str) -> list[Run]:
        answer = self.get(f"/dags/{dag_id}/dagRuns", limit=100, order_by="run_after")
        return [Run(dag_id, r["dag_run_id"], r["state"], r["run_type"], r.get("logical_date"))
                for r in answer["dag_runs"] if r.get("note") is None or "placeholder" not in (r.get("note") or "")]

    def backfill(self, dag_id: str, first: date, last: date, max_active_runs: int = 1,
                 timeout: float = 600) -> dict[str, Any]:
        """POST /backfills as an ops person would have to on the local stack's SQLite metadata: Airflow commits the
        backfill before it creates its runs, so "database is locked" meeting a scheduler write (a 500, or the
        connection reset) can leave it with some of its runs (or none); a new one is refused (409) until the
        scheduler completes that one. So: wait for it to complete, then send the same request again;
        reprocess_behavior "none" creates only the days that have no run yet, and the two backfills' runs together
        cover the range once."""
        body = {"dag_id": dag_id, "from_date": iso(first), "to_date": iso(last, 23),
                "max_active_runs": max_active_runs, "reprocess_behavior": "none"}
        deadline, failed_before = time.monotonic() + timeout, False
        while True:
            try:
                response = self.http.post("/api/v2/backfills", json=body)
            except httpx.TransportError as exc:  # uvicorn resets the connection of a request that raised
                status, text = 0, f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.json()
                status, text = response.status_code, response.text[:2000]
            retryable = status == 0 or status >= 500 or (status == 409 and failed_before)
            if not retryable or time.monotonic() > deadline:
                raise AssertionError(f"POST /backfills {dag_id} -> {status or 'no response'}: {text}")
            failed_before = True
            self.wait_for_backfills_to_complete(dag_id, deadline)

    def wait_for_backfills_to_complete(self, dag_id: str, deadline: float) -> None:
        while any(b["completed_at"] is None for b in self.get("/backfills", dag_id=dag_id)["backfills"]):
            if time.monotonic() > deadline:
                raise AssertionError(f"{dag_id}: a backfill is still running: "
                                     f"{self.get('/backfills', dag_id=dag_id)['backfills']}")
            time.sleep(2)

    def trigger(self, dag_id: str, day: date, hour: int = 0) -> str:
        return self.post(f"/dags/{dag_id}/dagRuns", {"logical_date": iso(day, hour)})["dag_run_id"]

    def wait_for_runs(self, dag_id: str, count: int, timeout: float, run_type: str | None = None) -> list[Run]:
        """Wait until `count` runs (of `run_type`, if given) have finished; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            runs = [r for r in self.runs(dag_id) if run_type is None or r.run_type == run_type]
            done = [r for r in runs if r.state in FINISHED]
            if len(done) >= count and len(done) == len(runs):
                return runs
            if time.monotonic() > deadline:
                raise AssertionError(f"{dag_id}: {len(done)} of {count} runs finished within {timeout:.0f}s: "
                                     f"{[(r.run_id, r.state) for r in runs]}")
            time.sleep(3)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=200)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value")["value"]

    def clear_run(self, dag_id: str, run_id: str) -> None:
        """What the UI's "Clear" on a run does: every task of it runs again."""
        self.post(f"/dags/{dag_id}/clearTaskInstances", {"dry_run": False, "dag_run_id": run_id,
                                                         "only_failed": False, "reset_dag_runs": True})

    def clear_failed(self, dag_id: str, run_id: str) -> None:
        """What the UI's "Clear" on a failed run does: its failed tasks (and their downstream) run again."""
        self.post(f"/dags/{dag_id}/clearTaskInstances", {"dry_run": False, "dag_run_id": run_id,
                                                         "only_failed": True, "include_downstream": True,
                                                         "reset_dag_runs": True})

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task try's log as the UI shows it: the structured events, one line each."""
        answer = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                          full_content=True)
        content = answer.get("content") or []
        return "\n".join(item.get("event", str(item)) if isinstance(item, dict) else str(item) for item in content)
