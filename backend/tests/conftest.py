"""Test settings come from the stack's env file (written by `stack/stackctl up`); no stack, no tests."""

import os
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_stack_env() -> None:
    stack_dir = Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack"))
    env_file = stack_dir / "env"
    if not env_file.exists():
        raise pytest.UsageError(f"{env_file} not found: start the stack first (make stack-up), or run make test")
    for line in env_file.read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            os.environ[key] = shlex.split(value)[0] if value else ""


_load_stack_env()
os.environ.setdefault("CDCFLOW_ENV", "test")
# The API server started by make test / make up runs the one event logger (and its Socket.IO emission); apps built
# in this process must not join its consumer group and take partitions away from it.
os.environ["EVENT_LOGGER_ENABLED"] = "false"
# The session's tokens (auth fixture) must outlive the whole run, which takes longer than the 15-minute default on a
# busy machine; tokens issued by the API server (make test's) keep its own setting.
os.environ.setdefault("ACCESS_TOKEN_MINUTES", "240")


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    keys = ["DATABASE_URL", "PG_SUPERUSER_DSN", "PG_HOST", "PG_PORT", "KAFKA_BOOTSTRAP_SERVERS",
            "KAFKA_CONNECT_URL", "CONNECT_SECRETS_DIR"]
    return {k: os.environ[k] for k in keys}


# ------------------------------------------------------------------------------------------- API fixtures

import uuid as _uuid  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402

from cdcflow.core.config import Settings  # noqa: E402
from cdcflow.main import create_app  # noqa: E402


@pytest.fixture(scope="session")
def app():
    return create_app(Settings())


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def users(app) -> dict[str, dict[str, str]]:
    """One fresh user per role: {role: {"username", "password"}}."""
    from cdcflow.core.db import session_scope
    from cdcflow.models import Role
    from cdcflow.users.schemas import UserCreate
    from cdcflow.users.service import create_user

    created = {}
    for session in session_scope(app.state.session_factory):
        for role in Role:
            username = f"t-{role.value}-{_uuid.uuid4().hex[:8]}"
            password = f"pw-{role.value}-{_uuid.uuid4().hex}"
            create_user(session, "tests", UserCreate(username=username, password=password, role=role))
            created[role.value] = {"username": username, "password": password}
    return created


def login(client, username: str, password: str) -> dict:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="session")
def auth(client, users) -> dict[str, dict[str, str]]:
    """Authorization headers per role."""
    return {role: {"Authorization": f"Bearer {login(client, **creds)['access_token']}"}
            for role, creds in users.items()}
