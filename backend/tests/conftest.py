"""Test settings come from the stack's env file (written by `stack/stackctl up`). Without a stack only the unit tests
(tests/test_unit_*.py: pure logic, no server) run: `make test-unit`; any other test refuses to start."""

import os
import shlex
from pathlib import Path

import pytest

from tests import process_env

REPO = Path(__file__).resolve().parents[2]


STACK_ENV = Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack")) / "env"


def _is_unit(path: Path | str) -> bool:
    return Path(str(path)).name.startswith("test_unit_")


def _load_stack_env() -> None:
    if not STACK_ENV.exists():
        return  # unit tests need none; pytest_ignore_collect leaves every other test out
    for line in STACK_ENV.read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            os.environ[key] = shlex.split(value)[0] if value else ""


_load_stack_env()
process_env.override("CDCFLOW_ENV", "test", only_if_unset=True)
# The API server started by make test / make up runs the one event logger (and its Socket.IO emission); apps built
# in this process must not join its consumer group and take partitions away from it (tests/process_env.py).
process_env.override("EVENT_LOGGER_ENABLED", "false")
# The session fixtures below log in once; on a loaded machine the whole suite can outlast a 15-minute access token
# (and tokens are really checked for expiry, version and session now). An hour covers the run.
process_env.override("ACCESS_TOKEN_MINUTES", "60", only_if_unset=True)


_NEEDS_STACK: list[str] = []


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """Without a stack, only the unit tests are collected; the others are named in the summary."""
    if STACK_ENV.exists() or collection_path.is_dir() or not collection_path.name.startswith("test_"):
        return None
    if _is_unit(collection_path):
        return None
    _NEEDS_STACK.append(collection_path.name)
    return True


def pytest_terminal_summary(terminalreporter) -> None:
    if _NEEDS_STACK:
        terminalreporter.write_line(f"only unit tests ran: {STACK_ENV} is missing, and the other test files need the "
                                    "stack (start it with make stack-up, or run make test)", yellow=True, bold=True)


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    keys = ["DATABASE_URL", "PG_SUPERUSER_DSN", "PG_HOST", "PG_PORT", "KAFKA_BOOTSTRAP_SERVERS",
            "KAFKA_CONNECT_URL", "CONNECT_SECRETS_DIR"]
    return {k: os.environ[k] for k in keys}


@pytest.fixture(autouse=True)
def _fresh_login_limiter(request):
    """The login limiter lives in the database (one state for every API process, this process's apps included), and
    every in-process request comes from the same address ("testclient"): without a clean slate per test, the failed
    logins of earlier tests would lock later tests out. Tests of the limiter fail and succeed within themselves."""
    if _is_unit(request.node.path):
        yield
        return
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, connect_timeout=10) as conn:
        conn.execute("DELETE FROM login_throttle")
    yield


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
    with session_scope(app.state.session_factory) as session:
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


@pytest.fixture(scope="session")
def user_ids(client, auth) -> dict[str, str]:
    """The id of each role's test user."""
    return {role: client.get("/api/v1/auth/me", headers=headers).json()["id"] for role, headers in auth.items()}


@pytest.fixture(scope="session")
def grant(client, auth, user_ids):
    """grant("pipelines", pipeline_id, "viewer", "view"): an admin gives a role's test user access to a resource
    it does not own (resources are visible to their owner, their grantees and admins only)."""

    def give(kind: str, resource_id: str, role: str, level: str = "view") -> None:
        response = client.put(f"/api/v1/{kind}/{resource_id}/grants/{user_ids[role]}", json={"level": level},
                              headers=auth["admin"])
        assert response.status_code == 200, response.text

    return give
