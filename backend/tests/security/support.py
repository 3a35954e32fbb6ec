"""Fakes on 127.0.0.1 for the security tests: a server that asks for a cleartext (or MD5) password, one that
answers with a banner, one that never answers. Each records every byte a client sent it."""

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from cdcflow.core.config import Settings
from cdcflow.main import create_app

SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104
# Backend messages: Authentication request, code 3 = CleartextPassword, code 5 = MD5Password (with a 4-byte salt).
ASK_CLEARTEXT = b"R" + struct.pack("!II", 8, 3)
ASK_MD5 = b"R" + struct.pack("!II", 12, 5) + b"salt"
BANNER = b"SSH-2.0-OpenSSH_9.2p1 banner-7f3c2a\r\n"
_FIELDS = b"SFATAL\x00C28P01\x00Mpassword authentication failed\x00\x00"
AUTH_FAILED = b"E" + struct.pack("!I", 4 + len(_FIELDS)) + _FIELDS


class FakeServer:
    """mode: 'cleartext' / 'md5' (speak the PostgreSQL startup, then ask for a password), 'banner' (greet with
    BANNER like a non-PostgreSQL service), 'silent' (accept and never answer)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.received = bytearray()
        self.finished = 0   # connections the server has read to their end
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _record(self, data: bytes) -> None:
        with self._lock:
            self.received += data

    def _read_packet(self, client: socket.socket) -> bytes:
        header = self._read_exactly(client, 4)
        length = struct.unpack("!I", header)[0]
        return header + self._read_exactly(client, length - 4)

    def _read_exactly(self, client: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = client.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            self._record(chunk)
            data += chunk
        return data

    def _handle(self, client: socket.socket) -> None:
        try:
            if self.mode in ("cleartext", "md5"):
                self._ask_for_a_password(client)
            else:
                self._drain(client, greeting=BANNER if self.mode == "banner" else b"")
        except (ConnectionError, OSError, struct.error):
            pass
        finally:
            client.close()
            with self._lock:
                self.finished += 1

    def _ask_for_a_password(self, client: socket.socket) -> None:
        client.settimeout(15)
        packet = self._read_packet(client)
        while struct.unpack("!I", packet[4:8])[0] in (SSL_REQUEST, GSSENC_REQUEST):
            client.sendall(b"N")  # no TLS: whatever the client answers travels in the clear
            packet = self._read_packet(client)
        client.sendall(ASK_CLEARTEXT if self.mode == "cleartext" else ASK_MD5)
        # A client that accepts sends a password message ('p'); one that refuses hangs up. Either way, end it.
        if self._read_exactly(client, 1) == b"p":
            length = struct.unpack("!I", self._read_exactly(client, 4))[0]
            self._read_exactly(client, length - 4)
            client.sendall(AUTH_FAILED)

    def _drain(self, client: socket.socket, greeting: bytes) -> None:
        """Send the greeting (if any), then read whatever comes until the client hangs up or the server stops."""
        if greeting:
            client.sendall(greeting)
        client.settimeout(0.2)
        deadline = time.monotonic() + 30
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                chunk = client.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return
            self._record(chunk)

    def wait_finished(self, count: int = 1, timeout: float = 15) -> bytes:
        """Every byte received once `count` connections have been read to their end (the client hung up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.finished >= count:
                    return bytes(self.received)
            time.sleep(0.05)
        raise AssertionError(f"the fake server saw {self.finished} finished connections, expected {count}")

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)

    def __enter__(self) -> "FakeServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def api(**settings) -> Iterator[TestClient]:
    """An in-process API on the test stack with some settings changed (no background services)."""
    app = create_app(Settings(run_background_services=False, **settings))
    with TestClient(app) as client:
        yield client
