"""File downloads (templates, bad rows, a store's bake plan): each route checks role and ownership on the
server."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import flask
import pandas as pd
from flask import abort, send_file

from bakery.app.auth import ALL_ROLES, STAFF, check_store, require_role
from bakery.app.context import AppContext
from bakery.app.db import UploadBatch
from bakery.app.server.security import current_lang, current_principal


def install(server: flask.Flask, ctx: AppContext) -> None:
    kinds = set(ctx.conf.get("uploads.kinds", []))

    @server.get("/download/template/<kind>.<fmt>")
    def template(kind: str, fmt: str):
        require_role(current_principal(), STAFF)
        if kind not in kinds or fmt not in ("csv", "xlsx"):
            abort(404)
        from bakery.ingest.templates import write_template

        with tempfile.TemporaryDirectory() as tmp:
            path = write_template(kind, Path(tmp) / f"{kind}_template.{fmt}", ctx.settings)
            data = path.read_bytes()
        mime = (
            "text/csv"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return flask.Response(
            data,
            mimetype=mime,
            headers={"Content-Disposition": f'attachment; filename="{kind}_template.{fmt}"'},
        )

    def _plan_of(store_id: str) -> tuple[pd.DataFrame, dict]:
        """The store's latest plan and the managers' changes in force for its day; 404 for what is not a store
        id or has no plan, 403 for a store outside the user's scope, whether or not it exists."""
        from bakery.app.overrides import overrides_in_force

        principal = require_role(current_principal(), ALL_ROLES)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", store_id):
            abort(404)
        check_store(principal, store_id)
        plan = ctx.serving.bake_plan(store_id)
        if plan.empty:
            abort(404)
        return plan, overrides_in_force(ctx.db, store_id, pd.Timestamp(plan["date"].iloc[0]).date())

    @server.get("/download/bake-plan/<store_id>.csv")
    def bake_plan_csv(store_id: str):
        """The store's bake plan as CSV (UTF-8 with a BOM, so that spreadsheets read the accents)."""
        from bakery.app.exports import bake_plan_csv as to_csv

        plan, overrides = _plan_of(store_id)
        day = plan["date"].iloc[0]
        return flask.Response(
            to_csv(plan, ctx.serving.product_names(), overrides),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="hornear_{store_id}_{day}.csv"'},
        )

    @server.get("/download/bake-plan/<store_id>.pdf")
    def bake_plan_pdf(store_id: str):
        """The store's bake plan as a one-page sheet to print, in the user's language."""
        from bakery.app.exports import bake_plan_pdf as to_pdf

        plan, overrides = _plan_of(store_id)
        day = plan["date"].iloc[0]
        stores = ctx.serving.stores()
        named = stores.loc[stores["store_id"] == store_id, "name"].dropna()
        store = f"{named.iloc[0]} ({store_id})" if len(named) else store_id
        return flask.Response(
            to_pdf(plan, ctx.serving.product_names(), store, current_lang(), overrides),
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="hornear_{store_id}_{day}.pdf"'},
        )

    @server.get("/download/staging/<token>/bad_rows.csv")
    def staged_bad_rows(token: str):
        from bakery.app.uploads import bad_rows_path

        principal = require_role(current_principal(), STAFF)
        path = bad_rows_path(ctx, principal, token)
        if path is None:
            abort(404)
        return send_file(path, mimetype="text/csv", as_attachment=True, download_name="bad_rows.csv")

    @server.get("/download/batch/<batch_id>/bad_rows.csv")
    def batch_bad_rows(batch_id: str):
        require_role(current_principal(), STAFF)
        if not re.fullmatch(r"upl-[0-9T]+-[0-9a-f]{6}", batch_id):
            abort(404)
        with ctx.db.session() as s:
            if s.get(UploadBatch, batch_id) is None:
                abort(404)
        path = ctx.conf.uploads_dir / batch_id / "bad_rows.csv"
        if not path.exists():
            abort(404)
        return send_file(
            path, mimetype="text/csv", as_attachment=True, download_name=f"{batch_id}_bad_rows.csv"
        )
