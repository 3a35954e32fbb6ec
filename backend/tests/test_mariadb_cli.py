"""`cdcflow connections create --database-type mariadb`, list and test against the running API and the stack's
MariaDB; the password only ever on stdin."""

import json
import os
import uuid

import pytest

from cdcflow.demo.mariadb_seed import endpoint_from_dsn
from cdcflow.engine.mariadb.connection import connect
from tests.test_cli import Cli


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    run = Cli(str(tmp_path_factory.mktemp("cli")))
    login = run("login", "--url", os.environ["CDCFLOW_API_URL"], "--username", os.environ["CDCFLOW_ADMIN_USER"],
                "--password-stdin", "--json", stdin=os.environ["CDCFLOW_ADMIN_PASSWORD"] + "\n")
    assert login.returncode == 0, login.stderr
    return run


def test_create_list_and_test_a_mariadb_connection(cli, client, auth):
    source = endpoint_from_dsn(os.environ["MARIADB_DEMO_SOURCE_DSN"])
    name = f"cli-maria-{uuid.uuid4().hex[:8]}"
    created = cli("connections", "create", "--name", name, "--type", "source", "--database-type", "mariadb",
                  "--host", source.host, "--port", str(source.port), "--database", source.database,
                  "--username", source.username, "--password-stdin", "--json", stdin=source.password + "\n")
    assert created.returncode == 0, created.stderr
    conn = json.loads(created.stdout)
    try:
        assert (conn["database_type"], conn["schema"], conn["has_password"]) == ("mariadb", "shop", True)
        assert source.password not in created.stdout
        listed = cli("connections", "list")
        assert listed.returncode == 0 and "DATABASE_TYPE" in listed.stdout
        assert any(name in line and "mariadb" in line for line in listed.stdout.splitlines())
        tested = cli("connections", "test", name, "--tables", "shop.orders", "--json")
        assert tested.returncode == 0, tested.stdout + tested.stderr
        result = json.loads(tested.stdout)
        assert result["ok"] is True and "primary_keys" in {c["name"] for c in result["checks"]}
        text = cli("connections", "test", name)
        assert text.returncode == 0 and "ok  binlog_format: binlog_format is ROW" in text.stdout
    finally:
        client.delete(f"/api/v1/connections/{conn['id']}", headers=auth["admin"])


def test_create_without_a_password_or_fields_fails_clearly(cli):
    no_password = cli("connections", "create", "--name", "x", "--type", "source", "--database-type", "mariadb",
                      "--host", "127.0.0.1", "--database", "shop", "--username", "u", stdin="")
    assert no_password.returncode != 0 and "password" in no_password.stderr
    missing = cli("connections", "create", "--name", "x", "--database-type", "mariadb")
    assert missing.returncode != 0 and "--type" in missing.stderr and "Traceback" not in missing.stderr
    bad_type = cli("connections", "create", "--database-type", "oracle")
    assert bad_type.returncode != 0 and "invalid choice" in bad_type.stderr


def test_demo_traffic_on_the_mariadb_shop(cli):
    source = endpoint_from_dsn(os.environ["MARIADB_DEMO_SOURCE_DSN"])

    def newest_order() -> int:
        conn = connect(source, 10)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT MAX(id) FROM orders")
                return int(cur.fetchone()[0])
        finally:
            conn.close()

    before = newest_order()
    # Deletes remove an order's lines first: the foreign key (no cascade in the MariaDB demo) refuses otherwise,
    # which would fail the run.
    traffic = cli("demo", "traffic", "--database", "mariadb", "--rate", "40", "--duration", "3", timeout=60)
    assert traffic.returncode == 0, traffic.stderr
    totals = json.loads(traffic.stdout.strip().rsplit("done: ", 1)[1].replace("'", '"'))
    assert sum(totals.values()) >= 40 and totals["insert"] > 0 and totals["delete"] >= 0
    assert newest_order() > before
