"""Open a MariaDB connection (PyMySQL) from a DatabaseEndpoint, with errors safe to show.

The same rules as for PostgreSQL (engine/postgres/inspect.py): the address is checked by the outbound policy and
pinned (we connect to the checked address, never re-resolve the name), a failure says only what the caller may
know (wrong password, unknown database; anything else is "could not connect"), and a password never travels in
clear: the server may not switch us to mysql_clear_password, dialog (PAM) or the broken pre-4.1 hash.
"""

import socket
import ssl
from typing import Any

import pymysql

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable

__all__ = ["COULD_NOT_CONNECT", "EndpointUnreachable", "connect", "describe_error"]

COULD_NOT_CONNECT = "Could not connect to the server"
AUTH_FAILED = "Authentication failed: wrong username or password"
AUTH_METHOD_REFUSED = ("Authentication failed: the server asked for a password method that would send the "
                       "password in clear (mysql_clear_password, PAM dialog or the pre-4.1 hash); cdcflow refuses it")
TLS_REQUIRED = "The server does not support TLS, but the connection's sslmode requires it"

# MariaDB error numbers the caller may learn about (everything else is COULD_NOT_CONNECT).
ER_ACCESS_DENIED = 1045
ER_DBACCESS_DENIED = 1044
ER_BAD_DB = 1049
ER_HOST_NOT_PRIVILEGED = 1130


class _RefusedPlugin:
    """Answers an authentication switch to a plugin that would expose the password."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def authenticate(self, packet: Any) -> Any:
        raise _CleartextRefused()

    def prompt(self, echo: bool, prompt: bytes) -> bytes:
        raise _CleartextRefused()


class _CleartextRefused(pymysql.err.OperationalError):
    pass


REFUSED_PLUGINS = {name: _RefusedPlugin for name in ("mysql_clear_password", "dialog", "mysql_old_password")}


def describe_error(exc: Exception) -> str:
    if isinstance(exc, _CleartextRefused):
        return AUTH_METHOD_REFUSED
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code == ER_ACCESS_DENIED:
        return AUTH_FAILED
    if code == ER_DBACCESS_DENIED:
        return "Access denied: this user may not use the database"
    if code == ER_BAD_DB:
        return "Database does not exist"
    if code == ER_HOST_NOT_PRIVILEGED:
        return "Authentication failed: the server does not allow this user from this client's address"
    if "ssl is required" in str(exc).lower():
        return TLS_REQUIRED
    return COULD_NOT_CONNECT


def _tls_options(sslmode: str) -> dict[str, Any]:
    """PostgreSQL's sslmode spelled for PyMySQL: prefer tries TLS and falls back; require insists but trusts any
    certificate; verify-ca checks the chain, verify-full the host name too."""
    if sslmode in ("disable", "allow"):
        return {"ssl_disabled": True}
    if sslmode == "prefer":
        return {}
    context = ssl.create_default_context()
    if sslmode == "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif sslmode == "verify-ca":
        context.check_hostname = False
    return {"ssl": context}


def _open_socket(addresses: tuple[str, ...], port: int, timeout: int) -> socket.socket:
    last: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout)
        except OSError as exc:
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock
    raise EndpointUnreachable(COULD_NOT_CONNECT) from last


def connect(endpoint: DatabaseEndpoint, timeout: int, **kwargs: Any) -> pymysql.connections.Connection:
    """A PyMySQL connection to the endpoint's database (autocommit off, UTC session time zone, utf8mb4).

    `timeout` bounds the connect and, unless `read_timeout` is passed, every read: a long full-load query should
    pass `read_timeout=None` (or its own bound). Other keyword arguments go to pymysql.connect (cursorclass,
    autocommit, ...). Raises EndpointUnreachable with a message safe to show."""
    kwargs.setdefault("read_timeout", timeout)
    kwargs.setdefault("write_timeout", timeout)
    # Timestamps travel in UTC whatever the server's default time zone is.
    kwargs.setdefault("init_command", "SET time_zone = '+00:00'")
    if endpoint.guard is not None:
        addresses = endpoint.guard.check(endpoint.host, endpoint.port, endpoint.database)
    else:
        addresses = (endpoint.host,)
    try:
        conn = pymysql.connect(
            host=endpoint.host, port=endpoint.port, user=endpoint.username, password=endpoint.password,
            database=endpoint.database, connect_timeout=timeout, charset="utf8mb4", defer_connect=True,
            auth_plugin_map=REFUSED_PLUGINS, program_name="cdcflow",

            **_tls_options(endpoint.sslmode), **kwargs)
    except pymysql.Error as exc:  # invalid option combinations are ours, not the server's
        raise EndpointUnreachable(describe_error(exc)) from None
    sock = _open_socket(addresses, endpoint.port, timeout)
    try:
        # Our socket to the checked address; PyMySQL keeps `host` (the name) for TLS verification.
        conn.connect(sock)
    except (pymysql.Error, OSError) as exc:
        sock.close()
        raise EndpointUnreachable(describe_error(exc)) from None
    if endpoint.sslmode == "require" or endpoint.sslmode.startswith("verify"):
        # PyMySQL only falls back to plain text in its preferred mode; say plainly when TLS was asked for.
        if not getattr(conn, "_secure", False):
            conn.close()
            raise EndpointUnreachable(TLS_REQUIRED)
    return conn
