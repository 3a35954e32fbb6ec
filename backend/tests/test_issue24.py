"""Issue 24, the API side: what resync and add-table need from a source user, said exactly (preflight, status, the
demo seed's grant); what a MariaDB pipeline does not support yet; the dashboard's pending count; replay's preview."""

import os
import uuid

import psycopg
import pytest
from psycopg import sql

from cdcflow.demo.seed import ensure_signal_schema
from cdcflow.engine.postgres.signals import signal_table_problem
from cdcflow.pipelines.capabilities import gaps
from tests.support import dsn_for


@pytest.fixture()
def scratch():
    """A throwaway database and a login-less role; the role is taken on with SET ROLE on a superuser session."""
    name = f"i24_{uuid.uuid4().hex[:8]}"
    role = f"i24_role_{uuid.uuid4().hex[:8]}"
    superuser = os.environ["PG_SUPERUSER_DSN"]
    with psycopg.connect(superuser, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    try:
        with psycopg.connect(dsn_for(superuser, name), autocommit=True) as conn:
            yield conn, role, name
    finally:
        with psycopg.connect(superuser, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _as(conn: psycopg.Connection, role: str | None) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)) if role else "RESET ROLE")


def test_signal_table_problem_names_the_one_missing_grant(scratch):
    conn, role, database = scratch
    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    _as(conn, role)
    assert signal_table_problem(conn, "cdcflow") == (
        f"user {role} may not create the schema cdcflow for the signal table: "
        f"GRANT CREATE ON DATABASE {database} TO {role}")
    _as(conn, None)
    conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(role)))
    _as(conn, role)
    assert signal_table_problem(conn, "cdcflow") is None
    # The tester's case: the schema exists, created by another role. CREATE on the database does not help.
    _as(conn, None)
    conn.execute("CREATE SCHEMA cdcflow")
    _as(conn, role)
    problem = signal_table_problem(conn, "cdcflow", "signal_x")
    assert problem is not None and problem.endswith(f"GRANT USAGE, CREATE ON SCHEMA cdcflow TO {role}")
    assert "belongs to postgres" in problem
    _as(conn, None)
    conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA cdcflow TO {}").format(sql.Identifier(role)))
    _as(conn, role)
    assert signal_table_problem(conn, "cdcflow", "signal_x") is None
    # An existing signal table the role may not write.
    _as(conn, None)
    conn.execute("CREATE TABLE cdcflow.signal_x (id varchar(64) PRIMARY KEY, type varchar(32), data varchar(2048))")
    _as(conn, role)
    assert "GRANT INSERT ON cdcflow.signal_x" in signal_table_problem(conn, "cdcflow", "signal_x")


def test_demo_seed_gives_the_source_role_the_signal_schema(scratch):
    conn, role, _ = scratch
    ensure_signal_schema(conn, role)  # missing: created, owned by the role
    assert conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'cdcflow'"
                        ).fetchone()[0] == role
    conn.execute("DROP SCHEMA cdcflow; CREATE SCHEMA cdcflow")  # another role's: the role may create in it
    ensure_signal_schema(conn, role)
    _as(conn, role)
    assert signal_table_problem(conn, "cdcflow", "signal_y") is None


def test_preflight_reports_the_signal_table_as_a_warning_with_its_grant(client, auth, stack_env):
    """The demo source after the seed: resync and add-table can work, and the check says so."""
    items = client.get("/api/v1/connections", headers=auth["admin"]).json()["items"]
    demo = next(c for c in items if c["name"] == "Demo source")
    result = client.post(f"/api/v1/connections/{demo['id']}/test", json={"tables": ["shop.orders"]},
                         headers=auth["admin"]).json()
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["signal_table"]["ok"] is True, checks["signal_table"]
    assert checks["table_ownership"]["ok"] is True, checks["table_ownership"]
    assert result["ok"] is True


