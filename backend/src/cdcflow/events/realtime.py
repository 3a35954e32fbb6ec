"""Socket.IO beside FastAPI: JWT checked at the handshake, one room per pipeline, emission capped per room.

A socket lives only as long as its login session and its access token: when the session ends (logout, password or
role change, deactivation) or the token expires, the socket is disconnected, and every subscribe re-checks the token
(expiry included) against the database.

Joining a pipeline's room needs view access to it (access.policy, as for GET /pipelines/{id}); a pipeline the
caller may not see answers exactly like one that does not exist. When a grant is revoked or an owner changes,
`revalidate_user` takes the user's sockets out of the rooms they may no longer see.

`publish` is called by the event logger thread after its batch committed; it hands the events to the event loop,
which sends each room one `replication_events` message per batch, capped per second (events/emission.py).
"""

import asyncio
import logging
import math
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import socketio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.access import policy
from cdcflow.auth.sessions import SessionsEnded, authenticate, user_for_claims
from cdcflow.core.config import Settings
from cdcflow.core.deps import ROLE_PERMISSIONS, Actor, Permission
from cdcflow.core.security import AccessClaims, InvalidToken
from cdcflow.events.emission import RoomBatcher, room_of
from cdcflow.events.store import StoredEvent
from cdcflow.models import Pipeline, Role, User

logger = logging.getLogger(__name__)
ACK_GRACE_SECONDS = 0.5


class _BadPayload(Exception):
    pass


def _pipeline_id(args: tuple) -> uuid.UUID:
    """The pipeline id of a subscribe/unsubscribe event: {"pipeline_id": "<uuid>"} or the bare id string."""
    if len(args) != 1:
        raise _BadPayload("expected one argument: {\"pipeline_id\": \"<uuid>\"}")
    raw = args[0].get("pipeline_id") if isinstance(args[0], dict) else args[0]
    if not isinstance(raw, str) or len(raw) > 64:
        raise _BadPayload("invalid pipeline id")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise _BadPayload("invalid pipeline id") from None


@dataclass(frozen=True)
class _SocketUser:
    user_id: uuid.UUID
    claims: AccessClaims
    role: Role


