"""Connection CRUD, tests and introspection. Passwords are encrypted before they reach the session."""

import time
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cdcflow.access import policy
from cdcflow.access.service import drop_grants
from cdcflow.audit.service import record
from cdcflow.connections.schemas import ConnectionCreate, ConnectionUpdate
from cdcflow.core.crypto import SecretBox, SecretDecryptionError
from cdcflow.core.deps import Actor
from cdcflow.core.errors import (
    Conflict,
    InvalidField,
    NotFound,
    SecretUnavailable,
    ServiceUnavailable,
    Unprocessable,
)
from cdcflow.engine.endpoints import DatabaseEndpoint
from cdcflow.engine.outbound import HostUnresolvable, OutboundPolicy, OutboundRefused
from cdcflow.engine.mariadb import catalog as mariadb_catalog
from cdcflow.engine.mariadb import connection as mariadb_connection
from cdcflow.engine.mariadb import preflight as mariadb_preflight
from cdcflow.engine.postgres import inspect, preflight
from cdcflow.models import (
    AccessLevel,
    Connection,
    ConnectionType,
    DatabaseType,
    Pipeline,
    PipelineStatus,
    ResourceType,
)

ACTIVE_PIPELINE_STATES = (PipelineStatus.STARTING, PipelineStatus.RUNNING, PipelineStatus.PAUSED,
                          PipelineStatus.STOPPING)
# Changing any of these points the stored password somewhere else: the password must come with the change.
ADDRESS_FIELDS = ("host", "port", "database", "username")
SSLMODE_STRENGTH = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _live(session: Session, connection_id: uuid.UUID) -> Connection:
    conn = session.scalar(select(Connection).where(Connection.id == connection_id, Connection.deleted_at.is_(None)))
    if conn is None:
        raise NotFound("Connection not found")
    return conn


def get_connection(session: Session, connection_id: uuid.UUID) -> Connection:
    return _live(session, connection_id)


def get_connection_for(session: Session, actor: Actor, connection_id: uuid.UUID,
                       needed: AccessLevel = AccessLevel.VIEW) -> Connection:
    """The connection if the caller may act on it at `needed` level: 404 if they cannot see it, 403 if too low."""
    conn = _live(session, connection_id)
    policy.require_access(session, actor, conn, needed)
    return conn


def list_connections(session: Session, actor: Actor,
                     connection_type: ConnectionType | None = None) -> list[Connection]:
    query = select(Connection).where(Connection.deleted_at.is_(None), policy.visible(actor, ResourceType.CONNECTION)) \
        .order_by(Connection.name)
    if connection_type is not None:
        query = query.where(Connection.connection_type == connection_type)
    return list(session.scalars(query))


def _ensure_unique_name(session: Session, name: str, exclude: uuid.UUID | None = None) -> None:
    query = select(Connection.id).where(func.lower(Connection.name) == name.lower(), Connection.deleted_at.is_(None))
    if exclude is not None:
        query = query.where(Connection.id != exclude)
    if session.scalar(query):
        raise Conflict(f"A connection named {name!r} already exists")


def _public_details(conn: Connection) -> dict[str, Any]:
    return {"name": conn.name, "type": conn.connection_type.value, "host": conn.host, "port": conn.port,
            "database": conn.database, "username": conn.username}


def check_policy(outbound: OutboundPolicy, host: str, port: int, database: str) -> None:
    """422 naming the field when cdcflow may not connect there (CDCFLOW_ALLOWED_DB_HOSTS, its own services)."""
    try:
        outbound.check(host, port, database)
    except OutboundRefused as exc:
        raise InvalidField(exc.field, f"not allowed by policy: {exc.reason}") from None
    except HostUnresolvable:
        raise InvalidField("host", "the host name could not be resolved") from None


def create_connection(session: Session, box: SecretBox, outbound: OutboundPolicy, actor: Actor | str,
                      body: ConnectionCreate) -> Connection:
    """The caller owns what they create; a connection made by a script (`demo seed`) has no owner: admins only."""
    _ensure_unique_name(session, body.name)
    check_policy(outbound, body.host, body.port, body.database)
    conn = Connection(name=body.name, connection_type=body.connection_type, database_type=body.database_type,
                      host=body.host, port=body.port, database=body.database, username=body.username,
                      password_encrypted=box.encrypt(body.password), schema=body.schema_name,
                      options=body.options.model_dump(),
                      owner_id=actor.user_id if isinstance(actor, Actor) else None)
    session.add(conn)
    session.flush()
    record(session, actor, "connection.create", f"connection:{conn.id}", _public_details(conn))
    return conn


