"""The `cdcflow` command: server side (serve, migrate, create-admin, event-logger, demo, reencrypt-secrets) and
the operator's client (login, connections, pipelines, events) over the REST API."""

import argparse
import os
import sys
from pathlib import Path


def _alembic_config():
    from alembic.config import Config

    from cdcflow.core.config import get_settings

    here = Path(__file__).parent / "migrations"
    cfg = Config(str(here / "alembic.ini"))
    cfg.set_main_option("script_location", str(here))
    cfg.set_main_option("sqlalchemy.url", get_settings().sqlalchemy_url.replace("%", "%%"))
    return cfg


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic import command

    command.upgrade(_alembic_config(), args.revision)
    print(f"database migrated to {args.revision}")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from cdcflow.core.config import get_settings
    from cdcflow.core.db import make_engine, make_session_factory, session_scope
    from cdcflow.users.service import ensure_admin

    password = os.environ.get(args.password_env, "")
    if len(password) < 8:
        print(f"{args.password_env} must hold a password of at least 8 characters", file=sys.stderr)
        return 2
    engine = make_engine(get_settings())
    try:
        with session_scope(make_session_factory(engine)) as session:
            created = ensure_admin(session, args.username, password)
    finally:
        engine.dispose()
    print(f"admin user {args.username!r} " + ("created" if created else "already exists (unchanged)"))
    return 0


def cmd_reencrypt_secrets(args: argparse.Namespace) -> int:
    """Rewrite every stored secret under the current key (after a key rotation)."""
    from sqlalchemy import select

    from cdcflow.core.config import get_settings
    from cdcflow.core.crypto import secret_box_from_settings
    from cdcflow.core.db import make_engine, make_session_factory, session_scope
    from cdcflow.models import AlertChannel, Connection

    settings = get_settings()
    box = secret_box_from_settings(settings)
    engine = make_engine(settings)
    rewritten = 0
    try:
        with session_scope(make_session_factory(engine)) as session:
            for conn in session.scalars(select(Connection).with_for_update()):
                if box.needs_rotation(conn.password_encrypted):
                    conn.password_encrypted = box.encrypt(box.decrypt(conn.password_encrypted))
                    rewritten += 1
            for channel in session.scalars(select(AlertChannel).with_for_update()):
                for column in ("url_encrypted", "secret_encrypted"):
                    token = getattr(channel, column)
                    if token and box.needs_rotation(token):
                        setattr(channel, column, box.encrypt(box.decrypt(token)))
                        rewritten += 1
    finally:
        engine.dispose()
    print(f"re-encrypted {rewritten} secret(s) under key {box.current_key_id}")
    return 0


