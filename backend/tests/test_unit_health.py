"""Health rules over observations (pure logic: observations are built by hand), the problem memory, the sink stall
figure, and the event logger's error tracker."""

import logging
import uuid
from dataclasses import dataclass, field

import pytest

from cdcflow.engine.names import ResourceNames
from cdcflow.events.logger_state import KAFKA, ErrorTracker, LoggerStats
from cdcflow.models import CdcStatus, PipelineMode, PipelineStatus
from cdcflow.monitoring.health import (
    LOST_SLOT_ERROR,
    HealthLimits,
    Observations,
    ProblemMemory,
    evaluate_pipeline_health,
    evaluate_platform_health,
)
from cdcflow.monitoring.observe import ConnectObservation, Reach, SinkProgress, SlotObservation

NOW = 1_800_000_000.0
MIB = 1024 ** 2


@dataclass
class FakePipeline:
    status: PipelineStatus = PipelineStatus.RUNNING
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    cdc_status: CdcStatus = CdcStatus.RUNNING
    mode: PipelineMode = PipelineMode.CDC_ONLY
    last_error: str | None = None
    sink_connector_name: str | None = "sink"
    wal_warning_bytes: int = 10 * MIB
    wal_critical_bytes: int = 100 * MIB


def connector(state="RUNNING", task="RUNNING", trace=None):
    return {"connector": {"state": state}, "tasks": [{"id": 0, "state": task, "trace": trace}]}


def healthy(p: FakePipeline, **changes) -> Observations:
    names = ResourceNames(p.id)
    obs = Observations(
        at=NOW - 1, broker=Reach(True, NOW - 1), logger={"enabled": True, "state": "consuming"},
        connect=ConnectObservation(True, NOW - 1, None, {names.source_connector: connector(),
                                                         names.sink_connector: connector()}),
        slots={p.id: SlotObservation(NOW - 1, exists=True, active=True, active_pid=42, wal_status="reserved",
                                     retained_bytes=MIB, lag_bytes=0)},
        sinks={p.id: SinkProgress(NOW - 1, 1000, 0, NOW - 1, 0)})
    for key, value in changes.items():
        setattr(obs, key, value)
    return obs


def codes(report) -> set[str]:
    return {p.code for p in report.problems}


def test_a_running_pipeline_with_everything_answering_is_ok():
    p = FakePipeline()
    report = evaluate_pipeline_health(p, healthy(p), now=NOW)
    assert (report.health, report.problems) == ("ok", [])
    assert report.wal.retained_bytes == MIB and report.wal.slot_active is True


def test_a_dead_broker_is_an_error_even_while_connect_still_says_running():
    p = FakePipeline()
    report = evaluate_pipeline_health(p, healthy(p, broker=Reach(False, NOW - 1, "Kafka broker unreachable: x")),
                                      now=NOW)
    assert report.health == "error" and codes(report) == {"broker_unreachable"}
    (problem,) = report.problems
    assert problem.component == "kafka" and "stackctl up" in problem.action and problem.message.endswith(": x")


def test_connect_unreachable_and_connector_states():
    p = FakePipeline()
    names = ResourceNames(p.id)
    down = evaluate_pipeline_health(p, healthy(p, connect=ConnectObservation(False, NOW, "refused")), now=NOW)
    assert down.health == "error" and codes(down) == {"connect_unreachable"}

    failed = healthy(p, connect=ConnectObservation(True, NOW, None, {
        names.source_connector: connector(task="FAILED", trace="org.x.Boom: no\n at a\nCaused by: y.Why: disk"),
        names.sink_connector: connector(state="UNASSIGNED", task="UNASSIGNED")}))
    report = evaluate_pipeline_health(p, failed, now=NOW)
    assert report.health == "error"
    by_code = {x.code: x for x in report.problems}
    assert by_code["source_failed"].component == "source-connector"
    assert "Caused by: y.Why: disk" in by_code["source_failed"].message
    assert by_code["sink_not_running"].severity == "degraded"

    missing = healthy(p, connect=ConnectObservation(True, NOW, None, {names.source_connector: connector()}))
    assert codes(evaluate_pipeline_health(p, missing, now=NOW)) == {"sink_missing"}

    paused = FakePipeline(status=PipelineStatus.PAUSED, id=p.id)
    paused_view = healthy(paused, connect=ConnectObservation(True, NOW, None, {
        names.source_connector: connector("PAUSED", "PAUSED"), names.sink_connector: connector("PAUSED", "PAUSED")}))
    paused_view.slots[p.id] = SlotObservation(NOW, exists=True, active=False, retained_bytes=0)
    assert evaluate_pipeline_health(paused, paused_view, now=NOW).health == "ok"


