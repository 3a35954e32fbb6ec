"""Finding 10 (issue 11): resource-level permissions. Operators act only on what they own or were granted, viewers
see only granted pipelines (lists, counts, dashboards, events, Socket.IO), admins see everything and manage grants;
what a caller may not see answers exactly like what does not exist."""

import json
import os
import uuid

import httpx
import psycopg
import pytest
import socketio
from alembic import command

from cdcflow.cli import _alembic_config
from tests.access_support import make_user, revoke, set_grant
from tests.kafka_support import change_event, key, produce
from tests.support import connect, dsn_for, wait_until
from tests.test_connections import connection_body

pytestmark = pytest.mark.timeout(600)
MISSING_PIPELINE = {"error": {"code": "not_found", "message": "Pipeline not found", "details": {}}}
MISSING_CONNECTION = {"error": {"code": "not_found", "message": "Connection not found", "details": {}}}


@pytest.fixture(scope="module")
def admin(auth):
    return auth["admin"]


@pytest.fixture(scope="module")
def table(stack_env):
    """A small source table (3 rows) every pipeline here reads."""
    name = f"f10_{uuid.uuid4().hex[:8]}"
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"CREATE TABLE public.{name} (id int PRIMARY KEY, v text)")
        db.execute(f"INSERT INTO public.{name} SELECT g, 'v' || g FROM generate_series(1, 3) g")
    yield f"public.{name}"
    for database in ("demo_source", "demo_target"):
        with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], database)) as db:
            db.execute(f"DROP TABLE IF EXISTS public.{name}")


class Operator:
    """An operator with their own source and target connections."""

    def __init__(self, client, admin, stack_env, label: str) -> None:
        self.client, self.user = client, make_user(client, admin, "operator", label)
        self.headers, self.id = self.user.headers, self.user.id
        self.source = self._connection(connection_body(stack_env))
        self.target = self._connection(connection_body(stack_env, "target", "demo_target"))

    def _connection(self, body: dict) -> str:
        created = self.client.post("/api/v1/connections", json=body, headers=self.headers)
        assert created.status_code == 201, created.text
        assert created.json()["owner_id"] == self.id and created.json()["access"] == "manage"
        return created.json()["id"]

    def pipeline(self, table: str, source: str | None = None, target: str | None = None, expect: int = 201):
        response = self.client.post("/api/v1/pipelines", headers=self.headers, json={
            "name": f"f10-{uuid.uuid4().hex[:8]}", "mode": "full_load_only", "tables": [table],
            "source_connection_id": source or self.source, "target_connection_id": target or self.target})
        assert response.status_code == expect, response.text
        return response.json() if expect == 201 else response


def pipeline_calls(pid: str) -> list[tuple[str, str, dict | None, dict | None]]:
    """Every route on one pipeline, as (method, url, query, body)."""
    base = f"/api/v1/pipelines/{pid}"
    return [("GET", base, None, None), ("PUT", base, None, {"name": f"x-{uuid.uuid4().hex[:6]}"}),
            ("DELETE", base, None, None), ("POST", base + "/start", None, None), ("POST", base + "/stop", None, None),
            ("POST", base + "/pause", None, None), ("POST", base + "/resume", None, None),
            ("GET", base + "/status", None, None), ("GET", base + "/progress", None, None),
            ("POST", base + "/sync-stats", None, None),
            ("GET", f"/api/v1/monitoring/pipelines/{pid}/lsn-latency", None, None),
            ("GET", "/api/v1/monitoring/dashboard", {"pipeline_id": pid}, None),
            ("GET", "/api/v1/monitoring/metrics", {"pipeline_id": pid}, None),
            ("GET", "/api/v1/monitoring/events", {"pipeline_id": pid}, None),
            ("GET", "/api/v1/monitoring/timeseries", {"pipeline_id": pid}, None)]


def status_of(client, headers, pid: str) -> dict:
    return client.get(f"/api/v1/pipelines/{pid}", headers=headers).json()


