"""Bad input: one JSON error shape, a 4xx, no stack trace, nothing echoed back, and nothing stored."""

import uuid

import pytest

from tests.support import connect
from tests.test_connections import connection_body

MEGABYTE = "x" * 1_000_000


def counts(stack_env) -> tuple[int, int, int]:
    with connect(stack_env["DATABASE_URL"]) as meta:
        return meta.execute("SELECT (SELECT count(*) FROM connections), (SELECT count(*) FROM pipelines), "
                            "(SELECT count(*) FROM users)").fetchone()


def assert_error_shape(response, status: int | tuple[int, ...]):
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert "Traceback" not in response.text and "File \"" not in response.text


def bad_connection_bodies(stack_env):
    good = connection_body(stack_env)
    without = lambda key: {k: v for k, v in good.items() if k != key}  # noqa: E731
    return {
        "port as text": {**good, "port": "five"},
        "port out of range": {**good, "port": 70000},
        "missing host": without("host"),
        "missing password": without("password"),
        "unknown type": {**good, "connection_type": "sideways"},
        "unknown database type": {**good, "database_type": "oracle"},
        "unknown field": {**good, "superuser": True},
        "1 MB name": {**good, "name": MEGABYTE},
        "1 MB password": {**good, "password": MEGABYTE},
        "1 MB host": {**good, "host": MEGABYTE},
        "quote in name": {**good, "name": "x'; DROP TABLE connections; --"},
        "semicolon in database": {**good, "database": "demo;drop"},
        "quote in username": {**good, "username": 'post"gres'},
        "bad sslmode": {**good, "options": {"sslmode": "sometimes"}},
        "not an object": ["a", "list"],
    }


def test_bad_connection_input_is_rejected_and_nothing_is_stored(client, auth, stack_env):
    before = counts(stack_env)
    for label, payload in bad_connection_bodies(stack_env).items():
        response = client.post("/api/v1/connections", json=payload, headers=auth["operator"])
        assert_error_shape(response, 422)
        assert MEGABYTE not in response.text, label
        assert response.json()["error"]["details"]["fields"], label
    malformed = client.post("/api/v1/connections", content=b"{not json", headers={**auth["operator"],
                                                                                  "Content-Type": "application/json"})
    assert_error_shape(malformed, 422)
    assert counts(stack_env) == before


def test_bad_pipeline_input_is_rejected_and_nothing_is_stored(client, auth, stack_env):
    before = counts(stack_env)
    base = {"name": "p", "source_connection_id": str(uuid.uuid4()), "target_connection_id": str(uuid.uuid4()),
            "mode": "full_load_and_cdc", "tables": ["public.t"]}
    cases = [
        {**base, "mode": "sometimes"},
        {**base, "mode": "FULL_LOAD_ONLY "},
        {**base, "tables": []},
        {**base, "tables": "public.t"},
        {**base, "tables": ["public.t; DROP TABLE pipelines"]},
        {**base, "tables": ['public."t"']},
        {**base, "tables": ["no_schema"]},
        {**base, "tables": ["public.t", "public.t"]},
        {**base, "name": "x'; --"},
        {**base, "name": MEGABYTE},
        {**base, "source_connection_id": "not-a-uuid"},
        {k: v for k, v in base.items() if k != "mode"},
    ]
    for payload in cases:
        response = client.post("/api/v1/pipelines", json=payload, headers=auth["operator"])
        assert_error_shape(response, 422)
        assert MEGABYTE not in response.text
    assert counts(stack_env) == before


@pytest.mark.parametrize("payload", [
    {"username": "a b", "password": "long-enough-1"},
    {"username": "ok", "password": "short"},
    {"username": "ok-user", "password": "long-enough-1", "role": "root"},
    {"username": "x" * 200, "password": "long-enough-1"},
])
def test_bad_user_input_is_rejected(client, auth, stack_env, payload):
    before = counts(stack_env)
    assert_error_shape(client.post("/api/v1/users", json=payload, headers=auth["admin"]), 422)
    assert counts(stack_env) == before


def test_bad_path_ids_and_unknown_ids(client, auth):
    assert_error_shape(client.get("/api/v1/connections/not-a-uuid", headers=auth["viewer"]), 422)
    assert_error_shape(client.get(f"/api/v1/connections/{uuid.uuid4()}", headers=auth["viewer"]), 404)
    assert_error_shape(client.get(f"/api/v1/pipelines/{uuid.uuid4()}", headers=auth["viewer"]), 404)
    assert_error_shape(client.get("/api/v1/connections", params={"connection_type": "sideways"},
                                  headers=auth["viewer"]), 422)
    assert_error_shape(client.patch("/api/v1/connections", headers=auth["viewer"]), 405)


def test_login_input_errors(client):
    assert_error_shape(client.post("/api/v1/auth/login", json={"username": "admin"}), 422)
    assert_error_shape(client.post("/api/v1/auth/login", json={"username": "a", "password": MEGABYTE}), 422)
    assert_error_shape(client.post("/api/v1/auth/refresh", json={"refresh_token": "short"}), 422)
