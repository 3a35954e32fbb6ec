"""stack/lib.sh, issue 23: logs are the stack owner's only (security 11: mode 600 like the secrets, directory 700),
and checking a pid file whose process ends meanwhile prints nothing (fault 8: app-up printed
"stack/lib.sh: line 84: /proc/944/environ: No such process")."""

import os
import stat
import subprocess
from pathlib import Path

from tests.support import wait_until

LIB = Path(__file__).resolve().parents[2] / "stack" / "lib.sh"


def bash(script: str, stack: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CDCFLOW_STACK_DIR": str(stack)}
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {LIB}; {script}"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_pid_that_ends_during_the_check_prints_nothing(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "api.pid").write_text(f"{gone.pid}\n")
    # kill -0 says "alive" (the process ends right after it, as in the fault), then /proc/<pid> is gone.
    result = bash("kill() { return 0; }; if pid_alive api; then echo alive; else echo stale; fi", tmp_path)
    assert result.stdout.strip() == "stale", result.stderr
    assert "/proc/" not in result.stderr and "No such" not in result.stderr, result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_logs_are_private(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o755)
    old = logs / "api.log"
    old.write_text("from before\n")
    old.chmod(0o644)
    started = bash(f"start_daemon probe {logs}/probe.log bash -c 'echo hello > {logs}/own.log; exec sleep 60'",
                   tmp_path)
    try:
        assert started.returncode == 0, started.stderr
        wait_until(lambda: (logs / "own.log").exists(), 20, what="the daemon's own log file")
        assert mode(logs) == 0o700
        assert {p.name: mode(p) for p in logs.iterdir()} == {"api.log": 0o600, "probe.log": 0o600,
                                                             "own.log": 0o600}
    finally:
        bash("stop_daemon probe 5", tmp_path)