def test_a_sink_that_stopped_committing_while_lag_grows_is_named():
    p = FakePipeline()
    limits = HealthLimits(sink_stall=15)
    stalled = SinkProgress(NOW - 1, 1000, 900, last_advance_at=NOW - 20, lag_at_advance=40)
    report = evaluate_pipeline_health(p, healthy(p, sinks={p.id: stalled}), now=NOW, limits=limits)
    (problem,) = report.problems
    assert (report.health, problem.component, problem.code) == ("degraded", "sink", "sink_stalled")
    assert problem.since.timestamp() == NOW - 20 and "900 messages wait" in problem.message
    # Not yet long enough, or no more waiting than when it last advanced: no claim.
    early = SinkProgress(NOW - 1, 1000, 900, last_advance_at=NOW - 10, lag_at_advance=40)
    idle = SinkProgress(NOW - 1, 1000, 40, last_advance_at=NOW - 60, lag_at_advance=40)
    for progress in (early, idle):
        assert evaluate_pipeline_health(p, healthy(p, sinks={p.id: progress}), now=NOW, limits=limits).health == "ok"
    # With the broker down the offsets cannot be read: only the broker problem is claimed.
    dead = healthy(p, sinks={p.id: stalled}, broker=Reach(False, NOW, "down"))
    assert codes(evaluate_pipeline_health(p, dead, now=NOW, limits=limits)) == {"broker_unreachable"}


def test_sink_progress_stall_figure():
    assert SinkProgress(NOW, 10, 0, NOW - 100, 0).stalled_for(NOW) == 0
    assert SinkProgress(NOW, 10, 5, NOW - 100, 5).stalled_for(NOW) == 0
    assert SinkProgress(NOW, 10, 6, NOW - 100, 5).stalled_for(NOW) == 100


def test_an_inactive_slot_is_reported_after_its_grace_with_the_first_time_it_was_seen():
    p = FakePipeline()
    memory = ProblemMemory()
    obs = healthy(p)
    obs.slots[p.id] = SlotObservation(NOW, exists=True, active=False, retained_bytes=MIB)
    limits = HealthLimits(slot_grace=5)
    assert evaluate_pipeline_health(p, obs, memory, now=NOW, limits=limits).health == "ok"
    later = evaluate_pipeline_health(p, obs, memory, now=NOW + 6, limits=limits)
    (problem,) = later.problems
    assert (later.health, problem.component, problem.since.timestamp()) == ("degraded", "source", NOW)
    # Active again: forgotten, so the next outage starts a new "since".
    obs.slots[p.id] = SlotObservation(NOW, exists=True, active=True, retained_bytes=MIB)
    assert evaluate_pipeline_health(p, obs, memory, now=NOW + 7, limits=limits).health == "ok"
    obs.slots[p.id] = SlotObservation(NOW, exists=True, active=False, retained_bytes=MIB)
    assert evaluate_pipeline_health(p, obs, memory, now=NOW + 8, limits=limits).health == "ok"


def test_a_missing_slot_or_unreachable_source_while_running():
    p = FakePipeline()
    obs = healthy(p)
    obs.slots[p.id] = SlotObservation(NOW, exists=False)
    report = evaluate_pipeline_health(p, obs, now=NOW)
    assert report.health == "error" and report.problems[0].actions == ("reset",)
    obs.slots[p.id] = SlotObservation(NOW, error="source unreachable: Connection refused")
    report = evaluate_pipeline_health(p, obs, now=NOW)
    assert codes(report) == {"source_unreachable"} and "Connection refused" in report.problems[0].message


@pytest.mark.parametrize("status", [PipelineStatus.STOPPED, PipelineStatus.RUNNING])
def test_retained_wal_thresholds(status):
    p = FakePipeline(status=status)
    obs = healthy(p)

    def with_slot(**kw):
        obs.slots[p.id] = SlotObservation(NOW, exists=True, active=status == PipelineStatus.RUNNING, **kw)
        return evaluate_pipeline_health(p, obs, now=NOW)

    assert with_slot(retained_bytes=9 * MIB, wal_status="reserved").health == "ok"
    warning = with_slot(retained_bytes=11 * MIB, wal_status="extended")
    assert (warning.health, codes(warning)) == ("degraded", {"wal_warning"})
    assert "11.0 MiB" in warning.problems[0].message and "warning at 10.0 MiB" in warning.problems[0].message
    assert ("STOPPED" in warning.problems[0].message) == (status == PipelineStatus.STOPPED)
    assert codes(with_slot(retained_bytes=100 * MIB, wal_status="extended")) == {"wal_critical"}
    assert codes(with_slot(retained_bytes=MIB, wal_status="unreserved")) == {"wal_unreserved"}
    lost = with_slot(retained_bytes=None, wal_status="lost")
    assert lost.health == "error" and codes(lost) == {"slot_lost"} and lost.problems[0].actions == ("reset",)
    assert "resync needed" in lost.problems[0].message


