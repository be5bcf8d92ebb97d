"""Peak resident memory of a process tree, sampled while it runs: the pipeline process (dag.test), each dbt process
it starts, anything else below it; and the MariaDB server's RSS beside it, as context (it is shared and keeps its
buffer pool, so it is reported apart, never added in).

Each process's peak is the kernel's own high-water mark (VmHWM in /proc/<pid>/status), read at every sample, so a
spike between two samples still counts; a process that lives shorter than one interval (default 0.2 s) can be
missed. Uses psutil to walk the tree when it is installed, else /proc directly (Linux).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # in the Airflow virtualenv as a dependency of Airflow; optional here
    import psutil
except ImportError:  # pragma: no cover - /proc fallback
    psutil = None

MB = 1024 * 1024


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")[:-1]
    except OSError:
        return []


def _children_proc(root: int) -> list[int]:
    """Every descendant of `root`, from each process's parent id in /proc/<pid>/stat."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def descendants(root: int) -> list[int]:
    if psutil is not None:
        try:
            return [p.pid for p in psutil.Process(root).children(recursive=True)]
        except psutil.Error:
            return []
    return _children_proc(root)


def classify(cmdline: list[str], is_root: bool) -> str:
    """What a process is, for the report: the pipeline process itself, dbt, Airflow's CLI, or its program name."""
    if is_root:
        return "pipeline"
    words = [os.path.basename(arg) for arg in cmdline[:3]]
    if "dbt" in words or any("dbt-venv" in arg for arg in cmdline[:2]):
        return "dbt"
    if "airflow" in words:
        return "airflow"
    return words[0] if words else "?"


def find_mariadb(stack_dir: Path) -> int | None:
    """The pid of the local stack's MariaDB server (the one whose defaults file is under stack_dir), if any."""
    marker = str(stack_dir / "mariadb")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            cmd = _cmdline(int(entry))
            if cmd and os.path.basename(cmd[0]) in ("mariadbd", "mysqld") and any(marker in arg for arg in cmd):
                return int(entry)
    return None


@dataclass
class ProcessPeak:
    pid: int
    kind: str
    command: str
    peak_bytes: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0


@dataclass
class MemoryReport:
    processes: list[ProcessPeak] = field(default_factory=list)
    mariadb_start_bytes: int | None = None
    mariadb_peak_bytes: int | None = None
    samples: int = 0
    interval: float = 0.0

    def peak_of(self, kind: str) -> int:
        return max((p.peak_bytes for p in self.processes if p.kind == kind), default=0)

    def by_kind(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for proc in self.processes:
            entry = out.setdefault(proc.kind, {"processes": 0, "peak_mb": 0.0, "command": ""})
            entry["processes"] += 1
            if proc.peak_bytes / MB > entry["peak_mb"]:
                entry["peak_mb"], entry["command"] = round(proc.peak_bytes / MB, 1), proc.command
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "by_kind": self.by_kind(),
            "mariadb_server": {
                "rss_at_start_mb": None if self.mariadb_start_bytes is None else round(self.mariadb_start_bytes / MB, 1),
                "peak_rss_mb": None if self.mariadb_peak_bytes is None else round(self.mariadb_peak_bytes / MB, 1),
                "note": "shared by every namespace on the stack; its buffer pool is configured, not per file",
            },
            "samples": self.samples,
            "interval_seconds": self.interval,
        }


class TreeSampler:
    """with TreeSampler(pid) as sampler: ... -> sampler.report. Samples in a daemon thread."""

    def __init__(self, root_pid: int, interval: float = 0.2, mariadb_pid: int | None = None) -> None:
        self.root, self.interval, self.mariadb_pid = root_pid, interval, mariadb_pid
        self.report = MemoryReport(interval=interval)
        self._peaks: dict[int, ProcessPeak] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="bench-memory", daemon=True)

    def __enter__(self) -> "TreeSampler":
        if self.mariadb_pid:
            rss = _status_kb(self.mariadb_pid, "VmRSS")
            self.report.mariadb_start_bytes = rss * 1024 if rss else None
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.report.processes = sorted(self._peaks.values(), key=lambda p: (p.first_seen, p.pid))

    def report_so_far(self) -> dict[str, int]:
        """The peak (bytes) of each kind of process seen so far."""
        with self._lock:
            peaks = list(self._peaks.values())
        out: dict[str, int] = {}
        for peak in peaks:
            out[peak.kind] = max(out.get(peak.kind, 0), peak.peak_bytes)
        return out

    def sample(self) -> None:
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        now = time.monotonic()
        for pid in [self.root, *descendants(self.root)]:
            hwm = _status_kb(pid, "VmHWM")
            if hwm is None:
                continue
            peak = self._peaks.get(pid)
            if peak is None:
                cmd = _cmdline(pid)
                peak = ProcessPeak(pid, classify(cmd, pid == self.root), " ".join(cmd)[:200], first_seen=now)
                self._peaks[pid] = peak
            elif peak.kind not in ("pipeline", "dbt"):
                # a process that exec'd since (the dbt wrapper script becomes dbt): classified by what it runs now
                cmd = _cmdline(pid)
                if classify(cmd, False) == "dbt":
                    peak.kind, peak.command = "dbt", " ".join(cmd)[:200]
            peak.peak_bytes = max(peak.peak_bytes, hwm * 1024)
            peak.last_seen = now
        if self.mariadb_pid:
            rss = _status_kb(self.mariadb_pid, "VmRSS")
            if rss is not None:
                self.report.mariadb_peak_bytes = max(self.report.mariadb_peak_bytes or 0, rss * 1024)
        self.report.samples += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)
        self.sample()
