"""The in-process event logger: started with the API, restartable from the API."""

import threading
from collections.abc import Callable

from cdcflow.core.config import Settings
from cdcflow.core.errors import Conflict
from cdcflow.events.logger import EventLogger, LoggerConfig
from cdcflow.events.store import StoredEvent


def logger_config(settings: Settings) -> LoggerConfig:
    return LoggerConfig(bootstrap_servers=settings.kafka_bootstrap_servers, database_url=settings.database_url,
                        group_id=settings.event_logger_group, topic_regex=settings.event_logger_topic_regex,
                        notify=settings.realtime_relay)


class EventLoggerService:
    def __init__(self, settings: Settings, on_stored: Callable[[list[StoredEvent]], None] | None) -> None:
        self.settings, self.on_stored = settings, on_stored
        self._lock = threading.Lock()
        self.logger: EventLogger | None = None

    def start(self) -> None:
        with self._lock:
            if self.logger is None:
                self.logger = EventLogger(logger_config(self.settings), self.on_stored)
                self.logger.start()

    def stop(self) -> None:
        with self._lock:
            if self.logger is not None:
                self.logger.stop()
                self.logger = None

    def restart(self) -> None:
        # Where the in-process logger is off (a standalone `cdcflow event-logger` runs, or tests), starting one here
        # would join that logger's consumer group and take its partitions away.
        if not self.settings.event_logger_enabled:
            raise Conflict("The in-process event logger is disabled (EVENT_LOGGER_ENABLED=false)")
        self.stop()
        self.start()

    def status(self) -> dict:
        current = self.logger
        if current is None:
            return {"state": "stopped", "running": False, "group_id": self.settings.event_logger_group,
                    "assigned_partitions": [], "total_lag": 0, "events_per_second_1m": 0.0, "stored_total": 0,
                    "duplicates_total": 0, "rejected_total": 0, "tombstones_total": 0, "last_error": None,
                    "current_error": None, "current_errors": [], "error_history": [],
                    "enabled": self.settings.event_logger_enabled}
        return {**current.status(), "enabled": self.settings.event_logger_enabled}
