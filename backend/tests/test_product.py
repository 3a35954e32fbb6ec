"""The running product (started by `make up` / `make test`): the API answers and the web page shows its health."""

import os
import re

import httpx


def test_api_is_ready_over_http():
    response = httpx.get(f"{os.environ['CDCFLOW_API_URL']}/readyz", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_health_page_shows_the_backend_ready():
    response = httpx.get(os.environ["CDCFLOW_UI_URL"], timeout=20)
    assert response.status_code == 200
    match = re.search(r'data-testid="backend-status"[^>]*>([a-z_]+)<', response.text)
    assert match, response.text[:500]
    assert match.group(1) == "ready"
    assert "database<!-- -->: <!-- -->ok" in response.text or "database: ok" in response.text


def test_the_first_admin_can_log_in_and_the_password_is_not_logged():
    api = os.environ["CDCFLOW_API_URL"]
    password = os.environ["CDCFLOW_ADMIN_PASSWORD"]
    response = httpx.post(f"{api}/api/v1/auth/login", timeout=10,
                          json={"username": os.environ["CDCFLOW_ADMIN_USER"], "password": password})
    assert response.status_code == 200, response.text
    me = httpx.get(f"{api}/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"},
                   timeout=10)
    assert me.json()["role"] == "admin"
    api_log = os.path.join(os.environ["CDCFLOW_STACK_DIR"], "logs", "api.log")
    with open(api_log) as f:
        assert password not in f.read()
