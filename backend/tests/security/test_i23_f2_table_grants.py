"""Issue 23, finding 2: adding or resyncing a table reads source rows the pipeline did not read before, so it needs
operate on the pipeline's source connection too (as building a pipeline does), not only on the pipeline."""

import uuid

import pytest

from tests.access_support import make_user, set_grant
from tests.support import connect, dsn_for
from tests.test_connections import connection_body

NEEDS_SOURCE = {"code": "forbidden",
                "message": "Adding or resyncing a table needs operate access on the pipeline's source connection",
                "details": {"needed": "operate", "on": "source_connection"}}


@pytest.fixture(scope="module")
def held(client, auth, stack_env):
    """An operator's pipeline on their own connections, held in STOPPING (no job, no connector is touched: a call
    that passes every access check is then refused by the state machine with 409), and another source table."""
    admin = auth["admin"]
    owner = make_user(client, admin, "operator", "i23-owner")
    tables = [f"i23f2_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        for name in tables:
            db.execute(f"CREATE TABLE public.{name} (id int PRIMARY KEY, secret text)")
    source = client.post("/api/v1/connections", json=connection_body(stack_env), headers=owner.headers).json()
    target = client.post("/api/v1/connections", json=connection_body(stack_env, "target", "demo_target"),
                         headers=owner.headers).json()
    created = client.post("/api/v1/pipelines", headers=owner.headers, json={
        "name": f"i23f2-{uuid.uuid4().hex[:8]}", "source_connection_id": source["id"], "mode": "full_load_only",
        "target_connection_id": target["id"], "tables": [f"public.{tables[0]}"]})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("UPDATE pipelines SET status = 'STOPPING' WHERE id = %s", (pid,))
        meta.execute("INSERT INTO pipeline_jobs (pipeline_id, kind, owner, heartbeat_at) "
                     "VALUES (%s, 'stop', 'i23-test:held', now() + interval '1 day')", (pid,))
    yield {"pipeline": pid, "source": source["id"], "tables": tables}
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("DELETE FROM pipeline_jobs WHERE pipeline_id = %s", (pid,))
        meta.execute("UPDATE pipelines SET status = 'NOT_STARTED' WHERE id = %s", (pid,))
    assert client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=admin).status_code == 204
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        for name in tables:
            db.execute(f"DROP TABLE IF EXISTS public.{name}")


@pytest.mark.parametrize("source_level", [None, "view"])
def test_operate_on_the_pipeline_alone_cannot_add_or_resync_a_table(client, auth, held, source_level):
    user = make_user(client, auth["admin"], "operator", f"i23-{source_level or 'none'}")
    set_grant(client, auth["admin"], "pipelines", held["pipeline"], user.id, "operate")
    if source_level:
        set_grant(client, auth["admin"], "connections", held["source"], user.id, source_level)
    base = f"/api/v1/pipelines/{held['pipeline']}"
    added = client.post(f"{base}/tables", json={"table": f"public.{held['tables'][1]}"}, headers=user.headers)
    assert (added.status_code, added.json()) == (403, {"error": NEEDS_SOURCE}), added.text
    resynced = client.post(f"{base}/tables/public.{held['tables'][0]}/resync", headers=user.headers)
    assert (resynced.status_code, resynced.json()) == (403, {"error": NEEDS_SOURCE}), resynced.text
    # The pipeline's other operate actions are unchanged: the access check passes, the state machine answers.
    assert client.post(f"{base}/pause", headers=user.headers).status_code == 409


def test_operate_on_the_source_connection_too_passes_the_access_check(client, auth, held):
    user = make_user(client, auth["admin"], "operator", "i23-both")
    set_grant(client, auth["admin"], "pipelines", held["pipeline"], user.id, "operate")
    set_grant(client, auth["admin"], "connections", held["source"], user.id, "operate")
    base = f"/api/v1/pipelines/{held['pipeline']}"
    added = client.post(f"{base}/tables", json={"table": f"public.{held['tables'][1]}"}, headers=user.headers)
    resynced = client.post(f"{base}/tables/public.{held['tables'][0]}/resync", headers=user.headers)
    for response in (added, resynced):  # STOPPING: refused by the lifecycle, not by access
        assert response.status_code == 409 and response.json()["error"]["code"] == "conflict", response.text
