"""The HTTP API (/api/v1) per docs/contract.md: tokens, health, stores, forecasts, sales, bake plan, uploads,
OpenAPI."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from typing import Any

import flask
import pandas as pd
from flask import Blueprint, jsonify, request
from werkzeug.exceptions import Forbidden, HTTPException

from bakery.app.auth import STAFF, LoginRefused, Principal, check_store, revoke_tokens
from bakery.app.context import AppContext
from bakery.app.freshness import current_status
from bakery.app.overrides import overrides_in_force
from bakery.app.server.openapi import PRODUCT_ID_PATTERN, STORE_ID_PATTERN, build_spec
from bakery.app.server.security import api_error, client_ip, current_principal

_STORE = re.compile(STORE_ID_PATTERN)
_PRODUCT = re.compile(PRODUCT_ID_PATTERN)


def shown(value: str, limit: int = 40) -> str:
    """A caller's string as echoed in an error: at most `limit` characters, then "…" (JSON escapes it)."""
    return value if len(value) <= limit else value[:limit] + "…"


class BadParameter(Exception):
    """A query or form parameter that fails its schema (HTTP 422 naming it, the name capped as `shown`)."""

    def __init__(self, name: str, message: str) -> None:
        self.name = shown(name)
        super().__init__(f"{self.name}: {message}")


def only_params(*names: str) -> None:
    """Refuse query parameters the route does not know (a typo like `store=` must not silently widen a query)."""
    for name in request.args:
        if name not in names:
            raise BadParameter(name, f"unknown query parameter; expected {', '.join(names) or 'none'}")


def _one(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, "given more than once")
    return values[0] if values else None


def str_param(name: str, pattern: re.Pattern[str]) -> str | None:
    value = _one(name)
    if value is None:
        return None
    if not pattern.fullmatch(value):  # not match: `$` would let a final newline through
        raise BadParameter(name, f"{shown(value, 80)!r} is not a valid {name}")
    return value


def int_param(name: str, lo: int, hi: int, default: int | None = None) -> int | None:
    value = _one(name)
    if value is None:
        return default
    if not re.fullmatch(r"[+-]?\d{1,12}", value.strip()):
        raise BadParameter(name, f"expected a whole number, got {shown(value)!r}")
    n = int(value)
    if not lo <= n <= hi:
        raise BadParameter(name, f"{n} is outside {lo}..{hi}")
    return n


def date_param(name: str) -> date | None:
    value = _one(name)
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"expected a date as YYYY-MM-DD, got {shown(value)!r}") from None


