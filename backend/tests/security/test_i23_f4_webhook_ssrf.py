"""Issue 23, finding 4: webhook URLs go through an outbound policy like database hosts. cdcflow's own ports (API,
web app, Kafka, Connect, metadata PostgreSQL) are refused on any address of this host; CDCFLOW_ALLOWED_WEBHOOK_HOSTS
limits the rest; the host is resolved once and the request goes to the address that passed; and "Send test
notification" says only "not allowed by policy" or "could not connect", never what answered (status, errno)."""

import ipaddress
import os
import socket
import uuid
from contextlib import closing
from urllib.parse import urlsplit

import pytest

from cdcflow.alerts.channels import REFUSED, UNREACHABLE, send
from cdcflow.core.config import Settings
from cdcflow.engine.outbound import AllowList, OutboundPolicy
from tests.security.support import FakeServer
from tests.test_alerts import Receiver

PAYLOAD = {"type": "alert.test", "channel": "c", "sent_by": "t", "message": "m", "link": "http://x/"}


def own_ports() -> dict[str, int]:
    return {"API": int(os.environ["CDCFLOW_API_PORT"]), "web app": int(os.environ["CDCFLOW_WEB_PORT"]),
            "Connect": urlsplit(os.environ["KAFKA_CONNECT_URL"]).port,
            "Kafka": int(os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(",")[0].rsplit(":", 1)[1]),
            "Kafka controller": int(os.environ["CDCFLOW_KAFKA_CONTROLLER_PORT"]),
            "metadata PostgreSQL": int(os.environ["PG_PORT"])}


def closed_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def channel_test(client, headers, url: str) -> dict:
    created = client.post("/api/v1/alerts/channels", headers=headers, json={
        "name": f"i23f4-{uuid.uuid4().hex[:8]}", "kind": "webhook", "url": url, "secret": "0123456789abcdef-s"})
    assert created.status_code == 201, created.text
    try:
        tested = client.post(f"/api/v1/alerts/channels/{created.json()['id']}/test", headers=headers)
        assert tested.status_code == 200, tested.text
        return tested.json()
    finally:
        client.delete(f"/api/v1/alerts/channels/{created.json()['id']}", headers=headers)


def test_cdcflows_own_ports_are_refused_on_every_address_of_this_host(client, auth):
    for label, port in own_ports().items():
        for host in ("127.0.0.1", "localhost", "127.0.0.2", "[::ffff:127.0.0.1]"):
            result = channel_test(client, auth["operator"], f"http://{host}:{port}/api/v1/x")
            assert (result["ok"], result["status_code"], result["error"]) == (False, None, REFUSED), \
                f"{label} via {host}: {result}"


def test_failures_say_nothing_about_what_listens(client, auth):
    """A closed port, a silent one and one that speaks another protocol answer alike."""
    banner, silent = FakeServer("banner"), FakeServer("silent")
    try:
        for port in (closed_port(), banner.port, silent.port):
            result = channel_test(client, auth["operator"], f"http://127.0.0.1:{port}/hook")
            assert (result["ok"], result["status_code"], result["error"]) == (False, None, UNREACHABLE), result
    finally:
        banner.close()
        silent.close()


def test_the_allow_list_and_the_pinned_address():
    receiver = Receiver()
    port = int(receiver.url.rsplit(":", 1)[1])
    try:
        settings = Settings()
        # A name that resolves (only here) to the receiver: the request goes to that address, with the URL's Host.
        resolver = lambda host, _port: [ipaddress.ip_address("127.0.0.1")]  # noqa: E731
        open_policy = OutboundPolicy.from_settings(settings, resolver=resolver)
        result = send("webhook", f"http://hooks.i23.test:{port}/p", "0123456789abcdef-s", PAYLOAD, "1", 5, open_policy)
        assert result.ok, result
        assert receiver.got("/p")[0]["headers"]["Host"] == f"hooks.i23.test:{port}"

        listed = OutboundPolicy.from_settings(
            settings.model_copy(update={"allowed_webhook_hosts": "hooks.example.com, 10.0.0.0/8"}), resolver=resolver)
        refused = send("webhook", f"http://hooks.i23.test:{port}/q", None, PAYLOAD, "2", 5, listed)
        assert (refused.ok, refused.error) == (False, REFUSED) and receiver.got("/q") == []
        assert AllowList.parse("hooks.example.com").allows("hooks.example.com", ipaddress.ip_address("203.0.113.7"))
        with pytest.raises(ValueError, match="CDCFLOW_ALLOWED_WEBHOOK_HOSTS"):
            Settings(CDCFLOW_ALLOWED_WEBHOOK_HOSTS="10.0.0.0/99")
    finally:
        receiver.close()
