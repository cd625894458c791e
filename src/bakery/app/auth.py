"""Authentication and authorization: argon2 passwords, login throttling and lockout, API tokens, store scope."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from bakery.app import audit
from bakery.app.appconf import AppConfig
from bakery.app.db import ROLES, ApiToken, Database, LoginAttempt, User, utcnow

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
    _hasher = PasswordHasher(time_cost=int(params.get("time_cost", 2)),
                             memory_cost=int(params.get("memory_cost_kib", 19456)),
                             parallelism=int(params.get("parallelism", 1)))
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


class _IpThrottle:
    """At most N login attempts per client address per minute (in memory, per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, ip: str) -> int:
        """Record an attempt; return 0, or the seconds to wait when over the limit."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(ip, deque())
            while hits and now - hits[0] > 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return int(60 - (now - hits[0])) + 1
            hits.append(now)
            return 0


class Authenticator:
    """Password logins with lockout, session validation and API tokens over the app database."""

    def __init__(self, db: Database, conf: AppConfig) -> None:
        self.db = db
        self.max_failures = int(conf.get("auth.max_failed_logins", 5))
        self.lockout = timedelta(minutes=float(conf.get("auth.lockout_minutes", 15)))
        self.token_ttl = timedelta(minutes=float(conf.get("auth.token_minutes", 60)))
        self.session_ttl = timedelta(hours=float(conf.get("auth.session_hours", 8)))
        self._throttle = _IpThrottle(int(conf.get("auth.ip_attempts_per_minute", 30)))

    # ---- logins -------------------------------------------------------------------------------
    def login(self, username: str, password: str, ip: str | None = None, channel: str = "web") -> Principal:
        """The principal for correct credentials, else LoginRefused; every outcome is audited."""
        username = (username or "").strip()[:200]
        wait = self._throttle.hit(ip or "-")
        if wait:
            audit.record(self.db, username or "-", "login.throttled", success=False, ip=ip, channel=channel)
            raise LoginRefused("throttled", wait)
        with self.db.session() as s:
            attempt = s.get(LoginAttempt, username) or LoginAttempt(username=username, failures=0)
            now = utcnow()
            if attempt.locked_until and attempt.locked_until > now:
                s.add(attempt)
                locked_for = int((attempt.locked_until - now).total_seconds()) + 1
                ok = False
            else:
                locked_for = 0
                user = s.scalar(select(User).where(User.username == username))
                ok = verify_password(user.password_hash if user else None, password) and bool(user and user.active)
        if locked_for:
            audit.record(self.db, username or "-", "login.locked", success=False, ip=ip, channel=channel)
            raise LoginRefused("locked", locked_for)
        if not ok:
            self._failed(username)
            audit.record(self.db, username or "-", "login.failed", success=False, ip=ip, channel=channel)
            raise LoginRefused("invalid")
        self._succeeded(username, password)
        audit.record(self.db, username, "login.ok", ip=ip, channel=channel)
        return principal_for(user)

    def _failed(self, username: str) -> None:
        with self.db.session() as s:
            attempt = s.get(LoginAttempt, username) or LoginAttempt(username=username, failures=0)
            now = utcnow()
            if attempt.last_failure_at and now - attempt.last_failure_at > self.lockout:
                attempt.failures = 0
            attempt.failures = (attempt.failures or 0) + 1
            attempt.last_failure_at = now
            if attempt.failures >= self.max_failures:
                attempt.locked_until = now + self.lockout
                attempt.failures = 0
            s.add(attempt)

    def _succeeded(self, username: str, password: str) -> None:
        with self.db.session() as s:
            attempt = s.get(LoginAttempt, username)
            if attempt is not None:
                s.delete(attempt)
            user = s.scalar(select(User).where(User.username == username))
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

    def end_sessions(self, user_id: int) -> None:
        """Log a user out everywhere: sessions carrying the old nonce are refused from now on."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is not None:
                user.session_nonce = secrets.token_hex(16)

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
            s.add(ApiToken(token_hash=token_digest(token), user_id=principal.user_id,
                           expires_at=utcnow() + self.token_ttl))
        audit.record(self.db, principal.username, "token.issued", ip=ip,
                     expires_in=int(self.token_ttl.total_seconds()))
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
