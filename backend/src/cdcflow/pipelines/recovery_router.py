"""/api/v1/pipelines/{id}: recovery (restart failed tasks, resync a table, reset), tables on a running pipeline, the
schema change policy and the schema change history.

Each route checks the caller's access to the pipeline first (resource grants: operate for the recovery actions,
manage for the policy, view for the history), then hands over to the service, which locks the row itself.
"""

import uuid

from fastapi import APIRouter, Path, Query, Request

from sqlalchemy.orm import Session

from cdcflow.core.deps import Actor, PipelineOperator, PipelineWriter, Reader, SessionDep
from cdcflow.models import AccessLevel, Pipeline
from cdcflow.pipelines import recovery, table_changes
from cdcflow.pipelines.router import public_for
from cdcflow.pipelines.service import get_pipeline_for, require_source_operate
from cdcflow.pipelines.schemas import (
    TABLE_PATTERN,
    PipelinePublic,
    ResetRequest,
    SchemaChangeList,
    SchemaPolicyUpdate,
    TableRef,
)

router = APIRouter(prefix="/pipelines", tags=["pipeline recovery"])
TablePath = Path(pattern=TABLE_PATTERN, max_length=127, description="schema.table")


def _allowed(session: Session, actor: Actor, pipeline_id: uuid.UUID, needed: AccessLevel) -> None:
    """404 for a pipeline the caller cannot see, 403 below the needed level; nothing is locked or changed yet."""
    get_pipeline_for(session, actor, pipeline_id, needed)


def _allowed_on_source(session: Session, actor: Actor, pipeline_id: uuid.UUID) -> None:
    """operate on the pipeline and on its source connection: the action reads source rows (a new table, again)."""
    require_source_operate(session, actor, get_pipeline_for(session, actor, pipeline_id, AccessLevel.OPERATE))


def _answer(session: Session, actor: Actor, pipeline: Pipeline) -> PipelinePublic:
    return public_for(session, actor, pipeline)


@router.post("/{pipeline_id}/restart", response_model=PipelinePublic)
def restart_pipeline(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep, request: Request,
                     failed_only: bool = True) -> PipelinePublic:
    """Restart the failed tasks of the source and sink connectors (all tasks with failed_only=false), after
    bringing the target in line with any schema change. RUNNING or ERROR; the reconciler reports a task that fails
    again."""
    _allowed(session, actor, pipeline_id, AccessLevel.OPERATE)
    return _answer(session, actor, recovery.restart_failed(session, request.app.state.engine_context, actor,
                                                           pipeline_id, failed_only))


@router.post("/{pipeline_id}/tables/{table}/resync", response_model=PipelinePublic, status_code=202)
def resync_table(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep, request: Request,
                 table: str = TablePath) -> PipelinePublic:
    """Reload one table while the others keep streaming (Debezium incremental snapshot); its state shows
    RESYNCING, then COMPLETED. Needs operate on the pipeline and on its source connection."""
    _allowed_on_source(session, actor, pipeline_id)
    return _answer(session, actor, recovery.resync(session, request.app.state.engine_context, actor, pipeline_id,
                                                   table))


@router.post("/{pipeline_id}/tables", response_model=PipelinePublic, status_code=202)
def add_table(pipeline_id: uuid.UUID, body: TableRef, actor: PipelineOperator, session: SessionDep,
              request: Request) -> PipelinePublic:
    """Add a table to a RUNNING pipeline: captured from now on and loaded in full, the others untouched. Needs
    operate on the pipeline and on its source connection."""
    _allowed_on_source(session, actor, pipeline_id)
    state = request.app.state
    return _answer(session, actor, table_changes.add_table(session, state.engine_context, state.jobs, actor,
                                                           pipeline_id, body.table))


@router.delete("/{pipeline_id}/tables/{table}", response_model=PipelinePublic)
def remove_table(pipeline_id: uuid.UUID, actor: PipelineOperator, session: SessionDep, request: Request,
                 table: str = TablePath) -> PipelinePublic:
    """Stop replicating one table (RUNNING or PAUSED); its target table and topic are kept."""
    _allowed(session, actor, pipeline_id, AccessLevel.OPERATE)
    state = request.app.state
    return _answer(session, actor, table_changes.remove_table(session, state.engine_context, state.jobs, actor,
                                                              pipeline_id, table))


@router.post("/{pipeline_id}/reset", response_model=PipelinePublic, status_code=202)
def reset_pipeline(pipeline_id: uuid.UUID, body: ResetRequest, actor: PipelineOperator, session: SessionDep,
                   request: Request) -> PipelinePublic:
    """Stop, drop the slot and the connector offsets, empty the target tables and start again from a fresh full
    load. Confirm with {"confirm": "<pipeline name>"}."""
    _allowed(session, actor, pipeline_id, AccessLevel.OPERATE)
    state = request.app.state
    return _answer(session, actor, recovery.reset(session, state.engine_context, state.jobs, actor, pipeline_id,
                                                  body.confirm))


@router.put("/{pipeline_id}/schema-policy", response_model=PipelinePublic)
def update_schema_policy(pipeline_id: uuid.UUID, body: SchemaPolicyUpdate, actor: PipelineWriter,
                         session: SessionDep, request: Request) -> PipelinePublic:
    """Change what the pipeline does on DDL (propagate, pause, ignore), in any state."""
    _allowed(session, actor, pipeline_id, AccessLevel.MANAGE)
    return _answer(session, actor, recovery.update_policy(session, request.app.state.engine_context, actor,
                                                          pipeline_id, body.schema_change_policy,
                                                          body.drop_removed_columns))


@router.get("/{pipeline_id}/schema-changes", response_model=SchemaChangeList)
def list_schema_changes(pipeline_id: uuid.UUID, actor: Reader, session: SessionDep,
                        limit: int = Query(50, ge=1, le=500)) -> SchemaChangeList:
    """Newest first: each schema change seen on a captured table, and what was done on the target."""
    _allowed(session, actor, pipeline_id, AccessLevel.VIEW)
    return SchemaChangeList(items=recovery.schema_changes(session, pipeline_id, limit))
