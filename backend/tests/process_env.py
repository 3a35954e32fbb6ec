"""Settings that hold for the apps this test process builds, and must not reach the servers it (re)starts.

The API server started by make test runs the one event logger; apps built in the test process must not join its
consumer group. A test that restarts that server (stackctl app-up) hands it the environment of this process: without
the overrides removed, the restarted API would run with its event logger off and store no event again.
"""

import os

_ORIGINAL: dict[str, str | None] = {}


def override(name: str, value: str, only_if_unset: bool = False) -> None:
    """Set `name` for this process; servers started later get the value it had before."""
    _ORIGINAL.setdefault(name, os.environ.get(name))
    if not (only_if_unset and _ORIGINAL[name] is not None):
        os.environ[name] = value


def for_servers(env: dict[str, str]) -> dict[str, str]:
    """`env` with every override undone."""
    env = dict(env)
    for name, value in _ORIGINAL.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
