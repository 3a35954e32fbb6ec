"""Sends queued notifications (alert_deliveries) from a loop service, never from a request: each one is claimed in
a short transaction, sent with no transaction open, and its outcome recorded in another; failures are retried with
exponential backoff up to `alert_delivery_max_attempts`. Claims expire, so a process that dies mid-send leaves the
notification to the next one (a receiver may then see it twice, with the same X-Cdcflow-Delivery id)."""

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.alerts.channels import SendResult, send
from cdcflow.engine.outbound import OutboundPolicy
from cdcflow.core.config import Settings
from cdcflow.core.crypto import SecretBox, SecretDecryptionError
from cdcflow.core.db import session_scope
from cdcflow.core.loop import LoopService
from cdcflow.models import AlertChannel, AlertDelivery

logger = logging.getLogger(__name__)
BACKOFF_SECONDS = 5
BATCH = 10


@dataclass(frozen=True)
class Claimed:
    id: int
    channel_name: str
    kind: str | None
    url: str | None
    secret: str | None
    payload: dict[str, Any]
    problem: str | None        # a reason not to send at all (channel gone, disabled, undecryptable)


def channel_target(box: SecretBox, channel: AlertChannel | None) -> tuple[str | None, str | None, str | None]:
    """(url, secret, problem)."""
    if channel is None:
        return None, None, "the channel was deleted"
    if not channel.enabled:
        return None, None, "the channel is disabled"
    try:
        secret = box.decrypt(channel.secret_encrypted) if channel.secret_encrypted else None
        return box.decrypt(channel.url_encrypted), secret, None
    except SecretDecryptionError:
        return None, None, ("the channel's URL or secret cannot be decrypted: add the key it was stored with to "
                            "CDCFLOW_SECRET_KEYS_PREVIOUS")


class DeliveryWorker(LoopService):
    name = "alert-delivery"
    run_first = True

    def __init__(self, session_factory: sessionmaker[Session], box: SecretBox, settings: Settings,
                 interval: float = 1.0) -> None:
        super().__init__()
        self.session_factory, self.box, self.settings, self.interval = session_factory, box, settings, interval
        self.policy = OutboundPolicy.from_settings(settings)

    def run_once(self) -> None:
        while not self._stop.is_set():
            batch = self._claim()
            if not batch:
                return
            for claimed in batch:
                if claimed.problem:
                    result = SendResult(False, None, claimed.problem, 0.0)
                else:
                    result = send(claimed.kind, claimed.url, claimed.secret, claimed.payload, str(claimed.id),
                                  self.settings.alert_delivery_timeout_seconds, self.policy)
                self._record(claimed, result)

    def _claim(self) -> list[Claimed]:
        hold = self.settings.alert_delivery_timeout_seconds * 2 + 10
        claimed = []
        with session_scope(self.session_factory) as session:
            rows = session.scalars(
                select(AlertDelivery).where(AlertDelivery.status == "pending",
                                            AlertDelivery.next_attempt_at <= text("now()"),
                                            or_(AlertDelivery.claimed_until.is_(None),
                                                AlertDelivery.claimed_until < text("now()")))
                .order_by(AlertDelivery.id).limit(BATCH).with_for_update(skip_locked=True)).all()
            for d in rows:
                d.claimed_until = text(f"now() + interval '{int(hold)} seconds'")
                channel = session.get(AlertChannel, d.channel_id) if d.channel_id else None
                url, secret, problem = channel_target(self.box, channel)
                claimed.append(Claimed(d.id, d.channel_name, channel.kind if channel else None, url, secret,
                                       d.payload, problem))
        return claimed

    def _record(self, claimed: Claimed, result: SendResult) -> None:
        max_attempts = self.settings.alert_delivery_max_attempts
        with session_scope(self.session_factory) as session:
            d = session.get(AlertDelivery, claimed.id, with_for_update=True)
            if d is not None:
                self._outcome(d, claimed, result, max_attempts)

    @staticmethod
    def _outcome(d: AlertDelivery, claimed: Claimed, result: SendResult, max_attempts: int) -> None:
        d.attempts += 1
        d.claimed_until, d.response_status = None, result.status_code
        if result.ok:
            d.status, d.delivered_at, d.last_error = "delivered", text("now()"), None
            return
        d.last_error = result.error
        if claimed.problem or d.attempts >= max_attempts:
            d.status = "failed"
            logger.warning("alert notification %d to channel %s failed for good after %d attempt(s): %s",
                           d.id, d.channel_name, d.attempts, result.error)
        else:
            delay = BACKOFF_SECONDS * 2 ** (d.attempts - 1)
            d.next_attempt_at = text(f"now() + interval '{int(delay)} seconds'")
            logger.info("alert notification %d to channel %s failed (attempt %d, retry in %d s): %s",
                        d.id, d.channel_name, d.attempts, delay, result.error)
