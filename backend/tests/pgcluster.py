"""A throwaway PostgreSQL cluster for tests that need a server configured differently from the stack's."""

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from glob import glob
from pathlib import Path


def _bin(name: str) -> str:
    for candidate in sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return candidate
    found = shutil.which(name)
    assert found, f"{name} not found"
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temporary_cluster(password: str, settings: dict[str, str]):
    """initdb + start a cluster on a free port with scram auth; yields the port; always stopped and removed."""
    as_root = os.geteuid() == 0
    user = os.environ.get("CDCFLOW_PG_OS_USER", "cdcflow-pg")
    prefix = ["runuser", "-u", user, "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="cdcflow-pgtest-", dir="/tmp"))
    data, pwfile, port = base / "data", base / "pw", free_port()
    pwfile.write_text(password)
    if as_root:
        shutil.chown(base, user)
        shutil.chown(pwfile, user)
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, cwd="/")  # noqa: E731
    try:
        run(_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}")
        conf = {"listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": f"'{base}'",
                "fsync": "off", **settings}
        with open(data / "postgresql.conf", "a") as f:
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())
        run(_bin("pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "start")
        try:
            yield port
        finally:
            run(_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
