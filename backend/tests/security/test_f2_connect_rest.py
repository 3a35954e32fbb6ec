"""Finding 2: Kafka Connect's REST API needs credentials, and its config providers only read the secrets folder.

Before: anyone on the host could call PUT /connector-plugins/.../config/validate with ${dir:...} or ${file:...}
references and read what the worker resolved (connector passwords, any file the worker may read).
"""

import os
import uuid
from pathlib import Path

import httpx
import pytest

from cdcflow.core.config import Settings
from cdcflow.engine.connect.client import ConnectClient, ConnectError
from cdcflow.engine.connect.configs import JDBC_SINK
from tests.support import connect_auth, connect_client

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def url() -> str:
    return os.environ["KAFKA_CONNECT_URL"]


@pytest.mark.parametrize("method, path", [
    ("GET", "/"), ("GET", "/connectors"), ("GET", "/connector-plugins"), ("GET", "/admin/loggers"),
    ("PUT", f"/connector-plugins/{JDBC_SINK}/config/validate"), ("POST", "/connectors"),
])
def test_anonymous_requests_get_401(url, method, path):
    response = httpx.request(method, url + path, json={"connector.class": JDBC_SINK, "name": "x"}, timeout=10)
    assert response.status_code == 401, (method, path, response.status_code, response.text[:200])


def test_wrong_credentials_get_401_and_the_stack_credentials_200(url):
    user, password = connect_auth()
    assert httpx.get(f"{url}/connectors", auth=(user, password + "x"), timeout=10).status_code == 401
    assert httpx.get(f"{url}/connectors", auth=("admin", password), timeout=10).status_code == 401
    assert httpx.get(f"{url}/connectors", auth=(user, password), timeout=10).status_code == 200


def test_cdcflows_client_authenticates_and_fails_clearly_without_credentials(url):
    with connect_client() as client:
        assert isinstance(client.connectors(), list)
    with ConnectClient(url) as anonymous, pytest.raises(ConnectError) as refused:
        anonymous.connectors()
    assert refused.value.status == 401
    missing = Settings(kafka_connect_user="cdcflow", kafka_connect_password_file="/nonexistent/connect_password")
    with ConnectClient.from_settings(missing) as broken, pytest.raises(ConnectError, match="credentials"):
        broken.connectors()


def _validated_value(url: str, reference: str) -> str:
    """What the worker makes of `reference` in a validate call (a string field, so the value is shown)."""
    config = {"connector.class": JDBC_SINK, "name": f"probe-{uuid.uuid4().hex[:6]}", "topics": "probe",
              # Nothing listens on port 9: the sink's own checks fail fast, the echoed field is what matters.
              "connection.url": "jdbc:postgresql://127.0.0.1:9/probe", "connection.username": reference}
    response = httpx.put(f"{url}/connector-plugins/{JDBC_SINK}/config/validate", json=config,
                         auth=connect_auth(), timeout=60)
    assert response.status_code == 200, response.text[:300]
    for entry in response.json()["configs"]:
        if entry["value"]["name"] == "connection.username":
            return str(entry["value"]["value"])
    raise AssertionError("connection.username missing from the validate answer")


def test_config_providers_resolve_only_inside_the_connect_secrets_folder(url, tmp_path):
    token = uuid.uuid4().hex
    # Control: a value in the allowed folder is resolved, so the probe below can tell resolved from not.
    allowed = Path(os.environ["CONNECT_SECRETS_DIR"]) / f"probe-{token[:8]}"
    allowed.mkdir(mode=0o700)
    outside = tmp_path / "outside"
    outside.mkdir()
    try:
        (allowed / "value").write_text(token)
        assert _validated_value(url, "${dir:%s:value}" % allowed) == token
        (outside / "value").write_text(token)
        (outside / "value.properties").write_text(f"key={token}\n")
        for reference in ("${dir:%s:value}" % outside, "${file:%s:key}" % (outside / "value.properties"),
                          "${file:/etc/passwd:root}", "${dir:/etc:hostname}",
                          "${dir:%s:connect_rest_password}" % Path(os.environ["CDCFLOW_STACK_DIR"], "secrets")):
            resolved = _validated_value(url, reference)
            assert token not in resolved and resolved == reference, (reference, resolved)
    finally:
        for path in (allowed / "value", allowed):
            path.unlink() if path.is_file() else path.rmdir()
