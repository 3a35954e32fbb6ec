"""Finding 6: a request body limit that holds before authentication (413), a login limiter whose memory is
bounded and expires, and per-user throttling that an attacker cannot turn into a lockout of the real user."""

import os

import httpx
import pytest
from fastapi.testclient import TestClient

from cdcflow.auth.ratelimit import LoginGuard
from cdcflow.core.config import Settings
from cdcflow.main import create_app
from tests.test_bad_input import assert_error_shape

MIB = 1024 * 1024


def assert_too_large(response):
    assert_error_shape(response, 413)
    assert response.json()["error"]["code"] == "payload_too_large"


def chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


# ------------------------------------------------------------------------------------------ request body size


def test_a_body_over_one_mebibyte_is_refused_before_authentication(client):
    body = b'{"name": "' + b"x" * MIB + b'"}'
    # No token at all: the size is refused before anyone asks who is calling.
    assert_too_large(client.post("/api/v1/connections", content=body, headers={"Content-Type": "application/json"}))
    assert_too_large(client.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}))
    # Just under the limit goes on to authentication as before.
    under = b'{"name": "' + b"x" * (MIB - 100) + b'"}'
    assert client.post("/api/v1/connections", content=under,
                       headers={"Content-Type": "application/json"}).status_code == 401


def test_a_streamed_body_without_length_is_counted(client):
    response = client.post("/api/v1/connections", content=chunks(MIB + 1),
                           headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_too_large(response)


def test_the_limit_is_a_setting():
    app = create_app(Settings(CDCFLOW_MAX_BODY_BYTES=4096, run_background_services=False))
    with TestClient(app) as small:
        assert_too_large(small.post("/api/v1/auth/login", json={"username": "u", "password": "p" * 5000}))
        assert_too_large(small.post("/api/v1/auth/login", content=chunks(5000, 1000),
                                    headers={"Content-Type": "application/json"}))
        assert small.post("/api/v1/auth/login", json={"username": "u", "password": "p" * 100}).status_code == 401


def test_the_running_server_refuses_large_and_streamed_bodies():
    api = os.environ["CDCFLOW_API_URL"]
    with httpx.Client(base_url=api, timeout=30) as http:
        declared = http.post("/api/v1/connections", content=b"x" * (MIB + 1),
                             headers={"Content-Type": "application/json"})
        assert_too_large(declared)
        streamed = http.post("/api/v1/connections", content=chunks(2 * MIB),
                             headers={"Content-Type": "application/json"})
        assert_too_large(streamed)
        assert http.get("/healthz").status_code == 200  # the server is fine afterwards


# ------------------------------------------------------------------------------------------ login limiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock, **overrides) -> LoginGuard:
    settings = Settings(**{"login_max_failures_per_user": 5, "login_max_failures_per_client": 20,
                           "login_failure_window_seconds": 300, "login_backoff_max_seconds": 900,
                           "login_limiter_max_keys": 100, **overrides})
    return LoginGuard(settings, clock=clock)


def retry_after(g: LoginGuard, username: str, client: str) -> int:
    from cdcflow.core.errors import TooManyRequests

    try:
        g.check(username, client)
    except TooManyRequests as exc:
        return exc.details["retry_after_seconds"]
    return 0


def test_limiter_memory_is_bounded():
    clock = Clock()
    g = guard(clock)
    for i in range(5000):
        g.failed(f"user-{i}", f"10.0.{i // 250}.{i % 250}")
        g.check(f"other-{i}", f"10.1.{i // 250}.{i % 250}")  # a check of a name never seen stores nothing
        if i % 10 == 0:
            g.succeeded(f"user-{i}", "10.9.9.9")
    assert all(n <= 100 for n in g.entry_counts().values()), g.entry_counts()


def test_limiter_entries_expire_with_the_window():
    clock = Clock()
    g = guard(clock)
    for i in range(50):
        for _ in range(6):
            g.failed(f"user-{i}", "10.0.0.1")
    assert retry_after(g, "user-0", "10.0.0.2") > 0
    clock.now += 300 + 900 + 1  # the window and the longest delay have passed
    g.failed("someone-else", "10.0.0.3")
    assert g.entry_counts()["per_user"] == 1 and g.entry_counts()["per_user_client"] == 1
    assert retry_after(g, "user-0", "10.0.0.1") == 0


def test_per_user_delay_grows_exponentially_for_unknown_clients_and_is_capped():
    clock = Clock()
    g = guard(clock, login_max_failures_per_client=10_000)
    delays = []
    for i in range(16):
        g.failed("victim", f"203.0.113.{i}")  # each guess from another address
        delays.append(retry_after(g, "victim", "198.51.100.1"))
        clock.now += delays[-1]
    assert delays[:4] == [0, 0, 0, 0]
    assert delays[4:9] == [1, 2, 4, 8, 16]
    assert max(delays) == 900 and delays[-1] == 900


def test_a_known_client_is_not_slowed_by_failures_elsewhere():
    clock = Clock()
    g = guard(clock)
    g.succeeded("victim", "192.0.2.10")
    for i in range(40):
        g.failed("victim", f"203.0.113.{i}")
    assert retry_after(g, "victim", "192.0.2.10") == 0
    assert retry_after(g, "victim", "192.0.2.99") > 0  # a new place waits
    # A known address that itself keeps failing is still limited (per user and address).
    for _ in range(5):
        g.failed("victim", "192.0.2.10")
    assert 0 < retry_after(g, "victim", "192.0.2.10") <= 300


def test_an_attacker_cannot_lock_the_real_user_out(users):
    """Over HTTP, with four client addresses: the user logged in from home before; an attacker guesses from three
    other addresses until they are throttled; the user still logs in from home at once."""
    app = create_app(Settings(run_background_services=False))
    app.state.login_guard = LoginGuard(app.state.settings, clock=Clock())  # time stands still: no timing luck
    victim = users["viewer"]

    def at(address: str) -> TestClient:
        return TestClient(app, client=(address, 40000))

    home, attackers, cafe = at("192.0.2.10"), [at(f"203.0.113.{i}") for i in range(3)], at("198.51.100.7")
    assert home.post("/api/v1/auth/login", json=victim).status_code == 200
    wrong = {"username": victim["username"], "password": "not-the-password"}
    statuses = [a.post("/api/v1/auth/login", json=wrong).status_code for a in attackers for _ in range(4)]
    assert statuses == [401] * 5 + [429] * 7, statuses
    # The attacker's own address is refused even with the right password ...
    assert_error_shape(attackers[0].post("/api/v1/auth/login", json=victim), 429)
    # ... a place the user never logged in from has to wait ...
    delayed = cafe.post("/api/v1/auth/login", json=victim)
    assert_error_shape(delayed, 429)
    assert delayed.json()["error"]["details"]["retry_after_seconds"] >= 1
    # ... and home, where the user logged in before, is not slowed down at all.
    for _ in range(3):
        assert home.post("/api/v1/auth/login", json=victim).status_code == 200


@pytest.mark.parametrize("field", ["login_max_failures_per_user", "login_failure_window_seconds"])
def test_limiter_settings_refuse_nonsense(field):
    with pytest.raises(ValueError):
        Settings(**{field: 0})
