"""Socket.IO beside FastAPI: JWT checked at the handshake, one room per pipeline, emission capped per room.

`publish` is called by the event logger thread after its batch committed; it hands the events to the event loop.
Above `cap_per_second` events in one second a room gets one `replication_events_summary` (counts by type and
table) for the rest of that second instead of every event.
"""

import asyncio
import logging
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import socketio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.config import Settings
from cdcflow.core.deps import ROLE_PERMISSIONS, Permission
from cdcflow.core.security import InvalidToken, decode_access_token
from cdcflow.events.store import StoredEvent
from cdcflow.models import Pipeline, User

logger = logging.getLogger(__name__)


def room_of(pipeline_id: str | uuid.UUID) -> str:
    return f"pipeline_{pipeline_id}"


class _RoomWindow:
    def __init__(self) -> None:
        self.second = 0
        self.sent = 0
        self.suppressed: Counter = Counter()
        self.by_table: Counter = Counter()


class Realtime:
    def __init__(self, settings: Settings, session_factory: sessionmaker[Session]) -> None:
        self.settings, self.session_factory = settings, session_factory
        self.cap = settings.realtime_cap_per_second
        # Any origin may open a socket: the JWT in the handshake payload (never a cookie) is what authorizes it,
        # so scripts and the CLI connect as well as the web app.
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*", logger=False,
                                        engineio_logger=False)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._windows: dict[str, _RoomWindow] = defaultdict(_RoomWindow)
        self._flusher: asyncio.Task | None = None
        self._register()

    # ------------------------------------------------------------------ lifecycle (inside the event loop)

    async def startup(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._flusher = asyncio.create_task(self._flush_summaries())

    async def shutdown(self) -> None:
        if self._flusher:
            self._flusher.cancel()

    # ------------------------------------------------------------------ auth and rooms

    def _user_for(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        try:
            claims = decode_access_token(self.settings.jwt_secret, token)
            user_id = uuid.UUID(claims["sub"])
        except (InvalidToken, ValueError):
            return None
        with self.session_factory() as session:
            user = session.get(User, user_id)
            if user is None or not user.active:
                return None
            return {"user_id": str(user.id), "username": user.username, "role": user.role}

    def _pipeline_exists(self, pipeline_id: uuid.UUID) -> bool:
        with self.session_factory() as session:
            return session.scalar(select(Pipeline.id).where(Pipeline.id == pipeline_id,
                                                            Pipeline.deleted_at.is_(None))) is not None

    def _register(self) -> None:
        sio = self.sio

        @sio.event
        async def connect(sid, environ, auth):
            token = (auth or {}).get("token") if isinstance(auth, dict) else None
            user = await asyncio.to_thread(self._user_for, token)
            if user is None:
                raise socketio.exceptions.ConnectionRefusedError("unauthorized")
            await sio.save_session(sid, user)

        @sio.event
        async def subscribe_pipeline(sid, data):
            user = await sio.get_session(sid)
            raw = data.get("pipeline_id") if isinstance(data, dict) else data
            try:
                pipeline_id = uuid.UUID(str(raw))
            except ValueError:
                return {"ok": False, "error": "invalid pipeline id"}
            if Permission.READ not in ROLE_PERMISSIONS[user["role"]]:
                return {"ok": False, "error": "forbidden"}
            if not await asyncio.to_thread(self._pipeline_exists, pipeline_id):
                return {"ok": False, "error": "pipeline not found"}
            await sio.enter_room(sid, room_of(pipeline_id))
            return {"ok": True, "room": room_of(pipeline_id)}

        @sio.event
        async def unsubscribe_pipeline(sid, data):
            raw = data.get("pipeline_id") if isinstance(data, dict) else data
            await sio.leave_room(sid, room_of(raw))
            return {"ok": True}

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

    async def _emit(self, events: list[StoredEvent]) -> None:
        now = int(time.time())
        for event in events:
            room = room_of(event.pipeline_id)
            window = self._windows[room]
            if window.second != now:
                await self._send_summary(room, window)
                window.second, window.sent = now, 0
            if window.sent < self.cap:
                window.sent += 1
                await self.sio.emit("replication_event", event.public(), room=room)
            else:
                window.suppressed[event.event_type] += 1
                window.by_table[event.table_name] += 1

    async def _send_summary(self, room: str, window: _RoomWindow) -> None:
        if not window.suppressed:
            return
        await self.sio.emit("replication_events_summary", {
            "pipeline_id": room.removeprefix("pipeline_"), "second": window.second,
            "suppressed": sum(window.suppressed.values()), "by_event_type": dict(window.suppressed),
            "by_table": dict(window.by_table), "cap_per_second": self.cap}, room=room)
        window.suppressed.clear()
        window.by_table.clear()

    async def _flush_summaries(self) -> None:
        while True:
            await asyncio.sleep(1)
            now = int(time.time())
            for room, window in list(self._windows.items()):
                if window.second < now:
                    await self._send_summary(room, window)
