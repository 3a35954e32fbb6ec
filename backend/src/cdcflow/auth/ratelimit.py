"""Login throttling: slows password guessing without letting a stranger lock a real user out (process memory,
bounded, every entry expires).

Three counters of failed logins:

* per client address: `login_max_failures_per_client` failures in the window and the address gets 429 for every
  username (password spraying from one place);
* per (username, client address): `login_max_failures_per_user` failures in the window and that address may not
  try that username again until its oldest failure leaves the window (guessing from one place);
* per username, over all addresses: from the `login_max_failures_per_user`-th failure on, each further try from
  an *unknown* address waits an exponentially growing delay since the last failure (1 s, 2 s, 4 s, ... up to
  `login_backoff_max_seconds`), so guessing from many places gets a few dozen tries an hour, not thousands.

A *known* address is one where the user logged in successfully before (remembered `login_known_client_days`). It
is exempt from the per-username delay: an attacker elsewhere can slow down logins from new places but cannot lock
the user out of the places they use. This was chosen over a hard per-user lock (which let anyone lock any account
with five wrong passwords) and over a signed "known device" cookie (the CLI and scripts keep no cookies; an
address needs nothing from the client). Its limit: clients behind one shared address (NAT, a reverse proxy:
`cdcflow serve` does not trust forwarded-for headers) count as one.

Only verified wrong passwords count; a try refused by the limiter is not verified and not counted. A malformed
login request (bad JSON, a NUL byte, a missing field) counts as a failure of its client address only.

Memory is bounded: each map keeps at most `login_limiter_max_keys` entries, least recently used out first, and an
entry expires once it no longer limits anything. The maps are per process: the API runs the same rules on counters
in the database (auth/throttle.py, DbLoginGuard, same interface) so N API processes limit as one; this class is the
reference the unit tests drive with a fake clock.
"""

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cdcflow.core.config import Settings
from cdcflow.core.errors import TooManyRequests

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Clock = Callable[[], float]


class ExpiringLRU(Generic[K, V]):
    """A map with a maximum size (least recently used out first) whose entries vanish at their expiry time."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, now: float) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: K, value: V, expires_at: float, now: float) -> None:
        self._items[key] = (expires_at, value)
        self._items.move_to_end(key)
        # Entries touched longest ago usually expire first: drop those, then whatever exceeds the bound.
        while self._items:
            oldest_key, (oldest_expiry, _) = next(iter(self._items.items()))
            if oldest_expiry > now and len(self._items) <= self.max_keys:
                break
            del self._items[oldest_key]

    def pop(self, key: K) -> None:
        self._items.pop(key, None)


class SlidingWindow(Generic[K]):
    """At most `max_failures` failures per key within `window` seconds."""

    def __init__(self, max_failures: int, window: float, max_keys: int) -> None:
        self.max_failures, self.window = max_failures, window
        self._failures: ExpiringLRU[K, deque[float]] = ExpiringLRU(max_keys)

    def retry_after(self, key: K, now: float) -> float:
        times = self._failures.get(key, now)
        if times is None:
            return 0.0
        while times and now - times[0] >= self.window:
            times.popleft()
        return self.window - (now - times[0]) if len(times) >= self.max_failures else 0.0

    def fail(self, key: K, now: float) -> None:
        times = self._failures.get(key, now) or deque(maxlen=self.max_failures)
        times.append(now)
        self._failures.put(key, times, now + self.window, now)

    def reset(self, key: K) -> None:
        self._failures.pop(key)

    def __len__(self) -> int:
        return len(self._failures)


@dataclass
class _Backoff:
    failures: int
    last_failure: float


class ExponentialBackoff(Generic[K]):
    """From the `threshold`-th failure of a key on, the next try waits base * 2^(failures - threshold) seconds
    (capped) after the last failure. A key forgets its failures one window after its delay ran out."""

    def __init__(self, threshold: int, base: float, cap: float, window: float, max_keys: int) -> None:
        self.threshold, self.base, self.cap, self.window = threshold, base, cap, window
        self._state: ExpiringLRU[K, _Backoff] = ExpiringLRU(max_keys)

    def _delay(self, failures: int) -> float:
        if failures < self.threshold:
            return 0.0
        return min(self.cap, self.base * 2 ** min(failures - self.threshold, 62))

    def retry_after(self, key: K, now: float) -> float:
        state = self._state.get(key, now)
        if state is None:
            return 0.0
        return max(0.0, state.last_failure + self._delay(state.failures) - now)

    def fail(self, key: K, now: float) -> None:
        state = self._state.get(key, now)
        state = _Backoff(state.failures + 1 if state else 1, now)
        self._state.put(key, state, now + self._delay(state.failures) + self.window, now)

    def __len__(self) -> int:
        return len(self._state)


class LoginGuard:
    """The login limiter of one API process (see the module docstring for the design)."""

    def __init__(self, settings: Settings, clock: Clock = time.monotonic) -> None:
        window, max_keys = settings.login_failure_window_seconds, settings.login_limiter_max_keys
        self.clock = clock
        self.per_client: SlidingWindow[str] = SlidingWindow(settings.login_max_failures_per_client, window, max_keys)
        self.per_user_client: SlidingWindow[tuple[str, str]] = SlidingWindow(
            settings.login_max_failures_per_user, window, max_keys)
        self.per_user: ExponentialBackoff[str] = ExponentialBackoff(
            settings.login_max_failures_per_user, 1.0, settings.login_backoff_max_seconds, window, max_keys)
        self.known_ttl = settings.login_known_client_days * 86400.0
        self.known: ExpiringLRU[tuple[str, str], bool] = ExpiringLRU(max_keys)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, client: str | None) -> tuple[str, str]:
        return username.lower(), client or "?"

    def check(self, username: str, client: str | None) -> None:
        """Raise 429 when this client may not try this username now."""
        user, addr = self._keys(username, client)
        now = self.clock()
        with self._lock:
            wait = max(self.per_client.retry_after(addr, now), self.per_user_client.retry_after((user, addr), now))
            if not self.known.get((user, addr), now):
                wait = max(wait, self.per_user.retry_after(user, now))
        if wait > 0:
            raise TooManyRequests("Too many failed logins; try again later",
                                  {"retry_after_seconds": max(1, int(wait + 0.999))})

    def failed(self, username: str, client: str | None) -> None:
        user, addr = self._keys(username, client)
        now = self.clock()
        with self._lock:
            self.per_client.fail(addr, now)
            self.per_user_client.fail((user, addr), now)
            self.per_user.fail(user, now)

    def succeeded(self, username: str, client: str | None) -> None:
        """The right password: this client's count for the user restarts and the address becomes known. The
        per-username delay stays (it only slows unknown addresses and fades by itself), so a real login does not
        hand a guesser elsewhere a fresh set of tries."""
        user, addr = self._keys(username, client)
        now = self.clock()
        with self._lock:
            self.per_user_client.reset((user, addr))
            self.known.put((user, addr), True, now + self.known_ttl, now)

    def entry_counts(self) -> dict[str, int]:
        """How many keys each map holds (bounded by `login_limiter_max_keys`)."""
        with self._lock:
            return {"per_client": len(self.per_client), "per_user_client": len(self.per_user_client),
                    "per_user": len(self.per_user), "known_clients": len(self.known)}

    def malformed(self, client: str | None) -> None:
        """A login request that could not even be read counts against its client address."""
        now = self.clock()
        with self._lock:
            self.per_client.fail(client or "?", now)