def enum_param(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _one(name)
    if value is None:
        return default
    if value not in allowed:
        raise BadParameter(name, f"expected one of {', '.join(allowed)}")
    return value


def _principal() -> Principal:
    p = current_principal()
    if p is None:  # the before_request hook has already answered 401; this is a second line of defence
        raise HTTPException(response=api_error(401, "authentication required"))
    return p


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if isinstance(v, pd.Timestamp | datetime):
        return v.date().isoformat() if isinstance(v, pd.Timestamp) else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item"):
        return _json_value(v.item())
    return v


def records(df: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    cols = [c for c in columns if c in df.columns]
    return [
        {c: _json_value(v) for c, v in zip(cols, row, strict=True)}
        for row in df[cols].itertuples(index=False, name=None)
    ]


def _page(df: pd.DataFrame, limit: int, offset: int) -> pd.DataFrame:
    return df.iloc[offset : offset + limit]


FORECAST_FIELDS = [
    "store_id",
    "product_id",
    "date",
    "horizon",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "model",
    "model_version",
    "role",
    "explanation",
    "fallback_reason",
]
BAKE_PLAN_FIELDS = [
    "product_id",
    "quantity",
    "batches",
    "batch_size",
    "forecast",
    "quantile",
    "quantile_level",
    "quantiles",
    "carried_over",
    "display_min",
    "reason",
    "cost_source",
    "model_version",
    "degraded",
    "degraded_reason",
]
SALES_FIELDS = [
    "store_id",
    "product_id",
    "date",
    "quantity_sold",
    "revenue",
    "status",
    "stockout",
    "promo",
    "source",
]


def _forecast_freshness(ctx: AppContext) -> dict[str, Any]:
    """Whether the latest forecast is out of date (no store ids: the health answer needs no login)."""
    status = current_status(ctx.serving, ctx.conf)
    if status is None:
        return {"forecast_stale": None, "forecast_days_old": None, "forecast_degraded": None}
    return {
        "forecast_stale": status.stale,
        "forecast_days_old": status.days_old,
        "forecast_degraded": status.degraded,
    }


def bake_plan_body(
    df: pd.DataFrame,
    store_id: str,
    day: date | None,
    names: dict[str, str],
    overrides: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One store's bake plan for a day: per product the quantity, the forecast and quantiles behind it, the reason,
    the manager's override in force ({quantity, reason_code, note, by, at}, or null) and whether the row is
    degraded and why."""
    if df.empty:
        return {
            "store_id": store_id,
            "date": day.isoformat() if day else None,
            "as_of": None,
            "degraded": False,
            "degraded_reason": None,
            "items": [],
            "message": f"no bake plan for {day}" if day else "no bake plan yet - run `bakery pipeline`",
        }
    items = []
    for row in records(df, BAKE_PLAN_FIELDS):
        row["name"] = names.get(row["product_id"])
        row["quantiles"] = json.loads(row["quantiles"]) if row.get("quantiles") else {}
        row["override"] = (overrides or {}).get(row["product_id"])
        items.append(row)
    reasons = sorted({r for r in df["degraded_reason"].dropna()})
    return {
        "store_id": store_id,
        "date": _json_value(df["date"].iloc[0]),
        "as_of": _json_value(max(df["as_of"])),
        "model_version": _json_value(df["model_version"].iloc[0]),
        "degraded": bool(df["degraded"].any()),
        "degraded_reason": "; ".join(reasons) or None,
        "items": items,
    }


def make_blueprint(ctx: AppContext) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    max_limit = int(ctx.conf.get("serving.api_max_limit", 10000))
    kinds = list(ctx.conf.get("uploads.kinds", []))
    spec = build_spec(max_limit, kinds, int(ctx.conf.get("uploads.max_bytes", 50 * 2**20)))

    @api.errorhandler(BadParameter)
    def _bad(exc: BadParameter):
        return api_error(422, str(exc), exc.name)

    @api.errorhandler(Forbidden)
    def _forbidden(exc: Forbidden):
        return api_error(403, exc.description or "forbidden")

    @api.post("/auth/token", provide_automatic_options=False)
    def token():
        body = request.get_json(silent=True) if request.is_json else request.form
        body = body if isinstance(body, dict) or hasattr(body, "get") else {}
        username, password = body.get("username"), body.get("password")
        for name, value, cap in (("username", username, 200), ("password", password, 1024)):
            if not isinstance(value, str) or not value or len(value) > cap:
                return api_error(422, f"{name}: required, a string of 1..{cap} characters", name)
        try:
            principal = ctx.auth.login(username, password, client_ip(), channel="api")
        except LoginRefused as exc:
            if exc.reason == "invalid":
                return api_error(401, "wrong user name or password")
            resp = api_error(429, "too many attempts; try again later")
            resp.headers["Retry-After"] = str(max(1, exc.retry_after))
            return resp
        access, expires_in = ctx.auth.issue_token(principal, client_ip())
        return jsonify({"access_token": access, "token_type": "bearer", "expires_in": expires_in})

    @api.post("/auth/revoke", provide_automatic_options=False)
    def revoke():
        p = _principal()  # the bearer token's owner: every token of theirs stops working, this one included
        return jsonify(
            {"revoked": revoke_tokens(ctx.db, p.user_id or p.username, "revoked by the user", ip=client_ip())}
        )

    @api.get("/health", provide_automatic_options=False)
    def health():
        return jsonify(
            {
                "status": "ok",
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "data": {**ctx.serving.freshness(), **_forecast_freshness(ctx)},
                "cache_warm": ctx.serving.warmed,
            }
        )

    @api.get("/openapi.json", provide_automatic_options=False)
    def openapi():
        return jsonify(spec)

    @api.get("/stores", provide_automatic_options=False)
    def stores():
        p = _principal()
        only_params()
        df = ctx.serving.stores()
        df = df[df["store_id"].map(p.can_see)] if len(df) else df
        return jsonify({"items": records(df, ["store_id", "name", "city", "country", "timezone"])})

    @api.get("/forecasts", provide_automatic_options=False)
    def forecasts():
        p = _principal()
        only_params("store_id", "product_id", "horizon", "date", "role", "limit", "offset")
        store_id = str_param("store_id", _STORE)
        product_id = str_param("product_id", _PRODUCT)
        horizon = int_param("horizon", 1, 28)
        target = date_param("date")
        role = enum_param("role", ("champion", "challenger", "shadow"), "champion")
        limit = int_param("limit", 1, max_limit, 1000) or 1000
        offset = int_param("offset", 0, 100_000_000, 0) or 0
        check_store(p, store_id)
        snap = ctx.serving.forecast_snapshot()
        if snap is None:
            return jsonify(
                {
                    "as_of": None,
                    "stale": False,
                    "degraded": False,
                    "reason": None,
                    "count": 0,
                    "total": 0,
                    "limit": limit,
                    "offset": offset,
                    "items": [],
                    "message": "no forecasts yet - run `bakery pipeline`",
                }
            )
        store_ids = [store_id] if store_id else p.visible(snap.store_ids)
        df = ctx.serving.forecasts(store_ids, product_id, horizon, target, role)
        page = _page(df, limit, offset)
        status = current_status(ctx.serving, ctx.conf, store_ids)
        return jsonify(
            {
                **(status.as_json() if status else {"as_of": snap.as_of.isoformat()}),
                "count": len(page),
                "total": len(df),
                "limit": limit,
                "offset": offset,
                "items": records(page, FORECAST_FIELDS),
            }
        )

    @api.get("/sales", provide_automatic_options=False)
    def sales():
        p = _principal()
        only_params("store_id", "product_id", "start", "end", "limit", "offset")
        store_id = str_param("store_id", _STORE)
        product_id = str_param("product_id", _PRODUCT)
        start, end = date_param("start"), date_param("end")
        limit = int_param("limit", 1, max_limit, 1000) or 1000
        offset = int_param("offset", 0, 100_000_000, 0) or 0
        check_store(p, store_id)
        if store_id:
            scope: list[str] | None = [store_id]
        elif p.all_stores:
            scope = None
        else:
            scope = sorted(p.stores)
        df = ctx.serving.sales(scope, start, end, product_id)
        page = _page(df, limit, offset)
        return jsonify(
            {
                "count": len(page),
                "total": len(df),
                "limit": limit,
                "offset": offset,
                "items": records(page, SALES_FIELDS),
            }
        )

    @api.get("/bake-plan", provide_automatic_options=False)
    def bake_plan():
        p = _principal()
        only_params("store_id", "date")
        store_id = str_param("store_id", _STORE)
        if store_id is None:
            raise BadParameter("store_id", "store_id is required: the store whose plan to show")
        day = date_param("date")
        check_store(p, store_id)
        plan = ctx.serving.bake_plan(store_id, day)
        planned = pd.Timestamp(plan["date"].iloc[0]).date() if len(plan) else None
        overrides = overrides_in_force(ctx.db, store_id, planned)
        return jsonify(bake_plan_body(plan, store_id, day, ctx.serving.product_names(), overrides))

    @api.post("/uploads", provide_automatic_options=False)
    def uploads():
        from bakery.app.uploads import RecordFailed, UploadRequest, UploadTooLarge, handle_api_upload

        p = _principal()
        if p.role not in STAFF:
            raise Forbidden("only analysts and admins may upload data")
        form = request.form
        kind = form.get("kind")
        if kind not in kinds:
            raise BadParameter("kind", f"expected one of {', '.join(kinds)}")
        file = request.files.get("file")
        if file is None:
            raise BadParameter("file", "required: the file to upload (multipart field 'file')")
        on_duplicate = form.get("on_duplicate") or "skip"
        if on_duplicate not in ("skip", "overwrite"):
            raise BadParameter("on_duplicate", "expected skip or overwrite")
        max_error_rate = None
        if form.get("max_error_rate") not in (None, ""):
            try:
                max_error_rate = float(form["max_error_rate"])
            except ValueError:
                raise BadParameter("max_error_rate", "expected a number between 0 and 1") from None
            if not 0.0 <= max_error_rate <= 1.0:
                raise BadParameter("max_error_rate", "expected a number between 0 and 1")
        parsed: dict[str, Any] = {}
        for field in ("mapping", "shape"):
            if form.get(field):
                try:
                    parsed[field] = json.loads(form[field])
                except json.JSONDecodeError as exc:
                    raise BadParameter(field, f"not valid JSON: {exc.msg}") from None
                if not isinstance(parsed[field], dict):
                    raise BadParameter(field, "expected a JSON object")
        name = file.filename or form.get("filename") or "upload.csv"
        try:
            result = handle_api_upload(
                ctx,
                p,
                UploadRequest(
                    kind=kind,
                    filename=name,
                    stream=file.stream,
                    mapping=parsed.get("mapping"),
                    shape=parsed.get("shape"),
                    on_duplicate=on_duplicate,
                    max_error_rate=max_error_rate,
                ),
                ip=client_ip(),
            )
        except UploadTooLarge as exc:
            return api_error(413, str(exc))
        except RecordFailed as exc:
            return api_error(503, str(exc))
        except ValueError as exc:
            field = "shape" if "shape" in str(exc) else "mapping" if "mapping" in str(exc) else "file"
            raise BadParameter(field, str(exc)) from None
        resp = jsonify(result)
        resp.status_code = 201 if result["accepted"] else 422
        return resp

    return api


def install(server: flask.Flask, ctx: AppContext) -> None:
    server.register_blueprint(make_blueprint(ctx))
    methods: dict[str, set[str]] = {}
    for rule in server.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            methods.setdefault(rule.rule, set()).update(
                m for m in rule.methods if m not in ("OPTIONS", "HEAD")
            )

    @server.before_request
    def _api_routes_only():
        """Under /api/ only the API answers: no Dash catch-all page, and 405 lists exactly the API's methods."""
        rule = request.url_rule
        if not request.path.startswith("/api/") or (rule is not None and rule.endpoint.startswith("api.")):
            return None
        if request.path in methods:
            resp = api_error(405, f"{request.method} is not allowed here")
            resp.headers["Allow"] = ", ".join(sorted(methods[request.path]))
            return resp
        return api_error(404, "no such API endpoint")

    def _json_errors(exc: HTTPException):
        if request.path.startswith("/api/"):
            resp = api_error(exc.code or 500, exc.description or exc.name)
            for header, value in exc.get_headers():
                if header.lower() in ("allow", "retry-after"):
                    resp.headers[header] = value
            return resp
        return exc

    for code in (400, 401, 403, 404, 405, 413, 415):
        server.register_error_handler(code, _json_errors)
