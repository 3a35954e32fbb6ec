"""What the Socket.IO rooms get for a batch of stored events: one message per room per batch, capped per second.

Pure logic (no sockets), so the cap and the batching are unit-tested; events/realtime.py sends what this returns.
A room gets up to `cap` events a second, as `replication_events` messages ({"pipeline_id", "events": [...]}: one
message for all of a batch's events of that pipeline, not one per event). The rest of that second is counted and
sent once, when the second is over, as a `replication_events_summary` (counts by type and table), which browsers
add to their counters: at high rates the counters stay exact while the event list shows a sample.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from cdcflow.events.store import StoredEvent

Message = tuple[str, str, dict[str, Any]]  # (event name, room, payload)


def room_of(pipeline_id: str | uuid.UUID) -> str:
    return f"pipeline_{pipeline_id}"


@dataclass
class _Window:
    second: int = 0
    sent: int = 0
    suppressed: Counter = field(default_factory=Counter)
    by_table: Counter = field(default_factory=Counter)


class RoomBatcher:
    def __init__(self, cap_per_second: int) -> None:
        self.cap = cap_per_second
        self._windows: dict[str, _Window] = defaultdict(_Window)

    def take(self, events: list[StoredEvent], now: int, listening=lambda room: True) -> list[Message]:
        """The messages for one stored batch at wall-clock second `now`. Rooms nobody listens to (`listening`
        false) cost nothing: their events are neither serialized nor counted."""
        by_pipeline: dict[str, list[StoredEvent]] = defaultdict(list)
        for event in events:
            by_pipeline[event.pipeline_id].append(event)
        messages: list[Message] = []
        for pipeline_id, group in by_pipeline.items():
            room = room_of(pipeline_id)
            if not listening(room):
                continue
            window = self._windows[room]
            if window.second != now:
                messages += self._summary(room, window)
                window.second, window.sent = now, 0
            allowed = max(0, self.cap - window.sent)
            if allowed:
                sent = group[:allowed]
                window.sent += len(sent)
                messages.append(("replication_events", room,
                                 {"pipeline_id": pipeline_id, "events": [e.public() for e in sent]}))
            for event in group[allowed:]:
                window.suppressed[event.event_type] += 1
                window.by_table[event.table_name] += 1
        return messages

    def due(self, now: int) -> list[Message]:
        """Summaries of seconds that are over (called every second, so a burst's tail is not held back)."""
        messages: list[Message] = []
        for room, window in list(self._windows.items()):
            if window.second < now:
                messages += self._summary(room, window)
            if window.second < now - 60 and not window.suppressed:
                del self._windows[room]  # a quiet room: forget it (pipelines come and go)
        return messages

    def _summary(self, room: str, window: _Window) -> list[Message]:
        if not window.suppressed:
            return []
        payload = {"pipeline_id": room.removeprefix("pipeline_"), "second": window.second,
                   "suppressed": sum(window.suppressed.values()), "by_event_type": dict(window.suppressed),
                   "by_table": dict(window.by_table), "cap_per_second": self.cap}
        window.suppressed, window.by_table = Counter(), Counter()
        return [("replication_events_summary", room, payload)]
