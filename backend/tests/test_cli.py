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
        return subprocess.Popen([sys.executable, "-m", "cdcflow.cli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)


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

        tail = cli.popen("events", "tail", "--pipeline", name, "--duration", "45", "--last", "0")
        # Traffic only once the tail follows: events stored before that are "old" to --last 0 by design.
        assert tail.stderr.readline().startswith("following"), "events tail did not start following"
        traffic = cli("demo", "traffic", "--rate", "20", "--duration", "5", timeout=60)
        assert traffic.returncode == 0, traffic.stderr
        out, _ = tail.communicate(timeout=120)
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


def test_grants_from_the_cli(cli, client, auth):
    """An admin shares a pipeline with an operator, changes its level, takes it back and moves the ownership."""
    from tests.access_support import make_user

    operator = make_user(client, auth["admin"], "operator", "cli-op")
    name = f"cli-grants-{uuid.uuid4().hex[:6]}"
    created = cli("pipelines", "create", "--name", name, "--source", "Demo source", "--target", "Demo target",
                  "--tables", "shop.customers", "--json")
    assert created.returncode == 0, created.stderr
    pid = json.loads(created.stdout)["id"]
    seen_by_operator = lambda: client.get(f"/api/v1/pipelines/{pid}", headers=operator.headers).status_code  # noqa

    try:
        assert seen_by_operator() == 404
        added = cli("grants", "add", "--pipeline", name, "--user", operator.username, "--level", "operate", "--json")
        assert added.returncode == 0, added.stderr
        assert [(g["user"]["username"], g["level"]) for g in json.loads(added.stdout)["grants"]] == \
            [(operator.username, "operate")]
        assert seen_by_operator() == 200
        listed = cli("grants", "list", "--pipeline", name)
        assert listed.returncode == 0 and operator.username in listed.stdout and "operate" in listed.stdout

        removed = cli("grants", "remove", "--pipeline", name, "--user", operator.username, "--json")
        assert removed.returncode == 0 and json.loads(removed.stdout)["grants"] == []
        assert seen_by_operator() == 404

        owned = cli("grants", "owner", "--pipeline", name, "--user", operator.username, "--json")
        assert json.loads(owned.stdout)["owner"]["username"] == operator.username and seen_by_operator() == 200
        nobody = cli("grants", "owner", "--pipeline", name, "--nobody", "--json")
        assert json.loads(nobody.stdout)["owner"] is None and seen_by_operator() == 404

        missing_user = cli("grants", "add", "--pipeline", name)
        assert missing_user.returncode == 1 and missing_user.stderr.strip() == "error: add needs --user"
        unknown = cli("grants", "add", "--pipeline", name, "--user", f"nobody-{uuid.uuid4().hex[:6]}")
        assert unknown.returncode == 1 and unknown.stderr.startswith("error: No user named")
    finally:
        client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=auth["admin"])