class Realtime:
    def __init__(self, settings: Settings, session_factory: sessionmaker[Session]) -> None:
        self.settings, self.session_factory = settings, session_factory
        self.cap = settings.realtime_cap_per_second
        # Any origin may open a socket: the JWT in the handshake payload (never a cookie) is what authorizes it,
        # so scripts and the CLI connect as well as the web app.
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*", logger=False,
                                        engineio_logger=False)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._batcher = RoomBatcher(self.cap)
        self._subscriptions: dict[str, set[uuid.UUID]] = {}  # sid -> pipelines it joined (touched on the loop only)
        self._flusher: asyncio.Task | None = None
        # Per pipeline: (emitted at, source commit -> emit ms) of the latest emitted events, for the latency API.
        self._emit_delays: dict[str, deque] = defaultdict(lambda: deque(maxlen=1000))
        self._rechecker: asyncio.Task | None = None
        self.recheck_seconds = settings.realtime_session_recheck_seconds
        # sid -> who opened the socket, with the token's version and login session, to end it with the session.
        self._sockets: dict[str, _SocketUser] = {}
        self._register()

    # ------------------------------------------------------------------ lifecycle (inside the event loop)

    async def startup(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._flusher = asyncio.create_task(self._flush_summaries())
        self._rechecker = asyncio.create_task(self._recheck_sockets())

    async def shutdown(self) -> None:
        for task in (self._flusher, self._rechecker):
            if task:
                task.cancel()

    # ------------------------------------------------------------------ auth and rooms

    def _authenticate(self, token: object) -> _SocketUser | None:
        if not isinstance(token, str) or not token or len(token) > 4096:
            return None
        try:
            with self.session_factory() as session:
                user, claims = authenticate(session, self.settings.jwt_secret, token)
                return _SocketUser(user.id, claims, user.role)
        except InvalidToken:
            return None

    def _still_valid(self, users: list[_SocketUser]) -> list[bool]:
        """Whether each socket's token would still be accepted (user active, same version, session live)."""
        results = []
        with self.session_factory() as session:
            for user in users:
                if user.claims.expired():  # the socket outlived its token
                    results.append(False)
                    continue
                try:
                    user_for_claims(session, user.claims)
                    results.append(True)
                except InvalidToken:
                    results.append(False)
        return results

    def _can_view(self, user_id: uuid.UUID, pipeline_id: uuid.UUID) -> bool:
        """The user as they are now (role, active) may see this live pipeline."""
        with self.session_factory() as session:
            user = session.get(User, user_id)
            if user is None or not user.active or Permission.READ not in ROLE_PERMISSIONS[user.role]:
                return False
            pipeline = session.scalar(select(Pipeline).where(Pipeline.id == pipeline_id,
                                                             Pipeline.deleted_at.is_(None)))
            if pipeline is None:
                return False
            actor = Actor(user_id=user.id, username=user.username, role=user.role, client_ip=None)
            return policy.level_on(session, actor, pipeline) is not None

    def _register(self) -> None:
        sio = self.sio

        @sio.event
        async def connect(sid, environ, auth=None):
            token = auth.get("token") if isinstance(auth, dict) else None
            user = await asyncio.to_thread(self._authenticate, token)
            if user is None:
                raise socketio.exceptions.ConnectionRefusedError("unauthorized")
            self._sockets[sid] = user
            # Closed when its token expires; the client reconnects with a fresh one.
            if math.isfinite(user.claims.expires_at):
                delay = max(0.0, user.claims.expires_at - time.time())
                expire = lambda: asyncio.ensure_future(self._expire(sid, user))  # noqa: E731
                asyncio.get_running_loop().call_later(delay, expire)

        @sio.event
        async def disconnect(sid, *_reason):
            self._sockets.pop(sid, None)
            self._subscriptions.pop(sid, None)

        @sio.event
        async def subscribe_pipeline(sid, *args):
            return await self._guarded(sid, self._subscribe, args)

        @sio.event
        async def unsubscribe_pipeline(sid, *args):
            return await self._guarded(sid, self._unsubscribe, args)

    async def _guarded(self, sid: str, handler, args: tuple) -> dict[str, Any]:
        """Run an event handler; a client's bad payload gets an error ack, never a traceback in the log."""
        try:
            return await handler(sid, _pipeline_id(args))
        except _BadPayload as exc:
            return {"ok": False, "error": str(exc)}
        except Exception:
            logger.exception("Socket.IO handler failed")
            return {"ok": False, "error": "internal error"}

    async def _subscribe(self, sid: str, pipeline_id: uuid.UUID) -> dict[str, Any]:
        user = self._sockets.get(sid)
        # A token that stopped being good since the handshake (logout, password, role, deactivation) ends here.
        if user is None or not (await asyncio.to_thread(self._still_valid, [user]))[0]:
            # Answer first, then close: an ack sent after the disconnect would never arrive.
            self._sockets.pop(sid, None)
            asyncio.get_running_loop().call_later(ACK_GRACE_SECONDS, asyncio.ensure_future, self._drop(sid))
            return {"ok": False, "error": "unauthorized"}
        if Permission.READ not in ROLE_PERMISSIONS[user.role]:
            return {"ok": False, "error": "forbidden"}
        # Not visible and not existing read the same, so a refused subscription does not confirm an id.
        if not await asyncio.to_thread(self._can_view, user.user_id, pipeline_id):
            return {"ok": False, "error": "pipeline not found"}
        await self.sio.enter_room(sid, room_of(pipeline_id))
        self._subscriptions.setdefault(sid, set()).add(pipeline_id)
        return {"ok": True, "room": room_of(pipeline_id)}

    async def _unsubscribe(self, sid: str, pipeline_id: uuid.UUID) -> dict[str, Any]:
        await self.sio.leave_room(sid, room_of(pipeline_id))
        self._subscriptions.get(sid, set()).discard(pipeline_id)
        return {"ok": True}

    # ------------------------------------------------------------------ access changes

    def revalidate_user(self, user_id: uuid.UUID) -> None:
        """Thread-safe: called after a revocation committed. Fire and forget, like `publish`."""
        if self.loop is None or self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._revalidate(user_id), self.loop)

    async def _revalidate(self, user_id: uuid.UUID) -> None:
        for sid, pipelines in list(self._subscriptions.items()):
            user = self._sockets.get(sid)
            if user is None or user.user_id != user_id:
                continue
            for pipeline_id in list(pipelines):
                if not await asyncio.to_thread(self._can_view, user_id, pipeline_id):
                    await self.sio.leave_room(sid, room_of(pipeline_id))
                    pipelines.discard(pipeline_id)
                    await self.sio.emit("subscription_revoked", {"pipeline_id": str(pipeline_id)}, to=sid)

    # ------------------------------------------------------------------ ending sessions

    def end_sessions(self, ended: list[SessionsEnded]) -> None:
        """Thread-safe: called after a transaction that ended login sessions committed; their sockets close."""
        if self.loop is None or self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._disconnect_ended(ended), self.loop)

    async def _disconnect_ended(self, ended: list[SessionsEnded]) -> None:
        for sid, user in list(self._sockets.items()):
            if any(e.covers(user.user_id, user.claims.session_id) for e in ended):
                await self._drop(sid)

    async def _expire(self, sid: str, user: _SocketUser) -> None:
        if self._sockets.get(sid) is user:  # the same socket, still open on that token
            await self._drop(sid)

    async def _drop(self, sid: str) -> None:
        self._sockets.pop(sid, None)
        self._subscriptions.pop(sid, None)
        await self.sio.disconnect(sid)

    async def _recheck_sockets(self) -> None:
        """Sessions can also end elsewhere (another API process, the CLI, expiry): re-check every socket now and
        then, one database session for all of them."""
        while True:
            await asyncio.sleep(self.recheck_seconds)
            try:
                sockets = list(self._sockets.items())
                if not sockets:
                    continue
                valid = await asyncio.to_thread(self._still_valid, [u for _, u in sockets])
                for (sid, _), ok in zip(sockets, valid, strict=True):
                    if not ok:
                        await self._drop(sid)
            except Exception:
                logger.exception("socket session re-check failed")

    # ------------------------------------------------------------------ emission

    def publish(self, events: list[StoredEvent]) -> None:
        """Thread-safe: called by the event logger after its transaction committed."""
        if self.loop is None or self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._emit(events), self.loop)

    def publish_schema_changes(self, pipeline_id: str, changes: list[dict[str, Any]]) -> None:
        """Thread-safe: `schema_change` to the pipeline's room, one per recorded SCHEMA_CHANGE (committed) row."""
        if self.loop is None or self.loop.is_closed():
            return
        for change in changes:
            asyncio.run_coroutine_threadsafe(
                self.sio.emit("schema_change", change, room=room_of(pipeline_id)), self.loop)

    def watched(self, pipeline_id: str) -> bool:
        """Thread-safe: a socket of this process is in the pipeline's room."""
        return self._listening(room_of(pipeline_id))

    def _listening(self, room: str) -> bool:
        return bool(self.sio.manager.rooms.get("/", {}).get(room))

    async def _emit(self, events: list[StoredEvent]) -> None:
        for name, room, payload in self._batcher.take(events, int(time.time()), self._listening):
            await self.sio.emit(name, payload, room=room)
            if name == "replication_events":
                self._record_delays(payload)

    def _record_delays(self, payload: dict[str, Any]) -> None:
        now_ms = time.time() * 1000
        delays = self._emit_delays[payload["pipeline_id"]]
        for event in payload["events"]:
            source_ms = event.get("source_ts_ms")
            if isinstance(source_ms, (int, float)):
                delays.append((now_ms, now_ms - source_ms))

    def emit_delays(self, pipeline_id: uuid.UUID, window_seconds: float) -> list[float]:
        """Source commit -> Socket.IO emit (ms) of this process's recent emissions to the pipeline's room."""
        since = time.time() * 1000 - window_seconds * 1000
        return [delay for at, delay in list(self._emit_delays.get(str(pipeline_id), ())) if at >= since]

    async def _flush_summaries(self) -> None:
        while True:
            await asyncio.sleep(1)
            try:
                for name, room, payload in self._batcher.due(int(time.time())):
                    await self.sio.emit(name, payload, room=room)
            except Exception:
                logger.exception("Socket.IO summary flush failed")
