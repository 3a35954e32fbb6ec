"""A second (third, ...) real API process over the test stack's metadata database, beside the one stackctl app-up
runs: `cdcflow serve` on its own port, started, waited on and killed by the test that needs it."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests import process_env
from tests.support import wait_until

REPO = Path(__file__).resolve().parents[2]
CDCFLOW = REPO / "backend" / ".venv" / "bin" / "cdcflow"


class ApiProcess:
    def __init__(self, port: int, **env: str) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.log = Path(os.environ["CDCFLOW_STACK_DIR"]) / "logs" / f"api-{port}.log"
        self.env = {**process_env.for_servers(dict(os.environ)), "CDCFLOW_API_PORT": str(port),
                    "PYTHONFAULTHANDLER": "1", **env}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "ApiProcess":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([str(CDCFLOW), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

        def ready() -> bool:
            assert self.proc.poll() is None, f"API on {self.port} exited; see {self.log}"
            try:
                return httpx.get(f"{self.url}/readyz", timeout=3).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, interval=0.5, what=f"API process on port {self.port} ready")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, "not running"
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)

    def __enter__(self) -> "ApiProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def second_api_port() -> int:
    return int(os.environ["CDCFLOW_API_PORT"]) + 1


def http_from(address: str, base_url: str, **kwargs) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x.y.z reaches the loopback-bound API): its own login
    limiter counters, apart from every other test's 127.0.0.1."""
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=30,
                        **kwargs)


def until(check, timeout: float, what: str, interval: float = 0.25):
    started = time.monotonic()
    found = wait_until(check, timeout, interval=interval, what=what)
    return found, time.monotonic() - started
