"""engine/mariadb/connection.py without a real server: a fake one that asks to switch to a cleartext password method
must never receive the password, and sslmode maps onto PyMySQL's TLS options as documented."""

import socket
import ssl
import struct
import threading

import pytest

from cdcflow.engine.endpoints import DatabaseEndpoint, EndpointUnreachable
from cdcflow.engine.mariadb.connection import AUTH_METHOD_REFUSED, _tls_options, connect

PASSWORD = "s3cret-never-in-clear"
CAPABILITIES = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000  # long password, with db, 4.1 protocol, secure conn, plugin auth


def _packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def _handshake() -> bytes:
    return (b"\x0a" + b"5.5.5-10.11.0-MariaDB-fake\x00" + struct.pack("<I", 7) + b"abcdefgh\x00"
            + struct.pack("<H", CAPABILITIES & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
            + struct.pack("<H", CAPABILITIES >> 16) + bytes([21]) + b"\x00" * 10 + b"ijklmnopqrst\x00"
            + b"mysql_native_password\x00")


def _read_packet(conn: socket.socket) -> bytes:
    header = b""
    while len(header) < 4:
        chunk = conn.recv(4 - len(header))
        if not chunk:
            return b""
        header += chunk
    length = int.from_bytes(header[:3], "little")
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return body


@pytest.mark.parametrize("plugin", [b"mysql_clear_password", b"dialog"])
def test_a_switch_to_a_cleartext_method_is_refused_and_the_password_never_sent(plugin):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            conn.sendall(_packet(0, _handshake()))
            received.append(_read_packet(conn))  # the handshake response (a scrambled password, never the text)
            # Dialog asks with a prompt ("Password: ") after its one byte of flags; clear password asks for nothing.
            data = b"\x04Password: " if plugin == b"dialog" else b""
            conn.sendall(_packet(2, b"\xfe" + plugin + b"\x00" + data))
            try:
                while packet := _read_packet(conn):
                    received.append(packet)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    endpoint = DatabaseEndpoint(database_type="mariadb", host="127.0.0.1", port=server.getsockname()[1],
                                database="shop", username="u", password=PASSWORD, sslmode="disable")
    try:
        with pytest.raises(EndpointUnreachable) as caught:
            connect(endpoint, 5)
    finally:
        thread.join(10)
        server.close()
    assert str(caught.value) == AUTH_METHOD_REFUSED
    assert received, "the client never answered the handshake"
    assert not any(PASSWORD.encode() in packet for packet in received)


def test_sslmode_maps_to_pymysql_tls_options():
    assert _tls_options("disable") == {"ssl_disabled": True} == _tls_options("allow")
    assert _tls_options("prefer") == {}  # PyMySQL's preferred mode: TLS when the server offers it
    require, verify_ca, verify_full = (_tls_options(m)["ssl"] for m in ("require", "verify-ca", "verify-full"))
    assert (require.verify_mode, require.check_hostname) == (ssl.CERT_NONE, False)
    assert (verify_ca.verify_mode, verify_ca.check_hostname) == (ssl.CERT_REQUIRED, False)
    assert (verify_full.verify_mode, verify_full.check_hostname) == (ssl.CERT_REQUIRED, True)
