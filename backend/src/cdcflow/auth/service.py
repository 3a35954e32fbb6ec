"""Authentication: verify credentials, issue access + refresh tokens, rotate refresh tokens, detect reuse."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.auth.ratelimit import FailureLimiter
from cdcflow.auth.schemas import TokenPair
from cdcflow.core.config import Settings
from cdcflow.core.errors import TooManyRequests, Unauthorized
from cdcflow.core.security import (
    DUMMY_PASSWORD_HASH,
    create_access_token,
    hash_refresh_token,
    new_refresh_token,
    verify_password,
)
from cdcflow.models import RefreshToken, User

BAD_CREDENTIALS = "Invalid username or password"


class LoginGuard:
    """Per-user and per-client failure limits for one API process."""

    def __init__(self, settings: Settings) -> None:
        window = settings.login_failure_window_seconds
        self.per_user = FailureLimiter(settings.login_max_failures_per_user, window)
        self.per_client = FailureLimiter(settings.login_max_failures_per_client, window)

    def check(self, username: str, client: str | None) -> None:
        wait = max(self.per_user.retry_after(username.lower()), self.per_client.retry_after(client or "?"))
        if wait:
            raise TooManyRequests("Too many failed logins; try again later", {"retry_after_seconds": wait})

    def failed(self, username: str, client: str | None) -> None:
        self.per_user.fail(username.lower())
        self.per_client.fail(client or "?")

    def succeeded(self, username: str) -> None:
        self.per_user.reset(username.lower())


def _issue(session: Session, settings: Settings, user: User, family_id: uuid.UUID) -> TokenPair:
    access, expires_in = create_access_token(settings.jwt_secret, user.id, user.role.value,
                                             settings.access_token_minutes)
    refresh, refresh_hash = new_refresh_token()
    session.add(RefreshToken(user_id=user.id, token_hash=refresh_hash, family_id=family_id,
                             expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days)))
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=expires_in)


def login(session: Session, settings: Settings, guard: LoginGuard, username: str, password: str,
          client: str | None) -> TokenPair:
    guard.check(username, client)
    user = session.scalar(select(User).where(User.username == username))
    # Same work and the same message whether the user is unknown, inactive or the password is wrong.
    valid = verify_password(password, user.password_hash if user else DUMMY_PASSWORD_HASH)
    if not (user and valid and user.active):
        guard.failed(username, client)
        record(session, username[:64], "auth.login_failed", client_ip=client)
        raise Unauthorized(BAD_CREDENTIALS)
    guard.succeeded(username)
    user.last_login_at = datetime.now(UTC)
    record(session, user.username, "auth.login", f"user:{user.id}", client_ip=client)
    return _issue(session, settings, user, family_id=uuid.uuid4())


def _revoke_family(session: Session, family_id: uuid.UUID) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC)))


class RefreshReuse(Unauthorized):
    """A rotated refresh token came back: the family is revoked and must be committed as such."""


def refresh(session: Session, settings: Settings, token: str, client: str | None) -> TokenPair:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
                            .with_for_update())
    if stored is None:
        raise Unauthorized("Invalid refresh token")
    if stored.revoked_at is not None:
        # Reuse of a rotated token means it leaked: end every session descended from the same login.
        _revoke_family(session, stored.family_id)
        record(session, "system", "auth.refresh_reuse", f"user:{stored.user_id}", client_ip=client)
        raise RefreshReuse("Refresh token was already used; please log in again")
    user = session.get(User, stored.user_id)
    if stored.expires_at <= datetime.now(UTC) or user is None or not user.active:
        raise Unauthorized("Invalid refresh token")
    stored.revoked_at = datetime.now(UTC)
    return _issue(session, settings, user, family_id=stored.family_id)


def logout(session: Session, token: str, client: str | None) -> None:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token)))
    if stored is not None:
        _revoke_family(session, stored.family_id)
        record(session, "system", "auth.logout", f"user:{stored.user_id}", client_ip=client)