def test_an_operator_cannot_see_or_touch_another_operators_pipeline_until_granted(client, admin, stack_env, table):
    a, b = Operator(client, admin, stack_env, "op-a"), Operator(client, admin, stack_env, "op-b")
    pipeline = b.pipeline(table)
    pid = pipeline["id"]
    try:
        # Not granted: every route answers like a pipeline that does not exist, the list and its count skip it.
        for method, url, query, body in pipeline_calls(pid):
            response = client.request(method, url, params=query, json=body, headers=a.headers)
            assert (response.status_code, response.json()) == (404, MISSING_PIPELINE), f"{method} {url}"
        listed = client.get("/api/v1/pipelines", params={"q": pipeline["name"]}, headers=a.headers).json()
        assert listed["total"] == 0 and listed["items"] == []

        set_grant(client, admin, "pipelines", pid, a.id, "view")
        assert status_of(client, a.headers, pid)["access"] == "view"
        assert client.get("/api/v1/pipelines", params={"q": pipeline["name"]}, headers=a.headers).json()["total"] == 1
        for method, url in (("POST", f"/api/v1/pipelines/{pid}/start"), ("PUT", f"/api/v1/pipelines/{pid}"),
                            ("DELETE", f"/api/v1/pipelines/{pid}")):
            refused = client.request(method, url, json={"name": "nope"} if method == "PUT" else None,
                                     headers=a.headers)
            assert refused.status_code == 403 and refused.json()["error"]["details"] == {
                "needed": "operate" if method == "POST" else "manage", "have": "view"}, f"{method} {url}"

        # operate: a real start (full load of 3 rows), but still no edit or delete.
        set_grant(client, admin, "pipelines", pid, a.id, "operate")
        assert client.post(f"/api/v1/pipelines/{pid}/start", headers=a.headers).status_code == 202
        done = wait_until(lambda: (s := status_of(client, a.headers, pid))["status"] in ("STOPPED", "ERROR") and s,
                          120, what="the full load to finish")
        assert done["status"] == "STOPPED" and done["full_load_status"] == "COMPLETED", done
        with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_target")) as target:
            assert target.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 3
        assert client.put(f"/api/v1/pipelines/{pid}", json={"name": "nope"}, headers=a.headers).status_code == 403

        set_grant(client, admin, "pipelines", pid, a.id, "manage")
        renamed = client.put(f"/api/v1/pipelines/{pid}", json={"name": pipeline["name"] + "-a"}, headers=a.headers)
        assert renamed.status_code == 200 and renamed.json()["access"] == "manage"
        # Managing a pipeline is not managing who else may: the grants API stays admin-only.
        assert client.get(f"/api/v1/pipelines/{pid}/grants", headers=a.headers).status_code == 403

        revoke(client, admin, "pipelines", pid, a.id)
        for method, url, query, body in pipeline_calls(pid):
            response = client.request(method, url, params=query, json=body, headers=a.headers)
            assert (response.status_code, response.json()) == (404, MISSING_PIPELINE), f"{method} {url}"
    finally:
        assert client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=b.headers).status_code \
            == 204


