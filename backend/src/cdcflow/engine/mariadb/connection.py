"""Open a MariaDB connection (PyMySQL) from a DatabaseEndpoint, with errors safe to show.

The same rules as for PostgreSQL (engine/postgres/inspect.py): the address is checked by the outbound policy and
pinned (we connect to the checked address, never re-resolve the name), a failure says only what the caller may
know (wrong password, unknown database; anything else is "could not connect"), and a password never travels in
clear: the server may not switch us to mysql_clear_password, dialog (PAM) or the broken pre-4.1 hash.

Nor may it get the password encrypted to a key of its choosing: caching_sha2_password's full authentication and
sha256_password send the password itself, either over TLS or RSA-encrypted to the server's public key, which a
rogue server simply makes up. So the fast (scramble) path of caching_sha2_password is fine, and the full password
goes only over TLS whose certificate was verified (sslmode verify-ca or verify-full); public-key retrieval never.

TLS modes mean what they mean for PostgreSQL: disable and allow never ask for TLS (allow has no "retry with TLS"
here), prefer asks when the server offers it and falls back to plain text, require insists without checking the
certificate, verify-ca checks the chain, verify-full the host name too.
"""

import socket
import ssl
from typing import Any

import pymysql
from pymysql import _auth

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable

__all__ = ["COULD_NOT_CONNECT", "EndpointUnreachable", "connect", "describe_error"]

COULD_NOT_CONNECT = "Could not connect to the server"
AUTH_FAILED = "Authentication failed: wrong username or password"
AUTH_METHOD_REFUSED = ("Authentication failed: the server asked for a password method that would send the "
                       "password in clear (mysql_clear_password, PAM dialog or the pre-4.1 hash); cdcflow refuses it")
TLS_REQUIRED = "The server does not support TLS, but the connection's sslmode requires it"
SHA2_REFUSED = ("Authentication failed: the server asked for the password itself (caching_sha2_password full "
                "authentication or sha256_password) without TLS with a verified certificate; cdcflow refuses it "
                "(use sslmode verify-ca or verify-full, or a mysql_native_password or ed25519 account)")

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


class _Sha2Refused(pymysql.err.OperationalError):
    pass


def _verified_tls(connection: Any) -> bool:
    """TLS is up and the server's certificate was checked against trusted roots."""
    ctx = getattr(connection, "ctx", None)
    return bool(getattr(connection, "_secure", False)) and ctx is not None and ctx.verify_mode == ssl.CERT_REQUIRED


class _CachingSha2Guard:
    """caching_sha2_password: the scramble (fast path) is answered; "perform full authentication" gets the password
    only over verified TLS, and the server's public key is never asked for."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def authenticate(self, packet: Any) -> Any:
        conn = self.connection
        if _verified_tls(conn) or not conn.password:
            return _auth.caching_sha2_password_auth(conn, packet)
        if packet.is_auth_switch_request():
            conn.salt = packet.read_all().rstrip(b"\0")
            packet = _auth._roundtrip(conn, _auth.scramble_caching_sha2(conn.password, conn.salt))
        if not packet.is_extra_auth_data():
            return packet
        packet.advance(1)
        if packet.read_uint8() == 3:  # fast authentication succeeded: the OK packet follows
            reply = conn._read_packet()
            reply.check_error()
            return reply
        raise _Sha2Refused()


class _Sha256Guard:
    """sha256_password sends the password itself: only over verified TLS."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def authenticate(self, packet: Any) -> Any:
        if _verified_tls(self.connection):
            return _auth.sha256_password_auth(self.connection, packet)
        raise _Sha2Refused()


AUTH_PLUGINS: dict[str, Any] = {name: _RefusedPlugin for name in ("mysql_clear_password", "dialog",
                                                                  "mysql_old_password")}
AUTH_PLUGINS |= {"caching_sha2_password": _CachingSha2Guard, "sha256_password": _Sha256Guard}
REFUSED_PLUGINS = AUTH_PLUGINS  # the name other modules and tests know


class _GuardedConnection(pymysql.connections.Connection):
    """Refuses a greeting that opens with sha256_password unless verified TLS is required: PyMySQL would answer it
    with the password in the handshake response itself (over TLS, verified or not)."""

    def _get_server_information(self) -> None:
        super()._get_server_information()
        if self._auth_plugin_name == "sha256_password" and not (
                self._ssl_required and self.ctx.verify_mode == ssl.CERT_REQUIRED):
            raise _Sha2Refused()


def describe_error(exc: Exception) -> str:
    if isinstance(exc, _CleartextRefused):
        return AUTH_METHOD_REFUSED
    if isinstance(exc, _Sha2Refused):
        return SHA2_REFUSED
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
    """PostgreSQL's sslmode spelled for PyMySQL (see the module docstring). prefer is PyMySQL's own preferred mode
    (no TLS option given: TLS if the server offers it, certificate unchecked, else plain text); _prefer_tls makes
    sure of it."""
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


def _prefer_tls(conn: pymysql.connections.Connection) -> None:
    """prefer: TLS when the server offers it, falling back to plain text (PyMySQL >= 1.2 does this when given no
    TLS option; set it here so the mode does not depend on that default)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn.ssl, conn._ssl_required, conn.ctx = True, False, context


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
        conn = _GuardedConnection(
            host=endpoint.host, port=endpoint.port, user=endpoint.username, password=endpoint.password,
            database=endpoint.database, connect_timeout=timeout, charset="utf8mb4", defer_connect=True,
            auth_plugin_map=AUTH_PLUGINS, program_name="cdcflow", **_tls_options(endpoint.sslmode), **kwargs)
        if endpoint.sslmode == "prefer":
            _prefer_tls(conn)
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
