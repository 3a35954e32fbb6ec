"""Shared by the benchmarks: the stack's settings (.stack/env) in os.environ."""

import os
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_stack_env() -> None:
    env_file = Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack")) / "env"
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            os.environ[key] = shlex.split(value)[0]


# ------------------------------------------------------------------------------------------------ CPU per daemon

DAEMONS = ("connect", "kafka", "api")
TICK = os.sysconf("SC_CLK_TCK")
BENCH_APP = "cdcflow_bench"  # application_name of the benchmarks' own connections: counted apart, never as the stack's


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def stack_dir() -> Path:
    return Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack"))


def daemon_pids() -> dict[str, list[int]]:
    """The JVM and API processes of the stack by daemon, from their pid files (connect-1.pid is a second worker)."""
    pids: dict[str, list[int]] = {daemon: [] for daemon in DAEMONS}
    for pid_file in (stack_dir() / "run").glob("*.pid"):
        daemon = pid_file.stem.split("-", 1)[0]
        if daemon in pids:
            try:
                pids[daemon].append(int(pid_file.read_text().strip()))
            except (OSError, ValueError):
                continue
    return pids


class CpuSnapshot:
    """CPU seconds used so far by each daemon of the stack and by each PostgreSQL process, with what each process
    is (`roles`: a function of the PostgreSQL pids that names their role, asked at every snapshot). On a machine
    shared with other work, CPU per change is the figure a setting changes; wall-clock times mostly show the
    scheduler.

    PostgreSQL is one process per connection: a backend that exits takes its counters out of /proc, but the
    postmaster reaps it and the kernel adds its CPU to the postmaster's cutime/cstime, so the total stays exact and
    the exited ones are a role of their own."""

    def __init__(self, roles=None) -> None:
        self.daemons: dict[str, dict[int, float]] = {}
        for daemon, pids in daemon_pids().items():
            self.daemons[daemon] = {}
            for pid in pids:
                try:
                    self.daemons[daemon][pid] = _cpu(_stat(pid))
                except (OSError, ValueError, IndexError):
                    continue
        self.pg: dict[int, float] = {}
        self.reaped = 0.0  # CPU of the postmaster's exited children
        try:
            postmaster = int((stack_dir() / "pg" / "data" / "postmaster.pid").read_text().split()[0])
            fields = _stat(postmaster)
        except (OSError, ValueError, IndexError):
            self.roles: dict[int, str] = {}
            return
        self.pg[postmaster] = _cpu(fields)
        self.reaped = (int(fields[13]) + int(fields[14])) / TICK
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = _stat(entry)
                    if int(fields[1]) == postmaster:
                        self.pg[int(entry)] = _cpu(fields)
                except (OSError, ValueError, IndexError):
                    continue
        self.roles = roles(set(self.pg)) if roles else {}


def cpu_ms_per_change(before: CpuSnapshot, after: CpuSnapshot, changes: int) -> dict:
    """Milliseconds of CPU per change between two snapshots: each daemon (all its processes), and PostgreSQL in
    total and by role (a process that existed in only one snapshot counts from 0, or as exited)."""
    def ms(seconds: float) -> float:
        return round(seconds * 1000 / changes, 3)

    out: dict = {}
    for daemon, after_pids in after.daemons.items():
        before_pids = before.daemons.get(daemon, {})
        # A daemon restarted in between has a new pid: its CPU counts from its start.
        out[daemon] = ms(sum(cpu - before_pids.get(pid, 0.0) for pid, cpu in after_pids.items()))
    if not after.pg:
        return out
    by_role: dict[str, float] = {}
    for pid, cpu in after.pg.items():
        role = after.roles.get(pid) or before.roles.get(pid) or "server"
        by_role[role] = by_role.get(role, 0.0) + cpu - before.pg.get(pid, 0.0)
    gone = sum(cpu for pid, cpu in before.pg.items() if pid not in after.pg)
    by_role["exited"] = after.reaped - before.reaped - gone
    out["postgres"] = {"total": ms(sum(by_role.values())), **{role: ms(v) for role, v in sorted(by_role.items())}}
    return out
