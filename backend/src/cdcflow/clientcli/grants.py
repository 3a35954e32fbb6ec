"""cdcflow grants list|add|remove|owner: who may see and act on a pipeline or connection (admins only)."""

import argparse
from typing import Any

from cdcflow.clientcli.session import Api, CliError


def _resource(api: Api, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from cdcflow.clientcli.commands import _find

    kind = "pipelines" if args.pipeline else "connections"
    return kind, _find(api, kind, args.pipeline or args.connection)


def _user_id(api: Api, username: str) -> str:
    matches = [u for u in api.get("/users")["items"] if u["username"] == username]
    if not matches:
        raise CliError(f"No user named {username!r}")
    return matches[0]["id"]


def _show(args: argparse.Namespace, access: dict[str, Any]) -> None:
    from cdcflow.clientcli.commands import emit

    if args.json:
        emit(args, access)
        return
    owner = access["owner"]
    print(f"{access['resource_type']} {access['name']}: owner {owner['username'] if owner else '- (admins only)'}")
    if access["grants"]:
        emit(args, [{"username": g["user"]["username"], "role": g["user"]["role"], "level": g["level"],
                     "granted_by": g["granted_by"]} for g in access["grants"]])
    else:
        print("no grants")


def cmd_grants(args: argparse.Namespace) -> int:
    if not (args.pipeline or args.connection):
        raise CliError("Which resource? Give --pipeline or --connection")
    if args.action in ("add", "remove", "owner") and not (args.user or (args.action == "owner" and args.nobody)):
        raise CliError(f"{args.action} needs --user" + (" (or --nobody)" if args.action == "owner" else ""))
    api = Api()
    kind, resource = _resource(api, args)
    base = f"/{kind}/{resource['id']}"
    if args.action == "add":
        api.put(f"{base}/grants/{_user_id(api, args.user)}", {"level": args.level})
    elif args.action == "remove":
        api.delete(f"{base}/grants/{_user_id(api, args.user)}")
    elif args.action == "owner":
        api.put(f"{base}/owner", {"user_id": None if args.nobody else _user_id(api, args.user)})
    _show(args, api.get(f"{base}/grants"))
    return 0


def add_parser(sub: argparse._SubParsersAction, common) -> None:
    p = common(sub.add_parser("grants", help="who may see and act on a pipeline or connection (admins)"))
    p.add_argument("action", choices=["list", "add", "remove", "owner"])
    target = p.add_mutually_exclusive_group()
    target.add_argument("--pipeline", help="pipeline id or name")
    target.add_argument("--connection", help="connection id or name")
    p.add_argument("--user", help="username to grant, revoke or make owner")
    p.add_argument("--level", default="view", choices=["view", "operate", "manage"])
    p.add_argument("--nobody", action="store_true", help="owner: no owner any more (admins only)")
    p.set_defaults(func=cmd_grants)
