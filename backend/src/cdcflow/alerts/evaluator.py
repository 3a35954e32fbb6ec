"""The alert evaluator, a loop service in every API process: observe (network calls, no transaction open), then in
one short transaction check every enabled rule, fire what newly holds and resolve what no longer does.

A rule sees only what its owner may see (access/policy.py, judged on every pass): an operator's rule for "every
pipeline" watches the pipelines that operator owns or was granted; a rule with no owner is the admins'.
"""

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.alerts import outbox
from cdcflow.alerts.observe import ObservationSource
from cdcflow.alerts.rules import (
    Observations,
    PipelineObservation,
    Verdict,
    check_event_logger,
    check_pipeline,
    hold_seconds,
    resolution,
)
from cdcflow.access.policy import visible_pipeline_ids
from cdcflow.core.db import session_scope
from cdcflow.core.deps import Actor
from cdcflow.core.loop import LoopService
from cdcflow.models import AlertEvent, AlertRule, AlertRuleState, User

logger = logging.getLogger(__name__)
GLOBAL = "global"


def verdicts(rule: AlertRule, obs: Observations, now: datetime,
             scope: frozenset[uuid.UUID] | None = None) -> dict[str, tuple[Verdict, PipelineObservation | None]]:
    """Subject -> verdict for one rule: one subject per watched pipeline, or "global". `scope`: the pipelines the
    rule's owner may see (None: all)."""
    if rule.kind == "event_logger_down":
        return {GLOBAL: (check_event_logger(obs), None)}
    return {str(o.pipeline_id): (check_pipeline(rule.kind, rule.threshold, o, now), o) for o in obs.pipelines
            if (rule.pipeline_id is None or o.pipeline_id == rule.pipeline_id)
            and (scope is None or o.pipeline_id in scope)}


def owner_scope(session: Session, owner_id: uuid.UUID | None) -> frozenset[uuid.UUID] | None:
    """The pipelines a rule's owner may see now: None (all) for no owner (admins') or an admin; none for a
    deactivated owner."""
    if owner_id is None:
        return None
    user = session.get(User, owner_id)
    if user is None or not user.active:
        return frozenset()
    ids = visible_pipeline_ids(session, Actor(user_id=user.id, username=user.username, role=user.role,
                                              client_ip=None))
    return None if ids is None else frozenset(ids)


class AlertEvaluator(LoopService):
    name = "alert-evaluator"

    def __init__(self, session_factory: sessionmaker[Session], observer: ObservationSource, ui_url: str,
                 interval: float) -> None:
        super().__init__()
        self.session_factory, self.observer, self.ui_url, self.interval = session_factory, observer, ui_url, interval

    def run_once(self) -> None:
        with self.session_factory() as session:
            kinds = frozenset(session.scalars(select(AlertRule.kind).where(AlertRule.enabled).distinct()))
        if not kinds:
            return
        obs = self.observer.observe(kinds)
        now = datetime.now(UTC)
        with session_scope(self.session_factory) as session:
            scopes: dict[uuid.UUID | None, frozenset[uuid.UUID] | None] = {}  # per owner, for this pass
            for rule in session.scalars(select(AlertRule).where(AlertRule.enabled).order_by(AlertRule.name)):
                self.evaluate(session, rule, obs, now, scopes)

    def evaluate(self, session: Session, rule: AlertRule, obs: Observations, now: datetime,
                 scopes: dict[uuid.UUID | None, frozenset[uuid.UUID] | None] | None = None) -> None:
        scopes = {} if scopes is None else scopes
        if rule.owner_id not in scopes:
            scopes[rule.owner_id] = owner_scope(session, rule.owner_id)
        found = verdicts(rule, obs, now, scopes[rule.owner_id])
        open_subjects = set(session.scalars(select(AlertEvent.subject).where(
            AlertEvent.rule_id == rule.id, AlertEvent.resolved_at.is_(None))))
        pending = dict(session.execute(select(AlertRuleState.subject, AlertRuleState.since)
                                       .where(AlertRuleState.rule_id == rule.id)).all())
        for subject in open_subjects - found.keys():
            outbox.resolve(session, rule, subject, "The pipeline no longer exists or is no longer watched",
                           self.ui_url)
        for subject, (verdict, o) in found.items():
            if verdict.holds is None:
                continue  # unknown this pass: keep the alert as it is
            if not verdict.holds:
                if subject in pending:
                    session.execute(delete(AlertRuleState).where(AlertRuleState.rule_id == rule.id,
                                                                 AlertRuleState.subject == subject))
                if subject in open_subjects:
                    outbox.resolve(session, rule, subject, resolution(rule.kind, verdict), self.ui_url)
                continue
            if subject in open_subjects:
                continue  # firing already: one notification until it resolves
            hold = hold_seconds(rule.kind, rule.threshold)
            if hold:
                since = pending.get(subject)
                if since is None:
                    session.execute(insert(AlertRuleState).values(rule_id=rule.id, subject=subject, since=now)
                                    .on_conflict_do_nothing())
                    continue
                if (now - since).total_seconds() < hold:
                    continue
            outbox.fire(session, rule, subject, o, verdict, self.ui_url)


def resolve_all(session: Session, rule: AlertRule, why: str, ui_url: str) -> None:
    """A rule disabled or deleted: its open alerts resolve (and say why), its pending conditions are forgotten."""
    outbox.resolve(session, rule, None, why, ui_url)
    session.execute(delete(AlertRuleState).where(AlertRuleState.rule_id == rule.id))
