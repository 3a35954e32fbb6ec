"""Role x resource matrix: every route on one pipeline or connection (a path id, or a pipeline_id filter), called by
its owner, by operators granted view / operate / manage, by an operator and a viewer with no grant, by a viewer
granted view, and by an admin; plus Socket.IO subscriptions for the same callers.

The routes come from the app, so a new route without a row in LEVELS fails here. Expected:
- the caller cannot see the resource (no ownership, no grant, not admin): 404 with the same message as a missing
  resource (its role allows the route) or 403 (its role does not);
- sees it with too low a level: 403;
- may: anything but 401/403 and the "not found" of the resource itself. The pipeline sits in STOPPING, so every
  mutation that passes the access check is then refused by the state machine (409): nothing is started or deleted.
"""

import os
import uuid

import pytest
import socketio

from cdcflow.core.deps import ROLE_PERMISSIONS
from cdcflow.models import Role
from tests.access_support import make_user, set_grant
from tests.support import connect, dsn_for
from tests.test_connections import connection_body
from tests.test_rbac import api_routes, required_permissions

RANK = {"view": 1, "operate": 2, "manage": 3}
ADMIN_ONLY = "admin"
P = "/api/v1/pipelines/{pipeline_id}"
C = "/api/v1/connections/{connection_id}"

# The access each resource route needs. ADMIN_ONLY: the grants API (role check, no resource level).
LEVELS = {
    ("GET", P): "view", ("PUT", P): "manage", ("DELETE", P): "manage",
    ("POST", P + "/start"): "operate", ("POST", P + "/stop"): "operate", ("POST", P + "/pause"): "operate",
    ("POST", P + "/resume"): "operate", ("POST", P + "/sync-stats"): "operate",
    ("GET", P + "/status"): "view", ("GET", P + "/progress"): "view",
    ("POST", P + "/restart"): "operate", ("POST", P + "/tables/{table}/resync"): "operate",
    ("POST", P + "/tables"): "operate", ("DELETE", P + "/tables/{table}"): "operate",
    ("POST", P + "/reset"): "operate", ("PUT", P + "/schema-policy"): "manage", ("GET", P + "/schema-changes"): "view",
    ("GET", P + "/row-history"): "view", ("POST", P + "/row-history/replay"): "operate",
    ("POST", P + "/row-history/replay/preview"): "operate",
    ("GET", "/api/v1/monitoring/pipelines/{pipeline_id}/lsn-latency"): "view",
    ("GET", "/api/v1/monitoring/pipelines/{pipeline_id}/latency"): "view",
    ("GET", "/api/v1/monitoring/dashboard"): "view", ("GET", "/api/v1/monitoring/metrics"): "view",
    ("GET", "/api/v1/monitoring/events"): "view", ("GET", "/api/v1/monitoring/timeseries"): "view",
    ("GET", "/api/v1/alerts/history"): "view",
    ("GET", P + "/grants"): ADMIN_ONLY, ("PUT", P + "/grants/{user_id}"): ADMIN_ONLY,
    ("DELETE", P + "/grants/{user_id}"): ADMIN_ONLY, ("PUT", P + "/owner"): ADMIN_ONLY,
    ("GET", C): "view", ("PUT", C): "manage", ("DELETE", C): "manage", ("POST", C + "/test"): "operate",
    # Browsing a connection reads its database: operate, as building a pipeline on it (issue 23, finding 9).
    ("GET", C + "/tables"): "operate", ("GET", C + "/tables/{schema}/{table}/columns"): "operate",
    ("GET", C + "/grants"): ADMIN_ONLY, ("PUT", C + "/grants/{user_id}"): ADMIN_ONLY,
    ("DELETE", C + "/grants/{user_id}"): ADMIN_ONLY, ("PUT", C + "/owner"): ADMIN_ONLY,
}

# (name, role, grant level or None, owner?)
CALLERS = [("owner", "operator", None, True), ("op-view", "operator", "view", False),
           ("op-operate", "operator", "operate", False), ("op-manage", "operator", "manage", False),
           ("op-none", "operator", None, False), ("viewer-view", "viewer", "view", False),
           ("viewer-none", "viewer", None, False), ("admin", "admin", None, False)]


