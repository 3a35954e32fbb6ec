"""What the event logger reports about itself: counters, its current state, the error it is in and the ones it
recovered from (so a resolved "broker down" no longer reads as the logger's state)."""

import logging
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

logger = logging.getLogger("cdcflow.events.logger")

# Where an error comes from decides what resolves it: a broker round trip, a database write, an emission.
KAFKA, DATABASE, EMIT, INTERNAL = "kafka", "database", "emit", "internal"


@dataclass
class LoggerError:
    kind: str
    message: str
    since: float
    last_seen: float
    count: int = 1
    until: float | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


class ErrorTracker:
    """At most one current error per kind; a resolved one moves to a bounded history with its end time."""

    def __init__(self, history: int = 20) -> None:
        self.current: dict[str, LoggerError] = {}
        self.history: deque[LoggerError] = deque(maxlen=history)

    def report(self, kind: str, message: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        error = self.current.get(kind)
        if error is not None and error.message == message:
            error.last_seen, error.count = now, error.count + 1
            return
        if error is not None:  # a different error of the same kind: the old one is over
            error.until = now
            self.history.appendleft(error)
        self.current[kind] = LoggerError(kind, message, now, now)
        # Once per distinct error, not once per retry: the client reconnects by itself.
        logger.log(logging.ERROR if kind == INTERNAL else logging.WARNING, "event logger (%s): %s", kind, message)

    def resolve(self, kind: str, now: float | None = None) -> None:
        error = self.current.pop(kind, None)
        if error is None:
            return
        error.until = time.time() if now is None else now
        self.history.appendleft(error)
        logger.info("event logger recovered (%s) after %.1f s: %s", kind, error.until - error.since, error.message)

    def latest(self) -> LoggerError | None:
        return max(self.current.values(), key=lambda e: e.last_seen, default=None)


@dataclass
class LoggerStats:
    running: bool = False
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    tombstones: int = 0
    last_batch_at: float | None = None
    started_at: float | None = None
    # Set by the first successful round trip to the broker: until then the logger is "starting".
    connected_at: float | None = None
    errors: ErrorTracker = field(default_factory=ErrorTracker)
    recent: deque = field(default_factory=lambda: deque(maxlen=600))  # (second, events stored)

    def record(self, stored: int) -> None:
        now = int(time.time())
        if self.recent and self.recent[-1][0] == now:
            self.recent[-1] = (now, self.recent[-1][1] + stored)
        else:
            self.recent.append((now, stored))

    def events_per_second(self, window: int = 60) -> float:
        cutoff = time.time() - window
        return round(sum(n for t, n in self.recent if t >= cutoff) / window, 2)

    def state(self, alive: bool) -> str:
        """stopped | starting | reconnecting (an unresolved error) | consuming."""
        if not (alive and self.running):
            return "stopped"
        if self.errors.current:
            return "reconnecting"
        return "consuming" if self.connected_at is not None else "starting"

    def public(self, alive: bool) -> dict[str, Any]:
        current = self.errors.latest()
        return {"state": self.state(alive), "running": alive and self.running,
                "current_error": current.public() if current else None,
                "current_errors": [e.public() for e in self.errors.current.values()],
                "error_history": [e.public() for e in self.errors.history],
                # Kept for older clients: the current error only (a resolved one is in error_history).
                "last_error": current.message if current else None,
                "last_error_at": current.last_seen if current else None,
                "events_per_second_1m": self.events_per_second(60), "stored_total": self.stored,
                "duplicates_total": self.duplicates, "rejected_total": self.rejected,
                "tombstones_total": self.tombstones, "last_batch_at": self.last_batch_at,
                "started_at": self.started_at}
