"""User CRUD with the guard rails that keep an installation administrable."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cdcflow.audit.service import record
from cdcflow.auth import sessions
from cdcflow.core.deps import Actor
from cdcflow.core.errors import Conflict, NotFound
from cdcflow.core.security import hash_password
from cdcflow.models import Role, User
from cdcflow.users.schemas import UserCreate, UserUpdate


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def create_user(session: Session, actor: Actor | str, body: UserCreate) -> User:
    if session.scalar(select(User.id).where(func.lower(User.username) == body.username.lower())):
        raise Conflict(f"A user named {body.username!r} already exists")
    user = User(username=body.username, password_hash=hash_password(body.password), role=body.role, active=True)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", f"user:{user.id}", {"username": user.username, "role": user.role.value})
    return user


def _other_active_admins(session: Session, user_id: uuid.UUID) -> int:
    """Locks every active admin's row first, so two admins demoting (or deactivating, deleting) each other at once
    are serialised: the second waits, then counts what the first left, and is refused if nobody would be left."""
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
                             .order_by(User.id).with_for_update()).all()
    return sum(1 for admin_id in admins if admin_id != user_id)


def update_user(session: Session, actor: Actor, user_id: uuid.UUID, body: UserUpdate) -> User:
    user = get_user(session, user_id)
    if user.id == actor.user_id:
        # One toggle would lock the caller out (their sessions end at once) with nobody to undo it from inside.
        if body.active is False:
            raise Conflict("You cannot deactivate your own account; ask another admin")
        if body.role is not None and body.role != user.role:
            raise Conflict("You cannot change your own role; ask another admin")
    losing_admin = user.role == Role.ADMIN and (
        (body.role is not None and body.role != Role.ADMIN) or body.active is False)
    if losing_admin and _other_active_admins(session, user.id) == 0:
        raise Conflict("This is the last active admin; promote another admin first")
    changes: dict[str, object] = {}
    role_changed = body.role is not None and body.role != user.role
    if body.role is not None:
        user.role = body.role
        changes["role"] = body.role.value
    if body.active is not None:
        user.active = body.active
        changes["active"] = body.active
    if body.password is not None:
        user.password_hash = hash_password(body.password)
        changes["password"] = "changed"
    # Whoever loses a role, a password or the account loses every access token now (and open sockets). A role
    # change keeps the refresh tokens: the user's clients refresh into a token that carries the new role.
    revoke_refresh = body.active is False or body.password is not None
    if revoke_refresh or role_changed:
        sessions.end_all_sessions(session, user, revoke_refresh=revoke_refresh)
    record(session, actor, "user.update", f"user:{user.id}", changes)
    return user


def delete_user(session: Session, actor: Actor, user_id: uuid.UUID) -> None:
    user = get_user(session, user_id)
    if user.id == actor.user_id:
        raise Conflict("You cannot delete your own account")
    if user.role == Role.ADMIN and _other_active_admins(session, user.id) == 0:
        raise Conflict("This is the last active admin")
    record(session, actor, "user.delete", f"user:{user.id}", {"username": user.username})
    sessions.user_deleted(session, user.id)
    session.delete(user)


def ensure_admin(session: Session, username: str, password: str) -> bool:
    """Create the first admin if that username does not exist yet; never touches an existing account."""
    if session.scalar(select(User.id).where(User.username == username)):
        return False
    create_user(session, "cli", UserCreate(username=username, password=password, role=Role.ADMIN))
    return True
