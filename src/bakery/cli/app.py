"""`bakery app`, `bakery app-db ...` and `bakery users ...`: the app commands."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import threading

from bakery.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, cli_actor, fail
from bakery.config import Settings

log = logging.getLogger(__name__)


def _usage(message: str) -> int:
    return fail(message, EXIT_USAGE)


def _read_password(args: argparse.Namespace) -> tuple[str | None, bool]:
    """(password, generated). From stdin with --password-stdin, a prompt on a terminal, else generated."""
    from bakery.app.accounts import generate_password

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise ValueError("password: the two entries differ")
        return first, False
    return generate_password(), True


def _database(settings: Settings):
    from bakery.app.appconf import load_app_config
    from bakery.app.auth import configure_hasher
    from bakery.app.db import Database

    conf = load_app_config(settings)
    configure_hasher(conf)
    return Database(conf.database_url), conf


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create an account; exit 2 on a bad name/role/stores/password, 1 if the user already exists."""
    from bakery.app.accounts import AccountError, create_user, normalize_username, parse_stores

    try:
        normalize_username(args.name)
        parse_stores(args.stores)
        password, generated = _read_password(args)
    except (AccountError, ValueError) as exc:
        return _usage(str(exc))
    db, conf = _database(settings)
    try:
        account = create_user(
            db,
            args.name,
            args.role,
            args.stores,
            password,
            actor=cli_actor(),
            min_password_length=int(conf.get("auth.min_password_length", 10)),
        )
    except AccountError as exc:
        if "already exists" in str(exc):
            sys.stderr.write(f"bakery: {exc}\n")
            return EXIT_FAILURE
        return _usage(str(exc))
    finally:
        db.dispose()
    scope = ",".join(account.stores) if account.stores else "all stores"
    sys.stdout.write(f"created user {account.username} ({account.role}, {scope})\n")
    if generated:
        sys.stdout.write(f"generated password (shown once): {password}\n")
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from bakery.app.accounts import list_users

    db, _ = _database(settings)
    try:
        for a in list_users(db):
            state = "active" if a.active else "disabled"
            sys.stdout.write(f"{a.username}\t{a.role}\t{','.join(a.stores) or '*'}\t{state}\n")
    finally:
        db.dispose()
    return EXIT_OK


def cmd_users_set(args: argparse.Namespace, settings: Settings) -> int:
    """Change an account's role, stores, state or password (e.g. to recover the last admin)."""
    from bakery.app.accounts import AccountError, update_user

    try:
        password = _read_password(args)[0] if args.password_stdin else None
    except ValueError as exc:
        return _usage(str(exc))
    db, conf = _database(settings)
    try:
        active = None if args.enable is None else args.enable
        account = update_user(
            db,
            args.name,
            actor=cli_actor(),
            role=args.role,
            stores=args.stores,
            active=active,
            password=password,
            min_password_length=int(conf.get("auth.min_password_length", 10)),
        )
    except AccountError as exc:
        return _usage(str(exc))
    finally:
        db.dispose()
    sys.stdout.write(
        f"updated user {account.username} ({account.role}, {','.join(account.stores) or 'all stores'}, "
        f"{'active' if account.active else 'disabled'})\n"
    )
    return EXIT_OK


def cmd_users_unlock(args: argparse.Namespace, settings: Settings) -> int:
    """Clear a user name's failed-login waits from every address (audited)."""
    from bakery.app import audit
    from bakery.app.auth import Authenticator

    db, conf = _database(settings)
    try:
        cleared = Authenticator(db, conf).unlock(args.name)
        audit.record(db, cli_actor(), "user.unlocked", args.name[:200], cleared=cleared)
    finally:
        db.dispose()
    sys.stdout.write(f"unlocked {args.name}: {cleared} failed-login wait(s) cleared\n")
    return EXIT_OK


