"""Finding 4: inputs that used to end in a 500 (NUL characters, out-of-range integers, a non-UTF-8 request id, a
Socket.IO event without its argument) get a 4xx in the one error shape, or are ignored where that is the answer."""

import os
import re
import uuid

import pytest
import socketio
from fastapi.testclient import TestClient

from cdcflow.core.config import Settings
from cdcflow.main import create_app
from tests.test_bad_input import assert_error_shape

NUL = "\x00"


def assert_nul_refused(response):
    assert_error_shape(response, 422)
    fields = response.json()["error"]["details"]["fields"]
    assert any(f["type"] == "nul_character" for f in fields), fields


@pytest.fixture(scope="module")
def own_client():
    """An app of its own, so the failed logins here do not count against the shared client's address."""
    with TestClient(create_app(Settings(run_background_services=False))) as c:
        yield c


def test_nul_in_login_username_is_a_422(own_client):
    response = own_client.post("/api/v1/auth/login", json={"username": f"adm{NUL}in", "password": "whatever-1"})
    assert_nul_refused(response)


def test_nul_in_query_strings_is_a_422(client, auth):
    assert_nul_refused(client.get("/api/v1/pipelines", params={"q": f"a{NUL}b"}, headers=auth["viewer"]))
    assert_nul_refused(client.get("/api/v1/monitoring/events", params={"table": f"shop.{NUL}"},
                                  headers=auth["viewer"]))
    # Any route, any parameter, even one the route does not know.
    assert_nul_refused(client.get("/api/v1/connections", params={"x": NUL}, headers=auth["viewer"]))
    assert_nul_refused(client.get("/healthz", params={"probe": NUL}))


def test_nul_in_json_bodies_is_a_422_and_nothing_is_stored(client, own_client, auth):
    name = f"nul-{uuid.uuid4().hex[:8]}"
    # A password may hold any character but NUL: bcrypt refuses it, PostgreSQL cannot store it.
    response = client.post("/api/v1/users", json={"username": name, "password": f"long-enough{NUL}", "role": "viewer"},
                           headers=auth["admin"])
    assert_nul_refused(response)
    assert not any(u["username"] == name for u in client.get("/api/v1/users", headers=auth["admin"]).json()["items"])
    nested = client.post("/api/v1/connections/" + str(uuid.uuid4()) + "/test", json={"tables": [f"a{NUL}.b"]},
                         headers=auth["operator"])
    assert_nul_refused(nested)
    # An escaped backslash followed by "u0000" is text, not a NUL: it passes this check (and fails the route's own).
    literal = own_client.post("/api/v1/auth/login", content=b'{"username": "x\\\\u0000", "password": "p"}',
                          headers={"Content-Type": "application/json"})
    assert literal.status_code == 401


def test_integers_beyond_bigint_are_a_422(client, auth):
    for value in ("9223372036854775808", "99999999999999999999999"):
        response = client.get("/api/v1/monitoring/events", params={"before_id": value}, headers=auth["viewer"])
        assert_error_shape(response, 422)
    assert client.get("/api/v1/monitoring/events", params={"before_id": "9223372036854775807"},
                      headers=auth["viewer"]).status_code == 200


@pytest.mark.parametrize("header", [b"\xff\xfe\xfd", b"ok\x80", b"a" * 65, b"has space", b"<script>"])
def test_bad_request_ids_are_ignored_and_replaced(client, header):
    response = client.get("/healthz", headers={"X-Request-ID": header})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])


def test_a_good_request_id_is_kept(client):
    assert client.get("/healthz", headers={"X-Request-ID": "trace-42.a_b:c"}).headers["x-request-id"] == \
        "trace-42.a_b:c"


def test_garbage_at_login_counts_against_the_client():
    settings = Settings(login_max_failures_per_client=3, run_background_services=False)
    with TestClient(create_app(settings), client=("10.4.0.1", 5000)) as limited:
        garbage = [{"json": {"username": f"a{NUL}", "password": "x"}},
                   {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
                   {"json": {"username": "only-a-name"}}]
        for request in garbage:
            assert limited.post("/api/v1/auth/login", **request).status_code == 422
        refused = limited.post("/api/v1/auth/login", json={"username": "anyone", "password": "anything"})
        assert_error_shape(refused, 429)


# ------------------------------------------------------------------------------ Socket.IO (the running API)


@pytest.fixture
def socket_client(users):
    import httpx

    api = os.environ["CDCFLOW_API_URL"]
    token = httpx.post(f"{api}/api/v1/auth/login", json=users["viewer"], timeout=10).json()["access_token"]
    sio = socketio.Client(reconnection=False)
    sio.connect(api, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    yield sio
    sio.disconnect()


@pytest.mark.parametrize("args", [(), (None,), ([1, 2],), ({"pipeline_id": 7},), ({"pipeline_id": "x" * 5000},),
                                  ({"pipeline_id": str(uuid.uuid4())}, "extra")])
@pytest.mark.parametrize("event", ["subscribe_pipeline", "unsubscribe_pipeline"])
def test_socket_events_with_bad_or_missing_data_get_an_error_ack(socket_client, event, args):
    if len(args) > 1:
        ack = socket_client.call(event, args, timeout=10)  # a tuple is sent as several arguments
    elif args:
        ack = socket_client.call(event, args[0], timeout=10)
    else:
        ack = socket_client.call(event, timeout=10)
    assert ack["ok"] is False and ack["error"], ack
    assert socket_client.connected
    # The socket still works afterwards.
    assert socket_client.call("subscribe_pipeline", {"pipeline_id": str(uuid.uuid4())}, timeout=10) == \
        {"ok": False, "error": "pipeline not found"}


def test_socket_handlers_leave_no_traceback_in_the_api_log(socket_client):
    log = os.path.join(os.environ["CDCFLOW_STACK_DIR"], "logs", "api.log")
    before = os.path.getsize(log)
    for _ in range(3):
        socket_client.call("subscribe_pipeline", timeout=10)
        socket_client.call("unsubscribe_pipeline", timeout=10)
    # The acks came back, so the handlers ran; nothing they did may have logged a traceback.
    with open(log, errors="replace") as f:
        f.seek(before)
        assert "Traceback" not in f.read()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "public" if m.group(0) in ("{schema}", "{table}") else str(uuid.uuid4()),
                  path)


def test_every_query_parameter_of_every_route_refuses_nul_and_bigint_overflow(client, app, auth):
    """The whole OpenAPI document: each string query parameter gets a NUL, each integer one 2**63; as admin, so
    no route stops at the permission check."""
    checked = 0
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                types = {s.get("type") for s in parameter["schema"].get("anyOf", [parameter["schema"]])}
                if "string" in types:
                    value = f"x{NUL}"
                elif "integer" in types:
                    value = str(2**63)
                else:
                    continue
                response = client.request(method.upper(), _concrete(path), params={parameter["name"]: value},
                                          headers=auth["admin"])
                assert_error_shape(response, 422)
                checked += 1
    assert checked >= 8