def cmd_event_logger(args: argparse.Namespace) -> int:
    """The event logger alone, in the foreground (several instances split partitions through the group)."""
    import signal

    from cdcflow.core.config import get_settings
    from cdcflow.events.logger import EventLogger
    from cdcflow.events.service import logger_config

    from cdcflow.core.logging import configure_logging

    configure_logging()
    config = logger_config(get_settings())
    if args.group:
        config.group_id = args.group
    if args.topic_regex:
        config.topic_regex = args.topic_regex
    # Its events reach browsers through the API processes' relays: each batch is NOTIFYed in its own transaction.
    config.notify = True
    event_logger = EventLogger(config)
    signal.signal(signal.SIGTERM, lambda *_: event_logger._stop.set())  # noqa: SLF001
    signal.signal(signal.SIGINT, lambda *_: event_logger._stop.set())  # noqa: SLF001
    print(f"event logger: group {config.group_id}, topics {config.topic_regex}", flush=True)
    event_logger.run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cdcflow.core.config import get_settings

    # The demo connections and the traffic use the dedicated demo roles; the superuser only creates the schema.
    dsn, source_dsn, target_dsn = (os.environ.get(k) for k in ("PG_SUPERUSER_DSN", "DEMO_SOURCE_DSN",
                                                               "DEMO_TARGET_DSN"))
    if not (dsn and source_dsn and target_dsn):
        print("PG_SUPERUSER_DSN, DEMO_SOURCE_DSN and DEMO_TARGET_DSN must be set (source .stack/env, written by "
              "stack/stackctl up)", file=sys.stderr)
        return 2
    if args.action == "seed":
        from cdcflow.demo.seed import ensure_connections, role_of, seed_schema

        created = seed_schema(dsn.rsplit("/", 1)[0] + "/demo_source", role_of(source_dsn))
        extra, mariadb_note = [], ""
        # The MariaDB demo when the stack runs MariaDB (an env file written before it did has no MARIADB_*).
        mariadb = [os.environ.get(k) for k in ("MARIADB_ADMIN_DSN", "MARIADB_DEMO_SOURCE_DSN",
                                               "MARIADB_DEMO_TARGET_DSN")]
        if all(mariadb):
            from cdcflow.demo import mariadb_seed

            source = mariadb_seed.endpoint_from_dsn(mariadb[1])
            made = mariadb_seed.seed_schema(mariadb[0], source.database)
            extra = mariadb_seed.connection_bodies(mariadb[1], mariadb[2])
            mariadb_note = f"; MariaDB demo tables {'created' if made else 'already there'}"
        connections = ensure_connections(get_settings(), source_dsn, target_dsn, extra)
        print(f"demo schema {'created' if created else 'already there'}{mariadb_note}; connections created: "
              f"{', '.join(connections) or 'none (already there)'}")
        return 0
    if args.database == "mariadb":
        maria_source = os.environ.get("MARIADB_DEMO_SOURCE_DSN")
        if not maria_source:
            print("MARIADB_DEMO_SOURCE_DSN must be set (source .stack/env, written by stack/stackctl up)",
                  file=sys.stderr)
            return 2
        from cdcflow.demo.mariadb_traffic import run_traffic as run_mariadb_traffic

        totals = run_mariadb_traffic(maria_source, args.rate, args.duration)
    else:
        from cdcflow.demo.traffic import run_traffic

        totals = run_traffic(source_dsn, args.rate, args.duration)
    print(f"done: {totals}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cdcflow.core.logging import configure_logging

    configure_logging(args.log_level)
    uvicorn.run("cdcflow.main:create_asgi_app", factory=True, host=args.host, port=args.port,
                log_level=args.log_level, proxy_headers=False, log_config=None, access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdcflow", description="cdcflow control plane")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("CDCFLOW_API_PORT", "8000")))
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)

    admin = sub.add_parser("create-admin", help="create the first admin user if it does not exist")
    admin.add_argument("--username", default=os.environ.get("CDCFLOW_ADMIN_USER", "admin"))
    admin.add_argument("--password-env", default="CDCFLOW_ADMIN_PASSWORD",
                       help="name of the environment variable holding the password (never a CLI argument)")
    admin.set_defaults(func=cmd_create_admin)

    ev = sub.add_parser("event-logger", help="run the event logger alone (Kafka -> pipeline_runs)")
    ev.add_argument("--group", help="consumer group (default: cdcflow-event-logger)")
    ev.add_argument("--topic-regex", help="topics to consume (default: the pipelines' change topics)")
    ev.set_defaults(func=cmd_event_logger)

    demo = sub.add_parser("demo", help="demo data: seed (schema + connections) or traffic")
    demo.add_argument("action", choices=["seed", "traffic"])
    demo.add_argument("--rate", type=float, default=20, help="traffic: changes per second")
    demo.add_argument("--duration", type=float, help="traffic: seconds (default: until Ctrl-C)")
    demo.add_argument("--database", choices=["postgresql", "mariadb"], default="postgresql",
                      help="traffic: on the PostgreSQL demo shop (default) or the MariaDB one")
    demo.set_defaults(func=cmd_demo)

    from cdcflow.clientcli.commands import add_parsers, run

    add_parsers(sub)

    reencrypt = sub.add_parser("reencrypt-secrets", help="re-encrypt stored secrets under the current key")
    reencrypt.set_defaults(func=cmd_reencrypt_secrets)

    args = parser.parse_args(argv)
    if args.func.__module__.startswith("cdcflow.clientcli."):
        return run(args)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
