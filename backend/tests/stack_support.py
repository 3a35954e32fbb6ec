"""Driving stack/stackctl from tests: its environment (the ports of the stack under test, read from the stack
itself), the pids of its daemons, and a kill -9."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests import process_env

REPO = Path(__file__).resolve().parents[2]
STACKCTL = REPO / "stack" / "stackctl"


def stack_dir() -> Path:
    return Path(os.environ["CDCFLOW_STACK_DIR"])


def stackctl_env(stack: Path | None = None) -> dict[str, str]:
    """The ports of the running test stack, so stackctl can never start a second one on its defaults."""
    stack = stack or stack_dir()
    kafka_port = os.environ["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1]
    server_properties = (stack_dir() / "kafka" / "server.properties").read_text()
    controller = re.search(r"^controller\.quorum\.voters=\d+@[^:]+:(\d+)", server_properties, re.M).group(1)
    return {**process_env.for_servers(dict(os.environ)), "CDCFLOW_STACK_DIR": str(stack), "CDCFLOW_PG_PORT": os.environ["PG_PORT"],
            "CDCFLOW_KAFKA_PORT": kafka_port, "CDCFLOW_KAFKA_CONTROLLER_PORT": controller,
            "CDCFLOW_CONNECT_PORT": str(urlsplit(os.environ["KAFKA_CONNECT_URL"]).port),
            "CDCFLOW_API_PORT": os.environ["CDCFLOW_API_PORT"], "CDCFLOW_WEB_PORT": os.environ["CDCFLOW_WEB_PORT"],
            "CDCFLOW_READY_TIMEOUT": os.environ.get("CDCFLOW_READY_TIMEOUT", "300")}


def stackctl(*args: str, stack: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(STACKCTL), *args], env=stackctl_env(stack), capture_output=True, text=True,
                          timeout=timeout)


def daemon_pid(name: str, stack: Path | None = None) -> int | None:
    pidfile = (stack or stack_dir()) / "run" / f"{name}.pid"
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def postgres_pid() -> int:
    """The postmaster's pid, from its own pid file."""
    return int((stack_dir() / "pg" / "data" / "postmaster.pid").read_text().splitlines()[0])


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)


def _state(pid: int) -> str:
    try:
        line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("State:"))
        return line.lower()
    except (FileNotFoundError, StopIteration):
        return "gone"


def kill9(name: str, timeout: float = 30) -> int:
    """kill -9 the daemon and wait until it is gone. SIGKILL is delivered at once but the exit is not: on a busy
    machine a large process tears down for a moment, and a `stackctl up` run in that moment still sees it alive
    (and its port taken), so does not start a new one."""
    pid = daemon_pid(name)
    assert pid is not None and alive(pid), f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, f"{name} (pid {pid}) still alive {timeout:.0f} s after kill -9"
        time.sleep(0.05)
    return pid
