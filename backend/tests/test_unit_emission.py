"""Socket.IO emission per room: one message per stored batch, the per-second cap, and summaries that count the
rest exactly (what browsers add to their counters)."""

from cdcflow.events.emission import RoomBatcher, room_of
from cdcflow.events.store import StoredEvent

A, B = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def event(i: int, pipeline: str = A, kind: str = "insert", table: str = "public.t") -> StoredEvent:
    return StoredEvent(id=i, pipeline_id=pipeline, event_type=kind, table_name=table, source_lsn=i, latency_ms=5,
                       kafka_topic="t", kafka_partition=0, kafka_offset=i, created_at="2026-01-01T00:00:00+00:00",
                       run_metadata={"op": "c", "key": {"id": i}, "after": {"id": i}, "source": {"ts_ms": 1}})


def test_a_batch_is_one_message_per_room_with_every_event_in_order():
    batcher = RoomBatcher(cap_per_second=100)
    messages = batcher.take([event(1), event(2, B), event(3), event(4, B), event(5)], now=1000)
    assert [(name, room) for name, room, _ in messages] == [("replication_events", room_of(A)),
                                                            ("replication_events", room_of(B))]
    first = messages[0][2]
    assert first["pipeline_id"] == A and [e["id"] for e in first["events"]] == [1, 3, 5]
    assert first["events"][0] == event(1).public()  # the same fields as GET /monitoring/events
    assert [e["id"] for e in messages[1][2]["events"]] == [2, 4]


def test_above_the_cap_the_rest_of_the_second_is_summarized_exactly():
    batcher = RoomBatcher(cap_per_second=3)
    first = batcher.take([event(1), event(2, kind="update")], now=1000)
    second = batcher.take([event(3), event(4, kind="delete"), event(5, kind="delete", table="public.u")], now=1000)
    assert [e["id"] for e in first[0][2]["events"]] == [1, 2]
    assert [e["id"] for e in second[0][2]["events"]] == [3]  # one left of this second's 3
    assert batcher.take([event(6)], now=1000) == []  # nothing left: counted, not sent
    assert batcher.due(now=1000) == []  # the second is not over
    (name, room, summary), = batcher.due(now=1001)
    assert (name, room) == ("replication_events_summary", room_of(A))
    assert summary["suppressed"] == 3 and summary["second"] == 1000 and summary["cap_per_second"] == 3
    assert summary["by_event_type"] == {"delete": 2, "insert": 1}
    assert summary["by_table"] == {"public.t": 2, "public.u": 1}
    assert batcher.due(now=1002) == []  # sent once
    # A new second: the cap starts over; a summary still pending is sent before the new events.
    batcher.take([event(7), event(8), event(9), event(10)], now=1005)
    messages = batcher.take([event(11)], now=1006)
    assert [m[0] for m in messages] == ["replication_events_summary", "replication_events"]
    assert messages[0][2]["suppressed"] == 1 and [e["id"] for e in messages[1][2]["events"]] == [11]


def test_rooms_nobody_listens_to_cost_nothing():
    batcher = RoomBatcher(cap_per_second=1)
    messages = batcher.take([event(1), event(2), event(3, B), event(4, B)], now=1000,
                            listening=lambda room: room == room_of(B))
    assert [(room, [e["id"] for e in payload["events"]]) for _, room, payload in messages] == [(room_of(B), [3])]
    assert [(room, payload["suppressed"]) for _, room, payload in batcher.due(now=1001)] == [(room_of(B), 1)]
