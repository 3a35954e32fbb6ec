"""Two real API processes over one metadata database behave as one: the login limiter counts failures made on
either, and a session ended on one is ended on the other."""

import os
import uuid

import pytest

from tests.cluster_support import ApiProcess, http_from, second_api_port

pytestmark = pytest.mark.timeout(300)
API = os.environ["CDCFLOW_API_URL"]


@pytest.fixture(scope="module")
def second_api():
    # No event logger in the extra process: the test is about the API, and the stack's API runs the logger group.
    with ApiProcess(second_api_port(), EVENT_LOGGER_ENABLED="false") as api:
        yield api


def _address() -> str:
    """A loopback address of this test's own: the limiter's counters of 127.0.0.1 belong to the other tests."""
    return f"127.{uuid.uuid4().int % 200 + 20}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def test_failed_logins_on_two_processes_add_up(second_api, client, auth):
    # A user of its own: the failures below slow its logins from new places down for a while.
    user = {"username": f"cl-{uuid.uuid4().hex[:8]}", "password": "right-password-123"}
    assert client.post("/api/v1/users", headers=auth["admin"], json={**user, "role": "viewer"}).status_code == 201
    guessed = {"username": user["username"], "password": "not-the-password"}
    home, attacker, cafe = _address(), _address(), _address()
    with http_from(home, second_api.url) as at_home:
        assert at_home.post("/api/v1/auth/login", json=user).status_code == 200  # a known address from now on
    with http_from(attacker, API) as first, http_from(attacker, second_api.url) as second:
        # login_max_failures_per_user (5) per user and address: three here, two there. Per process, neither
        # would have reached it.
        answers = [first.post("/api/v1/auth/login", json=guessed).status_code for _ in range(3)]
        answers += [second.post("/api/v1/auth/login", json=guessed).status_code for _ in range(2)]
        assert answers == [401] * 5
        for api in (first, second):
            refused = api.post("/api/v1/auth/login", json=user)  # even the right password waits
            assert refused.status_code == 429, refused.text
            body = refused.json()["error"]
            assert body["code"] == "too_many_requests" and body["details"]["retry_after_seconds"] > 0
    # The per-username delay (5 failures over all addresses) holds on both processes for a new address ...
    with http_from(cafe, API) as new_place:
        assert new_place.post("/api/v1/auth/login", json=user).status_code == 429
    # ... and the address the user logged in from on process #2 is known to process #1: not slowed down.
    with http_from(home, API) as at_home:
        assert at_home.post("/api/v1/auth/login", json=user).status_code == 200


def test_a_session_ended_on_one_process_is_ended_on_the_other(second_api, users):
    with http_from("127.0.8.8", API) as first, http_from("127.0.8.8", second_api.url) as second:
        tokens = first.post("/api/v1/auth/login", json=users["viewer"]).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert second.get("/api/v1/auth/me", headers=bearer).status_code == 200
        assert second.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
        for api in (first, second):
            assert api.get("/api/v1/auth/me", headers=bearer).status_code == 401
            assert api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
