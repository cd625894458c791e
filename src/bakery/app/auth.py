"""Authentication and authorization: argon2 passwords, throttled logins, revocable API tokens, store scope."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from bakery.app import audit
from bakery.app.appconf import AppConfig
from bakery.app.db import ROLES, ApiToken, Database, User, utcnow
from bakery.app.login_throttle import IP, LoginThrottle

log = logging.getLogger(__name__)

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps the time of a login for an unknown user close to that of a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
ALL_ROLES = frozenset(ROLES)
STAFF = frozenset({"analyst", "admin"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: their role and, for managers, the stores they may see."""

    username: str
    role: str
    stores: frozenset[str]
    user_id: int | None = None

    @property
    def all_stores(self) -> bool:
        return self.role in STAFF

    def can_see(self, store_id: str) -> bool:
        return self.all_stores or store_id in self.stores

    def visible(self, store_ids: Iterable[str]) -> list[str]:
        """The given stores this principal may see, in the given order."""
        return [s for s in store_ids if self.can_see(s)]


def principal_for(user: User) -> Principal:
    return Principal(user.username, user.role, frozenset(user.store_list), user.id)


def require_role(principal: Principal | None, roles: frozenset[str]) -> Principal:
    """The principal, or Forbidden (HTTP 403) when their role is not among `roles`."""
    if principal is None or principal.role not in roles:
        raise Forbidden("your role may not use this")
    return principal


def check_store(principal: Principal, store_id: str | None) -> None:
    """Forbidden (403) for a store outside the principal's scope, whether or not that store exists."""
    if store_id is not None and not principal.can_see(store_id):
        raise Forbidden("this store is outside your scope")


def configure_hasher(conf: AppConfig) -> None:
    """Argon2id cost from conf (auth.argon2); existing hashes keep verifying and are upgraded at next login."""
    global _hasher, _DUMMY_HASH
    params = conf.get("auth.argon2", {}) or {}
    _hasher = PasswordHasher(
        time_cost=int(params.get("time_cost", 2)),
        memory_cost=int(params.get("memory_cost_kib", 19456)),
        parallelism=int(params.get("parallelism", 1)),
    )
    _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LoginRefused(Exception):
    """A login that did not succeed: `reason` is invalid | locked | throttled; `retry_after` in seconds."""

    def __init__(self, reason: str, retry_after: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def name_pseudonym(key: bytes, username: str) -> str:
    """How a name that is not an account is kept in the audit log and the throttle: `unknown:` and 12 hex
    digits of a keyed hash. People type passwords into the user name field; a keyed hash cannot be reversed by
    trying a dictionary."""
    return "unknown:" + hmac.new(key, username.encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def revoke_tokens(
    db: Database, user: int | str, reason: str, *, actor: str | None = None, ip: str | None = None
) -> int:
    """Revoke every live API token of a user (by id or name); audited as `token.revoked` with the reason.
    Returns how many were revoked."""
    with db.session() as s:
        by_name = select(User).where(User.username == user)
        row = s.get(User, user) if isinstance(user, int) else s.scalar(by_name)
        if row is None:
            return 0
        username, count = row.username, revoke_user_tokens(s, row.id)
    if count:
        audit.record(db, actor or username, "token.revoked", username, ip=ip, count=count, reason=reason)
    return count


def revoke_user_tokens(s: Session, user_id: int) -> int:
    """Inside a caller's unit of work: mark the user's unrevoked, unexpired tokens revoked."""
    result = s.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False), ApiToken.expires_at > utcnow())
        .values(revoked=True)
    )
    return result.rowcount or 0


