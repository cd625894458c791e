"""Login throttling shared by every worker process: per client address, per name and client, per name.

Each counter is a row of `login_attempts`. `reserve` checks and counts an attempt for every counter in one
locked transaction *before* the password is verified, so parallel requests can never verify more guesses than
a limit allows; `release` gives the attempt back when the password was right.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bakery.app.appconf import AppConfig
from bakery.app.db import Database, LoginAttempt

log = logging.getLogger(__name__)

IP, USER_IP, USER = "ip", "user_ip", "user"
_TABLE = "login_attempts"


@dataclass(frozen=True)
class Policy:
    """`limit` attempts within `window` seconds of the first, then a wait of `delay` seconds before each
    further attempt, multiplied by `growth` after each one up to `max_delay`; the count starts again once the
    window and the current wait are both over."""

    scope: str
    limit: int
    window: float
    delay: float
    max_delay: float
    growth: float = 1.0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0 or not 0 <= self.delay <= self.max_delay or self.growth < 1:
            raise ValueError(
                f"auth.throttle ({self.scope}): limits and windows must be positive, "
                f"max delay >= delay and growth >= 1, got {self}"
            )


@dataclass(frozen=True)
class Verdict:
    """The outcome of `reserve`: allowed, or refused by the counter `scope` for `retry_after` seconds.
    `first_refusal` marks the first refusal of a wait (audit that one; the rest are counted in the row);
    `per_name` says whether the attempt was counted against the name from every client."""

    allowed: bool
    scope: str = ""
    retry_after: int = 0
    first_refusal: bool = False
    per_name: bool = False


def client_key(ip: str | None) -> str:
    """The throttle key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's whole prefix)."""
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return (ip or "-")[:64]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


def prune_login_attempts(db: Database, now: float | datetime | None = None) -> int:
    """Delete the counters expired at `now` (epoch seconds or an aware datetime; default: now) and return how
    many. For the nightly retention; `reserve` also prunes on every write."""
    at = now.timestamp() if isinstance(now, datetime) else time.time() if now is None else float(now)
    with db.session() as s:
        return _prune(s, at)


def _prune(s: Session, now: float) -> int:
    return s.execute(delete(LoginAttempt).where(LoginAttempt.expires_at <= now)).rowcount or 0


