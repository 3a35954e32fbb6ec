"""cdcflow pipelines restart | resync | reset | add-table | remove-table | schema-changes | schema-policy."""

import argparse
import sys
from typing import Any

from cdcflow.clientcli.session import Api, CliError

RECOVERY_ACTIONS = ("restart", "resync", "reset", "add-table", "remove-table", "schema-changes", "schema-policy")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", help="schema.table (resync, add-table, remove-table)")
    p.add_argument("--all-tasks", action="store_true", help="restart: every task, not only the failed ones")
    p.add_argument("--confirm", help="reset: the pipeline's name, to confirm")
    p.add_argument("--policy", choices=["propagate", "pause", "ignore"], help="schema-policy: what DDL does")
    drop = p.add_mutually_exclusive_group()
    drop.add_argument("--drop-removed-columns", dest="drop_removed", action="store_const", const=True,
                      help="schema-policy: drop columns dropped on the source from the target too")
    drop.add_argument("--keep-removed-columns", dest="drop_removed", action="store_const", const=False,
                      help="schema-policy: keep them (nullable, no more values)")


def _table(args: argparse.Namespace) -> str:
    if not args.table or "." not in args.table:
        raise CliError(f"{args.action} needs --table schema.table")
    return args.table


def _confirmation(args: argparse.Namespace, name: str) -> str:
    if args.confirm is not None:
        return args.confirm
    if not sys.stdin.isatty():
        raise CliError(f"reset empties the target tables and loads everything again: confirm with --confirm {name!r}")
    return input(f"Reset {name}: stop, drop the slot and offsets, reload every table. Type its name to confirm: ")


def run(args: argparse.Namespace, api: Api, pipeline: dict[str, Any], emit) -> int:
    pid, name = pipeline["id"], pipeline["name"]
    summary = ["id", "name", "status"]
    if args.action == "restart":
        result = api.request("POST", f"/pipelines/{pid}/restart",
                             params={"failed_only": "false" if args.all_tasks else "true"})
    elif args.action == "resync":
        result = api.post(f"/pipelines/{pid}/tables/{_table(args)}/resync")
    elif args.action == "add-table":
        result = api.post(f"/pipelines/{pid}/tables", {"table": _table(args)})
    elif args.action == "remove-table":
        result = api.request("DELETE", f"/pipelines/{pid}/tables/{_table(args)}")
    elif args.action == "reset":
        result = api.post(f"/pipelines/{pid}/reset", {"confirm": _confirmation(args, name)})
    elif args.action == "schema-policy":
        if args.policy is None:
            raise CliError("schema-policy needs --policy propagate|pause|ignore")
        body: dict[str, Any] = {"schema_change_policy": args.policy}
        if args.drop_removed is not None:
            body["drop_removed_columns"] = args.drop_removed
        result = api.request("PUT", f"/pipelines/{pid}/schema-policy", json=body)
        summary = ["id", "name", "status", "schema_change_policy", "drop_removed_columns"]
    else:  # schema-changes
        items = api.get(f"/pipelines/{pid}/schema-changes")["items"]
        if args.json:
            emit(args, items)
            return 0
        for item in items:
            print(f"{item['created_at'][:19]}  {item['table_name']}  {item['outcome']}")
            for change in item["changes"]:
                print(f"    {change['kind']:14s} {change['column'] or '':20s} {change['message']}")
                for ddl in change["ddl"]:
                    print(f"        {ddl}")
        return 0
    emit(args, result if args.json else {k: result.get(k) for k in summary}, None if args.json else summary)
    return 0
