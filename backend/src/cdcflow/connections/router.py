"""/api/v1/connections."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from sqlalchemy.orm import Session

from cdcflow.connections import service
from cdcflow.connections.schemas import (
    ColumnInfo,
    ConnectionCreate,
    ConnectionList,
    ConnectionPublic,
    ConnectionTestRequest,
    ConnectionTestResult,
    ConnectionUpdate,
    TableInfo,
)
from cdcflow.access import policy
from cdcflow.core.deps import Actor, ConnectionWriter, PolicyDep, Reader, SecretBoxDep, SessionDep, SettingsDep
from cdcflow.models import AccessLevel, Connection, ConnectionType

router = APIRouter(prefix="/connections", tags=["connections"])
Ident = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_$\-]+$")]


def _public(conn: Connection, access: AccessLevel) -> ConnectionPublic:
    return ConnectionPublic.model_validate({**{c: getattr(conn, c) for c in (
        "id", "name", "connection_type", "database_type", "host", "port", "database", "username", "options",
        "created_at", "updated_at", "owner_id")}, "schema_name": conn.schema,
        "has_password": bool(conn.password_encrypted), "access": access})


def _public_for(session: Session, actor: Actor, conn: Connection) -> ConnectionPublic:
    return _public(conn, policy.level_on(session, actor, conn) or AccessLevel.VIEW)


@router.get("", response_model=ConnectionList, response_model_by_alias=True)
def list_connections(actor: Reader, session: SessionDep, connection_type: ConnectionType | None = None):
    connections = service.list_connections(session, actor, connection_type)
    access = policy.levels(session, actor, connections)
    items = [_public(c, access[c.id] or AccessLevel.VIEW) for c in connections]
    return ConnectionList(items=items, total=len(items))


@router.post("", response_model=ConnectionPublic, status_code=201)
def create_connection(body: ConnectionCreate, actor: ConnectionWriter, session: SessionDep, box: SecretBoxDep,
                      outbound: PolicyDep):
    return _public(service.create_connection(session, box, outbound, actor, body), AccessLevel.MANAGE)


@router.post("/test", response_model=ConnectionTestResult)
def test_draft(body: ConnectionCreate, actor: ConnectionWriter, settings: SettingsDep, outbound: PolicyDep):
    """Test a connection before saving it: the form's fields (password included) get the same checks as a saved
    connection's Test; nothing is stored. Who may create connections may test them."""
    return service.test_draft(outbound, body, [], settings.connection_test_timeout_seconds)


@router.get("/{connection_id}", response_model=ConnectionPublic)
def get_connection(connection_id: uuid.UUID, actor: Reader, session: SessionDep):
    return _public_for(session, actor, service.get_connection_for(session, actor, connection_id))


@router.put("/{connection_id}", response_model=ConnectionPublic)
def update_connection(connection_id: uuid.UUID, body: ConnectionUpdate, actor: ConnectionWriter,
                      session: SessionDep, box: SecretBoxDep, outbound: PolicyDep):
    return _public_for(session, actor, service.update_connection(session, box, outbound, actor, connection_id, body))


@router.delete("/{connection_id}", status_code=204)
def delete_connection(connection_id: uuid.UUID, actor: ConnectionWriter, session: SessionDep) -> Response:
    service.delete_connection(session, actor, connection_id)
    return Response(status_code=204)


@router.post("/{connection_id}/test", response_model=ConnectionTestResult)
def test_connection(connection_id: uuid.UUID, actor: ConnectionWriter, session: SessionDep, box: SecretBoxDep,
                    settings: SettingsDep, outbound: PolicyDep,
                    body: ConnectionTestRequest | None = Body(default=None)):
    conn = service.get_connection_for(session, actor, connection_id, AccessLevel.OPERATE)
    return service.test_connection(box, outbound, conn, body.tables if body else [],
                                   settings.connection_test_timeout_seconds)


@router.get("/{connection_id}/tables", response_model=list[TableInfo])
def list_tables(connection_id: uuid.UUID, actor: Reader, session: SessionDep, box: SecretBoxDep,
                settings: SettingsDep, outbound: PolicyDep):
    """The tables of the connection's database. Browsing needs operate on the connection, as building a pipeline
    on it does; a failure to connect takes the full timeout, like Test."""
    conn = service.get_connection_for(session, actor, connection_id, AccessLevel.OPERATE)
    return [TableInfo(schema_name=t["schema"], **{k: v for k, v in t.items() if k != "schema"})
            for t in service.list_tables(box, outbound, conn, settings.connection_test_timeout_seconds)]


@router.get("/{connection_id}/tables/{schema}/{table}/columns", response_model=list[ColumnInfo])
def list_columns(connection_id: uuid.UUID, actor: Reader, session: SessionDep, box: SecretBoxDep,
                 settings: SettingsDep, outbound: PolicyDep, schema: Ident, table: Ident):
    """One table's columns; operate on the connection, like the table list."""
    conn = service.get_connection_for(session, actor, connection_id, AccessLevel.OPERATE)
    return service.list_columns(box, outbound, conn, schema, table, settings.connection_test_timeout_seconds)