class Authenticator:
    """Password logins with throttling, session validation and API tokens over the app database."""

    def __init__(self, db: Database, conf: AppConfig) -> None:
        self.db = db
        self.conf = conf
        self.token_ttl = timedelta(minutes=float(conf.get("auth.token_minutes", 60)))
        self.session_ttl = timedelta(hours=float(conf.get("auth.session_hours", 8)))
        self.throttle = LoginThrottle(db, conf)
        self._name_key: bytes | None = None

    # ---- logins -------------------------------------------------------------------------------
    def login(self, username: str, password: str, ip: str | None = None, channel: str = "web") -> Principal:
        """The principal for correct credentials, else LoginRefused. Every verified attempt is audited; of the
        attempts refused during one wait only the first is (the throttle counts the rest)."""
        username = (username or "").strip()[:200]
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.username == username)) if username else None
        subject = username if user is not None else self.pseudonym(username)
        verdict = self.throttle.reserve(subject, ip, account=user is not None)
        if not verdict.allowed:
            reason = "throttled" if verdict.scope == IP else "locked"
            if verdict.first_refusal:
                audit.record(
                    self.db,
                    subject,
                    f"login.{reason}",
                    success=False,
                    ip=ip,
                    channel=channel,
                    scope=verdict.scope,
                    retry_after=verdict.retry_after,
                )
            raise LoginRefused(reason, verdict.retry_after)
        ok = verify_password(user.password_hash if user else None, password) and bool(user and user.active)
        if not ok:
            audit.record(self.db, subject, "login.failed", success=False, ip=ip, channel=channel)
            raise LoginRefused("invalid")
        self.throttle.release(subject, ip, verdict)
        self._rehash_if_needed(user.id, password)
        audit.record(self.db, username, "login.ok", ip=ip, channel=channel)
        return principal_for(user)

    def pseudonym(self, username: str) -> str:
        """The `unknown:` form of a name that is not an account (keyed with a key derived from the app's)."""
        if self._name_key is None:
            secret = load_secret_key(self.conf)
            self._name_key = hmac.new(secret, b"bakery login names", hashlib.sha256).digest()
        return name_pseudonym(self._name_key, username)

    def unlock(self, username: str) -> int:
        """Clear a user name's failed-login waits from every client (`bakery users unlock NAME`)."""
        name = (username or "").strip()
        subject = name if self.db.user(name) is not None else self.pseudonym(name)
        return self.throttle.unlock(subject)

    def _rehash_if_needed(self, user_id: int, password: str) -> None:
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is not None and user.password_hash and _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)

    # ---- sessions -----------------------------------------------------------------------------
    def session_principal(self, user_id: int, nonce: str) -> Principal | None:
        """The principal of a session cookie, None once the user is disabled or the nonce was rotated."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
                return None
            return principal_for(user)

    def session_nonce(self, user_id: int) -> str:
        with self.db.session() as s:
            user = s.get(User, user_id)
            return user.session_nonce if user else ""

    def end_sessions(self, user_id: int, reason: str = "logout", ip: str | None = None) -> None:
        """Log a user out everywhere: sessions carrying the old nonce are refused from now on, and the user's
        API tokens are revoked (a token is not tied to one browser session)."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is not None:
                user.session_nonce = secrets.token_hex(16)
        revoke_tokens(self.db, user_id, reason, ip=ip)

    def header_principal(self, identity: str | None) -> Principal | None:
        """Databricks Apps: the platform has authenticated the user; the role comes from our table."""
        if not identity:
            return None
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.username == identity.strip().lower()))
            return principal_for(user) if user is not None and user.active else None

    # ---- API tokens ---------------------------------------------------------------------------
    def issue_token(self, principal: Principal, ip: str | None = None) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        with self.db.session() as s:
            s.add(
                ApiToken(
                    token_hash=token_digest(token),
                    user_id=principal.user_id,
                    expires_at=utcnow() + self.token_ttl,
                )
            )
        audit.record(
            self.db, principal.username, "token.issued", ip=ip, expires_in=int(self.token_ttl.total_seconds())
        )
        return token, int(self.token_ttl.total_seconds())

    def token_principal(self, token: str) -> Principal | None:
        if not token or len(token) > 200:
            return None
        with self.db.session() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
            if row is None or row.revoked or row.expires_at <= utcnow():
                return None
            user = s.get(User, row.user_id)
            return principal_for(user) if user is not None and user.active else None


def load_secret_key(conf: AppConfig) -> bytes:
    """The session-signing key: env var, else a Databricks secret, else a per-home key file (mode 0600)."""
    env_name = str(conf.get("auth.secret_key_env", "BAKERY_SECRET_KEY"))
    if os.environ.get(env_name):
        return os.environ[env_name].encode("utf-8")
    if conf.get("auth.mode") == "databricks":
        import base64

        from databricks.sdk import WorkspaceClient

        ref = conf.get("auth.databricks_secret", {})
        value = WorkspaceClient().secrets.get_secret(scope=ref["scope"], key=ref["key"]).value
        return base64.b64decode(value or "")
    path = conf.app_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        log.warning("%s is not set: generated a session key in %s (kept out of the repo)", env_name, path)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