def cmd_users_revoke_tokens(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke every API token of a user; exit 2 when there is no such user."""
    from bakery.app.auth import revoke_tokens

    db, _ = _database(settings)
    try:
        if db.user(args.name) is None:
            return _usage(f"NAME {args.name!r}: no such user")
        count = revoke_tokens(db, args.name, "revoked from the command line", actor=cli_actor())
    finally:
        db.dispose()
    sys.stdout.write(f"revoked {count} API token(s) of {args.name}\n")
    return EXIT_OK


def cmd_app_db(args: argparse.Namespace, settings: Settings) -> int:
    """`app-db status` (exit 1 when migrations are pending) and `app-db upgrade`."""
    from bakery.app import migrate
    from bakery.app.appconf import load_app_config
    from bakery.app.db import Database

    db = Database(load_app_config(settings).database_url, migrate=False)
    try:
        before = migrate.state(db.engine)
        after = migrate.upgrade(db.engine) if args.app_db_command == "upgrade" else before
    finally:
        db.dispose()
    if args.app_db_command == "upgrade":
        sys.stdout.write(f"app database: revision {before.current or 'none'} -> {after.current}\n")
        return EXIT_OK
    pending = "" if before.up_to_date else " (pending: run `bakery app-db upgrade`)"
    sys.stdout.write(f"app database: revision {before.current or 'none'}, newest {before.head}{pending}\n")
    return EXIT_OK if before.up_to_date else EXIT_FAILURE


def cmd_app(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the web app and the HTTP API until stopped."""
    from bakery.app.appconf import load_app_config, with_serving_table
    from bakery.app.server.memory import tune_allocators

    try:
        conf = load_app_config(settings)
        tune_allocators(conf)  # before pyarrow and deltalake load: they read it once; the workers inherit it
        settings = with_serving_table(settings, conf)
    except ValueError as exc:
        return _usage(str(exc))
    from bakery.app.server.metrics import prepare_multiprocess

    prepare_multiprocess(
        settings.home / "app" / "metrics"
    )  # before prometheus_client loads; workers inherit it
    from bakery.app.app import create_app, warm_caches
    from bakery.app.server.serve import PLATFORM_ENV, identity_bind_refusal, serve

    host = args.host or str(conf.get("server.host", "127.0.0.1"))
    port = int(args.port or conf.get("server.port", 8050))
    if not 0 < port < 65536:
        return _usage(f"--port {port}: expected 1-65535")
    refusal = identity_bind_refusal(
        host,
        conf.get("auth.mode", "local") == "databricks",
        platform_env=conf.get("auth.platform_env") or PLATFORM_ENV,
    )
    if refusal:
        return _usage(f"refusing to start: {refusal}")
    app = create_app(settings, conf=conf, host=host, warm=False)
    ctx = app.server.extensions["bakery"]
    sys.stdout.write(f"bakery app: serving {settings.home} on http://{host}:{port}/ (Ctrl+C to stop)\n")
    sys.stdout.flush()
    serve(
        app.server,
        host,
        port,
        workers=int(conf.get("server.workers", 1)),
        threads=int(conf.get("server.threads", 8)),
        timeout=int(conf.get("server.timeout_seconds", 120)),
        keepalive=int(conf.get("server.keepalive_seconds", 2)),
        on_start=lambda: threading.Thread(
            target=warm_caches, args=(ctx,), name="serving-warm", daemon=True
        ).start(),
    )
    return EXIT_OK


def add_app_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register `app`, `app-db` and `users` on the main parser's subcommands."""
    p = subparsers.add_parser("app", help="serve the web app and HTTP API on localhost")
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8050)")
    p.set_defaults(func=cmd_app)

    db = subparsers.add_parser("app-db", help="the app database's schema migrations")
    dsub = db.add_subparsers(dest="app_db_command", required=True)
    dsub.add_parser("status", help="current and newest revision; exit 1 when migrations are pending")
    dsub.add_parser("upgrade", help="apply pending migrations (the app also does this when it starts)")
    db.set_defaults(func=cmd_app_db)

    users = subparsers.add_parser("users", help="manage app accounts")
    usub = users.add_subparsers(dest="users_command", required=True)
    p = usub.add_parser("add", help="create an account")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["manager", "analyst", "admin"])
    p.add_argument("--stores", default=None, help="comma-separated store ids (required for managers)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    p.set_defaults(func=cmd_users_add)

    p = usub.add_parser("list", help="list accounts")
    p.set_defaults(func=cmd_users_list)

    p = usub.add_parser("set", help="change an account's role, stores, state or password")
    p.add_argument("name")
    p.add_argument("--role", choices=["manager", "analyst", "admin"])
    p.add_argument("--stores", default=None)
    state = p.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enable", action="store_const", const=True, default=None)
    state.add_argument("--disable", dest="enable", action="store_const", const=False)
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_users_set)

    p = usub.add_parser("unlock", help="clear an account's failed-login waits from every address")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_unlock)

    p = usub.add_parser("revoke-tokens", help="revoke every API token of an account")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_revoke_tokens)
