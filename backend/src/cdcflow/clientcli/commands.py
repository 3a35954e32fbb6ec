"""cdcflow login | connections | pipelines | events | alerts: tables for people, --json for scripts, non-zero on failure."""

import argparse
import getpass
import json
import os
import sys
import time
from typing import Any

from cdcflow.clientcli.alerts import add_parser as add_alerts_parser
from cdcflow.clientcli import recovery
from cdcflow.clientcli.session import Api, CliError, login

ACTIONS = ("start", "stop", "pause", "resume")


def emit(args: argparse.Namespace, data: Any, columns: list[str] | None = None) -> None:
    if args.json:
        print(json.dumps(data, default=str))
        return
    rows = data if isinstance(data, list) else [data]
    if not columns:
        columns = [k for k, v in rows[0].items() if not isinstance(v, (dict, list))] if rows else []
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _find(api: Api, kind: str, ref: str) -> dict[str, Any]:
    """An id, or a unique name."""
    items = api.get(f"/{kind}", **({"limit": 200} if kind == "pipelines" else {}))["items"]
    matches = [i for i in items if ref in (i["id"], i["name"])]
    if len(matches) != 1:
        raise CliError(f"No {kind[:-1]} named or numbered {ref!r}" if not matches else f"{ref!r} is ambiguous")
    return matches[0]


