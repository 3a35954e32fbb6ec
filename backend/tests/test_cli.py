"""The operator CLI against the running product: login, a pipeline on the demo connections, progress to 100%,
events tail showing demo traffic, stop; --json output; clear one-line failures."""

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.support import wait_until

pytestmark = pytest.mark.timeout(400)


class Cli:
    """Runs `cdcflow ...` as a subprocess with its own stored login."""

    def __init__(self, config_dir: str) -> None:
        self.env = {**os.environ, "CDCFLOW_CONFIG_DIR": config_dir}

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cdcflow.cli", *args], input=stdin, capture_output=True,
                              text=True, env=self.env, timeout=timeout)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "cdcflow.cli", *args], stdout=subprocess.PIPE, text=True,
                                env=self.env)


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    run = Cli(str(tmp_path_factory.mktemp("cli")))
    login = run("login", "--url", os.environ["CDCFLOW_API_URL"], "--username", os.environ["CDCFLOW_ADMIN_USER"],
                "--password-stdin", "--json", stdin=os.environ["CDCFLOW_ADMIN_PASSWORD"] + "\n")
    assert login.returncode == 0, login.stderr
    assert json.loads(login.stdout)["logged_in"] is True
    return run


def test_a_pipeline_on_the_demo_connections_from_the_cli(cli):
    listed = cli("connections", "list", "--json")
    assert listed.returncode == 0
    assert {"Demo source", "Demo target"} <= {c["name"] for c in json.loads(listed.stdout)}
    tested = cli("connections", "test", "Demo source")
    assert tested.returncode == 0 and "OK" in tested.stdout and "wal_level" in tested.stdout

    name = f"cli-{uuid.uuid4().hex[:6]}"
    created = cli("pipelines", "create", "--name", name, "--source", "Demo source", "--target", "Demo target",
                  "--tables", "shop.customers", "shop.orders", "--json")
    assert created.returncode == 0, created.stderr
    pipeline = json.loads(created.stdout)
    try:
        assert cli("pipelines", "start", name).returncode == 0
        progress = cli("pipelines", "progress", name, "--wait", timeout=300)
        assert progress.returncode == 0, progress.stdout + progress.stderr
        assert "100.0%" in progress.stdout and "COMPLETED" in progress.stdout
        status = wait_until(lambda: (r := cli("pipelines", "status", name, "--json")) and
                            json.loads(r.stdout)["status"] == "RUNNING" and r, 120, interval=1, what="RUNNING")
        assert json.loads(status.stdout)["connect"]["source"]["state"] == "RUNNING"

        tail = cli.popen("events", "tail", "--pipeline", name, "--duration", "20", "--last", "0")
        traffic = cli("demo", "traffic", "--rate", "20", "--duration", "5", timeout=60)
        assert traffic.returncode == 0, traffic.stderr
        out, _ = tail.communicate(timeout=60)
        lines = [line for line in out.splitlines() if line.strip()]
        assert any(" insert " in line and "shop.orders" in line for line in lines), out
        assert any(" update " in line for line in lines) or any(" delete " in line for line in lines), out

        assert cli("pipelines", "stop", name).returncode == 0
        wait_until(lambda: json.loads(cli("pipelines", "status", name, "--json").stdout)["status"] == "STOPPED",
                   90, interval=1, what="STOPPED")
        listed = json.loads(cli("pipelines", "list", "--json").stdout)
        assert any(p["id"] == pipeline["id"] and p["status"] == "STOPPED" for p in listed)
    finally:
        cli("pipelines", "stop", name)


def test_failures_exit_non_zero_with_one_line(cli, tmp_path):
    unknown = cli("pipelines", "status", f"nope-{uuid.uuid4().hex[:6]}")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().count("\n") == 0 and unknown.stderr.startswith("error: No pipeline")

    env = {**os.environ, "CDCFLOW_CONFIG_DIR": str(tmp_path)}
    wrong = subprocess.run([sys.executable, "-m", "cdcflow.cli", "login", "--url", os.environ["CDCFLOW_API_URL"],
                            "--username", os.environ["CDCFLOW_ADMIN_USER"], "--password-stdin"],
                           input="wrong-password\n", capture_output=True, text=True, env=env, timeout=60)
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "error: Login failed: Invalid username or password"
    not_logged_in = subprocess.run([sys.executable, "-m", "cdcflow.cli", "pipelines", "list"], capture_output=True,
                                   text=True, env=env, timeout=60)
    assert not_logged_in.returncode == 1 and "cdcflow login" in not_logged_in.stderr
