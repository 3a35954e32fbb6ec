"""The NOTIFY payloads that carry stored events' ids to every API process (events/store.py -> events/relay.py)."""

import uuid

from cdcflow.events.relay import parse_note
from cdcflow.events.store import MAX_PAYLOAD, announcements


def topic(pipeline_id: str, table: str = "orders") -> str:
    return f"cdcflow.{pipeline_id}.public.{table}"


def test_announcements_name_one_pipeline_each_and_keep_every_id_once():
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    rows = [(i, topic(a if i % 3 else b, f"t{i % 2}"), 0, i) for i in range(1, 5001)]
    notes = [parse_note(payload) for payload in announcements(rows)]
    assert all(len(payload.encode()) <= MAX_PAYLOAD for payload in announcements(rows))  # NOTIFY refuses > 8000
    assert {pipeline for pipeline, _ in notes} == {a, b}
    by_pipeline: dict[str, list[int]] = {}
    for pipeline, ids in notes:
        by_pipeline.setdefault(pipeline, []).extend(ids)
    assert sorted(by_pipeline[a] + by_pipeline[b]) == list(range(1, 5001))
    assert all(i % 3 for i in by_pipeline[a]) and not any(i % 3 for i in by_pipeline[b])
    assert len(notes) > 2  # 5,000 ids do not fit one payload


def test_a_note_without_a_pipeline_is_read_as_ids_only():
    assert parse_note("17,18,19") == (None, [17, 18, 19])
    pipeline = str(uuid.uuid4())
    assert parse_note(f"{pipeline}:5") == (pipeline, [5])
    assert announcements([]) == []
