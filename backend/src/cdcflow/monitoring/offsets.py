"""Produced vs applied per pipeline, from Kafka: topic high watermarks and the sink's committed group offsets.

Collected by a small loop service every few seconds so the dashboard reads a snapshot instead of asking Kafka.
Read with a consumer per group (monitoring/observe.py), not the admin group API: a short-lived AdminClient with
group-offset requests in flight took the whole process down (segfault in librdkafka) when the broker restarted.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import TopicPartition
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.loop import LoopService
from cdcflow.engine.names import ResourceNames
from cdcflow.models import Pipeline
from cdcflow.monitoring.observe import group_offsets, probe_broker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineOffsets:
    produced: int
    applied: int
    at: float
    lag: dict | None = None     # the slot's lag on the source (bytes, WAL retained, wal_status)


class OffsetsCollector(LoopService):
    """Kafka may be down: a failed pass is logged and the dashboard keeps showing the last snapshot."""

    name = "offsets-collector"
    run_first = True

    def __init__(self, session_factory: sessionmaker[Session], bootstrap: str, interval: float = 5.0,
                 lag_probe: Callable[[uuid.UUID], dict | None] | None = None) -> None:
        super().__init__()
        self.session_factory, self.bootstrap, self.interval = session_factory, bootstrap, interval
        self.lag_probe = lag_probe
        self.snapshot: dict[uuid.UUID, PipelineOffsets] = {}

    def run_once(self) -> None:
        with self.session_factory() as session:
            pipelines = [(p.id, list(p.kafka_topics or [])) for p in session.scalars(
                select(Pipeline).where(Pipeline.deleted_at.is_(None), Pipeline.sink_connector_name.is_not(None)))]
        if not pipelines:
            self.snapshot = {}
            return
        broker, existing = probe_broker(self.bootstrap, 5)
        if not broker.ok:
            raise ConnectionError(broker.error)
        snapshot = {}
        for pipeline_id, topics in pipelines:
            partitions = [TopicPartition(t, p) for t in topics if t in existing for p in existing[t].partitions]
            group = f"connect-{ResourceNames(pipeline_id).sink_connector}"
            offsets = group_offsets(self.bootstrap, group, partitions, 5) if partitions else []
            produced = sum(max(0, o.high - o.low) for o in offsets)
            applied = sum(max(0, o.committed - o.low) for o in offsets if o.committed is not None)
            lag = None
            if self.lag_probe is not None:
                try:
                    lag = self.lag_probe(pipeline_id)
                except Exception as exc:  # noqa: BLE001  (source down: no lag figure this round)
                    lag = {"error": str(exc)}
            snapshot[pipeline_id] = PipelineOffsets(produced, min(applied, produced), time.time(), lag)
        self.snapshot = snapshot
