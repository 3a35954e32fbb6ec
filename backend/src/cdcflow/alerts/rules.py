"""What each rule kind means, as pure functions of an observation: does the condition hold, by how much, and why.

A verdict of None means "cannot tell this pass" (the source was unreachable, Connect did not answer, the logger
runs in another process): the alert keeps its state, it neither fires nor resolves on missing data.
"""

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

# "Usually has events": at the pipeline's own rate over the last 24 h (the share of minutes that had events), a
# quiet spell this long would happen by chance less than 1 time in 100.
NO_EVENTS_CHANCE = 0.01
NO_EVENTS_MIN_HISTORY_MINUTES = 60


@dataclass(frozen=True)
class PipelineObservation:
    """What the evaluator knows of one pipeline this pass; None fields were not observed."""

    pipeline_id: uuid.UUID
    name: str
    status: str                                   # PipelineStatus value
    health: str | None = None                     # ok | degraded | error
    problems: tuple[str, ...] = field(default_factory=tuple)
    lag_seconds: float | None = None
    retained_wal_bytes: int | None = None
    last_event_at: datetime | None = None
    active_minute_ratio: float | None = None      # share of the last 24 h's minutes with events (None: < 1 h known)


@dataclass(frozen=True)
class Observations:
    pipelines: list[PipelineObservation]
    event_logger_running: bool | None             # None: the logger does not run in this process
    event_logger_error: str | None = None


@dataclass(frozen=True)
class Verdict:
    holds: bool | None
    value: float | None = None
    message: str = ""


UNKNOWN = Verdict(None)


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _problems(obs: PipelineObservation) -> str:
    return ("; ".join(obs.problems))[:500] if obs.problems else "no reason recorded"


def check_pipeline(kind: str, threshold: float | None, obs: PipelineObservation, now: datetime) -> Verdict:
    if kind == "pipeline_error":
        return Verdict(obs.status == "ERROR", None, f"Pipeline {obs.name} is in ERROR: {_problems(obs)}")
    if kind == "degraded":
        if obs.status not in ("RUNNING", "PAUSED"):
            return Verdict(False)
        if obs.health is None:
            return UNKNOWN
        return Verdict(obs.health != "ok", None,
                       f"Pipeline {obs.name} has been {obs.health} for {threshold:g}+ min: {_problems(obs)}")
    if kind == "lag_seconds":
        if obs.status != "RUNNING":
            return Verdict(False)  # a paused or stopped pipeline is behind on purpose
        if obs.lag_seconds is None:
            return UNKNOWN
        return Verdict(obs.lag_seconds > threshold, obs.lag_seconds,
                       f"Replication lag is {obs.lag_seconds:.0f} s (threshold {threshold:g} s)")
    if kind == "retained_wal_bytes":
        if obs.retained_wal_bytes is None:
            return UNKNOWN
        return Verdict(obs.retained_wal_bytes > threshold, float(obs.retained_wal_bytes),
                       f"The replication slot retains {_size(obs.retained_wal_bytes)} of WAL on the source "
                       f"(threshold {_size(threshold)})")
    if kind == "no_events":
        return _no_events(threshold, obs, now)
    raise ValueError(f"not a pipeline rule kind: {kind}")


def _no_events(minutes: float, obs: PipelineObservation, now: datetime) -> Verdict:
    if obs.status != "RUNNING" or obs.last_event_at is None:
        return Verdict(False)
    quiet = (now - obs.last_event_at).total_seconds() / 60
    if quiet < minutes or obs.active_minute_ratio is None:
        return Verdict(False, quiet)
    ratio = min(obs.active_minute_ratio, 1.0)
    chance = 0.0 if ratio >= 1 else math.exp(minutes * math.log1p(-ratio))
    return Verdict(chance < NO_EVENTS_CHANCE, quiet,
                   f"No events for {quiet:.0f} min; usually {ratio:.0%} of minutes have events")


def check_event_logger(obs: Observations) -> Verdict:
    if obs.event_logger_running is None:
        return UNKNOWN
    reason = f": {obs.event_logger_error}" if obs.event_logger_error else ""
    return Verdict(not obs.event_logger_running, None, f"The event logger is not running{reason}")


def hold_seconds(kind: str, threshold: float | None) -> float:
    """How long a condition must hold before it fires (only "degraded for N minutes" waits)."""
    return threshold * 60 if kind == "degraded" and threshold else 0.0


def resolution(kind: str, verdict: Verdict) -> str:
    """What the resolved notification says."""
    if kind == "retained_wal_bytes" and verdict.value is not None:
        return f"The replication slot retains {_size(verdict.value)} of WAL now"
    if kind == "lag_seconds" and verdict.value is not None:
        return f"Replication lag is {verdict.value:.0f} s now"
    return {"pipeline_error": "The pipeline is no longer in ERROR",
            "degraded": "The pipeline is healthy again (or no longer running)",
            "no_events": "Events arrive again (or the pipeline is no longer running)",
            "event_logger_down": "The event logger runs again",
            "lag_seconds": "The pipeline is no longer running"}.get(kind, "The condition no longer holds")
