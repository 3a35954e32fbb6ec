"""Password hashing (bcrypt), access tokens (JWT, HS256 only) and opaque refresh tokens (stored as SHA-256)."""

import hashlib
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt

ALGORITHM = "HS256"
# bcrypt only reads 72 bytes; longer passwords are pre-hashed so every byte counts.
_BCRYPT_LIMIT = 72


def _password_bytes(password: str) -> bytes:
    raw = password.encode()
    if len(raw) > _BCRYPT_LIMIT:
        raw = base64_sha256(raw)
    return raw


def base64_sha256(raw: bytes) -> bytes:
    import base64

    return base64.b64encode(hashlib.sha256(raw).digest())


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(rounds=12)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_password_bytes(password), password_hash.encode())
    except ValueError:
        return False


# A real hash to compare against when the user does not exist, so both failures cost the same time.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))


class InvalidToken(Exception):
    pass


def create_access_token(secret: str, user_id: uuid.UUID, role: str, minutes: int, *, version: int,
                        session_id: uuid.UUID) -> tuple[str, int]:
    """`ver` is the user's token version and `sid` the refresh-token family (the login session) the token belongs
    to: both are checked on every request, so bumping the version or revoking the family ends the token at once."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "type": "access", "iat": now,
              "exp": now + timedelta(minutes=minutes), "jti": uuid.uuid4().hex, "ver": version,
              "sid": str(session_id)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), minutes * 60


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    version: int
    expires_at: float = math.inf  # unix seconds ("exp"): a long-lived holder (a socket) must stop there

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


def decode_access_token(secret: str, token: str) -> AccessClaims:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected token algorithm")
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "iat", "sub", "type", "ver", "sid"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("type") != "access":
        raise InvalidToken("not an access token")
    version = claims["ver"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidToken("bad token version")
    try:
        return AccessClaims(uuid.UUID(str(claims["sub"])), uuid.UUID(str(claims["sid"])), version,
                            float(claims["exp"]))
    except ValueError as exc:
        raise InvalidToken("malformed subject or session") from exc


def new_refresh_token() -> tuple[str, str]:
    """A random refresh token and the hash under which it is stored."""
    token = secrets.token_urlsafe(48)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
