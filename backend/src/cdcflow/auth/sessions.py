"""Login sessions: which access tokens are still good, and how sessions end (one login, or all of a user's).

An access token names its user, the user's token version (`ver`) and its login session (`sid`, the refresh-token
family). It is good while the user is active, the version still matches and the family still has a live refresh
token. So:

* logout and refresh-token reuse revoke one family: that session's access tokens die, the user's other sessions
  live on (logging out on the laptop does not log out the phone);
* password change, role change, deactivation and deletion bump the version: every access token of the user dies.

Both checks cost one indexed query, made where the user row is loaded anyway. Ended sessions are announced after
the transaction commits (Socket.IO disconnects that user's sockets); see `on_sessions_ended`.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.security import AccessClaims, InvalidToken, decode_access_token
from cdcflow.models import RefreshToken, User

logger = logging.getLogger(__name__)
_PENDING = "cdcflow.sessions_ended"


@dataclass(frozen=True)
class SessionsEnded:
    """Every session of `user_id` ended, or only the login session `session_id` when it is set."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None = None

    def covers(self, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
        return user_id == self.user_id and self.session_id in (None, session_id)


def _live_family(session_id: uuid.UUID):
    return exists().where(RefreshToken.family_id == session_id, RefreshToken.user_id == User.id,
                          RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > datetime.now(UTC))


def user_for_claims(session: Session, claims: AccessClaims) -> User:
    """The token's user if the token is still good; InvalidToken otherwise (no detail: all failures look alike)."""
    row = session.execute(select(User, _live_family(claims.session_id)).where(User.id == claims.user_id)).first()
    if row is None:
        raise InvalidToken("unknown user")
    user, family_live = row
    if not user.active or user.token_version != claims.version or not family_live:
        raise InvalidToken("session ended")
    return user


def authenticate(session: Session, secret: str, token: str) -> tuple[User, AccessClaims]:
    claims = decode_access_token(secret, token)
    return user_for_claims(session, claims), claims


def end_all_sessions(session: Session, user: User, *, revoke_refresh: bool) -> None:
    """Kill every access token of `user` now; with `revoke_refresh` the refresh tokens too (a role change keeps
    them, so the user's clients silently refresh into a token with the new role)."""
    user.token_version = (user.token_version or 0) + 1
    if revoke_refresh:
        session.execute(update(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(UTC)))
    _announce(session, SessionsEnded(user.id))


def end_session(session: Session, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
    """Revoke one login session (a refresh-token family): its refresh and access tokens stop working."""
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(UTC)))
    _announce(session, SessionsEnded(user_id, family_id))


def user_deleted(session: Session, user_id: uuid.UUID) -> None:
    _announce(session, SessionsEnded(user_id))


def _announce(session: Session, ended: SessionsEnded) -> None:
    session.info.setdefault(_PENDING, []).append(ended)


def on_sessions_ended(factory: sessionmaker[Session], listener: Callable[[list[SessionsEnded]], None]) -> None:
    """Call `listener` after a session of `factory` commits a transaction that ended sessions (never before: a
    rolled-back logout must not disconnect anyone, and a socket must not reconnect before the change is visible)."""

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        ended = session.info.pop(_PENDING, None)
        if ended:
            try:
                listener(ended)
            except Exception:  # the change is committed; a failed notification must not fail the request
                logger.exception("could not announce ended sessions")

    @event.listens_for(factory, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)