def test_connections_follow_the_same_rules_and_building_on_one_needs_operate(client, admin, stack_env, table):
    a, b = Operator(client, admin, stack_env, "op-a"), Operator(client, admin, stack_env, "op-b")
    src = f"/api/v1/connections/{b.source}"
    calls = [("GET", src, None), ("PUT", src, {"port": int(stack_env["PG_PORT"])}), ("DELETE", src, None),
             ("POST", src + "/test", None), ("GET", src + "/tables", None),
             ("GET", f"{src}/tables/public/{table.split('.')[1]}/columns", None)]
    for method, url, body in calls:
        response = client.request(method, url, json=body, headers=a.headers)
        assert (response.status_code, response.json()) == (404, MISSING_CONNECTION), f"{method} {url}"
    assert b.source not in {c["id"] for c in client.get("/api/v1/connections", headers=a.headers).json()["items"]}
    # A connection one cannot see is as good as missing when building a pipeline on it.
    hidden = a.pipeline(table, source=b.source, expect=422)
    assert hidden.json()["error"]["message"] == "source connection not found"

    for kind_id in (b.source, b.target):
        set_grant(client, admin, "connections", kind_id, a.id, "view")
    assert client.get(src, headers=a.headers).json()["access"] == "view"
    for method, url, body in calls[1:]:  # browsing needs operate too (issue 23, finding 9)
        assert client.request(method, url, json=body, headers=a.headers).status_code == 403, f"{method} {url}"
    assert a.pipeline(table, source=b.source, target=b.target, expect=403).json()["error"]["details"] == {
        "needed": "operate", "have": "view"}

    for kind_id in (b.source, b.target):
        set_grant(client, admin, "connections", kind_id, a.id, "operate")
    assert client.post(src + "/test", headers=a.headers).json()["ok"] is True
    assert client.get(src + "/tables", headers=a.headers).status_code == 200
    built = a.pipeline(table, source=b.source, target=b.target)
    assert built["owner_id"] == a.id and built["access"] == "manage"
    try:
        # B owns the connection but cannot see A's pipeline on it: the conflict counts it without naming it.
        conflict = client.delete(src, headers=b.headers)
        assert conflict.status_code == 409
        assert conflict.json()["error"]["details"] == {"pipelines": [], "other_pipelines": 1}
        assert client.delete(src, headers=admin).json()["error"]["details"]["pipelines"] == [built["name"]]

        # Without the source any more, A still runs its pipeline but cannot change what it reads from it.
        revoke(client, admin, "connections", b.source, a.id)
        assert client.get(f"/api/v1/pipelines/{built['id']}", headers=a.headers).status_code == 200
        reads = client.put(f"/api/v1/pipelines/{built['id']}", json={"tables": [table, table + "_x"]},
                           headers=a.headers)
        assert reads.status_code == 422 and reads.json()["error"]["message"] == "source connection not found"
        assert client.put(f"/api/v1/pipelines/{built['id']}", json={"name": built["name"] + "-r"},
                          headers=a.headers).status_code == 200
    finally:
        client.delete(f"/api/v1/pipelines/{built['id']}", params={"force": "true"}, headers=a.headers)
    assert client.delete(src, headers=b.headers).status_code == 204


def insert_events(stack_env, pipeline_id: str, n: int) -> None:
    kinds = ("insert", "update", "delete")
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO pipeline_runs (pipeline_id, run_type, status, event_type, table_name, latency_ms, "
            "kafka_topic, kafka_partition, kafka_offset, run_metadata) VALUES "
            "(%s, 'CDC', 'captured', %s, 'public.t', 5, %s, 0, %s, %s)",
            [(pipeline_id, kinds[i % 3], f"synthetic.f10.{pipeline_id}", i,
              json.dumps({"op": "c", "event_type": kinds[i % 3]})) for i in range(n)])


def event_ids(stack_env, pipeline_ids: list[str]) -> list[int]:
    with psycopg.connect(stack_env["DATABASE_URL"]) as conn:
        return [r[0] for r in conn.execute(
            "SELECT id FROM pipeline_runs WHERE pipeline_id = ANY(%s::uuid[]) AND run_type = 'CDC' "
            "AND deleted_at IS NULL ORDER BY id DESC", (pipeline_ids,)).fetchall()]


