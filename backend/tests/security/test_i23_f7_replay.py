"""Issue 23, finding 7: replaying a row against a target that cannot be reached says what the connection test says
("Could not connect to the server"), never libpq's own text (port, address, "refused", "SSL negotiation"); and a
MariaDB target (or source) is replayed through MariaDB, not libpq."""

import os
import socket
import uuid
from contextlib import closing
from decimal import Decimal

import pytest

from cdcflow.demo.mariadb_seed import endpoint_from_dsn
from cdcflow.engine.mariadb.session import connect as mariadb_connect
from tests.support import connect, dsn_for
from tests.test_connections import connection_body

pytestmark = pytest.mark.timeout(300)


def closed_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def world(client, auth, stack_env):
    """A source table in demo_source, the same table in a fresh MariaDB database, and connections to both."""
    admin = auth["admin"]
    name = f"i23f7_{uuid.uuid4().hex[:8]}"
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"CREATE TABLE public.{name} (id int PRIMARY KEY, amount numeric(12,2), at timestamptz, "
                   f"note text)")
        db.execute(f"INSERT INTO public.{name} VALUES (1, 12.34, '2026-01-02 03:04:05+02', 'one')")
    mariadb_admin = endpoint_from_dsn(os.environ["MARIADB_ADMIN_DSN"], "mysql")
    with mariadb_connect(mariadb_admin, 10) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
        cur.execute(f"CREATE TABLE {name}.{name} (id int PRIMARY KEY, amount decimal(12,2), at datetime(6), "
                    f"note text)")
    target = endpoint_from_dsn(os.environ["MARIADB_ADMIN_DSN"], name)
    ids = {}
    for label, body in (("source", connection_body(stack_env)),
                        ("pg_target", connection_body(stack_env, "target", "demo_target")),
                        ("mariadb_target", {"name": f"i23f7-{name}", "connection_type": "target",
                                            "database_type": "mariadb", "host": target.host, "port": target.port,
                                            "database": name, "username": target.username,
                                            "password": target.password})):
        created = client.post("/api/v1/connections", json=body, headers=admin)
        assert created.status_code == 201, created.text
        ids[label] = created.json()["id"]
    pipelines = {}
    for label in ("pg_target", "mariadb_target"):
        created = client.post("/api/v1/pipelines", headers=admin, json={
            "name": f"i23f7-{label}-{uuid.uuid4().hex[:6]}", "mode": "cdc_only", "tables": [f"public.{name}"],
            "source_connection_id": ids["source"], "target_connection_id": ids[label]})
        assert created.status_code == 201, created.text
        pipelines[label] = created.json()["id"]
    yield {"table": f"public.{name}", "name": name, "pipelines": pipelines, "connections": ids,
           "mariadb_admin": mariadb_admin}
    for pid in pipelines.values():
        client.delete(f"/api/v1/pipelines/{pid}", headers=admin)
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"DROP TABLE IF EXISTS public.{name}")
    with mariadb_connect(mariadb_admin, 10) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")


def replay(client, auth, world, label: str, key: dict):
    return client.post(f"/api/v1/pipelines/{world['pipelines'][label]}/row-history/replay",
                       json={"table": world["table"], "key": key}, headers=auth["admin"])


def test_an_unreachable_target_answers_with_the_generic_error(client, auth, stack_env, world):
    port = closed_port()
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("UPDATE connections SET port = %s WHERE id = %s", (port, world["connections"]["pg_target"]))
    try:
        failed = replay(client, auth, world, "pg_target", {"id": 1})
    finally:
        with connect(stack_env["DATABASE_URL"]) as meta:
            meta.execute("UPDATE connections SET port = %s WHERE id = %s",
                         (int(stack_env["PG_PORT"]), world["connections"]["pg_target"]))
    assert failed.status_code == 502, failed.text
    assert failed.json() == {"error": {"code": "replay_failed", "details": {},
                                       "message": "Cannot connect to the target database: Could not connect to the "
                                                  "server"}}
    assert str(port) not in failed.text and "refused" not in failed.text.lower()


def test_a_mariadb_target_is_replayed_through_mariadb(client, auth, world):
    done = replay(client, auth, world, "mariadb_target", {"id": 1})
    assert done.status_code == 200, done.text
    assert done.json()["action"] == "upserted"
    with mariadb_connect(world["mariadb_admin"], 10) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT id, amount, at, note FROM {world['name']}.{world['name']}")
        rows = cur.fetchall()
    assert [(r[0], r[1], r[2].isoformat(), r[3]) for r in rows] == [(1, Decimal("12.34"), "2026-01-02T01:04:05",
                                                                     "one")]
    # A row the source no longer has is deleted on the target.
    gone = replay(client, auth, world, "mariadb_target", {"id": 2})
    assert gone.status_code == 200 and gone.json()["action"] == "absent", gone.text
