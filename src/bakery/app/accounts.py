"""User accounts: create, change role/stores/password, disable; each change validated and audited."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from bakery.app import audit
from bakery.app.auth import hash_password, revoke_user_tokens
from bakery.app.db import ROLES, Database, User

_NAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,199}$")
_STORE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class AccountError(ValueError):
    """A bad account request; the message names the field at fault. `code` and `params` let a page say the same
    in the reader's language (the app's usr.err.<code> texts)."""

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    stores: list[str]
    active: bool
    has_password: bool


def normalize_username(name: str) -> str:
    name = (name or "").strip().lower()
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"NAME {name!r}: use 1-200 letters, digits or . _ @ + - (starting with a letter or digit)",
            "name",
            name=name,
        )
    return name


def parse_stores(stores: str | Iterable[str] | None, known: Iterable[str] | None = None) -> list[str]:
    """A store list from 'S1,S2' or an iterable; each id checked, order kept, duplicates dropped. With `known`
    (the ids of the stores table) an id not in it is refused: a manager of a store that does not exist would
    see nothing but zeros."""
    known_ids = sorted(set(known)) if known is not None else None
    items = stores.split(",") if isinstance(stores, str) else list(stores or [])
    out: list[str] = []
    for raw in items:
        s = str(raw).strip()
        if not s:
            continue
        if not _STORE.fullmatch(s):
            raise AccountError(f"--stores: {s!r} is not a valid store id", "store_format", store=s)
        if known_ids is not None and s not in known_ids:
            raise AccountError(
                f"--stores: {s!r} is not in the stores table (known: {', '.join(known_ids) or 'none'})",
                "unknown_store",
                store=s,
                known=", ".join(known_ids) or "–",
            )
        if s not in out:
            out.append(s)
    return out


def _check(role: str, stores: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"--role {role!r}: expected one of {', '.join(ROLES)}", "role", role=role)
    if role == "manager" and not stores:
        raise AccountError("--stores: a manager needs at least one store", "manager_stores")


def check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise AccountError(f"password: at least {min_length} characters", "password_short", n=min_length)
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters", "password_long")


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def _account(u: User) -> Account:
    return Account(u.username, u.role, u.store_list, u.active, u.password_hash is not None)


def create_user(
    db: Database,
    username: str,
    role: str,
    stores: str | Iterable[str] | None,
    password: str | None,
    *,
    actor: str,
    min_password_length: int = 10,
    known_stores: Iterable[str] | None = None,
    ip: str | None = None,
) -> Account:
    """Add an account (password None: an identity-provider account, e.g. on Databricks Apps). `known_stores`:
    refuse store ids outside it; `ip`: the address of the admin who did it, for the audit log."""
    name = normalize_username(username)
    store_list = parse_stores(stores, known_stores)
    _check(role, store_list)
    if password is not None:
        check_password(password, min_password_length)
    with db.session() as s:
        if s.scalar(select(User).where(User.username == name)) is not None:
            raise AccountError(f"NAME {name!r}: a user with this name already exists", "exists", name=name)
        user = User(
            username=name,
            role=role,
            stores=",".join(store_list),
            active=True,
            password_hash=hash_password(password) if password is not None else None,
            session_nonce=secrets.token_hex(16),
        )
        s.add(user)
    audit.record(db, actor, "user.created", name, ip=ip, role=role, stores=store_list)
    return _account(user)


def update_user(
    db: Database,
    username: str,
    *,
    actor: str,
    role: str | None = None,
    stores: str | Iterable[str] | None = None,
    active: bool | None = None,
    password: str | None = None,
    min_password_length: int = 10,
    known_stores: Iterable[str] | None = None,
    ip: str | None = None,
) -> Account:
    """Change role, stores, active flag or password; any change ends the user's open sessions and revokes
    their API tokens (a token must not outlive the password or the scope it was granted under). `known_stores`
    and `ip` as for create_user."""
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == normalize_username(username)))
        if user is None:
            raise AccountError(f"NAME {username!r}: no such user", "no_user", name=username)
        before = {"role": user.role, "stores": user.store_list, "active": user.active}
        new_role = role if role is not None else user.role
        new_stores = parse_stores(stores, known_stores) if stores is not None else user.store_list
        if new_role != "manager" and stores is None:
            new_stores = []
        _check(new_role, new_stores)
        if password is not None:
            check_password(password, min_password_length)
            user.password_hash = hash_password(password)
        if actor == user.username and (new_role != "admin" or active is False) and user.role == "admin":
            raise AccountError(
                "role: you cannot remove your own admin role or disable yourself", "self_admin"
            )
        user.role, user.stores = new_role, ",".join(new_stores)
        if active is not None:
            user.active = active
        after = {"role": user.role, "stores": user.store_list, "active": user.active}
        user.session_nonce = secrets.token_hex(16)
        revoked = revoke_user_tokens(s, user.id)
        account = _account(user)
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes.get("role") or changes.get("stores"):
        audit.record(db, actor, "user.role_changed", account.username, ip=ip, changes=changes)
    if "active" in changes:
        action = "user.enabled" if account.active else "user.disabled"
        audit.record(db, actor, action, account.username, ip=ip)
    if password is not None:
        audit.record(db, actor, "user.password_changed", account.username, ip=ip)
    if revoked:
        reason = "password changed" if password is not None else "account changed"
        audit.record(db, actor, "token.revoked", account.username, ip=ip, count=revoked, reason=reason)
    return account


def list_users(db: Database) -> list[Account]:
    with db.session() as s:
        return [_account(u) for u in s.scalars(select(User).order_by(User.username)).all()]
