"""Issue 23, finding 8: a socket does not outlive its access token. At `exp` the API closes it, and a subscribe
after `exp` is refused even before that."""

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import socketio

from tests.access_support import make_user
from tests.support import wait_until

pytestmark = pytest.mark.timeout(120)


def short_lived(token: str, seconds: float) -> tuple[str, float]:
    """The same user, login session and version, but expiring in `seconds` (signed with the stack's JWT_SECRET)."""
    claims = jwt.decode(token, os.environ["JWT_SECRET"], algorithms=["HS256"])
    exp = datetime.now(UTC) + timedelta(seconds=seconds)
    claims |= {"exp": exp, "iat": datetime.now(UTC), "jti": uuid.uuid4().hex}
    return jwt.encode(claims, os.environ["JWT_SECRET"], algorithm="HS256"), exp.timestamp()


def test_the_api_closes_a_socket_when_its_token_expires(client, auth):
    user = make_user(client, auth["admin"], "viewer", "i23-socket")
    token, expires_at = short_lived(user.token, 4)
    sio = socketio.Client(reconnection=False)
    sio.connect(os.environ["CDCFLOW_API_URL"], auth={"token": token}, transports=["websocket"], wait_timeout=10)
    try:
        assert sio.connected
        assert sio.call("subscribe_pipeline", {"pipeline_id": str(uuid.uuid4())}, timeout=10) == {
            "ok": False, "error": "pipeline not found"}  # a live token: the subscription is judged on access
        wait_until(lambda: not sio.connected, 30, what="the API to close the socket at the token's expiry")
        assert time.time() >= expires_at - 0.5, "closed before the token expired"
    finally:
        sio.disconnect()


def test_a_subscribe_after_expiry_is_refused(client, auth):
    """Checked on the in-process realtime too, so the refusal does not depend on the close's timing."""
    from cdcflow.core.security import decode_access_token

    user = make_user(client, auth["admin"], "viewer", "i23-socket-sub")
    token, _ = short_lived(user.token, 1)
    claims = decode_access_token(os.environ["JWT_SECRET"], token)
    assert claims.expires_at > time.time() and not claims.expired()
    assert claims.expired(claims.expires_at + 0.001)
    realtime = client.app.state.realtime
    from cdcflow.events.realtime import _SocketUser
    from cdcflow.models import Role

    socket_user = _SocketUser(claims.user_id, claims, Role.VIEWER)
    assert realtime._still_valid([socket_user]) == [True]
    wait_until(lambda: claims.expired(), 10, what="the token to expire")
    assert realtime._still_valid([socket_user]) == [False]
