"""/api/v1/pipelines/{id}/row-history: what happened to one source row, from the event log."""

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from cdcflow.core.deps import PipelineOperator, Reader, SessionDep
from cdcflow.events import history
from cdcflow.models import AccessLevel
from cdcflow.pipelines import replay
from cdcflow.pipelines.schemas import TABLE_PATTERN
from cdcflow.pipelines.service import get_pipeline_for

router = APIRouter(prefix="/pipelines", tags=["row history"])


class RowChange(BaseModel):
    id: int
    event_type: str
    created_at: Any
    source_ts_ms: int | None
    source_lsn: int | None
    tx_id: int | None
    snapshot: bool
    kafka_topic: str | None
    kafka_partition: int | None
    kafka_offset: int | None
    before: Any = None
    after: Any = None
    changed: list[str]


class RowHistory(BaseModel):
    pipeline_id: uuid.UUID
    table: str
    key: dict[str, Any]
    items: list[RowChange]
    truncated: bool
    exists: bool | None
    latest: Any = None


KeyValue = str | int | float | bool | None


class ReplayRequest(BaseModel):
    model_config = {"extra": "forbid"}

    table: str = Field(pattern=TABLE_PATTERN, max_length=127, description="schema.table")
    key: dict[str, KeyValue] = Field(min_length=1, max_length=32,
                                     description='the key columns as the row history gives them ({"id": 42})')


class ReplayResult(BaseModel):
    pipeline_id: uuid.UUID
    table: str
    key: dict[str, Any]
    action: str = Field(description="upserted (the source has the row), deleted (it does not, the target had it) "
                                    "or absent (neither has it)")
    row: dict[str, Any] | None = Field(description="the row as read from the source and written to the target")


class ReplayPreview(BaseModel):
    table: str
    key: dict[str, Any]
    source: dict[str, Any] | None = Field(description="the row on the source now (null: the source has none)")
    target: dict[str, Any] | None = Field(description="the row on the target now (null: the target has none)")
    changed: list[str] = Field(description="the columns whose values differ between source and target")
    action: Literal["upsert", "delete", "none"] = Field(
        description="what replay would do: write the source's row, delete the target's, or nothing (they agree)")


@router.get("/{pipeline_id}/row-history", response_model=RowHistory)
def get_row_history(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep,
                    table: str = Query(..., pattern=TABLE_PATTERN, max_length=127, description="schema.table"),
                    key: str = Query(..., min_length=1, max_length=1000,
                                     description='primary key value (42) or key columns as JSON ({"id": 42})'),
                    ) -> dict[str, Any]:
    """Every stored change of one row, oldest first: inserts (and snapshot reads), each update with the columns it
    changed, deletes. Needs view access to the pipeline."""
    get_pipeline_for(session, actor, pipeline_id)
    return history.row_history(session, pipeline_id, table, history.resolve_key(session, pipeline_id, table, key))


@router.post("/{pipeline_id}/row-history/replay/preview", response_model=ReplayPreview)
def preview_replay(pipeline_id: uuid.UUID, body: ReplayRequest, actor: PipelineOperator, session: SessionDep,
                   request: Request) -> dict[str, Any]:
    """What a replay of one row would write, changing nothing: the row on the source and on the target and the
    columns that differ. Needs operate access to the pipeline, as the replay itself."""
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE)
    return replay.preview_replay(session, request.app.state.engine_context, pipeline, body.table, body.key)


@router.post("/{pipeline_id}/row-history/replay", response_model=ReplayResult)
def replay_row(pipeline_id: uuid.UUID, body: ReplayRequest, actor: PipelineOperator, session: SessionDep,
               request: Request) -> dict[str, Any]:
    """Re-apply one row's current source state onto the target (upsert, or delete when the source no longer has
    it): the repair for one row without a resync. Needs operate access to the pipeline."""
    pipeline = get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE)
    return replay.replay_row(session, request.app.state.engine_context, actor, pipeline, body.table, body.key)