def test_a_viewer_sees_only_granted_pipelines_in_lists_counts_dashboards_and_events(client, admin, stack_env, table):
    owner = Operator(client, admin, stack_env, "op-owner")
    viewer = make_user(client, admin, "viewer", "viewer")
    pipelines = [owner.pipeline(table)["id"] for _ in range(3)]
    counts = dict(zip(pipelines, (11, 23, 37)))
    for pid, n in counts.items():
        insert_events(stack_env, pid, n)
    seen = [pipelines[0], pipelines[2]]
    hidden = pipelines[1]
    for pid in seen:
        set_grant(client, admin, "pipelines", pid, viewer.id, "view")
    v = viewer.headers
    try:
        listed = client.get("/api/v1/pipelines", params={"limit": 200}, headers=v).json()
        assert listed["total"] == 2 and {p["id"] for p in listed["items"]} == set(seen)
        assert all(p["access"] == "view" for p in listed["items"])
        # Seeing a pipeline is not seeing its connections.
        assert client.get("/api/v1/connections", headers=v).json()["total"] == 0
        assert client.get(f"/api/v1/connections/{owner.source}", headers=v).json() == MISSING_CONNECTION

        dashboard = client.get("/api/v1/monitoring/dashboard", headers=v).json()
        assert dashboard["total_events"] == 11 + 37 and dashboard["pipelines"] == 2
        assert dashboard["insert_count"] + dashboard["update_count"] + dashboard["delete_count"] == 48
        everything = client.get("/api/v1/monitoring/dashboard", headers=admin).json()
        assert everything["total_events"] >= 11 + 23 + 37 and everything["pipelines"] >= 3
        assert client.get("/api/v1/monitoring/dashboard", params={"pipeline_id": hidden}, headers=v).json() \
            == MISSING_PIPELINE

        # Events of both visible pipelines, merged newest first, paged by keyset: exactly what SQL says.
        expected = event_ids(stack_env, seen)
        paged, before = [], None
        while True:
            page = client.get("/api/v1/monitoring/events", headers=v,
                              params={"limit": 10, **({"before_id": before} if before else {})}).json()
            paged += [e["id"] for e in page["items"]]
            if not (before := page["next_before_id"]):
                break
        assert paged == expected and len(paged) == 48
        deletes = client.get("/api/v1/monitoring/events", params={"event_type": "delete", "limit": 1000},
                             headers=v).json()["items"]
        assert {e["pipeline_id"] for e in deletes} <= set(seen) and len(deletes) == 3 + 12
        assert client.get("/api/v1/monitoring/events", params={"pipeline_id": hidden}, headers=v).json() \
            == MISSING_PIPELINE

        series = client.get("/api/v1/monitoring/timeseries", headers=v).json()["points"]
        assert sum(p["insert"] + p["update"] + p["delete"] for p in series) == 48
        metrics = client.get("/api/v1/monitoring/metrics", headers=v).json()
        assert {t["pipeline_id"] for t in metrics["tables"]} == set(seen)
        logger = client.get("/api/v1/monitoring/event-logger-status", headers=v).json()
        assert logger["stored_total"] is None and logger["events_per_second_1m"] is None
        assert all(p["topic"].split(".")[1] in seen for p in logger["assigned_partitions"])
        assert isinstance(client.get("/api/v1/monitoring/event-logger-status", headers=admin).json()["stored_total"],
                          int)

        revoke(client, admin, "pipelines", pipelines[2], viewer.id)
        assert client.get("/api/v1/monitoring/dashboard", headers=v).json()["total_events"] == 11
        assert client.get("/api/v1/pipelines", headers=v).json()["total"] == 1
    finally:
        for pid in pipelines:
            client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=owner.headers)


def test_the_grants_api_validates_what_it_is_given_and_is_audited(client, admin, stack_env, table, users):
    b = Operator(client, admin, stack_env, "op-b")
    a = make_user(client, admin, "operator", "op-a")
    viewer = make_user(client, admin, "viewer", "viewer")
    pid = b.pipeline(table)["id"]
    admin_id = client.get("/api/v1/auth/me", headers=admin).json()["id"]
    url = f"/api/v1/pipelines/{pid}/grants"
    try:
        cases = [(admin_id, "view", 422, "admin"), (viewer.id, "operate", 422, "only view"),
                 (b.id, "view", 422, "owns"), (str(uuid.uuid4()), "view", 404, "User not found")]
        for user_id, level, status, text in cases:
            response = client.put(f"{url}/{user_id}", json={"level": level}, headers=admin)
            assert response.status_code == status and text in response.json()["error"]["message"], response.text
        assert client.put(f"{url}/{a.id}", json={"level": "root"}, headers=admin).status_code == 422
        assert client.put(f"/api/v1/pipelines/{uuid.uuid4()}/grants/{a.id}", json={"level": "view"},
                          headers=admin).json() == MISSING_PIPELINE
        assert client.delete(f"{url}/{a.id}", headers=admin).status_code == 404
        assert client.get(url, headers=b.headers).status_code == 403  # owners do not hand out access

        set_grant(client, admin, "pipelines", pid, a.id, "view")
        set_grant(client, admin, "pipelines", pid, a.id, "operate")
        set_grant(client, admin, "pipelines", pid, viewer.id, "view")
        access = client.get(url, headers=admin).json()
        assert access["owner"]["id"] == b.id and access["owner"]["username"] == b.user.username
        assert [(g["user"]["username"], g["level"]) for g in access["grants"]] == sorted(
            [(a.username, "operate"), (viewer.username, "view")])
        revoke(client, admin, "pipelines", pid, viewer.id)
        with connect(stack_env["DATABASE_URL"]) as meta:
            audit = meta.execute("SELECT action, details->>'user', details->>'level' FROM audit_log "
                                 "WHERE target = %s AND action LIKE 'access.%%' ORDER BY id", (f"pipeline:{pid}",))
            assert audit.fetchall() == [("access.grant", a.username, "view"), ("access.grant", a.username, "operate"),
                                        ("access.grant", viewer.username, "view"),
                                        ("access.revoke", viewer.username, "view")]
    finally:
        client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=admin)


