"""Finding 7, the API's half: the browser's refresh token lives in an httpOnly, SameSite=Strict cookie scoped to the
auth routes, is honoured only with the X-Token-Transport header, rotates, dies on logout; CORS with credentials
answers only the configured origins; every API answer carries nosniff and a restrictive CSP."""

from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient

from cdcflow.auth.cookies import COOKIE_PATH, REFRESH_COOKIE
from cdcflow.core.config import Settings
from cdcflow.main import create_app

BROWSER = {"X-Token-Transport": "cookie"}


def set_cookie(response) -> dict[str, str]:
    """The refresh cookie's value and attributes from the Set-Cookie header (lowercase attribute names)."""
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    assert len(headers) == 1, headers
    raw = headers[0]
    morsel = SimpleCookie(raw)[REFRESH_COOKIE]
    flags = {part.strip().split("=")[0].lower() for part in raw.split(";")[1:]}
    return {"value": morsel.value, "path": morsel["path"], "samesite": morsel["samesite"].lower(),
            "max-age": str(morsel["max-age"]), "httponly": str("httponly" in flags), "secure": str("secure" in flags)}


@pytest.fixture
def browser(app):
    """A client with its own cookie jar, so cookies never leak into the shared session client. Not entered as a
    context manager: that would run the shared app's lifespan again, and its exit would stop the session's job
    runner, event logger and engine for every later test."""
    c = TestClient(app)
    yield c
    c.close()


def browser_login(browser, creds) -> dict:
    response = browser.post("/api/v1/auth/login", json=creds, headers=BROWSER)
    assert response.status_code == 200, response.text
    return response


def test_browser_login_puts_the_refresh_token_in_a_strict_httponly_cookie_only(browser, users, app):
    response = browser_login(browser, users["viewer"])
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # no refresh token for page script to read
    cookie = set_cookie(response)
    assert cookie["httponly"] == "True" and cookie["samesite"] == "strict" and cookie["path"] == COOKIE_PATH
    assert cookie["secure"] == "False"  # plain http: a Secure cookie would be dropped by the browser
    assert int(cookie["max-age"]) == app.state.settings.refresh_token_days * 86400
    assert len(cookie["value"]) >= 32
    me = browser.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == users["viewer"]["username"]


def test_other_clients_keep_the_refresh_token_in_the_body_and_get_no_cookie(browser, users):
    response = browser.post("/api/v1/auth/login", json=users["viewer"])
    assert response.status_code == 200
    assert response.json()["refresh_token"] and "set-cookie" not in response.headers


def test_a_failed_login_sets_no_cookie(browser, users):
    response = browser.post("/api/v1/auth/login", headers=BROWSER,
                            json={"username": users["viewer"]["username"], "password": "wrong-wrong"})
    assert response.status_code == 401 and "set-cookie" not in response.headers


def test_refresh_by_cookie_rotates_it_and_the_old_one_is_reuse(browser, users):
    first = set_cookie(browser_login(browser, users["operator"]))["value"]
    refreshed = browser.post("/api/v1/auth/refresh", headers=BROWSER)
    assert refreshed.status_code == 200, refreshed.text
    assert set(refreshed.json()) == {"access_token", "token_type", "expires_in"}
    second = set_cookie(refreshed)
    assert second["value"] != first and second["httponly"] == "True" and second["path"] == COOKIE_PATH
    me = browser.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert me.json()["username"] == users["operator"]["username"]
    # The rotated-away cookie comes back (stolen, replayed): refused, and the whole family with it.
    browser.cookies.set(REFRESH_COOKIE, first, path=COOKIE_PATH)
    reuse = browser.post("/api/v1/auth/refresh", headers=BROWSER)
    assert reuse.status_code == 401 and reuse.json()["error"]["code"] == "unauthorized"
    assert set_cookie(reuse)["max-age"] == "0"  # and the browser is told to drop it
    browser.cookies.set(REFRESH_COOKIE, second["value"], path=COOKIE_PATH)
    assert browser.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 401


def test_the_cookie_is_ignored_without_the_transport_header(browser, users):
    # A cross-site form post carries cookies (were SameSite ever lax) but cannot add a custom header.
    browser_login(browser, users["viewer"])
    response = browser.post("/api/v1/auth/refresh")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert "set-cookie" not in response.headers
    assert browser.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 200  # the cookie is still good


def test_a_bad_or_missing_cookie_is_a_clean_401(browser):
    assert browser.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 401
    browser.cookies.set(REFRESH_COOKIE, "not-a-token-at-all-not-a-token", path=COOKIE_PATH)
    response = browser.post("/api/v1/auth/refresh", headers=BROWSER)
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_logout_revokes_the_cookie_token_and_clears_the_cookie(browser, users):
    token = set_cookie(browser_login(browser, users["viewer"]))["value"]
    response = browser.post("/api/v1/auth/logout", headers=BROWSER)
    assert response.status_code == 204
    cleared = set_cookie(response)
    assert cleared["max-age"] == "0" and cleared["path"] == COOKIE_PATH
    assert REFRESH_COOKIE not in browser.cookies
    # Revoked on the server too, not only forgotten by the browser.
    browser.cookies.set(REFRESH_COOKIE, token, path=COOKIE_PATH)
    assert browser.post("/api/v1/auth/refresh", headers=BROWSER).status_code == 401
    assert browser.post("/api/v1/auth/refresh", json={"refresh_token": token}).status_code == 401


def test_the_cli_flow_in_json_still_works(browser, users):
    tokens = browser.post("/api/v1/auth/login", json=users["viewer"]).json()
    rotated = browser.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert browser.post("/api/v1/auth/logout", json={"refresh_token": rotated.json()["refresh_token"]}).status_code == 204


def test_the_cookie_is_secure_over_https_and_when_forced(app, users):
    https = TestClient(app, base_url="https://testserver")  # no lifespan: the app is the session's (see browser)
    assert set_cookie(browser_login(https, users["viewer"]))["secure"] == "True"
    with TestClient(create_app(Settings(CDCFLOW_COOKIE_SECURE=True))) as forced:
        assert set_cookie(browser_login(forced, users["viewer"]))["secure"] == "True"


def test_cors_with_credentials_answers_only_the_configured_origins(browser, app):
    allowed = app.state.settings.cors_origins[0]
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-token-transport"}
    ok = browser.options("/api/v1/auth/refresh", headers={"Origin": allowed, **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == allowed
    assert ok.headers["access-control-allow-credentials"] == "true"
    # Another port of the same host is same-site (the cookie would go along) but not an allowed origin.
    for origin in ("http://evil.example", "http://127.0.0.1:9999", "null"):
        refused = browser.options("/api/v1/auth/refresh", headers={"Origin": origin, **preflight})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = browser.post("/api/v1/auth/logout", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("origins", [["*"], ["http://127.0.0.1:3000", "*"], ["http://127.0.0.1:3000/"], ["null"],
                                     ["127.0.0.1:3000"], ["http://*.example.com"]])
def test_settings_refuse_wildcard_or_malformed_cors_origins(origins):
    with pytest.raises(ValueError, match="CDCFLOW_CORS_ORIGINS"):
        Settings(CDCFLOW_CORS_ORIGINS=origins)


def test_api_answers_carry_nosniff_and_a_restrictive_csp(browser):
    for response in (browser.get("/api/v1/auth/me"), browser.get("/healthz"),
                     browser.post("/api/v1/auth/login", json={"username": "x"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    docs = browser.get("/docs")  # Swagger UI is a page with its own inline script: no JSON CSP there
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers
    assert docs.headers["x-content-type-options"] == "nosniff"
