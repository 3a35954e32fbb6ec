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


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    keys = ["DATABASE_URL", "PG_SUPERUSER_DSN", "PG_HOST", "PG_PORT", "KAFKA_BOOTSTRAP_SERVERS",
            "KAFKA_CONNECT_URL", "CONNECT_SECRETS_DIR"]
    return {k: os.environ[k] for k in keys}