def test_a_pipeline_in_error_for_a_lost_slot_offers_reset():
    p = FakePipeline(status=PipelineStatus.ERROR, cdc_status=CdcStatus.ERROR, last_error=LOST_SLOT_ERROR)
    report = evaluate_pipeline_health(p, healthy(p), now=NOW)
    problem = next(x for x in report.problems if x.code == "pipeline_error")
    assert problem.actions == ("reset",) and problem.message == LOST_SLOT_ERROR


def test_stale_or_missing_observations_are_never_ok():
    p = FakePipeline()
    stale = evaluate_pipeline_health(p, healthy(p, at=NOW - 11), now=NOW, limits=HealthLimits(max_age=10))
    assert stale.health == "degraded" and codes(stale) == {"observations_stale"}
    never = evaluate_pipeline_health(p, Observations(), now=NOW)
    assert never.health == "degraded" and codes(never) == {"not_observed"}
    # A stopped pipeline without a slot has nothing to observe.
    stopped = FakePipeline(status=PipelineStatus.STOPPED, sink_connector_name=None)
    assert evaluate_pipeline_health(stopped, Observations(), now=NOW).health == "ok"


def test_the_event_logger_unable_to_consume():
    p = FakePipeline()
    reconnecting = {"enabled": True, "state": "reconnecting",
                    "current_error": {"message": "broker: 1/1 brokers are down", "since": NOW - 4}}
    report = evaluate_pipeline_health(p, healthy(p, logger=reconnecting), now=NOW,
                                      limits=HealthLimits(logger_grace=3))
    (problem,) = report.problems
    assert problem.component == "event-logger" and "brokers are down" in problem.message
    assert problem.since.timestamp() == NOW - 4
    young = {**reconnecting, "current_error": {"message": "x", "since": NOW - 1}}
    assert evaluate_pipeline_health(p, healthy(p, logger=young), now=NOW).health == "ok"
    # The logger runs in another process: not observed here, not claimed.
    assert evaluate_pipeline_health(p, healthy(p, logger=None), now=NOW).health == "ok"
    platform = evaluate_platform_health(healthy(p, logger={"enabled": True, "state": "stopped"}), now=NOW)
    assert codes(platform) == {"logger_stopped"}


def test_error_tracker_moves_resolved_errors_to_history_and_logs_once(caplog):
    tracker = ErrorTracker()
    with caplog.at_level(logging.INFO, logger="cdcflow.events.logger"):
        tracker.report(KAFKA, "broker: down", now=1.0)
        tracker.report(KAFKA, "broker: down", now=2.0)
        tracker.report(KAFKA, "broker: down", now=3.0)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert tracker.latest().count == 3 and tracker.latest().since == 1.0
    tracker.resolve(KAFKA, now=5.0)
    assert tracker.latest() is None
    (old,) = tracker.history
    assert (old.message, old.since, old.until) == ("broker: down", 1.0, 5.0)

    stats = LoggerStats(running=True)
    assert stats.state(alive=True) == "starting"
    stats.connected_at = 1.0
    assert stats.state(alive=True) == "consuming"
    stats.errors.report(KAFKA, "broker: down")
    public = stats.public(alive=True)
    assert public["state"] == "reconnecting" and public["last_error"] == "broker: down"
    stats.errors.resolve(KAFKA)
    public = stats.public(alive=True)
    assert public["state"] == "consuming" and public["last_error"] is None and public["current_error"] is None
    assert public["error_history"][0]["message"] == "broker: down" and public["error_history"][0]["until"]
    assert stats.state(alive=False) == "stopped"


