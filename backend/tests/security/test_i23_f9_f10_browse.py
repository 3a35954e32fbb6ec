"""Issue 23, findings 9 and 10: browsing a connection (its tables, a table's columns) needs operate on it, as the
README says and as building a pipeline on it does; and a failure to connect takes the full timeout, as Test does,
so browsing cannot tell a closed port (refused at once) from a silent one."""

import socket
import time
import uuid
from contextlib import closing

import pytest

from tests.access_support import make_user, set_grant
from tests.security.support import FakeServer
from tests.support import connect
from tests.test_connections import connection_body

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def source(client, auth, stack_env):
    created = client.post("/api/v1/connections", json=connection_body(stack_env), headers=auth["admin"])
    assert created.status_code == 201, created.text
    yield created.json()["id"]
    client.delete(f"/api/v1/connections/{created.json()['id']}", headers=auth["admin"])


def browse(client, headers, cid: str) -> list:
    return [client.get(f"/api/v1/connections/{cid}/tables", headers=headers),
            client.get(f"/api/v1/connections/{cid}/tables/shop/customers/columns", headers=headers)]


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_view_access_cannot_browse_a_connection(client, auth, source, role):
    user = make_user(client, auth["admin"], role, f"i23-browse-{role}")
    set_grant(client, auth["admin"], "connections", source, user.id, "view")
    assert client.get(f"/api/v1/connections/{source}", headers=user.headers).status_code == 200
    for response in browse(client, user.headers, source):
        assert response.status_code == 403, response.text
        assert response.json()["error"] == {"code": "forbidden", "details": {"needed": "operate", "have": "view"},
                                            "message": response.json()["error"]["message"]}


def test_operate_access_browses(client, auth, source):
    user = make_user(client, auth["admin"], "operator", "i23-browse-operate")
    set_grant(client, auth["admin"], "connections", source, user.id, "operate")
    tables, columns = browse(client, user.headers, source)
    assert tables.status_code == 200, tables.text
    assert any(t["table"] == "customers" and t["schema"] == "shop" for t in tables.json())
    assert columns.status_code == 200 and columns.json()


def closed_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_browse_takes_the_full_timeout_whatever_listens(client, app, auth, stack_env, source):
    timeout = app.state.settings.connection_test_timeout_seconds
    banner = FakeServer("banner")
    try:
        for port in (closed_port(), banner.port):
            with connect(stack_env["DATABASE_URL"]) as meta:
                meta.execute("UPDATE connections SET port = %s WHERE id = %s", (port, source))
            started = time.monotonic()
            response = client.get(f"/api/v1/connections/{source}/tables", headers=auth["admin"])
            elapsed = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert str(port) not in response.text
            assert elapsed >= timeout - 0.2, f"port {port}: answered in {elapsed:.2f} s, before the {timeout} s timeout"
    finally:
        banner.close()
        with connect(stack_env["DATABASE_URL"]) as meta:
            meta.execute("UPDATE connections SET port = %s WHERE id = %s", (int(stack_env["PG_PORT"]), source))
