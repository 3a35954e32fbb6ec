"""Writes audit rows in the caller's transaction; anything that looks like a secret is redacted first."""

import re
from typing import Any

from sqlalchemy.orm import Session

from cdcflow.core.deps import Actor
from cdcflow.models import AuditLog

_SECRET_KEY = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and len(value) > 500:
        return value[:500] + "…"
    return value


def record(session: Session, actor: Actor | str, action: str, target: str | None = None,
           details: dict[str, Any] | None = None, client_ip: str | None = None) -> None:
    name = actor.username if isinstance(actor, Actor) else actor
    ip = actor.client_ip if isinstance(actor, Actor) else client_ip
    session.add(AuditLog(actor=name, action=action, target=target, client_ip=ip, details=redact(details or {})))
