"""A stored login (API URL + tokens, mode 600) and an HTTP client that refreshes it when it expires."""

import json
import os
from pathlib import Path
from typing import Any

import httpx


class CliError(Exception):
    """Printed as one line, exit status 1."""


def credentials_path() -> Path:
    base = Path(os.environ.get("CDCFLOW_CONFIG_DIR", Path.home() / ".config" / "cdcflow"))
    return base / "credentials.json"


def save(data: dict[str, Any]) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)


def load() -> dict[str, Any]:
    path = credentials_path()
    if not path.exists():
        raise CliError("Not logged in: run `cdcflow login` first")
    return json.loads(path.read_text())


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return error.get("message") or response.text[:200]
    except ValueError:
        return response.text[:200] or response.reason_phrase


class Api:
    def __init__(self) -> None:
        self.creds = load()
        self.http = httpx.Client(base_url=self.creds["api_url"].rstrip("/") + "/api/v1", timeout=60)

    def _refresh(self) -> bool:
        response = self.http.post("/auth/refresh", json={"refresh_token": self.creds["refresh_token"]})
        if response.status_code != 200:
            return False
        body = response.json()
        self.creds.update(access_token=body["access_token"], refresh_token=body["refresh_token"])
        save(self.creds)
        return True

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.creds['access_token']}"}
            try:
                response = self.http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise CliError(f"Cannot reach {self.creds['api_url']}: {type(exc).__name__}") from None
            if response.status_code == 401 and attempt == 0 and self._refresh():
                continue
            if response.status_code == 401:
                raise CliError("Session expired: run `cdcflow login` again")
            if response.status_code >= 400:
                raise CliError(f"{response.status_code}: {_message(response)}")
            return response.json() if response.content else None
        raise CliError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)


def login(api_url: str, username: str, password: str) -> dict[str, Any]:
    try:
        response = httpx.post(api_url.rstrip("/") + "/api/v1/auth/login", timeout=30,
                              json={"username": username, "password": password})
    except httpx.HTTPError as exc:
        raise CliError(f"Cannot reach {api_url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise CliError(f"Login failed: {_message(response)}")
    body = response.json()
    creds = {"api_url": api_url, "username": username, "access_token": body["access_token"],
             "refresh_token": body["refresh_token"]}
    save(creds)
    return creds
