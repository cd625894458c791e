"""`bakery gdpr export|erase`: what is held about a person, exported or erased (docs/privacy.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bakery.cli.common import EXIT_OK, UsageError, cli_actor, writer
from bakery.cli.startup import lakehouse
from bakery.config import Settings


def cmd_gdpr(args: argparse.Namespace, settings: Settings) -> int:
    """`gdpr export` writes what is held about a person to a JSON file; `gdpr erase` erases it (docs/privacy.md)."""
    from bakery.admin.gdpr import erase_person, export_person
    from bakery.app.privacy import check_identifier

    try:
        check_identifier(args.user, "--user")
        for other in args.also:
            check_identifier(other, "--also")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.gdpr_command == "export" and not Path(args.out).parent.is_dir():
        raise UsageError(f"--out {args.out}: no such directory")
    lh = lakehouse(settings)
    if args.gdpr_command == "export":
        doc = export_person(lh, settings, args.user, args.also, Path(args.out), cli_actor())
        found = {k: v for k, v in doc["found"].items() if v}
        if not found:
            sys.stderr.write(
                f"bakery: warning: nothing is held about {args.user!r} (no account, no records); "
                f"wrote an empty export to {args.out}\n"
            )
        else:
            places = ", ".join(f"{k} {v}" for k, v in found.items())
            sys.stdout.write(f"exported what is held about {args.user} to {args.out}: {places}\n")
        return EXIT_OK
    report = erase_person(lh, settings, args.user, args.also, cli_actor())
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return EXIT_OK


def add_gdpr_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gdpr", help="export or erase what is held about a person (docs/privacy.md)")
    gsub = p.add_subparsers(dest="gdpr_command", required=True)
    for name, text in (
        ("export", "write everything held about a person to a JSON file"),
        ("erase", "erase a person everywhere, Delta history included; audited under a pseudonym"),
    ):
        g = gsub.add_parser(name, help=text)
        g.add_argument("--user", required=True, help="the person's user name (on Databricks, their e-mail)")
        g.add_argument(
            "--also",
            action="append",
            default=[],
            metavar="IDENTIFIER",
            help="another identifier of the same person (an e-mail address, a cashier or loyalty id) "
            "looked for in the same places; repeat for more",
        )
        if name == "export":
            g.add_argument("--out", required=True, metavar="FILE.json")
        g.set_defaults(func=cmd_gdpr, lock_command=f"bakery gdpr {name}")
        writer(g)
