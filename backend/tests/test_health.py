"""The API's liveness and readiness probes against the real metadata database."""

import os

from fastapi.testclient import TestClient

from cdcflow.core.config import Settings
from cdcflow.main import create_app


def test_healthz_answers():
    with TestClient(create_app(Settings())) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_ready_when_the_metadata_database_answers():
    with TestClient(create_app(Settings())) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok"}


def test_readyz_is_503_without_leaking_the_dsn_when_the_database_is_down():
    dead = os.environ["DATABASE_URL"].replace(f":{os.environ['PG_PORT']}/", ":1/")
    settings = Settings(database_url=dead, database_connect_timeout=2)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready" and body["checks"] == {"database": "unavailable"}
    password = dead.split(":")[2].split("@")[0]
    assert password not in response.text


def test_unknown_route_uses_the_error_shape():
    with TestClient(create_app(Settings())) as client:
        response = client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_production_refuses_the_default_jwt_secret():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(CDCFLOW_ENV="production", jwt_secret="dev-only-jwt-secret-change-me-0123456789abcdef")
