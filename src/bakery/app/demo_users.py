"""Demo accounts for `make demo`: one admin, one analyst and one manager per the first store, created once.

Passwords are random per home, kept in <home>/app/demo_logins.json (mode 0600) so `make demo` can print them
again; never use this for a real deployment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bakery.app.accounts import create_user, generate_password, list_users
from bakery.app.appconf import load_app_config
from bakery.app.auth import configure_hasher
from bakery.app.db import Database
from bakery.config import Settings


def ensure_demo_users(settings: Settings, manager_stores: list[str]) -> list[dict[str, str]]:
    """Create (if missing) admin, analyst and manager accounts; return [{username, role, stores, password}]."""
    conf = load_app_config(settings)
    path: Path = conf.app_dir / "demo_logins.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    configure_hasher(conf)
    db = Database(conf.database_url)
    try:
        existing = {a.username for a in list_users(db)}
        logins = []
        for name, role, stores in (
            ("admin", "admin", []),
            ("analista", "analyst", []),
            ("gerente", "manager", manager_stores[:1]),
        ):
            if name in existing:
                continue
            password = generate_password()
            create_user(db, name, role, stores, password, actor="demo")
            logins.append({"username": name, "role": role, "stores": ",".join(stores), "password": password})
    finally:
        db.dispose()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(logins, fh, indent=2)
    return logins
