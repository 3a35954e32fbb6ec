"""Login, refresh rotation and reuse detection, logout, rate limits, and JWT tampering."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from cdcflow.core.config import Settings
from cdcflow.main import create_app
from tests.conftest import login


def test_login_returns_tokens_and_me_works(client, users):
    tokens = login(client, **users["operator"])
    assert tokens["token_type"] == "bearer" and 600 <= tokens["expires_in"] <= 3600
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == users["operator"]["username"] and me.json()["role"] == "operator"
    assert "password" not in me.text and "password_hash" not in me.text


def test_unknown_user_and_wrong_password_get_the_same_answer(client, users):
    wrong = client.post("/api/v1/auth/login", json={"username": users["viewer"]["username"], "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": f"ghost-{uuid.uuid4().hex[:6]}",
                                                       "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "unauthorized"


def test_refresh_rotates_and_reuse_revokes_the_family(client, users):
    first = login(client, **users["viewer"])
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    # The old token comes back: reuse. It fails, and so does every token of the family, including the new one.
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401


def test_logout_revokes_the_refresh_token(client, users):
    tokens = login(client, **users["viewer"])
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _me(client, token: str):
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_tampered_tokens_are_refused(client, app, users):
    good = login(client, **users["viewer"])["access_token"]
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    secret = app.state.settings.jwt_secret
    now = datetime.now(UTC)

    alg_none = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({**claims, "role": "admin"}) + "."
    wrong_key = jwt.encode({**claims}, "another-secret-of-sufficient-length-0123456789", algorithm="HS256")
    expired = jwt.encode({**claims, "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)}, secret,
                         algorithm="HS256")
    edited_role = header + "." + _b64({**claims, "role": "admin"}) + "." + signature
    hs512 = jwt.encode({**claims}, secret, algorithm="HS512")
    refresh_as_access = jwt.encode({**claims, "type": "refresh"}, secret, algorithm="HS256")

    assert _me(client, good).status_code == 200
    for token in (alg_none, wrong_key, expired, edited_role, hs512, refresh_as_access, "garbage"):
        response = _me(client, token)
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_failed_logins_are_rate_limited_per_user_and_per_client(client, auth, users):
    settings = Settings(login_max_failures_per_user=3, login_max_failures_per_client=6)
    # A user of its own: other tests' failed logins of the shared users count in the database limiter too.
    target = {"username": f"rl-{uuid.uuid4().hex[:8]}", "password": "right-password-123"}
    assert client.post("/api/v1/users", headers=auth["admin"], json={**target, "role": "viewer"}).status_code == 201
    # Its own client address: the limiter's counters are in the database, shared with every app and API process
    # (and with an earlier run of this test on the same stack).
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    with TestClient(create_app(settings), client=(address, 5000)) as limited:
        for _ in range(3):
            assert limited.post("/api/v1/auth/login", json={"username": target["username"],
                                                            "password": "wrong-wrong"}).status_code == 401
        blocked = limited.post("/api/v1/auth/login", json=target)
        assert blocked.status_code == 429  # even the right password waits now
        assert blocked.json()["error"]["details"]["retry_after_seconds"] > 0
        # Per client: failures spread over other names still add up for this address.
        for i in range(3):
            limited.post("/api/v1/auth/login", json={"username": f"spray-{i}", "password": "wrong-wrong"})
        assert limited.post("/api/v1/auth/login", json=users["operator"]).status_code == 429


def test_deactivated_user_loses_access_at_once(client, auth, users):
    from tests.conftest import login as do_login

    created = client.post("/api/v1/users", headers=auth["admin"],
                          json={"username": f"tmp-{uuid.uuid4().hex[:6]}", "password": "temporary-pass",
                                "role": "operator"})
    assert created.status_code == 201
    user = created.json()
    tokens = do_login(client, user["username"], "temporary-pass")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.put(f"/api/v1/users/{user['id']}", headers=auth["admin"], json={"active": False}).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_production_requires_real_secrets():
    from cdcflow.core.config import DEV_JWT_SECRET, DEV_SECRET_KEY

    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(CDCFLOW_ENV="production", jwt_secret=DEV_JWT_SECRET, CDCFLOW_SECRET_KEY="y" * 40)
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(CDCFLOW_ENV="production", jwt_secret="short", CDCFLOW_SECRET_KEY="y" * 40)
    with pytest.raises(ValueError, match="CDCFLOW_SECRET_KEY"):
        Settings(CDCFLOW_ENV="production", jwt_secret="x" * 40, CDCFLOW_SECRET_KEY=DEV_SECRET_KEY)
    Settings(CDCFLOW_ENV="production", jwt_secret="x" * 40, CDCFLOW_SECRET_KEY="y" * 40)


def test_an_admin_cannot_deactivate_or_demote_themself(client, auth, user_ids):
    """Another admin exists (this suite's own), so only the self-check can refuse; the account stays usable."""
    me = user_ids["admin"]
    for body, words in (({"active": False}, "deactivate"), ({"role": "viewer"}, "role"),
                        ({"role": "operator", "active": True}, "role")):
        response = client.put(f"/api/v1/users/{me}", headers=auth["admin"], json=body)
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "conflict" and words in response.json()["error"]["message"]
    # Unchanged role and other fields are still fine; the session survived.
    assert client.put(f"/api/v1/users/{me}", headers=auth["admin"], json={"role": "admin", "active": True}) \
        .status_code == 200
    assert client.get("/api/v1/auth/me", headers=auth["admin"]).json()["role"] == "admin"
    assert client.delete(f"/api/v1/users/{me}", headers=auth["admin"]).status_code == 409