def resource_routes(app):
    """(method, path, route, kind) of every route acting on one pipeline or connection."""
    found = []
    for method, path, route in api_routes(app):
        names = {p.name for p in route.dependant.path_params}
        if "pipeline_id" in names or "connection_id" in names:
            found.append((method, path, route, "pipelines" if "pipeline_id" in names else "connections"))
        elif any(q.name == "pipeline_id" for q in route.dependant.query_params):
            found.append((method, path, route, "pipelines"))
    return found


@pytest.fixture(scope="module")
def world(client, auth, stack_env):
    """An operator's source, target and pipeline (held in STOPPING), and one caller per row of CALLERS."""
    admin = auth["admin"]
    table = f"rbac_{uuid.uuid4().hex[:8]}"
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"CREATE TABLE public.{table} (id int PRIMARY KEY, v text)")
    callers = {name: make_user(client, admin, role, name) for name, role, _, _ in CALLERS if role != "admin"}
    owner = callers["owner"]
    source = client.post("/api/v1/connections", json=connection_body(stack_env), headers=owner.headers).json()
    target = client.post("/api/v1/connections", json=connection_body(stack_env, "target", "demo_target"),
                         headers=owner.headers).json()
    pipeline = client.post("/api/v1/pipelines", headers=owner.headers, json={
        "name": f"rbac-{uuid.uuid4().hex[:8]}", "source_connection_id": source["id"], "mode": "full_load_only",
        "target_connection_id": target["id"], "tables": [f"public.{table}"]})
    assert pipeline.status_code == 201, pipeline.text
    pipeline = pipeline.json()
    for name, _, level, _ in CALLERS:
        if level is not None:
            for kind, rid in (("pipelines", pipeline["id"]), ("connections", source["id"]),
                              ("connections", target["id"])):
                set_grant(client, admin, kind, rid, callers[name].id, level)
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("UPDATE pipelines SET status = 'STOPPING' WHERE id = %s", (pipeline["id"],))
        # A live-looking job lease, so no API process's watchdog takes the held STOPPING over and moves it on.
        meta.execute("INSERT INTO pipeline_jobs (pipeline_id, kind, owner, heartbeat_at) "
                     "VALUES (%s, 'stop', 'rbac-test:held', now() + interval '1 day')", (pipeline["id"],))
    headers = {name: u.headers for name, u in callers.items()} | {"admin": admin}
    yield {"pipeline": pipeline["id"], "name": pipeline["name"], "source": source["id"], "target": target["id"], "table": table,
           "headers": headers, "callers": callers, "port": int(stack_env["PG_PORT"])}
    with connect(stack_env["DATABASE_URL"]) as meta:
        meta.execute("DELETE FROM pipeline_jobs WHERE pipeline_id = %s", (pipeline["id"],))
        meta.execute("UPDATE pipelines SET status = 'NOT_STARTED' WHERE id = %s", (pipeline["id"],))
    assert client.delete(f"/api/v1/pipelines/{pipeline['id']}", params={"force": "true"},
                         headers=admin).status_code == 204
    with connect(dsn_for(stack_env["PG_SUPERUSER_DSN"], "demo_source")) as db:
        db.execute(f"DROP TABLE IF EXISTS public.{table}")


