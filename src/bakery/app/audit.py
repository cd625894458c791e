"""The audit log: one append-only record per login, token, upload, deletion, role or setting change."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bakery.app.db import AuditEvent, Database

log = logging.getLogger(__name__)


def record(
    db: Database,
    actor: str,
    action: str,
    target: str | None = None,
    *,
    success: bool = True,
    ip: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit record. Callers never pass secrets: details are shown to admins verbatim."""
    with db.session() as s:
        s.add(
            AuditEvent(
                actor=actor,
                action=action,
                target=target,
                success=success,
                ip=ip,
                detail=json.dumps(detail, default=str, sort_keys=True) if detail else None,
            )
        )
    log.info("audit %s %s %s%s", actor, action, target or "", "" if success else " (failed)")


@dataclass(frozen=True)
class AuditQuery:
    """Filters for the admin page: all optional."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    limit: int = 200
    offset: int = 0


def query(db: Database, q: AuditQuery | None = None) -> tuple[list[dict[str, Any]], int]:
    """The newest matching records first, and how many match in total."""
    q = q or AuditQuery()
    stmt = select(AuditEvent)
    if q.action:
        stmt = stmt.where(AuditEvent.action.like(f"{q.action}%"))
    if q.actor:
        stmt = stmt.where(AuditEvent.actor == q.actor)
    if q.since:
        stmt = stmt.where(AuditEvent.at >= q.since)
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = s.scalars(stmt.order_by(AuditEvent.id.desc()).limit(q.limit).offset(q.offset)).all()
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(timespec="seconds"),
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "success": r.success,
                "ip": r.ip,
                "detail": r.detail_dict(),
            }
            for r in rows
        ], int(total)
