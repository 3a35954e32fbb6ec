"""Pipelines CRUD: validation against the real source catalog, filters, soft delete, no edits while running."""

import uuid

import pytest

from tests.support import connect, dsn_for
from tests.test_connections import connection_body

MIB = 1024 ** 2


@pytest.fixture(scope="module")
def setup(client, auth, stack_env):
    """A source and a target connection and two real source tables."""
    suffix = uuid.uuid4().hex[:8]
    tables = [f"pt_a_{suffix}", f"pt_b_{suffix}"]
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        for t in tables:
            db.execute(f"CREATE TABLE public.{t} (id int PRIMARY KEY, v text)")
    source = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["operator"]).json()
    target = client.post("/api/v1/connections", json=connection_body(stack_env, "target", "demo_target"),
                         headers=auth["operator"]).json()
    yield {"source": source["id"], "target": target["id"], "tables": [f"public.{t}" for t in tables]}
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        for t in tables:
            db.execute(f"DROP TABLE IF EXISTS public.{t}")


def body(setup, **overrides):
    b = {"name": f"pipe-{uuid.uuid4().hex[:8]}", "source_connection_id": setup["source"],
         "target_connection_id": setup["target"], "mode": "full_load_and_cdc", "tables": setup["tables"]}
    b.update(overrides)
    return b


def count_pipelines(stack_env) -> int:
    with connect(stack_env["DATABASE_URL"]) as meta:
        return meta.execute("SELECT count(*) FROM pipelines").fetchone()[0]


def test_create_get_list_update_delete(client, auth, setup, grant):
    created = client.post("/api/v1/pipelines", json=body(setup), headers=auth["operator"])
    assert created.status_code == 201, created.text
    p = created.json()
    assert p["access"] == "manage"  # the creator owns it
    grant("pipelines", p["id"], "viewer")
    assert p["status"] == "NOT_STARTED" and p["full_load_status"] == "NOT_STARTED" and p["cdc_status"] == "NOT_STARTED"
    assert [f"{t['schema']}.{t['table']}" for t in p["tables"]] == setup["tables"]
    assert all(t["state"] == "PENDING" and t["rows_estimated"] is not None for t in p["tables"])

    got = client.get(f"/api/v1/pipelines/{p['id']}", headers=auth["viewer"])
    assert got.status_code == 200 and got.json()["name"] == p["name"]

    listed = client.get("/api/v1/pipelines", params={"q": p["name"], "mode": "full_load_and_cdc"},
                        headers=auth["viewer"]).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == p["id"]
    assert client.get("/api/v1/pipelines", params={"q": p["name"], "mode": "cdc_only"},
                      headers=auth["viewer"]).json()["total"] == 0

    updated = client.put(f"/api/v1/pipelines/{p['id']}", json={"mode": "cdc_only", "tables": setup["tables"][:1]},
                         headers=auth["operator"])
    assert updated.status_code == 200, updated.text
    assert updated.json()["mode"] == "cdc_only" and len(updated.json()["tables"]) == 1

    assert client.delete(f"/api/v1/pipelines/{p['id']}", headers=auth["operator"]).status_code == 204
    assert client.get(f"/api/v1/pipelines/{p['id']}", headers=auth["viewer"]).status_code == 404
    assert client.put(f"/api/v1/pipelines/{p['id']}", json={"mode": "cdc_only"},
                      headers=auth["operator"]).status_code == 404


def test_pagination(client, auth, setup, grant):
    prefix = f"pg-{uuid.uuid4().hex[:6]}"
    for i in range(5):
        created = client.post("/api/v1/pipelines", json=body(setup, name=f"{prefix}-{i}"), headers=auth["operator"])
        assert created.status_code == 201
        grant("pipelines", created.json()["id"], "viewer")
    page1 = client.get("/api/v1/pipelines", params={"q": prefix, "limit": 2}, headers=auth["viewer"]).json()
    page3 = client.get("/api/v1/pipelines", params={"q": prefix, "limit": 2, "offset": 4},
                       headers=auth["viewer"]).json()
    assert page1["total"] == 5 and len(page1["items"]) == 2 and len(page3["items"]) == 1
    assert client.get("/api/v1/pipelines", params={"limit": 0}, headers=auth["viewer"]).status_code == 422


