"""What every `bakery` subcommand shares: exit codes, argument types, the writer lock and the audit actor."""

from __future__ import annotations

import argparse
import getpass
import shlex
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date

from bakery.config import Settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3


class UsageError(Exception):
    """A bad argument detected after parsing (exit code 2)."""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"--wait: expected a number of seconds >= 0, got {text!r}")
    return value


WAIT_FLAG = object()  # `--wait` without SECONDS: conf lock.wait_flag_seconds


def writer(p: argparse.ArgumentParser, when: Callable[[argparse.Namespace], bool] | None = None) -> None:
    """Mark a subcommand as writing the home (`when` its arguments say so): it runs under the home's writer
    lock (bakery.ops.lock), so two of them never run at once, and takes --wait."""
    p.add_argument(
        "--wait",
        nargs="?",
        type=_seconds,
        const=WAIT_FLAG,
        default=None,
        metavar="SECONDS",
        help="if another command is writing this home, wait up to SECONDS for it to finish "
        "(alone: lock.wait_flag_seconds in conf; default lock.wait_seconds, 0), then exit 1",
    )
    p.set_defaults(writes_home=when or (lambda _args: True))


def home_lock(args: argparse.Namespace, settings: Settings, argv: list[str]) -> AbstractContextManager:
    """The home's writer lock for a command that writes the home, else nothing."""
    if not getattr(args, "writes_home", lambda _args: False)(args):
        return nullcontext()
    from bakery.ops import lock

    wait = settings.get("lock.wait_flag_seconds", 3600) if args.wait is WAIT_FLAG else args.wait
    # A command naming a person (gdpr) is recorded without its arguments: the lock file names its holder to others.
    command = getattr(args, "lock_command", None) or "bakery " + shlex.join(argv)
    return lock.home_lock(settings, command, wait_seconds=wait)


def cli_actor() -> str:
    """Who runs a command, for the audit log: `cli:` and the OS user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def out(lines: list[str]) -> None:
    sys.stdout.write("\n".join(lines) + "\n")


def fail(message: str, code: int = EXIT_FAILURE) -> int:
    """Say what went wrong on stderr, as argparse does, and return the exit code."""
    sys.stderr.write(f"bakery: error: {message}\n")
    return code
