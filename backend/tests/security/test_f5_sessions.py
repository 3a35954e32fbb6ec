"""Finding 5: sessions are cut off at once. Logout ends that login session's access tokens (the user's other
sessions live on); password change, role change and deactivation end every access token of the user; a reused
refresh token ends its family; and the Socket.IO connections of an ended session are closed."""

import os
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import psycopg
import pytest
import socketio

from tests.conftest import login
from tests.support import wait_until

API = os.environ["CDCFLOW_API_URL"]
PASSWORD = "first-password-1"


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def member(client, auth) -> dict:
    """A fresh operator, so ending its sessions touches no other test."""
    created = client.post("/api/v1/users", headers=auth["admin"],
                          json={"username": f"s-{uuid.uuid4().hex[:8]}", "password": PASSWORD, "role": "operator"})
    assert created.status_code == 201, created.text
    return created.json()


def me(client, tokens: dict) -> int:
    return client.get("/api/v1/auth/me", headers=bearer(tokens)).status_code


def test_logout_ends_that_session_now_and_only_that_one(client, member):
    laptop, phone = login(client, member["username"], PASSWORD), login(client, member["username"], PASSWORD)
    assert me(client, laptop) == me(client, phone) == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": laptop["refresh_token"]}).status_code == 204
    response = client.get("/api/v1/auth/me", headers=bearer(laptop))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert me(client, phone) == 200
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 200


def test_a_rotated_token_keeps_its_session_and_reuse_ends_it(client, member):
    first = login(client, member["username"], PASSWORD)
    rotated = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert me(client, first) == me(client, rotated) == 200  # rotation is not the end of the session
    other = login(client, member["username"], PASSWORD)
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    assert me(client, first) == me(client, rotated) == 401
    assert me(client, other) == 200


@pytest.mark.parametrize("change", [{"password": "second-password-2"}, {"active": False}, {"role": "viewer"}])
def test_password_role_and_active_changes_end_every_access_token(client, auth, member, change):
    sessions = [login(client, member["username"], PASSWORD) for _ in range(2)]
    assert all(me(client, s) == 200 for s in sessions)
    assert client.put(f"/api/v1/users/{member['id']}", json=change, headers=auth["admin"]).status_code == 200
    assert all(me(client, s) == 401 for s in sessions)
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": sessions[0]["refresh_token"]})
    if "role" in change:
        # The refresh token survives a role change: the client refreshes into a token with the new role.
        assert refreshed.status_code == 200
        assert client.get("/api/v1/auth/me", headers=bearer(refreshed.json())).json()["role"] == "viewer"
    else:
        assert refreshed.status_code == 401


def test_setting_the_same_role_again_ends_nothing(client, auth, member):
    tokens = login(client, member["username"], PASSWORD)
    assert client.put(f"/api/v1/users/{member['id']}", json={"role": "operator"}, headers=auth["admin"]).status_code \
        == 200
    assert me(client, tokens) == 200


def test_tokens_without_version_or_session_are_refused(client, app, member):
    tokens = login(client, member["username"], PASSWORD)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    secret = app.state.settings.jwt_secret
    now = datetime.now(UTC)
    for drop in ("ver", "sid"):
        legacy = {k: v for k, v in claims.items() if k != drop} | {"iat": now, "exp": now + timedelta(minutes=5)}
        token = jwt.encode(legacy, secret, algorithm="HS256")
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    for bad in ({"ver": claims["ver"] + 1}, {"ver": "0"}, {"ver": True}, {"sid": str(uuid.uuid4())}, {"sid": "x"}):
        token = jwt.encode(claims | bad | {"iat": now, "exp": now + timedelta(minutes=5)}, secret, algorithm="HS256")
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401, bad


# ------------------------------------------------------------------ Socket.IO, against the running API server


class Socket:
    def __init__(self, tokens: dict) -> None:
        self.client = socketio.Client(reconnection=False)
        self.client.connect(API, auth={"token": tokens["access_token"]}, transports=["websocket"], wait_timeout=10)

    def subscribe(self, pipeline_id: str | None = None) -> dict:
        return self.client.call("subscribe_pipeline", {"pipeline_id": pipeline_id or str(uuid.uuid4())}, timeout=10)

    def wait_closed(self) -> None:
        wait_until(lambda: not self.client.connected, 10, 0.1, what="the server to close the socket")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def api_login(username: str) -> dict:
    response = httpx.post(f"{API}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def refused(tokens: dict) -> bool:
    probe = socketio.Client(reconnection=False)
    try:
        probe.connect(API, auth={"token": tokens["access_token"]}, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return True
    probe.disconnect()
    return False


@pytest.mark.parametrize("change", [{"active": False}, {"role": "viewer"}, {"password": "second-password-2"}])
def test_user_changes_close_that_users_sockets(auth, member, change):
    tokens = api_login(member["username"])
    sockets = [Socket(tokens), Socket(api_login(member["username"]))]
    try:
        assert sockets[0].subscribe()["error"] == "pipeline not found"  # connected and answering
        response = httpx.put(f"{API}/api/v1/users/{member['id']}", json=change, headers=auth["admin"], timeout=10)
        assert response.status_code == 200
        for s in sockets:
            s.wait_closed()
        assert refused(tokens)
    finally:
        for s in sockets:
            s.close()


def test_logout_closes_the_sockets_of_that_session_only(member):
    laptop, phone = api_login(member["username"]), api_login(member["username"])
    on_laptop, on_phone = Socket(laptop), Socket(phone)
    try:
        assert httpx.post(f"{API}/api/v1/auth/logout", json={"refresh_token": laptop["refresh_token"]},
                          timeout=10).status_code == 204
        on_laptop.wait_closed()
        assert on_phone.client.connected and on_phone.subscribe()["error"] == "pipeline not found"
    finally:
        on_laptop.close()
        on_phone.close()


def test_subscribe_rechecks_the_session(stack_env, member):
    """A session ended where this API process cannot hear of it (here: straight in the database, as another
    process would) is caught on the next subscribe."""
    tokens = api_login(member["username"])
    sock = Socket(tokens)
    try:
        assert sock.subscribe()["error"] == "pipeline not found"
        with psycopg.connect(stack_env["DATABASE_URL"], autocommit=True) as db:
            db.execute("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (member["id"],))
        assert sock.subscribe() == {"ok": False, "error": "unauthorized"}
        sock.wait_closed()
    finally:
        sock.close()
