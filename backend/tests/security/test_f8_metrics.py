"""Finding 8: GET /metrics (pipeline names and counts) needs CDCFLOW_METRICS_TOKEN or a user's access token."""

import os

import httpx
import pytest


@pytest.fixture(scope="module")
def metrics_url() -> str:
    return f"{os.environ['CDCFLOW_API_URL']}/metrics"


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text[:200]
    body = response.json()
    assert body["error"]["code"] == "unauthorized" and body["error"]["message"]
    assert "cdcflow_pipeline_up" not in response.text


def test_metrics_without_a_token_is_401(metrics_url):
    _assert_401(httpx.get(metrics_url, timeout=10))


@pytest.mark.parametrize("header", [
    "Bearer wrong-token", "Bearer", "Basic YWRtaW46YWRtaW4=", "Bearer {token}x", "Bearer {token_cut}",
    "{token}",
])
def test_metrics_with_a_bad_token_is_401(metrics_url, header):
    token = os.environ["CDCFLOW_METRICS_TOKEN"]
    value = header.format(token=token, token_cut=token[:-1])
    _assert_401(httpx.get(metrics_url, headers={"Authorization": value}, timeout=10))


def test_metrics_with_the_metrics_token_is_200(metrics_url):
    token = os.environ["CDCFLOW_METRICS_TOKEN"]
    assert len(token) >= 32
    response = httpx.get(metrics_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "# TYPE cdcflow_pipeline_up gauge" in response.text


def test_metrics_with_a_user_token_is_200_for_every_role(metrics_url, client, users):
    from tests.conftest import login

    for role, creds in users.items():
        token = login(client, **creds)["access_token"]
        response = httpx.get(metrics_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, (role, response.text[:200])
        assert "# TYPE cdcflow_events_total counter" in response.text


def test_in_process_app_without_a_metrics_token_still_takes_user_tokens(client, auth):
    # The app built by the tests has the token from .stack/env; a deployment may leave it unset.
    from fastapi.testclient import TestClient

    from cdcflow.core.config import Settings
    from cdcflow.main import create_app

    with TestClient(create_app(Settings(CDCFLOW_METRICS_TOKEN=None, run_background_services=False))) as bare:
        assert bare.get("/metrics", headers={"Authorization": "Bearer"}).status_code == 401
        assert bare.get("/metrics", headers=auth["viewer"]).status_code == 200