def _pipelines_using(session: Session, connection_id: uuid.UUID, states=None) -> list[Pipeline]:
    query = select(Pipeline).where(Pipeline.deleted_at.is_(None),
                                   (Pipeline.source_connection_id == connection_id)
                                   | (Pipeline.target_connection_id == connection_id))
    if states is not None:
        query = query.where(Pipeline.status.in_(states))
    return list(session.scalars(query))


def _names_for(session: Session, actor: Actor, pipelines: list[Pipeline]) -> dict[str, Any]:
    """Names of the pipelines the caller may see, and how many others there are: a conflict must not name them."""
    seen = policy.levels(session, actor, pipelines)
    names = [p.name for p in pipelines if seen[p.id] is not None]
    return {"pipelines": names, "other_pipelines": len(pipelines) - len(names)}


def _redirecting_changes(conn: Connection, body: ConnectionUpdate) -> list[str]:
    """The changed fields that would send the stored password to another place, or over a weaker channel."""
    changed = [f for f in ADDRESS_FIELDS if getattr(body, f) is not None and getattr(body, f) != getattr(conn, f)]
    if body.options is not None:
        old = conn.options or {}
        if body.options.allow_md5 and not old.get("allow_md5", False):
            changed.append("options.allow_md5")
        old_mode = old.get("sslmode", "prefer")
        if old_mode in SSLMODE_STRENGTH and \
                SSLMODE_STRENGTH.index(body.options.sslmode) < SSLMODE_STRENGTH.index(old_mode):
            changed.append("options.sslmode")
    return changed


def update_connection(session: Session, box: SecretBox, outbound: OutboundPolicy, actor: Actor,
                      connection_id: uuid.UUID, body: ConnectionUpdate) -> Connection:
    conn = get_connection_for(session, actor, connection_id, AccessLevel.MANAGE)
    changes = body.model_dump(exclude_unset=True, by_alias=False)
    if not changes:
        return conn
    redirecting = _redirecting_changes(conn, body)
    if redirecting and body.password is None:
        raise InvalidField("password", "enter the password again: it is required because "
                                       f"{', '.join(redirecting)} changed")
    busy = _pipelines_using(session, conn.id, ACTIVE_PIPELINE_STATES)
    if busy:
        raise Conflict("Connection is used by running pipelines; stop them first", _names_for(session, actor, busy))
    if "connection_type" in changes and changes["connection_type"] != conn.connection_type \
            and _pipelines_using(session, conn.id):
        raise Conflict("Connection type cannot change while pipelines use this connection")
    if body.name is not None:
        _ensure_unique_name(session, body.name, exclude=conn.id)
    if any(f in redirecting for f in ("host", "port", "database")):
        check_policy(outbound, body.host or conn.host, body.port or conn.port, body.database or conn.database)
    for field in ("name", "connection_type", "host", "port", "database", "username"):
        if field in changes and changes[field] is not None:
            setattr(conn, field, changes[field])
    if body.schema_name is not None:
        conn.schema = body.schema_name
    if body.options is not None:
        conn.options = body.options.model_dump()
    if body.password is not None:
        conn.password_encrypted = box.encrypt(body.password)
    record(session, actor, "connection.update", f"connection:{conn.id}",
           {"fields": sorted(k for k in changes if k != "password") + (["password"] if body.password else [])})
    return conn


def delete_connection(session: Session, actor: Actor, connection_id: uuid.UUID) -> None:
    conn = get_connection_for(session, actor, connection_id, AccessLevel.MANAGE)
    users = _pipelines_using(session, conn.id)
    if users:
        raise Conflict("Connection is used by pipelines; delete them first", _names_for(session, actor, users))
    conn.deleted_at = func.now()
    drop_grants(session, ResourceType.CONNECTION, conn.id)
    record(session, actor, "connection.delete", f"connection:{conn.id}", {"name": conn.name})


