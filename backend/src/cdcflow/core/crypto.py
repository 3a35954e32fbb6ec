"""Encryption of stored secrets (connection passwords): AES-256-GCM, with the key id in every ciphertext.

Format: ``v1:<key id>:<base64(nonce || ciphertext+tag)>``. The key id is derived from the key itself, so rotating
means: set a new CDCFLOW_SECRET_KEY, move the old one to CDCFLOW_SECRET_KEYS_PREVIOUS, and optionally run
``cdcflow reencrypt-secrets`` to rewrite old rows under the new key.
"""

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class SecretDecryptionError(Exception):
    pass


def _derive(secret: str) -> tuple[str, bytes]:
    digest = hashlib.sha256(("cdcflow-secret-key:" + secret).encode()).digest()
    key_id = hashlib.sha256(digest).hexdigest()[:12]
    return key_id, digest


class SecretBox:
    def __init__(self, current: str, previous: list[str] | None = None) -> None:
        self.current_key_id, current_key = _derive(current)
        self._keys = {self.current_key_id: current_key}
        for old in previous or []:
            if old:
                key_id, key = _derive(old)
                self._keys.setdefault(key_id, key)

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self.current_key_id]).encrypt(nonce, plaintext.encode(), None)
        return f"v1:{self.current_key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> str:
        try:
            version, key_id, payload = token.split(":", 2)
        except ValueError as exc:
            raise SecretDecryptionError("not an encrypted secret") from exc
        if version != "v1":
            raise SecretDecryptionError(f"unknown secret format {version!r}")
        key = self._keys.get(key_id)
        if key is None:
            raise SecretDecryptionError(f"no key configured for key id {key_id}")
        raw = base64.b64decode(payload)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode()
        except Exception as exc:
            raise SecretDecryptionError("secret could not be decrypted") from exc

    def needs_rotation(self, token: str) -> bool:
        return token.split(":", 2)[1] != self.current_key_id


def secret_box_from_settings(settings) -> SecretBox:
    previous = [k.strip() for k in settings.secret_keys_previous.split(",") if k.strip()]
    return SecretBox(settings.secret_key, previous)
