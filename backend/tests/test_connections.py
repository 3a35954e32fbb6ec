"""Connections: CRUD, secrets never leaving encrypted, key rotation, tests with preflight, introspection."""

import logging
import time
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from cdcflow.core.config import Settings
from cdcflow.main import create_app
from tests.pgcluster import free_port, temporary_cluster
from tests.support import connect, dsn_for


def superuser_password(stack_env) -> str:
    return stack_env["PG_SUPERUSER_DSN"].split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def connection_body(stack_env, kind="source", database="demo_source", **overrides):
    body = {"name": f"conn-{kind}-{uuid.uuid4().hex[:8]}", "connection_type": kind, "database_type": "postgresql",
            "host": stack_env["PG_HOST"], "port": int(stack_env["PG_PORT"]), "database": database,
            "username": "postgres", "password": superuser_password(stack_env), "schema": "public"}
    body.update(overrides)
    return body


@pytest.fixture
def source_table(stack_env):
    name = f"ct_{uuid.uuid4().hex[:8]}"
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"CREATE TABLE public.{name} (id bigint PRIMARY KEY, note text NOT NULL DEFAULT 'x')")
        db.execute(f"CREATE TABLE public.{name}_nopk (v int)")
        db.execute(f"ALTER TABLE public.{name} REPLICA IDENTITY FULL")
    yield name
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"DROP TABLE IF EXISTS public.{name}, public.{name}_nopk")


def test_crud_round_trip_never_shows_the_password(client, auth, stack_env, caplog, grant):
    caplog.set_level(logging.DEBUG)
    body = connection_body(stack_env)
    password = body["password"]
    created = client.post("/api/v1/connections", json=body, headers=auth["operator"])
    assert created.status_code == 201, created.text
    conn = created.json()
    assert conn["schema"] == "public" and conn["has_password"] is True
    cid = conn["id"]
    grant("connections", cid, "viewer")

    responses = [created,
                 client.get("/api/v1/connections", headers=auth["viewer"]),
                 client.get(f"/api/v1/connections/{cid}", headers=auth["viewer"]),
                 client.put(f"/api/v1/connections/{cid}", json={"port": int(stack_env["PG_PORT"])},
                            headers=auth["operator"]),
                 client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"])]
    for response in responses:
        assert response.status_code == 200 or response.status_code == 201, response.text
        assert password not in response.text
        assert "password\"" not in response.text.replace("has_password\"", "")
    assert responses[-1].json()["ok"] is True

    with connect(stack_env["DATABASE_URL"]) as meta:
        stored = meta.execute("SELECT password_encrypted FROM connections WHERE id = %s", (cid,)).fetchone()[0]
        audit = meta.execute("SELECT details::text FROM audit_log WHERE target = %s", (f"connection:{cid}",)).fetchall()
    assert stored.startswith("v1:") and password not in stored
    assert audit and all(password not in row[0] for row in audit)
    assert all(password not in record.getMessage() for record in caplog.records)

    assert client.delete(f"/api/v1/connections/{cid}", headers=auth["operator"]).status_code == 204
    assert client.get(f"/api/v1/connections/{cid}", headers=auth["viewer"]).status_code == 404
    assert client.delete(f"/api/v1/connections/{cid}", headers=auth["operator"]).status_code == 404


def test_names_are_unique_among_live_connections(client, auth, stack_env):
    body = connection_body(stack_env)
    first = client.post("/api/v1/connections", json=body, headers=auth["operator"])
    assert first.status_code == 201
    duplicate = client.post("/api/v1/connections", json=body, headers=auth["operator"])
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    client.delete(f"/api/v1/connections/{first.json()['id']}", headers=auth["operator"])
    assert client.post("/api/v1/connections", json=body, headers=auth["operator"]).status_code == 201


def test_rotated_key_keeps_old_rows_readable(auth, users, stack_env, app):
    old_key, new_key = "old-key-" + "a" * 40, "new-key-" + "b" * 40
    with TestClient(create_app(Settings(CDCFLOW_SECRET_KEY=old_key))) as old_app:
        headers = {"Authorization": auth["operator"]["Authorization"]}
        cid = old_app.post("/api/v1/connections", json=connection_body(stack_env), headers=headers).json()["id"]
    rotated = Settings(CDCFLOW_SECRET_KEY=new_key, CDCFLOW_SECRET_KEYS_PREVIOUS=old_key)
    with TestClient(create_app(rotated)) as new_app:
        result = new_app.post(f"/api/v1/connections/{cid}/test", headers=headers)
        assert result.status_code == 200 and result.json()["ok"] is True  # decrypted with the previous key
    with TestClient(create_app(Settings(CDCFLOW_SECRET_KEY=new_key))) as new_only:
        # Without the old key the secret is unreadable: the test reports an error rather than leaking anything.
        response = new_only.post(f"/api/v1/connections/{cid}/test", headers=headers)
        assert response.status_code == 500 and response.json()["error"]["code"] == "secret_unavailable"
        assert "CDCFLOW_SECRET_KEYS_PREVIOUS" in response.json()["error"]["message"]


def test_test_reports_preflight_for_a_source(client, auth, stack_env, source_table):
    cid = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()["id"]
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"],
                         json={"tables": [f"public.{source_table}", f"public.{source_table}_nopk"]}).json()
    checks = {c["name"]: c for c in result["checks"]}
    assert result["server_version"].startswith("15")
    assert result["latency_ms"] > 0
    assert checks["wal_level"]["ok"] and checks["replication_privilege"]["ok"]
    assert checks["free_replication_slots"]["ok"]
    assert not checks["primary_keys"]["ok"] and f"{source_table}_nopk" in checks["primary_keys"]["detail"]
    assert result["ok"] is False  # a selected table lacks a primary key


