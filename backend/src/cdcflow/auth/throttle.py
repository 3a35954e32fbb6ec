"""The login limiter of a cluster of API processes: LoginGuard's rules (auth/ratelimit.py) on counters kept in the
metadata database (table login_throttle), so a guesser gains nothing by spreading tries over N API processes.

Same interface as the in-process LoginGuard (check, failed, succeeded, malformed, entry_counts), same three counters
and known addresses; what differs:

* time is the database's clock (`now()`), one clock for every process;
* each call is one short transaction of its own, apart from the request's (a failure is counted even when the
  request's transaction rolls back); a failure locks only its own counter rows (`FOR UPDATE`), so concurrent
  failures on one key from several processes all count;
* size: rows expire like the in-process entries and expired rows are deleted by the next failure; the table is not
  capped at `login_limiter_max_keys` (it lives on disk, and every row is gone one window after its last failure).
"""

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cdcflow.core.config import Settings
from cdcflow.core.db import session_scope
from cdcflow.core.errors import TooManyRequests

_SEP = "\x1f"  # no username or address contains a unit separator (logins refuse control characters)


@dataclass
class _Row:
    times: list[float]
    failures: int
    last_failure: float | None


class DbLoginGuard:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.window = float(settings.login_failure_window_seconds)
        self.max_client = settings.login_max_failures_per_client
        self.max_user = settings.login_max_failures_per_user
        self.backoff_cap = settings.login_backoff_max_seconds
        self.known_ttl = settings.login_known_client_days * 86400.0

    @staticmethod
    def _keys(username: str, client: str | None) -> dict[str, str]:
        user, addr = username.lower(), client or "?"
        return {"c": f"c:{addr}", "uc": f"uc:{user}{_SEP}{addr}", "u": f"u:{user}", "k": f"k:{user}{_SEP}{addr}"}

    # ------------------------------------------------------------------------------------------- the rules

    def _window_wait(self, row: _Row | None, limit: int, now: float) -> float:
        times = [t for t in (row.times if row else []) if now - t < self.window]
        return self.window - (now - times[0]) if len(times) >= limit else 0.0

    def _delay(self, failures: int) -> float:
        if failures < self.max_user:
            return 0.0
        return min(self.backoff_cap, 2.0 ** min(failures - self.max_user, 62))

    def _backoff_wait(self, row: _Row | None, now: float) -> float:
        if row is None or row.last_failure is None:
            return 0.0
        return max(0.0, row.last_failure + self._delay(row.failures) - now)

    # --------------------------------------------------------------------------------------------- storage

    @staticmethod
    def _now(session: Session) -> float:
        return float(session.execute(text("SELECT extract(epoch FROM now())")).scalar_one())

    @staticmethod
    def _rows(session: Session, keys: list[str], lock: bool = False) -> dict[str, _Row]:
        found = session.execute(text(
            "SELECT key, times, failures, last_failure FROM login_throttle WHERE key = ANY(:keys) "
            "AND expires_at > now() ORDER BY key" + (" FOR UPDATE" if lock else "")), {"keys": keys}).all()
        return {key: _Row(list(times or []), failures, last) for key, times, failures, last in found}

    @staticmethod
    def _put(session: Session, key: str, row: _Row, expires_in: float) -> None:
        session.execute(text(
            "INSERT INTO login_throttle (key, times, failures, last_failure, expires_at) "
            "VALUES (:key, :times, :failures, :last, now() + make_interval(secs => :ttl)) "
            "ON CONFLICT (key) DO UPDATE SET times = excluded.times, failures = excluded.failures, "
            "last_failure = excluded.last_failure, expires_at = excluded.expires_at"),
            {"key": key, "times": row.times, "failures": row.failures, "last": row.last_failure, "ttl": expires_in})

    def _fail(self, session: Session, keys: dict[str, str], kinds: tuple[str, ...]) -> None:
        wanted = [keys[k] for k in kinds]
        # Rows must exist to be locked: a first failure from two processes at once must count twice, not once.
        session.execute(text(
            "INSERT INTO login_throttle (key, expires_at) SELECT k, now() FROM unnest(CAST(:keys AS text[])) k "
            "ON CONFLICT (key) DO NOTHING"), {"keys": wanted})
        session.execute(text(
            "SELECT key FROM login_throttle WHERE key = ANY(:keys) ORDER BY key FOR UPDATE"), {"keys": wanted})
        rows, now = self._rows(session, wanted), self._now(session)
        for kind in kinds:
            row = rows.get(keys[kind])
            if kind in ("c", "uc"):
                limit = self.max_client if kind == "c" else self.max_user
                times = ([t for t in row.times if now - t < self.window] if row else []) + [now]
                self._put(session, keys[kind], _Row(times[-limit:], 0, None), self.window)
            else:
                failures = (row.failures if row else 0) + 1
                self._put(session, keys[kind], _Row([], failures, now), self._delay(failures) + self.window)
        session.execute(text("DELETE FROM login_throttle WHERE expires_at < now() - interval '1 minute'"))

    # ------------------------------------------------------------------------------------------- interface

    def check(self, username: str, client: str | None) -> None:
        """Raise 429 when this client may not try this username now."""
        keys = self._keys(username, client)
        with session_scope(self.factory) as session:
            rows, now = self._rows(session, list(keys.values())), self._now(session)
        wait = max(self._window_wait(rows.get(keys["c"]), self.max_client, now),
                   self._window_wait(rows.get(keys["uc"]), self.max_user, now))
        if keys["k"] not in rows:
            wait = max(wait, self._backoff_wait(rows.get(keys["u"]), now))
        if wait > 0:
            raise TooManyRequests("Too many failed logins; try again later",
                                  {"retry_after_seconds": max(1, int(wait + 0.999))})

    def failed(self, username: str, client: str | None) -> None:
        with session_scope(self.factory) as session:
            self._fail(session, self._keys(username, client), ("c", "u", "uc"))

    def succeeded(self, username: str, client: str | None) -> None:
        """The client's count for the user restarts and the address becomes known; the per-username delay stays."""
        keys = self._keys(username, client)
        with session_scope(self.factory) as session:
            session.execute(text("DELETE FROM login_throttle WHERE key = :key"), {"key": keys["uc"]})
            self._put(session, keys["k"], _Row([], 0, None), self.known_ttl)

    def malformed(self, client: str | None) -> None:
        with session_scope(self.factory) as session:
            self._fail(session, self._keys("", client), ("c",))

    def entry_counts(self) -> dict[str, int]:
        names = {"c": "per_client", "uc": "per_user_client", "u": "per_user", "k": "known_clients"}
        counts = dict.fromkeys(names.values(), 0)
        with session_scope(self.factory) as session:
            for prefix, n in session.execute(text(
                    "SELECT split_part(key, ':', 1), count(*) FROM login_throttle WHERE expires_at > now() "
                    "GROUP BY 1")).all():
                if prefix in names:
                    counts[names[prefix]] = n
        return counts