class LoginThrottle:
    """The three counters and their policies from conf/app.yml (auth.throttle)."""

    def __init__(self, db: Database, conf: AppConfig) -> None:
        t = conf.get("auth.throttle", {}) or {}
        self.db = db
        per_minute = int(t.get("ip_attempts_per_minute", 30))
        self.ip = Policy(IP, per_minute, 60.0, 60.0, 60.0)
        backoff, most = float(t.get("backoff_seconds", 30)), 60.0 * float(t.get("max_backoff_minutes", 15))
        failures = int(t.get("failures_before_backoff", 5))
        forget = 3600.0 * float(t.get("forget_hours", 24))
        self.user_ip = Policy(USER_IP, failures, forget, backoff, most, 2.0)
        # Names that are not accounts cannot be broken into; their counters exist so that a refusal looks the
        # same for any name, and expire soon so that made-up names cannot fill the table.
        forget_unknown = 60.0 * float(t.get("unknown_forget_minutes", 15))
        self.unknown_ip = Policy(USER_IP, failures, forget_unknown, backoff, most, 2.0)
        slow = float(t.get("user_slowdown_seconds", 10))
        self.user = Policy(
            USER,
            int(t.get("user_failures_per_hour", 100)),
            3600.0,
            slow,
            float(t.get("user_max_slowdown_seconds", 60)),
            2.0,
        )
        self.known_for = 86400.0 * float(t.get("known_client_days", 30))

    def reserve(self, subject: str, ip: str | None, account: bool, now: float | None = None) -> Verdict:
        """Check and count one attempt for `subject` (a user name or its pseudonym) from `ip`, atomically."""
        now = time.time() if now is None else now
        client = client_key(ip)
        try:
            with self.db.serialized(_TABLE) as s:
                _prune(s, now)
                return self._reserve(s, subject, client, account, now)
        except OperationalError:  # the database stayed locked past its busy timeout: refuse, never answer 500
            log.warning("login throttle: the app database is busy; refusing a login attempt")
            return Verdict(False, IP, 1, False)

    def _reserve(self, s: Session, subject: str, client: str, account: bool, now: float) -> Verdict:
        pair_policy = self.user_ip if account else self.unknown_ip
        counters = [(self.ip, _row(s, IP, client, "")), (pair_policy, _row(s, USER_IP, subject, client))]
        if counters[1][1].known_until <= now:  # a client this user signed in from lately is not slowed down
            counters.append((self.user, _row(s, USER, subject, "")))
        for policy, row in counters:
            _restart_if_over(row, policy, now)
        for i, (policy, row) in enumerate(counters):
            if row.blocked_until > now:
                first = not row.refused
                row.refused += 1
                s.add(row)
                if i:  # a refused attempt still spends the client's budget
                    _count(counters[0][1], self.ip, now)
                    s.add(counters[0][1])
                return Verdict(False, policy.scope, max(1, math.ceil(row.blocked_until - now)), first)
        for policy, row in counters:
            _count(row, policy, now)
            s.add(row)
        return Verdict(True, per_name=len(counters) == 3)

    def release(self, subject: str, ip: str | None, verdict: Verdict, now: float | None = None) -> None:
        """A correct password: clear the name-and-client back-off, remember the client as known, and take the
        attempt off the per-name count (the per-address count keeps it)."""
        now = time.time() if now is None else now
        try:
            self._release(subject, client_key(ip), verdict, now)
        except OperationalError:  # the login stands; only its waits stay until they run out
            log.warning("login throttle: the app database is busy; a successful login's waits were kept")

    def _release(self, subject: str, client: str, verdict: Verdict, now: float) -> None:
        with self.db.serialized(_TABLE) as s:
            pair = _row(s, USER_IP, subject, client)
            pair.attempts, pair.blocked_until, pair.refused = 0, 0.0, 0
            pair.window_start, pair.delay = now, self.user_ip.delay
            pair.known_until = now + self.known_for
            pair.expires_at = max(now + self.user_ip.window, pair.known_until)
            s.add(pair)
            user = s.get(LoginAttempt, (USER, subject, "")) if verdict.per_name else None
            if user is not None and user.attempts:
                user.attempts -= 1

    def unlock(self, subject: str, now: float | None = None) -> int:
        """Clear every counter of a user name (the admin's `bakery users unlock`), keeping which clients are
        known. Returns how many waits were running."""
        now = time.time() if now is None else now
        with self.db.serialized(_TABLE) as s:
            rows = (
                s.query(LoginAttempt)
                .filter(LoginAttempt.subject == subject, LoginAttempt.scope.in_((USER, USER_IP)))
                .all()
            )
            running = sum(row.blocked_until > now for row in rows)
            for row in rows:
                if row.known_until > now:
                    row.attempts, row.blocked_until, row.refused, row.delay = 0, 0.0, 0, self.user_ip.delay
                else:
                    s.delete(row)
            return running


def _row(s: Session, scope: str, subject: str, client: str) -> LoginAttempt:
    row = s.get(LoginAttempt, (scope, subject, client))
    if row is None:
        row = LoginAttempt(
            scope=scope,
            subject=subject,
            client=client,
            attempts=0,
            window_start=0.0,
            blocked_until=0.0,
            delay=0.0,
            refused=0,
            known_until=0.0,
            expires_at=0.0,
        )
    return row


def _restart_if_over(row: LoginAttempt, policy: Policy, now: float) -> None:
    if now >= row.window_start + policy.window and now >= row.blocked_until:
        row.attempts, row.window_start, row.blocked_until, row.refused = 0, now, 0.0, 0
        row.delay = policy.delay


def _count(row: LoginAttempt, policy: Policy, now: float) -> None:
    row.attempts += 1
    if row.attempts >= policy.limit:
        row.blocked_until = now + row.delay
        row.delay = min(row.delay * policy.growth, policy.max_delay)
        row.refused = 0
    row.expires_at = max(row.window_start + policy.window, row.blocked_until, row.known_until)
