"""A small, typed client for the Kafka Connect REST API (the only way cdcflow drives connectors)."""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import httpx

from cdcflow.core.config import Settings


def summarize_trace(trace: str, limit: int = 600) -> str:
    """The most telling lines of a Java stack trace: the exception and its deepest cause."""
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    if not lines:
        return "no trace"
    causes = [line for line in lines if line.startswith("Caused by:")]
    text = lines[0] if not causes else f"{lines[0]} / {causes[-1]}"
    return text[:limit]


# What Connect answers while it reassigns connectors and tasks (DistributedHerder / HerderRequestHandler):
#   409 "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
#   409 "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent ...)"
#   500 "Request cannot be completed because a rebalance is expected"
#   503 while a worker is still starting up (its herder has not joined the group yet)
_TRANSIENT_HINTS = ("rebalance", "stale configuration", "conflicting operation", "starting up")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("message", response.text)) if isinstance(body, dict) else response.text


def _transient(status: int, message: str) -> bool:
    """A refusal caused by a rebalance (or a worker joining), not by the request: safe to send again as is."""
    if status == 503:
        return True
    lowered = message.lower()
    return status in (409, 500) and any(hint in lowered for hint in _TRANSIENT_HINTS)


class ConnectError(Exception):
    """Kafka Connect refused a request or could not be reached; `status` is None when unreachable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# The worker each set of URLs last answered from, shared by every client of this process: a dead worker costs one
# failed connection per process, not one per client (clients are short-lived, one per operation).
_PREFERRED: dict[tuple[str, ...], int] = {}
_PREFERRED_LOCK = threading.Lock()


# One TLS context for every client of this process. httpx builds a fresh one per client by default, loading the
# whole CA bundle (47 ms of CPU each here); with one short-lived client per health probe that was a quarter of the
# API's CPU at 1,000 changes/s (py-spy, bench/results/cdc_levers.md). An SSLContext is safe to share between threads.
_SSL_CONTEXT: ssl.SSLContext | None = None


def _ssl_context() -> ssl.SSLContext:
    global _SSL_CONTEXT
    with _PREFERRED_LOCK:
        if _SSL_CONTEXT is None:
            _SSL_CONTEXT = httpx.create_ssl_context()
        return _SSL_CONTEXT


def parse_urls(urls: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Worker URLs from a list or a comma-separated string, without trailing slashes or duplicates, order kept."""
    items = urls.split(",") if isinstance(urls, str) else list(urls)
    cleaned = tuple(dict.fromkeys(u.strip().rstrip("/") for u in items if u and u.strip()))
    if not cleaned:
        raise ValueError("no Kafka Connect URL given")
    return cleaned


