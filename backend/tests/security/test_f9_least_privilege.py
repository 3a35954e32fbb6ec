"""Finding 9: the demo connections log in as dedicated, non-superuser roles, and a demo pipeline runs with them
(full load, then changes streamed by a walsender of the source role and applied by the target role)."""

import os
import uuid

import psycopg
import pytest

from tests.support import connect, dsn_for, wait_until

pytestmark = pytest.mark.timeout(400)
TABLE = "shop.products"


@pytest.fixture(scope="module")
def demo(client, auth) -> dict[str, dict]:
    listed = client.get("/api/v1/connections", headers=auth["admin"])
    assert listed.status_code == 200, listed.text
    found = {c["name"]: c for c in listed.json()["items"] if c["name"] in ("Demo source", "Demo target")}
    assert set(found) == {"Demo source", "Demo target"}, "run `cdcflow demo seed` (make up / make test do)"
    return found


@pytest.fixture(scope="module")
def superuser(stack_env):
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as conn:
        yield conn


def _role(conn: psycopg.Connection, name: str) -> dict:
    row = conn.execute("SELECT rolsuper, rolreplication, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                       "WHERE rolname = %s", (name,)).fetchone()
    assert row is not None, f"role {name} does not exist"
    return dict(zip(("super", "replication", "createrole", "createdb", "bypassrls"), row, strict=True))


def test_demo_connections_use_dedicated_roles_that_are_not_superusers(demo, superuser):
    source, target = demo["Demo source"]["username"], demo["Demo target"]["username"]
    assert source != target and "postgres" not in (source, target)
    assert _role(superuser, source) == {"super": False, "replication": True, "createrole": False,
                                        "createdb": False, "bypassrls": False}
    assert _role(superuser, target) == {"super": False, "replication": False, "createrole": False,
                                        "createdb": False, "bypassrls": False}
    # The API's own role only needs its metadata database.
    assert _role(superuser, "cdcflow") == {"super": False, "replication": False, "createrole": False,
                                           "createdb": False, "bypassrls": False}
    # The source role owns what it captures (REPLICA IDENTITY and CREATE PUBLICATION ... FOR TABLE need it).
    owners = superuser.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'shop'").fetchall()
    assert owners == [(source,)]


def test_demo_roles_cannot_reach_beyond_their_database(stack_env):
    with psycopg.connect(os.environ["DEMO_TARGET_DSN"], connect_timeout=5, autocommit=True) as target:
        # No REPLICATION: the target role cannot open a replication connection or create a slot.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            target.execute("SELECT pg_create_logical_replication_slot('f9_should_fail', 'pgoutput')")
    with psycopg.connect(os.environ["DEMO_SOURCE_DSN"], connect_timeout=5, autocommit=True) as source:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            source.execute("SELECT pg_read_file('postgresql.conf')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            source.execute("CREATE ROLE f9_should_fail")


def test_the_demo_connections_pass_their_preflight(demo, client, auth):
    for name, conn in demo.items():
        tested = client.post(f"/api/v1/connections/{conn['id']}/test", headers=auth["admin"])
        assert tested.status_code == 200, tested.text
        result = tested.json()
        assert result["ok"] is True, (name, result)


def test_a_demo_pipeline_runs_with_the_dedicated_roles(demo, client, auth, stack_env, grant):
    headers = auth["operator"]
    for conn in demo.values():  # the seeded connections belong to the admin: the operator builds on them by grant
        grant("connections", conn["id"], "operator", "operate")
    created = client.post("/api/v1/pipelines", headers=headers, json={
        "name": f"f9-{uuid.uuid4().hex[:8]}", "mode": "full_load_and_cdc", "tables": [TABLE],
        "source_connection_id": demo["Demo source"]["id"], "target_connection_id": demo["Demo target"]["id"]})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]

    def status() -> dict:
        return client.get(f"/api/v1/pipelines/{pid}/status", headers=headers).json()

    def running():
        s = status()
        assert s["status"] != "ERROR", s.get("last_error")
        return s["status"] == "RUNNING" and s

    source = psycopg.connect(os.environ["DEMO_SOURCE_DSN"], autocommit=True, connect_timeout=5)
    target = connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_target"))
    try:
        assert client.post(f"/api/v1/pipelines/{pid}/start", headers=headers).status_code == 202
        wait_until(running, 240, interval=1, what="demo pipeline RUNNING")
        slot = f"cdcflow_{pid.replace('-', '')}"
        walsender = wait_until(lambda: source.execute(
            "SELECT r.usename FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid "
            "WHERE s.slot_name = %s", (slot,)).fetchone(), 60, what="the slot's walsender")
        assert walsender[0] == demo["Demo source"]["username"]
        marker = f"f9 {uuid.uuid4().hex}"
        source.execute(f"UPDATE {TABLE} SET name = %s WHERE id = 1", (marker,))
        wait_until(lambda: target.execute(f"SELECT name FROM {TABLE} WHERE id = 1").fetchone() == (marker,), 120,
                   what="the update applied on the target")
        owner = target.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'shop' AND tablename = "
                               "'products'").fetchone()[0]
        assert owner == demo["Demo target"]["username"]
    finally:
        client.post(f"/api/v1/pipelines/{pid}/stop", headers=headers)
        wait_until(lambda: status()["status"] in ("STOPPED", "ERROR"), 120, what="stopped")
        assert client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=headers).status_code \
            in (200, 204)
        source.close()
        target.close()
