"""API tokens are revocable: by logout, by a password, role, store or state change, by the user over the API,
and by an admin (`revoke_tokens`, `bakery users revoke-tokens`)."""

from __future__ import annotations

import pytest
import requests

from bakery.app import audit
from bakery.app.accounts import update_user
from bakery.app.auth import revoke_tokens
from tests.app.conftest import PASSWORDS, form_login


def _token(live, user: str) -> str:
    r = requests.post(
        f"{live.url}/api/v1/auth/token", json={"username": user, "password": PASSWORDS[user]}, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _works(live, token: str) -> bool:
    r = requests.get(f"{live.url}/api/v1/stores", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


def _browser_login(live, user: str) -> tuple[requests.Session, str]:
    s = form_login(live.url, user)
    return s, s.cookies.get("_csrf_token")  # a login starts a new session with a new CSRF token


def test_logout_revokes_the_users_tokens(live):
    token = _token(live, "mgr2")
    assert _works(live, token)
    browser, csrf = _browser_login(live, "mgr2")
    r = browser.post(f"{live.url}/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert not _works(live, token)
    assert _works(live, _token(live, "mgr2"))  # signing in again gives a working token
    rows, _ = audit.query(live.ctx.db, audit.AuditQuery(action="token.revoked", actor="mgr2"))
    assert rows[0]["detail"] == {"count": 1, "reason": "logout"}


@pytest.mark.parametrize(
    "change", [{"password": "a-new-password-1"}, {"role": "admin"}, {"stores": "S02"}, {"active": False}]
)
def test_an_account_change_revokes_its_tokens(live, change):
    db = live.ctx.db
    token = _token(live, "mgr")
    assert _works(live, token)
    update_user(db, "mgr", actor="admin", **change)
    if "active" in change:
        update_user(db, "mgr", actor="admin", active=True)  # enabling the account again does not revive it
    assert not _works(live, token)
    update_user(db, "mgr", actor="admin", role="manager", stores="S01", password=PASSWORDS["mgr"])
    assert _works(live, _token(live, "mgr"))


def test_a_user_revokes_their_own_tokens_over_the_api(live):
    first, second = _token(live, "ana"), _token(live, "ana")
    other = _token(live, "admin")
    bearer = {"Authorization": f"Bearer {first}"}
    r = requests.post(f"{live.url}/api/v1/auth/revoke", headers=bearer, timeout=10)
    assert r.status_code == 200 and r.json() == {"revoked": 2}
    assert not _works(live, first) and not _works(live, second) and _works(live, other)
    assert requests.post(f"{live.url}/api/v1/auth/revoke", headers=bearer, timeout=10).status_code == 401
    assert requests.post(f"{live.url}/api/v1/auth/revoke", timeout=10).status_code == 401
    spec = requests.get(f"{live.url}/api/v1/openapi.json", timeout=10).json()
    assert "200" in spec["paths"]["/api/v1/auth/revoke"]["post"]["responses"]


def test_revoke_tokens_by_name_is_audited_with_its_reason(live):
    token = _token(live, "admin")
    assert revoke_tokens(live.ctx.db, "admin", "lost laptop", actor="cli:root") >= 1
    assert not _works(live, token)
    assert revoke_tokens(live.ctx.db, "admin", "again", actor="cli:root") == 0
    assert revoke_tokens(live.ctx.db, "nobody", "no such user") == 0
    rows, _ = audit.query(live.ctx.db, audit.AuditQuery(action="token.revoked", actor="cli:root"))
    assert len(rows) == 1 and rows[0]["target"] == "admin" and rows[0]["detail"]["reason"] == "lost laptop"