def request_for(world, method: str, path: str, kind: str) -> tuple[str, dict, dict | None]:
    """The concrete URL, query and a valid body: the call must reach the access check, not stop at validation."""
    rid = world["pipeline"] if kind == "pipelines" else world["source"]
    table = f"public.{world['table']}" if kind == "pipelines" else world["table"]  # pipelines name schema.table
    url = (path.replace("{pipeline_id}", rid).replace("{connection_id}", rid).replace("{schema}", "public")
           .replace("{table}", table))
    # PUT grant: re-grant what viewer-view already has (no change); DELETE grant: a user that does not exist.
    url = url.replace("{user_id}", world["callers"]["viewer-view"].id if method == "PUT" else str(uuid.uuid4()))
    params = {"pipeline_id": rid} if "{pipeline_id}" not in path and kind == "pipelines" else {}
    if path.endswith("/row-history"):
        params = {"table": f"public.{world['table']}", "key": '{"id": 1}'}
    body = None
    if method == "PUT" and path.endswith("/grants/{user_id}"):
        body = {"level": "view"}
    elif method == "PUT" and path.endswith("/owner"):
        body = {"user_id": world["callers"]["owner"].id}
    elif method == "PUT" and path == P:
        body = {"name": f"renamed-{uuid.uuid4().hex[:6]}"}
    elif method == "PUT" and path == C:
        body = {"port": world["port"]}
    elif method == "POST" and path == P + "/tables":
        body = {"table": f"public.{world['table']}"}
    elif method == "POST" and path in (P + "/row-history/replay", P + "/row-history/replay/preview"):
        body = {"table": f"public.{world['table']}", "key": {"id": 1}}
    elif method == "POST" and path == P + "/reset":
        body = {"confirm": world["name"]}
    elif method == "PUT" and path == P + "/schema-policy":
        body = {"schema_change_policy": "propagate"}
    return url, params, body


def expectation(name: str, role: str, level: str | None, owner: bool, needed: str, allowed_by_role: bool) -> str:
    if not allowed_by_role:
        return "forbidden"
    if role == "admin":
        return "allowed"
    have = "manage" if owner else level
    if have is None:
        return "hidden"
    if role == "viewer":
        have = "view"
    return "allowed" if RANK[have] >= RANK[needed] else "forbidden"


def test_every_resource_route_has_a_row(app):
    routes = {(m, p) for m, p, _, _ in resource_routes(app)}
    assert routes == set(LEVELS), f"add to LEVELS: {routes - set(LEVELS)}; stale: {set(LEVELS) - routes}"


@pytest.mark.parametrize("caller", [c[0] for c in CALLERS])
def test_each_caller_gets_exactly_its_access(client, app, world, caller):
    name, role, level, owner = next(c for c in CALLERS if c[0] == caller)
    for method, path, route, kind in resource_routes(app):
        needed = LEVELS[(method, path)]
        (permission,) = required_permissions(route)
        allowed_by_role = permission in ROLE_PERMISSIONS[Role(role)]
        expected = expectation(name, role, level, owner, needed, allowed_by_role) if needed != ADMIN_ONLY else (
            "allowed" if role == "admin" else "forbidden")
        url, params, body = request_for(world, method, path, kind)
        response = client.request(method, url, params=params, json=body, headers=world["headers"][name])
        label = f"{caller} {method} {path}: {response.status_code} {response.text[:200]}"
        payload = response.json() if response.content else None
        error = payload.get("error") if isinstance(payload, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        resource_missing = response.status_code == 404 and message in ("Pipeline not found", "Connection not found")
        if expected == "allowed":
            assert response.status_code not in (401, 403) and not resource_missing, label
        elif expected == "forbidden":
            assert response.status_code == 403 and payload["error"]["code"] == "forbidden", label
        else:
            assert resource_missing, label


def test_socket_subscriptions_follow_the_same_access(world):
    """subscribe_pipeline: granted or owner or admin -> joined; anyone else -> the answer for a missing pipeline."""
    api = os.environ["CDCFLOW_API_URL"]
    for name, _, level, owner in CALLERS:
        client = socketio.Client(reconnection=False)
        client.connect(api, auth={"token": world["headers"][name]["Authorization"].split(" ", 1)[1]},
                       transports=["websocket"], wait_timeout=10)
        try:
            ack = client.call("subscribe_pipeline", {"pipeline_id": world["pipeline"]}, timeout=10)
            missing = client.call("subscribe_pipeline", {"pipeline_id": str(uuid.uuid4())}, timeout=10)
        finally:
            client.disconnect()
        assert missing == {"ok": False, "error": "pipeline not found"}
        if owner or level is not None or name == "admin":
            assert ack["ok"] is True, f"{name}: {ack}"
        else:
            assert ack == missing, f"{name}: {ack}"
