"""A rogue MySQL/MariaDB server on 127.0.0.1 for the security tests: it greets like MariaDB, then tries to get the
client's password with an RSA key of its own (caching_sha2_password full authentication, or sha256_password), or
only records whether the client asks for TLS. It keeps every password it managed to decrypt."""

import socket
import struct
import threading
from contextlib import closing

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Capability flags (MySQL protocol).
LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41, SSL, TRANSACTIONS = 0x1, 0x8, 0x200, 0x800, 0x2000
SECURE_CONNECTION, MULTI_RESULTS, PLUGIN_AUTH, LENENC_DATA = 0x8000, 0x20000, 0x80000, 0x200000
BASE_CAPS = LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | MULTI_RESULTS | \
    PLUGIN_AUTH | LENENC_DATA
SALT = b"abcdefghijklmnopqrst"  # 20 bytes
ACCESS_DENIED = b"\xff" + struct.pack("<H", 1045) + b"#28000" + b"Access denied"


def _xor(data: bytes, salt: bytes) -> bytes:
    return bytes(b ^ salt[i % len(salt)] for i, b in enumerate(data))


class RogueMariaDB:
    """variant: 'caching_sha2' (initial plugin, then "perform full authentication"), 'switch_sha256' (greets with
    mysql_native_password, switches to sha256_password), 'sha256' (initial plugin sha256_password), or 'tls_probe'
    (offers TLS; records whether the client's first packet asks for it, then hangs up)."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.stolen: list[bytes] = []
        self.asked_for_tls: bool | None = None
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                continue
            with closing(client):
                client.settimeout(5)
                try:
                    self._talk(client)
                except (OSError, ValueError):
                    pass

    # ------------------------------------------------------------------------------------------ protocol

    def _send(self, client: socket.socket, seq: int, payload: bytes) -> None:
        client.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload)

    def _read(self, client: socket.socket) -> tuple[int, bytes]:
        header = self._exactly(client, 4)
        length = int.from_bytes(header[:3], "little")
        return header[3], self._exactly(client, length)

    @staticmethod
    def _exactly(client: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = client.recv(n - len(data))
            if not chunk:
                raise ValueError("closed")
            data += chunk
        return data

    def _greeting(self, plugin: bytes, caps: int) -> bytes:
        return (b"\x0a" + b"5.5.5-10.11.0-MariaDB-rogue\x00" + struct.pack("<I", 7) + SALT[:8] + b"\x00"
                + struct.pack("<H", caps & 0xFFFF) + b"\x21" + struct.pack("<H", 2) + struct.pack("<H", caps >> 16)
                + bytes([21]) + b"\x00" * 10 + SALT[8:] + b"\x00" + plugin + b"\x00")

    def _decrypt(self, data: bytes) -> None:
        try:
            plain = self.key.decrypt(data, padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()),
                                                        algorithm=hashes.SHA1(), label=None))
        except ValueError:
            return
        self.stolen.append(_xor(plain, SALT).rstrip(b"\x00"))

    def _talk(self, client: socket.socket) -> None:
        initial = {"caching_sha2": b"caching_sha2_password", "switch_sha256": b"mysql_native_password",
                   "sha256": b"sha256_password", "tls_probe": b"mysql_native_password"}[self.variant]
        caps = BASE_CAPS | (SSL if self.variant == "tls_probe" else 0)
        self._send(client, 0, self._greeting(initial, caps))
        seq, response = self._read(client)
        if self.variant == "tls_probe":
            flags = struct.unpack("<I", response[:4])[0]
            self.asked_for_tls = bool(flags & SSL) and len(response) == 32
            return
        if self.variant == "caching_sha2":
            self._send(client, seq + 1, b"\x01\x04")  # perform full authentication
            seq, answer = self._read(client)
            if answer == b"\x02":  # the client asks for our public key
                self._send(client, seq + 1, b"\x01" + self.pem)
                seq, answer = self._read(client)
            self._decrypt(answer)
        elif self.variant == "switch_sha256":
            self._send(client, seq + 1, b"\xfe" + b"sha256_password\x00" + SALT + b"\x00")
            seq, answer = self._read(client)
            if answer == b"\x01":
                self._send(client, seq + 1, b"\x01" + self.pem)
                seq, answer = self._read(client)
            self._decrypt(answer)
        else:  # sha256 as the initial plugin: the handshake response carried \x01, "send me your key"
            self._send(client, seq + 1, b"\x01" + self.pem)
            seq, answer = self._read(client)
            self._decrypt(answer)
        self._send(client, seq + 1, ACCESS_DENIED)
