"""Durable leases on pipeline jobs (table pipeline_jobs): taken with the status change that starts a job, renewed by
the owning process's heartbeat, released with the job's final status, taken over by another process once it lapses.

Every statement here is one short transaction or runs inside the caller's; none is held across a network call.
"""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.db import session_scope
from cdcflow.models import Pipeline, PipelineJob, PipelineStatus


def process_identity() -> str:
    """host:pid:nonce, unique per process lifetime (a reused pid gets a new nonce)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lapsed:
    """A STARTING or STOPPING pipeline whose job lost its process; now leased to the caller."""

    pipeline_id: uuid.UUID
    kind: str                      # start | stop
    cancel_requested: bool
    previous_owner: str | None
    last_heartbeat: datetime | None


class JobLeases:
    def __init__(self, owner: str, lease_seconds: float) -> None:
        self.owner, self.lease_seconds = owner, lease_seconds

    def acquire(self, session: Session, pipeline_id: uuid.UUID, kind: str) -> None:
        """In the caller's transaction, with the status change that starts the job."""
        values = {"pipeline_id": pipeline_id, "kind": kind, "owner": self.owner, "cancel_requested": False}
        session.execute(insert(PipelineJob).values(**values).on_conflict_do_update(
            index_elements=[PipelineJob.pipeline_id],
            set_={"kind": kind, "owner": self.owner, "cancel_requested": False,
                  "started_at": text("now()"), "heartbeat_at": text("now()")}))

    def holds(self, session: Session, pipeline_id: uuid.UUID, lock: bool = False) -> bool:
        """A missing row counts as lost too: only a taker-over that already finished the job removes it."""
        query = select(PipelineJob.owner).where(PipelineJob.pipeline_id == pipeline_id)
        return session.scalar(query.with_for_update() if lock else query) == self.owner

    def release(self, session: Session, pipeline_id: uuid.UUID) -> bool:
        """In the job's final transaction. False when the lease is no longer ours: another process took the job
        over, and this job's outcome must not overwrite what the new owner does."""
        if not self.holds(session, pipeline_id, lock=True):
            return False
        session.execute(delete(PipelineJob).where(PipelineJob.pipeline_id == pipeline_id))
        return True

    def request_cancel(self, session: Session, pipeline_id: uuid.UUID) -> None:
        """A stop for a start running elsewhere (or nowhere): its owner, or whoever takes it over, honours it."""
        session.execute(insert(PipelineJob).values(
            pipeline_id=pipeline_id, kind="start", owner="", cancel_requested=True,
            heartbeat_at=text("'epoch'::timestamptz")).on_conflict_do_update(
            index_elements=[PipelineJob.pipeline_id], set_={"cancel_requested": True}))

    def cancel_requested(self, session: Session, pipeline_id: uuid.UUID) -> bool:
        """A stop asked for this pipeline's start (request_cancel), as committed now."""
        return bool(session.scalar(select(PipelineJob.cancel_requested).where(PipelineJob.pipeline_id == pipeline_id)))

    def renew(self, factory: sessionmaker[Session], pipeline_ids: list[uuid.UUID]) -> tuple[set, set]:
        """Heartbeat for our running jobs; returns (leases lost to another process, cancels requested)."""
        if not pipeline_ids:
            return set(), set()
        with session_scope(factory) as session:
            rows = session.execute(update(PipelineJob).where(PipelineJob.owner == self.owner,
                                                             PipelineJob.pipeline_id.in_(pipeline_ids))
                                   .values(heartbeat_at=text("now()"))
                                   .returning(PipelineJob.pipeline_id, PipelineJob.cancel_requested)).all()
        held = {r[0] for r in rows}
        return set(pipeline_ids) - held, {r[0] for r in rows if r[1]}

    def take_over_lapsed(self, session: Session, running_here: set[uuid.UUID]) -> list[Lapsed]:
        """Leases of STARTING/STOPPING pipelines whose heartbeat is older than the lease (or missing), skipping rows
        another process is taking over at this moment; they become ours in the caller's transaction."""
        rows = session.execute(
            select(Pipeline.id, Pipeline.status, PipelineJob.kind, PipelineJob.owner, PipelineJob.heartbeat_at,
                   PipelineJob.cancel_requested)
            .outerjoin(PipelineJob, PipelineJob.pipeline_id == Pipeline.id)
            .where(Pipeline.deleted_at.is_(None),
                   Pipeline.status.in_([PipelineStatus.STARTING, PipelineStatus.STOPPING]),
                   (PipelineJob.pipeline_id.is_(None))
                   | (PipelineJob.heartbeat_at < text("now() - make_interval(secs => :lease)")))
            .with_for_update(of=Pipeline, skip_locked=True),
            {"lease": self.lease_seconds}).all()
        taken = []
        for pipeline_id, status, kind, owner, heartbeat_at, cancel in rows:
            if pipeline_id in running_here:
                continue  # our own job, whose heartbeat merely ran late
            kind = kind or ("stop" if status == PipelineStatus.STOPPING else "start")
            session.execute(insert(PipelineJob).values(
                pipeline_id=pipeline_id, kind=kind, owner=self.owner, cancel_requested=bool(cancel))
                .on_conflict_do_update(index_elements=[PipelineJob.pipeline_id],
                                       set_={"owner": self.owner, "heartbeat_at": text("now()")}))
            taken.append(Lapsed(pipeline_id, kind, bool(cancel), owner or None, heartbeat_at))
        return taken