def test_test_against_a_closed_port_fails_within_the_timeout_and_clearly(client, auth, stack_env, app):
    body = connection_body(stack_env, port=free_port())
    cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
    started = time.monotonic()
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    # Not "refused": refused, filtered and non-PostgreSQL ports all look alike (tests/security/test_f3_*).
    assert time.monotonic() - started < app.state.settings.connection_test_timeout_seconds + 3
    assert result["ok"] is False and result["error"] == "Could not connect to the server"


def test_test_with_a_wrong_password_fails_clearly(client, auth, stack_env):
    body = connection_body(stack_env, password="definitely-wrong-password")
    cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"])
    assert result.status_code == 200
    assert result.json()["ok"] is False
    assert result.json()["error"] == "Authentication failed: wrong username or password"
    assert "definitely-wrong-password" not in result.text


def test_test_flags_a_server_without_logical_wal(client, auth, stack_env):
    password = f"pw-{uuid.uuid4().hex}"
    with temporary_cluster(password, {"wal_level": "replica"}) as port:
        body = connection_body(stack_env, port=port, password=password, database="postgres")
        cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
        result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    checks = {c["name"]: c for c in result["checks"]}
    assert result["error"] is None and result["ok"] is False
    assert checks["wal_level"]["ok"] is False and "replica" in checks["wal_level"]["detail"]


def test_introspection_lists_tables_and_columns(client, auth, stack_env, source_table, grant):
    cid = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()["id"]
    grant("connections", cid, "viewer")
    # Browsing needs operate on the connection: a viewer (view at most) sees the connection, not its tables.
    assert client.get(f"/api/v1/connections/{cid}/tables", headers=auth["viewer"]).status_code == 403
    tables = client.get(f"/api/v1/connections/{cid}/tables", headers=auth["operator"])
    assert tables.status_code == 200
    by_name = {t["table"]: t for t in tables.json()}
    assert by_name[source_table]["schema"] == "public"
    assert by_name[source_table]["primary_key"] == ["id"]
    assert by_name[source_table]["replica_identity"] == "full"
    assert by_name[f"{source_table}_nopk"]["primary_key"] == []
    columns = client.get(f"/api/v1/connections/{cid}/tables/public/{source_table}/columns",
                         headers=auth["operator"])
    assert columns.status_code == 200, columns.text
    assert columns.json() == [
        {"name": "id", "type": "bigint", "nullable": False, "default": None, "primary_key": True},
        {"name": "note", "type": "text", "nullable": False, "default": "'x'::text", "primary_key": False},
    ]
    missing = client.get(f"/api/v1/connections/{cid}/tables/public/nope_{uuid.uuid4().hex[:6]}/columns",
                         headers=auth["operator"])
    assert missing.status_code == 404


def test_target_test_checks_create_privilege(client, auth, stack_env):
    body = connection_body(stack_env, kind="target", database="demo_target")
    cid = client.post("/api/v1/connections", json=body, headers=auth["operator"]).json()["id"]
    result = client.post(f"/api/v1/connections/{cid}/test", headers=auth["operator"]).json()
    # The stack's postgres role is a superuser: a warning, which does not fail the test.
    assert result["ok"] is True and [c["name"] for c in result["checks"]] == ["create_privilege", "superuser"]


def test_psycopg_refuses_the_stored_ciphertext_as_a_password(stack_env, client, auth):
    """The stored column is useless without the key: it is not the password."""
    cid = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()["id"]
    with connect(stack_env["DATABASE_URL"]) as meta:
        stored = meta.execute("SELECT password_encrypted FROM connections WHERE id = %s", (cid,)).fetchone()[0]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host=stack_env["PG_HOST"], port=stack_env["PG_PORT"], user="postgres", password=stored,
                        dbname="postgres", connect_timeout=5)
