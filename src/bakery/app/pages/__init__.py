"""The app's pages: each module owns its layout and callbacks (ids prefixed with the page name)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bakery.app.auth import Principal
from bakery.app.context import AppContext


@dataclass(frozen=True)
class Page:
    """A page: its path, who may open it, its title (i18n key), its layout and its callbacks."""

    path: str
    roles: frozenset[str]
    title: str
    layout: Callable[[AppContext, Principal, str, dict[str, list[str]]], Any]
    register: Callable[[Any, AppContext], None]
    group: str = "main"


def all_pages() -> list[Page]:
    """In navigation order."""
    from bakery.app.pages import (
        admin_audit,
        admin_health,
        admin_settings,
        admin_users,
        bake,
        dashboards,
        drivers,
        events,
        forecast,
        history,
        metrics,
        models,
        stock,
        uploads,
        waste,
    )

    return [
        m.PAGE
        for m in (
            forecast,
            bake,
            history,
            stock,
            events,
            metrics,
            waste,
            dashboards,
            models,
            drivers,
            uploads,
            admin_users,
            admin_settings,
            admin_health,
            admin_audit,
        )
    ]