def cmd_login(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("CDCFLOW_API_URL", "http://127.0.0.1:8000")
    username = args.username or os.environ.get("CDCFLOW_USERNAME") or input("Username: ")
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else (
        os.environ.get("CDCFLOW_PASSWORD") or getpass.getpass("Password: "))
    creds = login(url, username, password)
    emit(args, {"logged_in": True, "api_url": creds["api_url"], "username": username})
    return 0


DEFAULT_PORTS = {"postgresql": 5432, "mariadb": 3306}


def _create_connection(api: Api, args: argparse.Namespace) -> dict[str, Any]:
    missing = [f"--{f}" for f in ("name", "type", "host", "database", "username") if not getattr(args, f)]
    if missing:
        raise CliError(f"connections create needs {', '.join(missing)}")
    # Never on the command line (it would sit in the shell history and in ps): stdin or the environment.
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else os.environ.get("CDCFLOW_DB_PASSWORD")
    if not password:
        raise CliError("give the database password on stdin (--password-stdin) or in $CDCFLOW_DB_PASSWORD")
    body = {"name": args.name, "connection_type": args.type, "database_type": args.database_type,
            "host": args.host, "port": args.port or DEFAULT_PORTS[args.database_type], "database": args.database,
            "username": args.username, "password": password}
    if args.schema:
        body["schema"] = args.schema
    return api.post("/connections", body)


def cmd_connections(args: argparse.Namespace) -> int:
    api = Api()
    columns = ["id", "name", "connection_type", "database_type", "host", "port", "database", "username"]
    if args.action == "list":
        emit(args, api.get("/connections")["items"], columns)
        return 0
    if args.action == "create":
        emit(args, _create_connection(api, args), columns)
        return 0
    if not args.ref:
        raise CliError("connections test needs the connection's name or id")
    conn = _find(api, "connections", args.ref)
    result = api.post(f"/connections/{conn['id']}/test", {"tables": args.tables or []})
    if args.json:
        emit(args, result)
    else:
        print(f"{conn['name']}: {'OK' if result['ok'] else 'FAILED'} "
              f"({result.get('server_version') or '-'}, {result['latency_ms']} ms)")
        if result.get("error"):
            print(f"  {result['error']}")
        for check in result["checks"]:
            print(f"  {'ok ' if check['ok'] else 'FAIL'} {check['name']}: {check['detail']}")
    return 0 if result["ok"] else 1


def _percent(value: float | None) -> str:
    return "    ?%" if value is None else f"{value:5.1f}%"


def _progress_bar(progress: dict[str, Any], width: int = 30) -> str:
    done = int(width * (progress["percent"] or 0) / 100)
    estimated = "?" if progress["rows_estimated"] is None else f"{progress['rows_estimated']:,}"
    return f"[{'#' * done}{'.' * (width - done)}] {_percent(progress['percent'])}  " \
           f"{progress['rows_copied']:,}/{estimated} rows  {progress['full_load_status']}"


def cmd_pipelines(args: argparse.Namespace) -> int:
    api = Api()
    if args.action == "list":
        emit(args, api.get("/pipelines", limit=200)["items"],
             ["id", "name", "status", "mode", "full_load_status", "cdc_status"])
        return 0
    if args.action == "create":
        source, target = _find(api, "connections", args.source), _find(api, "connections", args.target)
        pipeline = api.post("/pipelines", {"name": args.name, "mode": args.mode, "tables": args.tables,
                                           "source_connection_id": source["id"],
                                           "target_connection_id": target["id"],
                                           "schema_change_policy": args.policy or "propagate"})
        emit(args, pipeline, ["id", "name", "status", "mode"])
        return 0
    pipeline = _find(api, "pipelines", args.ref)
    pid = pipeline["id"]
    if args.action in ACTIONS:
        emit(args, api.post(f"/pipelines/{pid}/{args.action}"), ["id", "name", "status"])
        return 0
    if args.action in recovery.RECOVERY_ACTIONS:
        return recovery.run(args, api, pipeline, emit)
    if args.action == "status":
        status = api.get(f"/pipelines/{pid}/status")
        if args.json:
            emit(args, status)
        else:
            print(f"{status['name']}: {status['status']} (full load {status['full_load_status']}, "
                  f"cdc {status['cdc_status']}, health {status['health']})")
            for role in ("source", "sink"):
                view = (status["connect"] or {}).get(role) or {}
                tasks = ", ".join(f"{t['id']}:{t['state']}" for t in view.get("tasks", []))
                print(f"  {role:6s} {view.get('state') or 'absent'}  tasks {tasks or '-'}")
            if status["last_error"]:
                print(f"  error: {status['last_error']}")
            for change in status.get("schema_pending", []):
                print(f"  schema change held for review: {change['table']}: {change['message']}")
                for ddl in change.get("ddl", []):
                    print(f"      {ddl}")
            if status.get("available_actions"):
                print(f"  actions: {', '.join(status['available_actions'])}")
        return 1 if status["status"] == "ERROR" else 0
    # progress, optionally following until the full load ends
    while True:
        progress = api.get(f"/pipelines/{pid}/progress")
        if args.json:
            if not args.wait or progress["full_load_status"] in ("COMPLETED", "FAILED") or \
                    progress["status"] == "ERROR":
                emit(args, progress)
        else:
            sys.stdout.write("\r" + _progress_bar(progress))
            sys.stdout.flush()
        finished = progress["full_load_status"] in ("COMPLETED", "FAILED") or progress["status"] in ("ERROR",)
        if not args.wait or finished:
            if not args.json:
                sys.stdout.write("\n")
                for t in progress["tables"]:
                    print(f"  {t['schema_name']}.{t['table']:24s} {t['state']:10s} {_percent(t['percent'])}  "
                          f"{t['rows_copied']:,} rows")
            return 1 if progress["full_load_status"] == "FAILED" or progress["status"] == "ERROR" else 0
        time.sleep(1)


def cmd_events_tail(args: argparse.Namespace) -> int:
    """Follow a pipeline's events: recent ones first, then new ones as they are stored (Socket.IO, else polling)."""
    api = Api()
    pid = _find(api, "pipelines", args.pipeline)["id"]
    newest = 0

    def show(event: dict[str, Any]) -> None:
        nonlocal newest
        if event["id"] <= newest and not args.json:
            return
        newest = max(newest, event["id"])
        if args.json:
            print(json.dumps(event, default=str), flush=True)
        else:
            key = json.dumps(event.get("primary_key"), separators=(",", ":")) if event.get("primary_key") else ""
            print(f"{event['created_at'][11:23]}  {event['event_type']:8s} {event['table_name']:28s} {key}  "
                  f"{event.get('latency_ms') or '-'} ms", flush=True)

    recent = api.get("/monitoring/events", pipeline_id=pid, limit=max(1, args.last))["items"]
    if args.last > 0:
        for event in reversed(recent):
            show(event)
    elif recent:
        newest = recent[0]["id"]  # follow from now on
    # On stderr, so scripts reading stdout see events only: from here on, every new event is shown.
    print(f"following {args.pipeline} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.duration if args.duration else None
    while deadline is None or time.monotonic() < deadline:
        page = api.get("/monitoring/events", pipeline_id=pid, limit=500)["items"]
        for event in reversed([e for e in page if e["id"] > newest]):
            show(event)
        time.sleep(1)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = common(sub.add_parser("login", help="log in to the API and store the session"))
    p.add_argument("--url", help="API URL (default: $CDCFLOW_API_URL or http://127.0.0.1:8000)")
    p.add_argument("--username")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_login)

    p = common(sub.add_parser("connections", help="list, create or test connections"))
    p.add_argument("action", choices=["list", "create", "test"])
    p.add_argument("ref", nargs="?", help="connection id or name (for test)")
    p.add_argument("--tables", nargs="+", help="test: also check these schema.table entries (exist, primary key)")
    p.add_argument("--name", help="create: the connection's name")
    p.add_argument("--type", choices=["source", "target"], help="create: source or target")
    p.add_argument("--database-type", choices=sorted(DEFAULT_PORTS), default="postgresql",
                   help="create: postgresql (default) or mariadb")
    p.add_argument("--host", help="create: the database server's host")
    p.add_argument("--port", type=int, help="create: default 5432 (postgresql) or 3306 (mariadb)")
    p.add_argument("--database", help="create: the database")
    p.add_argument("--username", help="create: the database user")
    p.add_argument("--schema", help="create: default public (postgresql) or the database (mariadb)")
    p.add_argument("--password-stdin", action="store_true",
                   help="create: read the password from stdin (else $CDCFLOW_DB_PASSWORD)")
    p.set_defaults(func=cmd_connections)

    p = common(sub.add_parser("pipelines", help="manage pipelines"))
    p.add_argument("action", choices=["list", "create", *ACTIONS, "status", "progress", *recovery.RECOVERY_ACTIONS])
    p.add_argument("ref", nargs="?", help="pipeline id or name")
    p.add_argument("--name")
    p.add_argument("--source")
    p.add_argument("--target")
    p.add_argument("--mode", default="full_load_and_cdc", choices=["full_load_only", "cdc_only", "full_load_and_cdc"])
    p.add_argument("--tables", nargs="+", default=[])
    p.add_argument("--wait", action="store_true", help="progress: follow until the full load ends")
    recovery.add_arguments(p)
    p.set_defaults(func=cmd_pipelines)

    p = common(sub.add_parser("events", help="follow a pipeline's change events"))
    p.add_argument("action", choices=["tail"])
    p.add_argument("--pipeline", required=True)
    p.add_argument("--last", type=int, default=10, help="recent events to show first")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: follow until Ctrl-C)")
    p.set_defaults(func=cmd_events_tail)

    from cdcflow.clientcli.grants import add_parser as add_grants_parser

    add_grants_parser(sub, common)
    add_alerts_parser(sub, common)


def run(args: argparse.Namespace) -> int:
    try:
        if getattr(args, "action", None) in ("test",) and not args.ref:
            raise CliError("Which connection? Give its id or name")
        if args.func is cmd_pipelines and args.action not in ("list", "create") and not args.ref:
            raise CliError("Which pipeline? Give its id or name")
        if args.func is cmd_pipelines and args.action == "create" and not (args.name and args.source and
                                                                           args.target and args.tables):
            raise CliError("create needs --name, --source, --target and --tables")
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