@pytest.mark.parametrize("status", ["RUNNING", "STARTING", "PAUSED", "STOPPING"])
def test_an_active_pipeline_cannot_be_edited_or_deleted(client, auth, setup, stack_env, status, grant):
    p = client.post("/api/v1/pipelines", json=body(setup), headers=auth["operator"]).json()
    grant("pipelines", p["id"], "viewer")
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("UPDATE pipelines SET status = %s WHERE id = %s", (status, p["id"]))
    edit = client.put(f"/api/v1/pipelines/{p['id']}", json={"name": "renamed-" + p["name"]},
                      headers=auth["operator"])
    delete = client.delete(f"/api/v1/pipelines/{p['id']}", headers=auth["operator"])
    for response in (edit, delete):
        assert response.status_code == 409
        assert status in response.json()["error"]["message"]
    assert client.get(f"/api/v1/pipelines/{p['id']}", headers=auth["viewer"]).json()["name"] == p["name"]


def test_validation_against_connections_and_catalog(client, auth, setup, stack_env):
    before = count_pipelines(stack_env)
    cases = [
        (body(setup, source_connection_id=setup["target"]), "is a target"),
        (body(setup, target_connection_id=setup["source"]), "is a source"),
        (body(setup, source_connection_id=str(uuid.uuid4())), "not found"),
        (body(setup, tables=["public.does_not_exist_" + uuid.uuid4().hex[:6]]), "Tables not found"),
    ]
    for payload, message in cases:
        response = client.post("/api/v1/pipelines", json=payload, headers=auth["operator"])
        assert response.status_code == 422, response.text
        assert message in response.json()["error"]["message"]
    assert count_pipelines(stack_env) == before


def test_connection_in_use_cannot_be_deleted(client, auth, setup):
    p = client.post("/api/v1/pipelines", json=body(setup), headers=auth["operator"]).json()
    response = client.delete(f"/api/v1/connections/{setup['source']}", headers=auth["operator"])
    assert response.status_code == 409 and p["name"] in response.json()["error"]["details"]["pipelines"]


def test_wal_thresholds_are_validated_and_editable_while_running(client, auth, setup, stack_env):
    p = client.post("/api/v1/pipelines", json=body(setup), headers=auth["operator"]).json()
    assert (p["wal_warning_bytes"], p["wal_critical_bytes"]) == (1024 ** 3, 10 * 1024 ** 3)
    url = f"/api/v1/pipelines/{p['id']}"
    for bad in ({"wal_warning_bytes": 1000}, {"wal_critical_bytes": -1}, {"wal_warning_bytes": "lots"},
                {"wal_warning_bytes": 8 * MIB, "wal_critical_bytes": 8 * MIB}):
        response = client.put(url, json=bad, headers=auth["operator"])
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error", bad
    # Against the stored other threshold: a warning above the current critical one is refused with the reason.
    above = client.put(url, json={"wal_warning_bytes": 20 * 1024 ** 3}, headers=auth["operator"])
    assert above.status_code == 422 and "greater than wal_warning_bytes" in above.json()["error"]["message"]
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("UPDATE pipelines SET status = 'RUNNING' WHERE id = %s", (p["id"],))
    changed = client.put(url, json={"wal_warning_bytes": 64 * MIB, "wal_critical_bytes": 512 * MIB},
                         headers=auth["operator"])
    assert changed.status_code == 200, changed.text
    assert (changed.json()["wal_warning_bytes"], changed.json()["wal_critical_bytes"]) == (64 * MIB, 512 * MIB)
    # Anything else still waits for a stop; viewers change nothing.
    assert client.put(url, json={"wal_warning_bytes": 65 * MIB, "name": "x" + p["name"]},
                      headers=auth["operator"]).status_code == 409
    assert client.put(url, json={"wal_warning_bytes": 65 * MIB}, headers=auth["viewer"]).status_code == 403