def test_mariadb_gaps_are_named_and_kept_out_of_the_allowed_actions():
    found = gaps("mariadb", "postgresql")
    assert set(found) == {"resync", "add_table", "remove_table", "schema_change_policy"}
    assert all("MariaDB" in reason for reason in found.values())
    assert set(gaps("postgresql", "mariadb")) == {"schema_change_policy"}
    assert gaps("postgresql", "postgresql") == {}


def test_a_mariadb_pipeline_says_what_it_cannot_do(client, auth):
    items = client.get("/api/v1/connections", headers=auth["admin"]).json()["items"]
    by_name = {c["name"]: c["id"] for c in items}
    created = client.post("/api/v1/pipelines", headers=auth["admin"], json={
        "name": f"i24-maria-{uuid.uuid4().hex[:6]}", "source_connection_id": by_name["Demo MariaDB source"],
        "target_connection_id": by_name["Demo MariaDB target"], "tables": ["shop.orders"], "mode": "full_load_and_cdc"})
    assert created.status_code == 201, created.text
    body = created.json()
    try:
        assert body["source_database_type"] == "mariadb"
        assert set(body["unavailable_actions"]) == {"resync", "add_table", "remove_table", "schema_change_policy"}
        assert not set(body["allowed_actions"]) & {"resync", "add_table", "remove_table"}
        listed = client.get("/api/v1/pipelines", headers=auth["admin"]).json()["items"]
        assert next(p for p in listed if p["id"] == body["id"])["source_database_type"] == "mariadb"
    finally:
        client.delete(f"/api/v1/pipelines/{body['id']}?force=true", headers=auth["admin"])


def test_dashboard_counts_what_waits_instead_of_a_success_rate(client, auth):
    body = client.get("/api/v1/monitoring/dashboard", headers=auth["admin"]).json()
    assert "success_rate" not in body
    assert body["events_pending"] == max(0, body["events_produced"] - body["events_applied"])


def test_connection_tables_never_list_cdcflows_own_schema(client, auth):
    superuser = os.environ["PG_SUPERUSER_DSN"]
    with psycopg.connect(dsn_for(superuser, "demo_source"), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS cdcflow")
        conn.execute("CREATE TABLE IF NOT EXISTS cdcflow.signal_listed_test (id varchar(64) PRIMARY KEY)")
    try:
        items = client.get("/api/v1/connections", headers=auth["admin"]).json()["items"]
        demo = next(c for c in items if c["name"] == "Demo source")
        tables = client.get(f"/api/v1/connections/{demo['id']}/tables", headers=auth["admin"]).json()
        assert tables and not [t for t in tables if t["schema"] == "cdcflow"]
    finally:
        with psycopg.connect(dsn_for(superuser, "demo_source"), autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS cdcflow.signal_listed_test")


def test_a_connection_is_tested_before_it_is_saved(client, auth):
    """The form's Test: the draft's fields get the connection Test's checks; nothing is created. Operators and
    admins may (they create connections), viewers not; a bad body is refused by validation."""
    demo = os.environ["DEMO_SOURCE_DSN"]
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(demo)
    body = {"name": f"draft-{uuid.uuid4().hex[:6]}", "connection_type": "source", "host": parts.hostname,
            "port": parts.port, "database": "demo_source", "username": unquote(parts.username),
            "password": unquote(parts.password), "schema": "shop"}
    before = client.get("/api/v1/connections", headers=auth["admin"]).json()["total"]
    ok = client.post("/api/v1/connections/test", json=body, headers=auth["operator"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["ok"] is True and {c["name"] for c in ok.json()["checks"]} >= {"wal_level", "signal_table"}
    wrong = client.post("/api/v1/connections/test", json={**body, "password": "not-it"}, headers=auth["operator"])
    assert wrong.status_code == 200 and wrong.json()["ok"] is False
    assert "Authentication failed" in wrong.json()["error"]
    assert client.get("/api/v1/connections", headers=auth["admin"]).json()["total"] == before
    assert client.post("/api/v1/connections/test", json=body, headers=auth["viewer"]).status_code == 403
    assert client.post("/api/v1/connections/test", json={**body, "port": 0},
                       headers=auth["operator"]).status_code == 422
