"""The recovery commands of the CLI against the running API: schema policy, schema changes, and the refusals a
pipeline that is not running gets (one line, non-zero exit). The actions themselves run in test_recovery.py."""

import json
import os
import uuid

import pytest

from tests.test_cli import Cli

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    run = Cli(str(tmp_path_factory.mktemp("cli-recovery")))
    login = run("login", "--url", os.environ["CDCFLOW_API_URL"], "--username", os.environ["CDCFLOW_ADMIN_USER"],
                "--password-stdin", stdin=os.environ["CDCFLOW_ADMIN_PASSWORD"] + "\n")
    assert login.returncode == 0, login.stderr
    return run


def test_recovery_commands_on_a_pipeline_that_is_not_running(cli, client, auth):
    name = f"cli-recovery-{uuid.uuid4().hex[:6]}"
    created = cli("pipelines", "create", "--name", name, "--source", "Demo source", "--target", "Demo target",
                  "--tables", "shop.customers", "--policy", "pause", "--json")
    assert created.returncode == 0, created.stderr
    try:
        assert json.loads(cli("pipelines", "status", name, "--json").stdout)["available_actions"] == ["start"]
        policy = cli("pipelines", "schema-policy", name, "--policy", "ignore", "--drop-removed-columns", "--json")
        assert policy.returncode == 0, policy.stderr
        body = json.loads(policy.stdout)
        assert (body["schema_change_policy"], body["drop_removed_columns"]) == ("ignore", True)
        changes = cli("pipelines", "schema-changes", name, "--json")
        assert changes.returncode == 0 and json.loads(changes.stdout) == []

        restart = cli("pipelines", "restart", name)
        assert restart.returncode == 1 and "409" in restart.stderr and "never started" in restart.stderr
        missing = cli("pipelines", "add-table", name)
        assert missing.returncode == 1 and "--table schema.table" in missing.stderr
        unconfirmed = cli("pipelines", "reset", name, stdin="")
        assert unconfirmed.returncode == 1 and f"--confirm '{name}'" in unconfirmed.stderr
        wrong = cli("pipelines", "reset", name, "--confirm", "someone else")
        assert wrong.returncode == 1 and "422" in wrong.stderr and "confirm" in wrong.stderr
    finally:
        pid = json.loads(created.stdout)["id"]
        deleted = client.delete(f"/api/v1/pipelines/{pid}", headers=auth["admin"])
        assert deleted.status_code == 204, deleted.text
