"""Shared by the benchmarks: the stack's settings (.stack/env) in os.environ."""

import os
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_stack_env() -> None:
    env_file = Path(os.environ.get("CDCFLOW_STACK_DIR", REPO / ".stack")) / "env"
    for line in env_file.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            os.environ[key] = shlex.split(value)[0]