class ConnectClient:
    """Talks to any live worker of one Connect cluster. Every worker serves the whole REST API (followers forward
    writes to the leader), so a request that cannot reach a worker, or that a worker answers with a 5xx, goes to the
    next one; the worker that answers is remembered for the next clients of this process."""

    # While workers rebalance, Connect refuses requests it would otherwise serve; they succeed once the group settles
    # (usually within a few seconds). Bounded: past retry_seconds the refusal is reported like any other error.
    retry_seconds: float = 30.0
    retry_initial_delay: float = 0.25
    retry_max_delay: float = 4.0

    def __init__(self, base_url: str | list[str] | tuple[str, ...], timeout: float = 30.0,
                 auth: tuple[str, str] | None = None) -> None:
        self.urls = parse_urls(base_url)
        # Basic auth on every call: the worker's REST API refuses anonymous requests (401).
        self._http = httpx.Client(timeout=timeout, auth=httpx.BasicAuth(*auth) if auth else None,
                                  verify=_ssl_context())
        self._unusable: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, timeout: float = 30.0) -> ConnectClient:
        urls = settings.connect_urls()
        try:
            auth = settings.connect_auth()
        except (OSError, ValueError) as exc:
            # Reported by the first request, like an unreachable worker: every caller already handles ConnectError.
            client = cls(urls, timeout=timeout)
            client._unusable = f"Kafka Connect credentials unavailable: {type(exc).__name__}: {exc}"
            return client
        return cls(urls, timeout=timeout, auth=auth)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConnectClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The worker requests go to first (the one that answered last)."""
        with _PREFERRED_LOCK:
            return self.urls[_PREFERRED.get(self.urls, 0) % len(self.urls)]

    def _sweep(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One try on each worker, preferred first, until one answers below 500 (or every one has failed: then the
        last answer, or ConnectError(status None) when none could be reached)."""
        with _PREFERRED_LOCK:
            first = _PREFERRED.get(self.urls, 0) % len(self.urls)
        last: httpx.Response | None = None
        unreachable: list[str] = []
        for step in range(len(self.urls)):
            index = (first + step) % len(self.urls)
            url = self.urls[index]
            try:
                response = self._http.request(method, url + path, **kwargs)
            except httpx.HTTPError as exc:
                unreachable.append(f"{url}: {type(exc).__name__}")
                continue
            last = response
            if response.status_code < 500:
                if index != first:
                    with _PREFERRED_LOCK:
                        _PREFERRED[self.urls] = index
                return response
        if last is None:
            raise ConnectError("Kafka Connect unreachable at " + ", ".join(unreachable))
        return last

    def _request(self, method: str, path: str, *, unknown_is_transient: bool = False,
                 **kwargs: Any) -> httpx.Response:
        """One REST call on any live worker; answers that only mean "the cluster is reassigning work" are retried
        (see _transient). With `unknown_is_transient`, so is a 404: a connector created a moment ago through
        another worker is unknown to this one until it has read the config topic that far."""
        if self._unusable:
            raise ConnectError(self._unusable)
        deadline = time.monotonic() + self.retry_seconds
        delay = self.retry_initial_delay
        while True:
            response = self._sweep(method, path, **kwargs)
            if response.status_code < 400:
                return response
            message = _message(response)
            transient = _transient(response.status_code, message) or (
                unknown_is_transient and response.status_code == 404)
            if transient and time.monotonic() + delay < deadline:
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max_delay)
                continue
            raise ConnectError(f"Kafka Connect {method} {path}: {response.status_code} {message}",
                               status=response.status_code)

    def plugins(self) -> list[dict[str, Any]]:
        return self._request("GET", "/connector-plugins").json()

    def connectors(self) -> list[str]:
        return self._request("GET", "/connectors").json()

    def exists(self, name: str) -> bool:
        try:
            self._request("GET", f"/connectors/{name}")
            return True
        except ConnectError as exc:
            if exc.status == 404:
                return False
            raise

    def put_config(self, name: str, config: dict[str, str]) -> dict[str, Any]:
        """Create or update a connector (idempotent)."""
        return self._request("PUT", f"/connectors/{name}/config", json=config).json()

    def create_stopped(self, name: str, config: dict[str, str]) -> dict[str, Any]:
        """A new connector that starts STOPPED (Connect 3.5+), so its offsets can be set before any task runs."""
        return self._request("POST", "/connectors", json={"name": name, "config": config,
                                                           "initial_state": "STOPPED"}).json()

    def get_config(self, name: str) -> dict[str, str]:
        return self._request("GET", f"/connectors/{name}/config").json()

    def status(self, name: str) -> dict[str, Any]:
        return self._request("GET", f"/connectors/{name}/status").json()

    def all_statuses(self) -> dict[str, dict[str, Any]]:
        """Every connector's status in one request: name -> the body GET /connectors/{name}/status returns."""
        body = self._request("GET", "/connectors", params={"expand": "status"}).json()
        return {name: entry["status"] for name, entry in body.items() if "status" in entry}

    def pause(self, name: str) -> None:
        self._request("PUT", f"/connectors/{name}/pause")

    def resume(self, name: str) -> None:
        """Called right after the connector's config was put: in a cluster the worker answering may not know it yet
        (a start on the test stack's two workers failed with "404 Unknown connector")."""
        self._request("PUT", f"/connectors/{name}/resume", unknown_is_transient=True)

    def stop(self, name: str) -> None:
        self._request("PUT", f"/connectors/{name}/stop")

    def restart(self, name: str, include_tasks: bool = True, only_failed: bool = False) -> None:
        self._request("POST", f"/connectors/{name}/restart",
                      params={"includeTasks": str(include_tasks).lower(), "onlyFailed": str(only_failed).lower()})

    def status_or_none(self, name: str) -> dict[str, Any] | None:
        try:
            return self.status(name)
        except ConnectError as exc:
            if exc.status == 404:
                return None
            raise

    def wait_for_state(self, name: str, state: str, timeout: float, interval: float = 0.5) -> dict[str, Any]:
        """Until the connector and all its tasks (at least one for RUNNING) report `state`; a FAILED task raises,
        except while waiting for STOPPED: stopping is how a failed task is ended (a sink that failed at a schema change
        made the pipeline's stop fail), and a stopped connector has no tasks left to report."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            last = self.status_or_none(name)
            if last is not None:
                tasks = last.get("tasks", [])
                failed = [t for t in tasks if t.get("state") == "FAILED"]
                if state != "STOPPED" and (last["connector"]["state"] == "FAILED" or failed):
                    trace = (failed[0] if failed else last["connector"]).get("trace", "")
                    raise ConnectError(f"{name} failed: {summarize_trace(trace)}")
                if last["connector"]["state"] == state and all(t["state"] == state for t in tasks) \
                        and (tasks or state != "RUNNING"):
                    return last
            time.sleep(interval)
        raise ConnectError(f"{name} did not reach {state} within {timeout:.0f}s (last status: "
                           f"{(last or {}).get('connector', {}).get('state', 'absent')})")

    def delete(self, name: str, missing_ok: bool = True) -> None:
        try:
            self._request("DELETE", f"/connectors/{name}")
        except ConnectError as exc:
            if not (missing_ok and exc.status == 404):
                raise

    def offsets(self, name: str) -> dict[str, Any]:
        """Committed offsets (Connect 3.5+): source partitions with Debezium's LSN, or a sink's topic positions."""
        return self._request("GET", f"/connectors/{name}/offsets").json()

    def delete_offsets(self, name: str) -> None:
        """Forget a STOPPED connector's offsets: a source starts from nothing, a sink's group offsets go."""
        self._request("DELETE", f"/connectors/{name}/offsets")

    def alter_offsets(self, name: str, offsets: list[dict[str, Any]]) -> None:
        """Set a STOPPED connector's offsets (for a sink: [{"partition": {kafka_topic, kafka_partition},
        "offset": {kafka_offset}}])."""
        self._request("PATCH", f"/connectors/{name}/offsets", json={"offsets": offsets})
