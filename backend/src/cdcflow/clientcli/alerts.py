"""cdcflow alerts rules|channels|history|test: alert rules and channels over the REST API.

A channel's URL and secret are read from standard input or the environment, never from the command line (where
`ps` and shell history would show them).
"""

import argparse
import os
import sys
from typing import Any

from cdcflow.clientcli.session import Api, CliError

RULE_KINDS = ["pipeline_error", "degraded", "lag_seconds", "retained_wal_bytes", "event_logger_down", "no_events"]


def _emit(args: argparse.Namespace, data: Any, columns: list[str]) -> None:
    from cdcflow.clientcli.commands import emit

    emit(args, data, columns)


def _find(api: Api, kind: str, ref: str) -> dict[str, Any]:
    items = api.get(f"/alerts/{kind}")["items"]
    matches = [i for i in items if ref in (i["id"], i["name"])]
    if len(matches) != 1:
        raise CliError(f"No alert {kind[:-1]} named or numbered {ref!r}" if not matches else f"{ref!r} is ambiguous")
    return matches[0]


def _pipeline_id(api: Api, ref: str | None) -> str | None:
    if not ref:
        return None
    items = api.get("/pipelines", limit=200)["items"]
    matches = [p for p in items if ref in (p["id"], p["name"])]
    if len(matches) != 1:
        raise CliError(f"No pipeline named or numbered {ref!r}")
    return matches[0]["id"]


def _secret_input(args: argparse.Namespace, what: str, env: str) -> str | None:
    """From stdin (--<what>-stdin, one line) or the named environment variable."""
    if getattr(args, f"{what}_stdin"):
        return sys.stdin.readline().rstrip("\n") or None
    return os.environ.get(env) or None


def _rule_row(rule: dict[str, Any]) -> dict[str, Any]:
    unit = f" {rule['threshold_unit']}" if rule.get("threshold_unit") else ""
    return {**rule, "scope": rule["pipeline_name"] or ("every pipeline" if rule["kind"] != "event_logger_down"
                                                       else "global"),
            "threshold": f"{rule['threshold']:g}{unit}" if rule["threshold"] is not None else "",
            "channels": ", ".join(c["name"] for c in rule["channels"])}


def cmd_rules(args: argparse.Namespace) -> int:
    api = Api()
    columns = ["id", "name", "kind", "scope", "threshold", "channels", "enabled", "firing"]
    if args.action == "list":
        _emit(args, api.get("/alerts/rules")["items"] if args.json else
              [_rule_row(r) for r in api.get("/alerts/rules")["items"]], columns)
        return 0
    if args.action == "create":
        if not (args.name and args.kind):
            raise CliError("create needs --name and --kind")
        body = {"name": args.name, "kind": args.kind, "threshold": args.threshold,
                "pipeline_id": _pipeline_id(api, args.pipeline),
                "channel_ids": [_find(api, "channels", c)["id"] for c in args.channels]}
        rule = api.post("/alerts/rules", body)
        _emit(args, rule if args.json else _rule_row(rule), columns)
        return 0
    if not args.ref:
        raise CliError("Which rule? Give its id or name")
    rule = _find(api, "rules", args.ref)
    if args.action == "delete":
        api.request("DELETE", f"/alerts/rules/{rule['id']}")
        _emit(args, {"deleted": rule["name"]}, ["deleted"])
        return 0
    body: dict[str, Any] = {}
    if args.name:
        body["name"] = args.name
    if args.threshold is not None:
        body["threshold"] = args.threshold
    if args.channels:
        body["channel_ids"] = [_find(api, "channels", c)["id"] for c in args.channels]
    if args.enable or args.disable:
        body["enabled"] = bool(args.enable)
    updated = api.request("PUT", f"/alerts/rules/{rule['id']}", json=body)
    _emit(args, updated if args.json else _rule_row(updated), columns)
    return 0