def test_ownership_moves_and_a_deleted_owner_leaves_it_to_admins(client, admin, stack_env, table):
    a, b = Operator(client, admin, stack_env, "op-a"), Operator(client, admin, stack_env, "op-b")
    viewer = make_user(client, admin, "viewer", "viewer")
    pid = b.pipeline(table)["id"]
    owner_url = f"/api/v1/pipelines/{pid}/owner"
    try:
        set_grant(client, admin, "pipelines", pid, a.id, "view")
        moved = client.put(owner_url, json={"user_id": a.id}, headers=admin)
        assert moved.status_code == 200 and moved.json()["owner"]["id"] == a.id
        assert moved.json()["grants"] == []  # the new owner's grant went: ownership covers it
        assert status_of(client, a.headers, pid)["access"] == "manage"
        assert client.get(f"/api/v1/pipelines/{pid}", headers=b.headers).json() == MISSING_PIPELINE
        refused = client.put(owner_url, json={"user_id": viewer.id}, headers=admin)
        assert refused.status_code == 422 and "viewer" in refused.json()["error"]["message"]
        assert client.put(owner_url, json={"user_id": None}, headers=admin).json()["owner"] is None
        assert client.get(f"/api/v1/pipelines/{pid}", headers=a.headers).json() == MISSING_PIPELINE
        assert status_of(client, admin, pid)["owner_id"] is None

        # A deleted user's resources fall back to admins only.
        leaving = Operator(client, admin, stack_env, "op-leaving")
        assert client.delete(f"/api/v1/users/{leaving.id}", headers=admin).status_code == 204
        orphan = client.get(f"/api/v1/connections/{leaving.source}", headers=admin).json()
        assert orphan["owner_id"] is None
        for c in (leaving.source, leaving.target):
            assert client.delete(f"/api/v1/connections/{c}", headers=admin).status_code == 204
    finally:
        client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=admin)


def test_the_migration_gives_existing_rows_to_their_creator_or_to_admins(stack_env):
    """On a scratch database: rows from before 0006 are owned by the user who created them, when that user still
    exists and is not a later account that reused the name; anything else is admins only."""
    name = f"cdcflow_mig_{uuid.uuid4().hex[:8]}"
    superuser = stack_env["PG_SUPERUSER_DSN"]
    with connect(dsn_for(superuser, "postgres")) as db:
        db.execute(f"CREATE DATABASE {name}")
    try:
        dsn = dsn_for(superuser, name)
        config = _alembic_config()
        config.set_main_option("sqlalchemy.url", dsn.replace("postgresql://", "postgresql+psycopg://", 1)
                               .replace("%", "%%"))
        command.upgrade(config, "0004")
        with connect(dsn) as db:
            db.execute("""
                INSERT INTO users (id, username, password_hash, role, created_at) VALUES
                  ('00000000-0000-0000-0000-00000000000a', 'alice', 'x', 'operator', now() - interval '2 days'),
                  ('00000000-0000-0000-0000-00000000000b', 'bob', 'x', 'operator', now());
                INSERT INTO connections (id, name, connection_type, database_type, host, port, database, username,
                                         password_encrypted, created_at) VALUES
                  ('00000000-0000-0000-0000-0000000000c1', 'by alice', 'source', 'postgresql', 'h', 5432, 'd', 'u',
                   'v1:x', now() - interval '1 day'),
                  ('00000000-0000-0000-0000-0000000000c2', 'by seed', 'target', 'postgresql', 'h', 5432, 'd', 'u',
                   'v1:x', now() - interval '1 day');
                INSERT INTO audit_log (actor, action, target) VALUES
                  ('alice', 'connection.create', 'connection:00000000-0000-0000-0000-0000000000c1'),
                  ('demo-seed', 'connection.create', 'connection:00000000-0000-0000-0000-0000000000c2');
                INSERT INTO pipelines (id, name, source_connection_id, target_connection_id, mode, created_by,
                                       created_at) VALUES
                  ('00000000-0000-0000-0000-0000000000e1', 'p alice', '00000000-0000-0000-0000-0000000000c1',
                   '00000000-0000-0000-0000-0000000000c2', 'cdc_only', 'alice', now() - interval '1 day'),
                  ('00000000-0000-0000-0000-0000000000e2', 'p old bob', '00000000-0000-0000-0000-0000000000c1',
                   '00000000-0000-0000-0000-0000000000c2', 'cdc_only', 'bob', now() - interval '1 day'),
                  ('00000000-0000-0000-0000-0000000000e3', 'p gone', '00000000-0000-0000-0000-0000000000c1',
                   '00000000-0000-0000-0000-0000000000c2', 'cdc_only', 'carol', now() - interval '1 day');""")
        command.upgrade(config, "head")
        with connect(dsn) as db:
            owners = dict(db.execute("SELECT name, owner_id::text FROM pipelines UNION ALL "
                                     "SELECT name, owner_id::text FROM connections").fetchall())
            assert db.execute("SELECT count(*) FROM resource_grants").fetchone()[0] == 0
        alice = "00000000-0000-0000-0000-00000000000a"
        # bob's account is newer than "p old bob": a reused name, not its creator.
        assert owners == {"p alice": alice, "p old bob": None, "p gone": None, "by alice": alice, "by seed": None}
        command.downgrade(config, "0004")
        with connect(dsn) as db:
            assert db.execute("SELECT count(*) FROM information_schema.columns WHERE column_name = 'owner_id'"
                              ).fetchone()[0] == 0
    finally:
        with connect(dsn_for(superuser, "postgres")) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ------------------------------------------------------------------------- Socket.IO, on the running API server