def test_a_deleted_pipelines_topic_is_not_an_error_of_the_logger(caplog):
    from confluent_kafka import KafkaError

    from cdcflow.events.logger import EventLogger, LoggerConfig

    event_logger = EventLogger(LoggerConfig(bootstrap_servers="127.0.0.1:1", database_url="postgresql://x@y/z"))
    with caplog.at_level(logging.INFO, logger="cdcflow.events.logger"):
        for code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION):
            event_logger._on_client_error(KafkaError(code, "Subscribed topic not available"))  # noqa: SLF001
    assert event_logger.stats.errors.current == {} and caplog.records == []
    event_logger._on_client_error(KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"))  # noqa: SLF001
    assert "brokers are down" in event_logger.stats.errors.latest().message


def test_a_target_minutes_behind_is_not_ok_even_while_the_sink_commits():
    # A 200k-row UPDATE: the sink advances every pass, so it never stalls, but the target is far behind.
    p = FakePipeline()
    limits = HealthLimits(sink_behind=30, sink_behind_messages=1000)
    behind = SinkProgress(NOW - 1, 50_000, 150_000, last_advance_at=NOW - 1, lag_at_advance=150_000,
                          caught_up_at=NOW - 191)
    report = evaluate_pipeline_health(p, healthy(p, sinks={p.id: behind}), now=NOW, limits=limits)
    (problem,) = report.problems
    assert (report.health, problem.code) == ("degraded", "sink_behind")
    assert "150,000 changes behind" in problem.message and "191 s" in problem.message
    assert problem.since.timestamp() == NOW - 191
    # A short burst, or a handful of messages in flight, is not a claim; nor is a sink that keeps up.
    for progress in (SinkProgress(NOW - 1, 1, 150_000, NOW - 1, 150_000, caught_up_at=NOW - 10),
                     SinkProgress(NOW - 1, 1, 20, NOW - 1, 20, caught_up_at=NOW - 300),
                     SinkProgress(NOW - 1, 1, 0, NOW - 1, 0, caught_up_at=NOW - 1)):
        assert evaluate_pipeline_health(p, healthy(p, sinks={p.id: progress}), now=NOW, limits=limits).health == "ok"


def test_sink_progress_behind_figure():
    assert SinkProgress(NOW, 10, 0, NOW, 0, caught_up_at=NOW - 100).behind_for(NOW) == 0
    assert SinkProgress(NOW, 10, 5, NOW, 5, caught_up_at=NOW - 100).behind_for(NOW) == 100
    assert SinkProgress(NOW - 4, 10, 5, NOW, 5).behind_for(NOW) == 4  # never seen caught up: since first looked


def test_an_idle_slot_is_not_claimed_beside_the_broker_or_connect_outage_that_caused_it():
    p = FakePipeline()
    memory = ProblemMemory()
    limits = HealthLimits(slot_grace=0)
    for outage in ({"broker": Reach(False, NOW, "Kafka broker unreachable: refused")},
                   {"connect": ConnectObservation(False, NOW, "refused")}):
        obs = healthy(p, **outage)
        obs.slots[p.id] = SlotObservation(NOW, exists=True, active=False, retained_bytes=MIB)
        report = evaluate_pipeline_health(p, obs, memory, now=NOW, limits=limits)
        assert report.health == "error" and "slot_inactive" not in codes(report), report.problems
        assert codes(report) & {"broker_unreachable", "connect_unreachable"}
    # The platform answering again and the slot still idle: now it is the problem to name.
    obs = healthy(p)
    obs.slots[p.id] = SlotObservation(NOW, exists=True, active=False, retained_bytes=MIB)
    assert codes(evaluate_pipeline_health(p, obs, memory, now=NOW, limits=limits)) == {"slot_inactive"}


def test_a_deleted_pipelines_partition_is_not_the_loggers_error():
    # Deleting one pipeline deletes its topics; until the next rebalance revokes them, asking their watermarks fails
    # with "unknown partition". That made every other pipeline's health read "logger cannot consume" for seconds.
    from confluent_kafka import KafkaError, KafkaException, TopicPartition

    from cdcflow.events.logger import EventLogger, LoggerConfig

    class Consumer:
        def committed(self, partitions, timeout):
            return [TopicPartition(p.topic, p.partition, 5) for p in partitions]

        def get_watermark_offsets(self, tp, timeout=None, cached=False):
            if tp.topic == "cdcflow.deleted":
                raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION, "Failed to get watermark offsets"))
            if tp.topic == "cdcflow.broken":
                raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker transport failure"))
            return 0, 9

    event_logger = EventLogger(LoggerConfig(bootstrap_servers="127.0.0.1:1", database_url="postgresql://x@y/z"))
    event_logger._consumer = Consumer()  # noqa: SLF001
    event_logger._assigned = [TopicPartition("cdcflow.deleted", 0), TopicPartition("cdcflow.live", 0)]  # noqa: SLF001
    event_logger._refresh_lag()  # noqa: SLF001
    assert event_logger.stats.errors.current == {}
    status = event_logger.status()
    assert status["total_lag"] == 4 and [p.get("gone") for p in status["assigned_partitions"]] == [True, None]
    # Any other failure still is the logger's broker error.
    event_logger._assigned = [TopicPartition("cdcflow.broken", 0)]  # noqa: SLF001
    event_logger._refresh_lag()  # noqa: SLF001
    assert "transport failure" in event_logger.stats.errors.latest().message
