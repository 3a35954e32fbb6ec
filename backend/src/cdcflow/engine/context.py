"""What every engine job and service shares: settings, the secret box, the metadata database's session factory, the
job leases, the outbound policy, and short helpers to change a pipeline row (one short transaction each)."""

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.config import Settings
from cdcflow.core.crypto import SecretBox
from cdcflow.core.db import session_scope
from cdcflow.engine.connect.client import ConnectClient
from cdcflow.engine.connect.secrets import ConnectSecrets
from cdcflow.engine.jobs import Cancelled
from cdcflow.engine.leases import JobLeases
from cdcflow.engine.outbound import OutboundPolicy
from cdcflow.models import Pipeline

logger = logging.getLogger(__name__)


@dataclass
class EngineContext:
    settings: Settings
    box: SecretBox
    session_factory: sessionmaker[Session]
    leases: JobLeases | None = None
    policy: OutboundPolicy = field(init=False)

    def __post_init__(self) -> None:
        self.policy = OutboundPolicy.from_settings(self.settings)

    def connect(self) -> ConnectClient:
        return ConnectClient.from_settings(self.settings, timeout=15)

    def secrets(self) -> ConnectSecrets:
        return ConnectSecrets(self.settings.connect_secrets_dir)

    def update(self, pipeline_id: uuid.UUID, fn: Callable[[Pipeline], None]) -> None:
        with session_scope(self.session_factory) as session:
            pipeline = session.get(Pipeline, pipeline_id, with_for_update=True)
            fn(pipeline)

    def finish(self, pipeline_id: uuid.UUID, fn: Callable[[Pipeline], None],
               cancel: threading.Event | None = None) -> bool:
        """A job's final status and the release of its lease, in one transaction; skipped (False) when another
        API process has taken the job over meanwhile. With `cancel`, a stop asked before this transaction took the
        pipeline's row lock (the event of this process, or the lease's flag set by any process) raises Cancelled
        and writes nothing: a start's success never overtakes the stop that cancelled it."""
        with session_scope(self.session_factory) as session:
            pipeline = session.get(Pipeline, pipeline_id, with_for_update=True)
            if cancel is not None and (cancel.is_set() or (
                    self.leases is not None and self.leases.cancel_requested(session, pipeline_id))):
                raise Cancelled("start cancelled")
            if self.leases is not None and not self.leases.release(session, pipeline_id):
                logger.warning("job outcome dropped: another API process took this pipeline's job over")
                return False
            fn(pipeline)
        return True

    def holds_lease(self, pipeline_id: uuid.UUID) -> bool:
        if self.leases is None:
            return True
        with session_scope(self.session_factory) as session:
            return self.leases.holds(session, pipeline_id)
        return False