API = os.environ.get("CDCFLOW_API_URL", "")


class Socket:
    def __init__(self, token: str) -> None:
        self.events: list[dict] = []
        self.revoked: list[dict] = []
        self.client = socketio.Client(reconnection=False)
        # One message per stored batch and room: {"pipeline_id", "events": [...]}.
        self.client.on("replication_events", lambda batch: self.events.extend(batch["events"]))
        self.client.on("subscription_revoked", self.revoked.append)
        self.client.connect(API, auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def subscribe(self, pid: str) -> dict:
        return self.client.call("subscribe_pipeline", {"pipeline_id": pid}, timeout=10)


def test_socket_rooms_need_a_grant_and_a_revocation_empties_them_at_once(client, admin, stack_env, table):
    owner = Operator(client, admin, stack_env, "op-owner")
    viewer = make_user(client, admin, "viewer", "viewer")
    pid = owner.pipeline(table)["id"]
    topic = f"cdcflow.{pid}.public.{table.split('.')[1]}"  # a pipeline topic: the API server's logger stores it
    watcher, admin_socket = Socket(viewer.token), Socket(admin["Authorization"].split(" ", 1)[1])
    try:
        assert watcher.subscribe(pid) == {"ok": False, "error": "pipeline not found"}
        set_grant(client, admin, "pipelines", pid, viewer.id, "view")
        assert watcher.subscribe(pid)["ok"] is True and admin_socket.subscribe(pid)["ok"] is True
        produce(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topic, [(key(1), change_event("c", 1, "public", "t"))])
        wait_until(lambda: len(watcher.events) == 1 and len(admin_socket.events) == 1, 60,
                   what="the first event at both sockets")

        # Through the API server that holds the sockets (the in-process test app has none).
        revoked = httpx.delete(f"{API}/api/v1/pipelines/{pid}/grants/{viewer.id}", headers=admin, timeout=10)
        assert revoked.status_code == 204, revoked.text
        wait_until(lambda: watcher.revoked == [{"pipeline_id": pid}], 10, what="the revocation notice")
        produce(stack_env["KAFKA_BOOTSTRAP_SERVERS"], topic, [(key(2), change_event("c", 2, "public", "t"))])
        wait_until(lambda: len(admin_socket.events) == 2, 60, what="the second event at the admin's socket")
        # Both were emitted by the same batch loop in order; the admin got the second, the viewer did not.
        assert len(watcher.events) == 1
        assert watcher.subscribe(pid) == {"ok": False, "error": "pipeline not found"}
    finally:
        watcher.client.disconnect()
        admin_socket.client.disconnect()
        client.delete(f"/api/v1/pipelines/{pid}", params={"force": "true"}, headers=owner.headers)
