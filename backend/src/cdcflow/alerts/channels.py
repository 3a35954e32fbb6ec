"""Where notifications go: a generic JSON webhook (HMAC-SHA256 signed) or a Slack-compatible incoming webhook.

Signature: ``X-Cdcflow-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Cdcflow-Timestamp>." + raw body)>``. The
timestamp is signed with the body, so a receiver that rejects old timestamps (say, older than 5 minutes) cannot be
fed a replayed notification. ``X-Cdcflow-Delivery`` is the same on every retry of one notification: receivers
de-duplicate on it.

A channel URL can itself be a credential (Slack puts its token in the path), so no URL ever reaches a log line or
an error message: errors are one of a few fixed sentences and the HTTP status.

Where a notification may go is the outbound policy's call (engine/outbound.py, `check_webhook`): the host is
resolved once, checked (CDCFLOW_ALLOWED_WEBHOOK_HOSTS; cdcflow's own ports never), and the request goes to the
address that passed (the Host header and TLS name stay the URL's), so a DNS answer that changes in between does not
move it. A failure says "not allowed by policy" or "could not connect" and nothing about what answered on the port.
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from cdcflow import __version__
from cdcflow.engine.outbound import OutboundPolicy, OutboundRefused

SIGNATURE_HEADER = "X-Cdcflow-Signature"
TIMESTAMP_HEADER = "X-Cdcflow-Timestamp"
DELIVERY_HEADER = "X-Cdcflow-Delivery"
EVENT_HEADER = "X-Cdcflow-Event"
REFUSED = "not allowed by policy (CDCFLOW_ALLOWED_WEBHOOK_HOSTS, or a port of cdcflow itself)"
UNREACHABLE = "could not connect, or no answer in time"


def validate_url(url: str) -> str:
    """The shape only: http(s), a host, no credentials. Which hosts may be called is the outbound policy's job."""
    url = url.strip()
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("the URL must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry credentials; webhooks are authenticated by their signature")
    try:
        parts.port  # noqa: B018  (raises on a non-numeric or out-of-range port)
    except ValueError:
        raise ValueError("the URL has an invalid port") from None
    return url


def url_hint(url: str) -> str:
    """What the API shows of a URL: scheme, host and port; the path may hold a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" + ("…" if parts.path.strip("/") or parts.query else "")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300) -> bool:
    """What a receiver does (tests use it too): constant-time compare, and refuse stale timestamps."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(payload: dict[str, Any]) -> str:
    if payload["type"] == "alert.test":
        return f":wave: Test notification from cdcflow (channel {_slack_escape(payload['channel'])})"
    alert = payload["alert"]
    icon, label = (":white_check_mark:", "RESOLVED") if payload["type"] == "alert.resolved" else \
        (":rotating_light:", "FIRING")
    where = f" on pipeline *{_slack_escape(alert['pipeline']['name'])}*" if alert["pipeline"] else ""
    return (f"{icon} *{label}* {_slack_escape(alert['rule']['name'])}{where}: {_slack_escape(alert['message'])}\n"
            f"<{alert['link']}|Open in cdcflow>")


def request_body(kind: str, payload: dict[str, Any]) -> bytes:
    body = {"text": slack_text(payload)} if kind == "slack" else payload
    return json.dumps(body, separators=(",", ":"), default=str).encode()


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None
    error: str | None
    latency_ms: float


def pinned(url: str, policy: OutboundPolicy) -> tuple[str, str, str]:
    """(the URL with its host replaced by the address the policy allowed, the Host header, the TLS server name).
    Raises OutboundRefused or EndpointUnreachable (cannot resolve)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = policy.check_webhook(host, port)[0]
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    return urlunsplit(parts._replace(netloc=netloc)), parts.netloc, host


def send(kind: str, url: str, secret: str | None, payload: dict[str, Any], delivery_id: str,
         timeout: float, policy: OutboundPolicy) -> SendResult:
    """One attempt, no redirects followed (a redirect is reported as a failure, not chased to another host), to the
    address the outbound policy allowed."""
    started = time.perf_counter()
    try:
        target, host_header, server_name = pinned(url, policy)
    except OutboundRefused:
        return SendResult(False, None, REFUSED, _ms(started))
    except Exception:  # noqa: BLE001  (unresolvable, or a URL the policy cannot read: one sentence for all)
        return SendResult(False, None, UNREACHABLE, _ms(started))
    body = request_body(kind, payload)
    headers = {"Content-Type": "application/json", "User-Agent": f"cdcflow-alerts/{__version__}",
               "Host": host_header, DELIVERY_HEADER: delivery_id, EVENT_HEADER: payload["type"]}
    if kind == "webhook" and secret:
        timestamp = int(time.time())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(target, content=body, headers=headers,
                                   extensions={"sni_hostname": server_name})
    except httpx.HTTPError:
        # Not the exception type nor the OS error: "connection refused" against "protocol error" maps ports.
        return SendResult(False, None, UNREACHABLE, _ms(started))
    ok = 200 <= response.status_code < 300
    return SendResult(ok, response.status_code, None if ok else f"HTTP {response.status_code}", _ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
