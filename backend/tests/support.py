"""Helpers shared by tests that talk to the real stack: DSNs, polling, row hashing."""

import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

from cdcflow.core.config import Settings
from cdcflow.engine.connect.client import ConnectClient

T = TypeVar("T")


def connect_auth() -> tuple[str, str]:
    """Basic-auth credentials for Kafka Connect's REST API (KAFKA_CONNECT_USER / _PASSWORD_FILE from .stack/env)."""
    auth = Settings().connect_auth()
    assert auth is not None, "KAFKA_CONNECT_USER is not set: restart the stack (stack/stackctl up)"
    return auth


def connect_client(timeout: float = 30.0) -> ConnectClient:
    return ConnectClient.from_settings(Settings(), timeout=timeout)


def dsn_for(superuser_dsn: str, dbname: str) -> str:
    parts = urlsplit(superuser_dsn)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, connect_timeout=5)


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.5, what: str = "condition") -> T:
    """Poll until `check()` returns a truthy value; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


def table_fingerprint(conn: psycopg.Connection, table: str, order_by: str = "id") -> tuple[int, str]:
    """Row count and an md5 over every row's text form, in key order: equal fingerprints mean equal tables."""
    row = conn.execute(
        f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY {order_by})), '') FROM {table} t"
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])