def endpoint_for(box: SecretBox, conn: Connection, outbound: OutboundPolicy) -> DatabaseEndpoint:
    """The decrypted endpoint. Every libpq connection made from it re-checks the policy and pins the address."""
    try:
        password = box.decrypt(conn.password_encrypted)
    except SecretDecryptionError:
        raise SecretUnavailable(f"The password of connection {conn.name!r} cannot be decrypted: add the key it was "
                                "stored with to CDCFLOW_SECRET_KEYS_PREVIOUS") from None
    options = conn.options or {}
    return DatabaseEndpoint(database_type=conn.database_type.value, host=conn.host, port=conn.port,
                            database=conn.database, username=conn.username, password=password,
                            schema=conn.schema, sslmode=options.get("sslmode", "prefer"),
                            allow_md5=bool(options.get("allow_md5", False)), guard=outbound)


def test_connection(box: SecretBox, outbound: OutboundPolicy, conn: Connection, tables: list[str],
                    timeout: int) -> dict[str, Any]:
    checks = mariadb_preflight if conn.database_type == DatabaseType.MARIADB else preflight
    return checks.test_connection(endpoint_for(box, conn, outbound), conn.connection_type == ConnectionType.SOURCE,
                                  tables, timeout)


def test_draft(outbound: OutboundPolicy, body, tables: list[str], timeout: int) -> dict[str, Any]:
    """The Test of a connection not saved yet (the form's fields, password included): the same checks, nothing
    stored or logged. The outbound policy applies as for a saved one: refused up front (422 naming the field) as on
    create, and checked again on every connect."""
    check_policy(outbound, body.host, body.port, body.database)
    endpoint = DatabaseEndpoint(database_type=body.database_type.value, host=body.host, port=body.port,
                                database=body.database, username=body.username, password=body.password,
                                schema=body.schema_name, sslmode=body.options.sslmode,
                                allow_md5=bool(body.options.allow_md5), guard=outbound)
    checks = mariadb_preflight if body.database_type == DatabaseType.MARIADB else preflight
    return checks.test_connection(endpoint, body.connection_type == ConnectionType.SOURCE, tables, timeout)


def unreachable_error(conn: Connection, exc: inspect.EndpointUnreachable) -> Exception:
    """A policy refusal is the request's fault (422); anything else is the database's (503)."""
    if isinstance(exc, OutboundRefused):
        return Unprocessable(f"Connection {conn.name!r} is not allowed by policy: {exc.reason}", {"field": exc.field})
    return ServiceUnavailable(f"Cannot reach {conn.name}: {exc}")


def introspect(box: SecretBox, outbound: OutboundPolicy, conn: Connection, timeout: int, postgres, mariadb):
    """Run one introspection (a function of an open connection) against the connection's database, whichever kind
    it is. Raises EndpointUnreachable (OutboundRefused for a policy refusal)."""
    endpoint = endpoint_for(box, conn, outbound)
    if conn.database_type == DatabaseType.MARIADB:
        db = mariadb_connection.connect(endpoint, timeout)
        try:
            return mariadb(db)
        finally:
            db.close()
    with inspect.open_connection(endpoint, timeout) as db:
        return postgres(db)


def _browse(box: SecretBox, outbound: OutboundPolicy, conn: Connection, timeout: int, postgres, mariadb):
    started = time.perf_counter()
    try:
        return introspect(box, outbound, conn, timeout, postgres, mariadb)
    except inspect.EndpointUnreachable as exc:
        if str(exc) == inspect.COULD_NOT_CONNECT:
            # As Test does: a closed port answers at once, a silent one after the timeout; every failure to
            # connect takes the full timeout, so browsing cannot time ports.
            time.sleep(max(0.0, timeout - (time.perf_counter() - started)))
        raise unreachable_error(conn, exc) from None


def list_tables(box: SecretBox, outbound: OutboundPolicy, conn: Connection, timeout: int) -> list[dict[str, Any]]:
    return _browse(box, outbound, conn, timeout, inspect.list_tables, mariadb_catalog.list_tables)


def list_columns(box: SecretBox, outbound: OutboundPolicy, conn: Connection, schema: str, table: str,
                 timeout: int) -> list[dict[str, Any]]:
    columns = _browse(box, outbound, conn, timeout, lambda db: inspect.list_columns(db, schema, table),
                      lambda db: mariadb_catalog.list_columns(db, schema, table))
    if not columns:
        raise NotFound(f"Table {schema}.{table} not found in {conn.name}")
    return columns