def cmd_channels(args: argparse.Namespace) -> int:
    api = Api()
    columns = ["id", "name", "kind", "url_hint", "has_secret", "enabled"]
    if args.action == "list":
        _emit(args, api.get("/alerts/channels")["items"], columns)
        return 0
    if args.action == "create":
        url = _secret_input(args, "url", "CDCFLOW_ALERT_URL")
        if not (args.name and args.kind and url):
            raise CliError("create needs --name, --kind and the URL (--url-stdin or $CDCFLOW_ALERT_URL)")
        body = {"name": args.name, "kind": args.kind, "url": url,
                "secret": os.environ.get("CDCFLOW_ALERT_SECRET") or None}
        _emit(args, api.post("/alerts/channels", body), columns)
        return 0
    if not args.ref:
        raise CliError("Which channel? Give its id or name")
    channel = _find(api, "channels", args.ref)
    if args.action == "delete":
        api.request("DELETE", f"/alerts/channels/{channel['id']}")
        _emit(args, {"deleted": channel["name"]}, ["deleted"])
        return 0
    body = {}
    if args.name:
        body["name"] = args.name
    if url := _secret_input(args, "url", "CDCFLOW_ALERT_URL"):
        body["url"] = url
    if secret := os.environ.get("CDCFLOW_ALERT_SECRET"):
        body["secret"] = secret
    if args.enable or args.disable:
        body["enabled"] = bool(args.enable)
    _emit(args, api.request("PUT", f"/alerts/channels/{channel['id']}", json=body), columns)
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    api = Api()
    channel = _find(api, "channels", args.ref)
    result = api.post(f"/alerts/channels/{channel['id']}/test")
    if args.json:
        _emit(args, result, [])
    else:
        outcome = f"delivered (HTTP {result['status_code']})" if result["ok"] else f"FAILED: {result['error']}"
        print(f"{channel['name']}: {outcome} in {result['latency_ms']} ms")
    return 0 if result["ok"] else 1


def cmd_history(args: argparse.Namespace) -> int:
    api = Api()
    params = {"limit": args.limit, "state": args.state, "pipeline_id": _pipeline_id(api, args.pipeline)}
    items = api.get("/alerts/history", **params)["items"]
    if args.json:
        _emit(args, items, [])
        return 0
    rows = [{**e, "pipeline": e["pipeline_name"] or "-",
             "notified": ", ".join(f"{d['notification']}→{d['channel_name']}:{d['status']}" for d in e["deliveries"])}
            for e in items]
    _emit(args, rows, ["id", "state", "rule_name", "pipeline", "fired_at", "resolved_at", "message", "notified"])
    return 0


def add_parser(sub: argparse._SubParsersAction, common) -> None:
    alerts = sub.add_parser("alerts", help="alert rules, channels and history")
    nested = alerts.add_subparsers(dest="alerts_command", required=True)

    p = common(nested.add_parser("rules", help="list, create, update or delete alert rules"))
    p.add_argument("action", choices=["list", "create", "update", "delete"])
    p.add_argument("ref", nargs="?", help="rule id or name (update, delete)")
    p.add_argument("--name")
    p.add_argument("--kind", choices=RULE_KINDS)
    p.add_argument("--pipeline", help="pipeline id or name (default: every pipeline)")
    p.add_argument("--threshold", type=float, help="minutes (degraded, no_events), seconds (lag_seconds) or bytes "
                                                   "(retained_wal_bytes)")
    p.add_argument("--channels", nargs="+", default=[], help="channel ids or names to notify")
    p.add_argument("--enable", action="store_true")
    p.add_argument("--disable", action="store_true")
    p.set_defaults(func=cmd_rules)

    p = common(nested.add_parser("channels", help="list, create, update or delete notification channels",
                                 description="The URL comes from --url-stdin or $CDCFLOW_ALERT_URL, a webhook's "
                                             "signing secret from $CDCFLOW_ALERT_SECRET."))
    p.add_argument("action", choices=["list", "create", "update", "delete"])
    p.add_argument("ref", nargs="?", help="channel id or name (update, delete)")
    p.add_argument("--name")
    p.add_argument("--kind", choices=["webhook", "slack"])
    p.add_argument("--url-stdin", action="store_true", help="read the URL from standard input")
    p.add_argument("--enable", action="store_true")
    p.add_argument("--disable", action="store_true")
    p.set_defaults(func=cmd_channels)

    p = common(nested.add_parser("history", help="fired and resolved alerts, newest first"))
    p.add_argument("--pipeline")
    p.add_argument("--state", choices=["firing", "resolved"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_history)

    p = common(nested.add_parser("test", help="send a test notification to a channel"))
    p.add_argument("ref", help="channel id or name")
    p.set_defaults(func=cmd_test)
