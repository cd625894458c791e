"""Upload page (analysts): template, drag-and-drop, column mapping, preview, validation report, load, batches."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from dash import ALL, Input, Output, State, dcc, html, no_update
from dash import ctx as dash_ctx

from bakery.app import uploads
from bakery.app.auth import STAFF, Principal
from bakery.app.context import AppContext
from bakery.app.formatting import fmt_count, fmt_instant, fmt_pct, rule_words
from bakery.app.i18n import TEXTS, t
from bakery.app.pages import Page
from bakery.app.pages.common import card, field, kpi, notice, page_header, secured, table
from bakery.app.server.security import client_ip
from bakery.app.upload_messages import fatal_message, file_message, row_detail
from bakery.ingest.readers import FileRejected
from bakery.ingest.reshape import ReshapeError
from bakery.ops.retrain import request_retrain

P = "uploads"
NONE = "__none__"


def layout(ctx: AppContext, principal: Principal, lang: str, query: dict[str, list[str]]) -> Any:
    kinds = list(ctx.conf.get("uploads.kinds", []))
    max_mb = int(ctx.conf.get("uploads.max_bytes")) // 2**20
    rate = float(ctx.options.get("upload_max_error_rate"))
    return html.Div(
        [
            page_header(t("up.title", lang)),
            html.P(t("up.intro", lang, mb=max_mb), className="muted"),
            card(
                t("up.step1", lang),
                html.Div(
                    [
                        field(
                            t("up.kind", lang),
                            dcc.Dropdown(
                                id=f"{P}-kind",
                                value="sales",
                                clearable=False,
                                options=[{"label": kind_name(k, lang), "value": k} for k in kinds],
                            ),
                        ),
                        html.Div(id=f"{P}-templates", className="field"),
                    ],
                    className="controls",
                ),
            ),
            card(
                t("up.step2", lang),
                dcc.Upload(
                    id=f"{P}-file",
                    children=html.Div([t("up.drop", lang)]),
                    multiple=False,
                    max_size=int(ctx.conf.get("uploads.max_bytes")),
                    className="dropzone",
                    accept=",".join(uploads.ACCEPTED_SUFFIXES),
                ),
                html.Details(
                    [
                        html.Summary(t("up.shape", lang)),
                        html.P(t("up.shape_help", lang), className="muted"),
                        dcc.Textarea(
                            id=f"{P}-shape",
                            className="shape-input",
                            placeholder='{"shape": "items", "date": "Date", "item": "Item", '
                            '"store_id": "S01", "exclude": ["NONE"]}',
                        ),
                        html.Button(
                            t("up.shape_apply", lang),
                            id=f"{P}-shape-apply",
                            n_clicks=0,
                            className="button small",
                        ),
                    ]
                ),
                html.Div(id=f"{P}-file-message"),
            ),
            card(t("up.step3", lang), html.Div(id=f"{P}-mapping"), html.Div(id=f"{P}-preview")),
            card(
                t("up.step4", lang),
                html.Div(
                    [
                        field(
                            t("up.duplicates", lang),
                            dcc.RadioItems(
                                id=f"{P}-dup",
                                value="skip",
                                inline=True,
                                className="segmented",
                                options=[
                                    {"label": t("up.dup.skip", lang), "value": "skip"},
                                    {"label": t("up.dup.overwrite", lang), "value": "overwrite"},
                                ],
                            ),
                        ),
                        field(
                            t("up.max_rate", lang),
                            dcc.Input(id=f"{P}-rate", type="number", min=0, max=1, step=0.001, value=rate),
                        ),
                        field(
                            t("up.replaces", lang),
                            dcc.Dropdown(
                                id=f"{P}-replaces",
                                options=_accepted(ctx, "sales"),
                                placeholder=t("common.choose", lang),
                            ),
                        ),
                    ],
                    className="controls",
                ),
                html.Div(
                    [
                        html.Button(
                            t("up.validate", lang), id=f"{P}-validate", n_clicks=0, className="button"
                        ),
                        dcc.ConfirmDialogProvider(
                            html.Button(
                                t("up.load", lang),
                                className="button primary",
                                id=f"{P}-load-button",
                                disabled=True,
                            ),
                            id=f"{P}-load",
                            message=t("up.confirm_load", lang),
                        ),
                    ],
                    className="button-row",
                ),
                dcc.Loading(html.Div(id=f"{P}-report")),
            ),
            card(
                t("up.batches", lang),
                html.Div(batches_section(ctx, lang), id=f"{P}-batches"),
                html.Button(t("up.retrain", lang), id=f"{P}-retrain", n_clicks=0, className="button"),
                html.Div(id=f"{P}-batch-message"),
            ),
            dcc.Store(id=f"{P}-token"),
        ]
    )


def kind_name(kind: str, lang: str) -> str:
    """An upload kind in words, with its template name (which the file names and the API use)."""
    key = f"up.kindname.{kind}"
    return t(key, lang) if key in TEXTS else kind


def _accepted(ctx: AppContext, kind: str | None = None) -> list[dict[str, str]]:
    """Accepted batches (of one kind: those an upload of that kind may replace) as dropdown options."""
    return _options(
        [b for b in uploads.list_batches(ctx) if b["status"] == "accepted" and kind in (None, b["kind"])]
    )


def _status(b: dict[str, Any], lang: str) -> str:
    """A batch's status in words; a deleted batch brought back says which batch restored it."""
    if b["status"] == "deleted" and b.get("replaced_by"):
        return t("up.status.restored", lang, batch=b["replaced_by"])
    return t(f"up.status.{b['status']}", lang)


def _batch_rows(batches: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {
            **b,
            "status": _status(b, lang),
            "at": fmt_instant(b["at"], lang),
            **{k: fmt_count(b[k], lang) for k in ("rows", "loaded", "rejected")},
        }
        for b in batches
    ]


def batches_section(ctx: AppContext, lang: str) -> Any:
    """The loaded batches (and, apart, the rejected, deleted and replaced ones) with the delete and restore
    controls, rebuilt after every load, delete or restore so that the lists never offer a stale batch."""
    batches = uploads.list_batches(ctx)
    loaded = [b for b in batches if b["status"] == "accepted"]
    others = [b for b in batches if b["status"] != "accepted"]
    restorable = [b for b in batches if b.get("restorable")]
    columns = [
        ("batch_id", t("up.batch", lang)),
        ("kind", t("up.kind", lang)),
        ("file", t("up.file", lang)),
        ("by", t("au.actor", lang)),
        ("at", t("au.at", lang)),
        ("rows", t("common.rows", lang)),
        ("loaded", t("up.loaded", lang)),
        ("rejected", t("up.rejected", lang)),
        ("retrain", t("hl.retrain", lang)),
    ]
    delete_controls = html.Div(
        [
            field(
                t("up.batch", lang),
                dcc.Dropdown(
                    id=f"{P}-delete-id",
                    options=_options(loaded),
                    placeholder=t("common.choose", lang),
                ),
            ),
            dcc.ConfirmDialogProvider(
                html.Button(
                    t("up.delete", lang), className="button danger", id=f"{P}-delete-button", disabled=True
                ),
                id=f"{P}-delete",
                message=t("up.confirm_delete", lang),
            ),
        ],
        className="controls",
    )
    restore_controls = html.Div(
        [
            field(
                t("up.restore_batch", lang),
                dcc.Dropdown(
                    id=f"{P}-restore-id",
                    options=_options(restorable),
                    placeholder=t("common.choose", lang),
                ),
            ),
            html.Button(
                t("up.restore", lang), id=f"{P}-restore", n_clicks=0, className="button", disabled=True
            ),
        ],
        className="controls",
    )
    return html.Div(
        [
            table(
                _batch_rows(loaded, lang),
                columns,
                id=f"{P}-batch-table",
                lang=lang,
                empty=t("up.no_batches", lang),
            ),
            delete_controls,
            html.Details(
                [
                    html.Summary(t("up.other_batches", lang, n=len(others))),
                    table(
                        _batch_rows(others, lang),
                        [*columns[:5], ("status", t("common.status", lang)), *columns[5:]],
                        id=f"{P}-other-batches",
                        lang=lang,
                    ),
                    restore_controls if restorable else html.Div(),
                ],
                id=f"{P}-others",
            ),
        ]
    )


def _options(batches: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"label": f"{b['batch_id']} · {b['kind']} · {b['file']}", "value": b["batch_id"]} for b in batches
    ]


def templates_links(kind: str, lang: str) -> Any:
    return html.Div(
        [
            html.Label(t("up.template", lang)),
            html.Div(
                [
                    html.A(
                        "CSV",
                        href=f"/download/template/{kind}.csv",
                        className="button small",
                        id=f"{P}-template-csv",
                    ),
                    html.A(
                        "XLSX",
                        href=f"/download/template/{kind}.xlsx",
                        className="button small",
                        id=f"{P}-template-xlsx",
                    ),
                ],
                className="button-row",
            ),
        ]
    )


def parse_shape(text: str | None) -> dict[str, Any] | None:
    if not text or not text.strip():
        return None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReshapeError(f"shape: not valid JSON ({exc.msg})") from None
    if not isinstance(spec, dict):
        raise ReshapeError("shape: expected a JSON object")
    return spec


def decode_contents(contents: str) -> bytes:
    """dcc.Upload's data URL -> bytes (FileRejected for anything that is not base64)."""
    _, _, payload = (contents or "").partition(",")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise FileRejected("file:unreadable", "the upload could not be decoded") from None


def mapping_controls(ctx: AppContext, raw: Any, kind: str, lang: str) -> Any:
    cm = uploads.auto_mapping(ctx, raw, kind)
    spec = ctx.settings.source(kind)
    chosen = cm.source_names()
    headers = [h for h in raw.headers]
    options = [{"label": t("up.unmapped", lang), "value": NONE}] + [{"label": h, "value": h} for h in headers]
    rows = []
    for col in spec.columns:
        how = cm.how.get(col.name)
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [html.Strong(col.name), html.Span(" *" if col.required else "", className="req")]
                    ),
                    html.Td(col.type),
                    html.Td(
                        dcc.Dropdown(
                            id={"type": f"{P}-map", "col": col.name},
                            options=options,
                            value=chosen.get(col.name, NONE),
                            clearable=False,
                        )
                    ),
                    html.Td(t(f"up.how.{how}", lang) if how else ""),
                ]
            )
        )
    ignored = [cm.headers[i] for i in cm.unmapped]
    return html.Div(
        [
            html.Div(
                html.Table(
                    [
                        html.Thead(
                            html.Tr(
                                [
                                    html.Th(t("up.template_col", lang)),
                                    html.Th("type"),
                                    html.Th(t("up.file_col", lang)),
                                    html.Th(""),
                                ]
                            )
                        ),
                        html.Tbody(rows),
                    ],
                    className="data-table",
                    id=f"{P}-mapping-table",
                ),
                className="table-wrap",
            ),
            html.P(
                t("up.ignored", lang, cols=", ".join(ignored) or "–"), className="muted", id=f"{P}-ignored"
            ),
        ]
    )


def chosen_mapping(ids: list[dict], values: list[str | None]) -> dict[str, str | None]:
    return {i["col"]: (None if v in (None, NONE) else v) for i, v in zip(ids, values, strict=True)}


def preview_table(ctx: AppContext, raw: Any, kind: str, mapping: dict[str, str | None], lang: str) -> Any:
    cols = ctx.settings.source(kind).column_names
    rows = uploads.preview(
        raw, {k: v for k, v in mapping.items() if v}, cols, int(ctx.conf.get("uploads.preview_rows"))
    )
    return html.Div(
        [
            html.H4(t("up.preview", lang, n=raw.num_rows)),
            table(rows, [("row", "#"), *[(c, c) for c in cols]], id=f"{P}-preview-table", lang=lang),
        ]
    )


def on_file(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    contents: str | None,
    filename: str | None,
    kind: str,
    shape_text: str | None,
    token_data: dict | None,
) -> tuple[Any, Any, Any, Any]:
    """Stage a dropped file (or re-read the staged one with a new shape/kind): (token, message, mapping, preview)."""
    try:
        shape = parse_shape(shape_text)
        if dash_ctx.triggered_id == f"{P}-file" or not token_data:
            if not contents:
                return token_data, "", "", ""
            staged = uploads.stage(ctx, principal, kind, filename or "upload.csv", decode_contents(contents))
        else:
            staged = uploads.load_staged(ctx, principal, token_data.get("token"))
        raw = uploads.parse(ctx, staged, shape)
    except (FileRejected, ReshapeError, uploads.UploadTooLarge, ValueError) as exc:
        reason = file_message(exc, lang)
        return None, notice(t("up.file_rejected", lang, reason=reason), "error", id=f"{P}-file-error"), "", ""
    token = {"token": staged.token, "kind": kind, "name": staged.original_name}
    mapping = mapping_controls(ctx, raw, kind, lang)
    cm = uploads.auto_mapping(ctx, raw, kind)
    msg = notice(
        t("up.file_ok", lang, name=staged.original_name, rows=fmt_count(raw.num_rows, lang)),
        "ok",
        id=f"{P}-file-ok",
    )
    return token, msg, mapping, preview_table(ctx, raw, kind, dict(cm.source_names()), lang)


def verdict_reason(report: dict[str, Any], limit: float, lang: str) -> str:
    """Why a file is (or would be) loaded or rejected, in the reader's words: the share of bad rows against the
    limit chosen on this page, or the file-level problem that stopped every row."""
    rate = (report.get("totals") or {}).get("error_rate")
    if rate is None:
        return fatal_message(str(report.get("fatal") or report.get("reason") or ""), lang)
    key = "up.rate_within" if rate <= limit else "up.rate_over"
    return t(key, lang, rate=fmt_pct(rate, lang, 2), limit=fmt_pct(limit, lang, 2))


def _report_view(
    ctx: AppContext, lang: str, report: dict[str, Any], token: str | None, batch: bool = False
) -> Any:
    totals = report.get("totals") or {}
    accepted = report.get("accepted")
    head = (
        notice(
            t("up.accepted" if accepted else "up.rejected_all", lang, reason=report.get("reason", "")),
            "ok" if accepted else "error",
            id=f"{P}-result-{'ok' if accepted else 'rejected'}",
        )
        if batch
        else notice(
            t("up.check_ok" if report.get("ok") else "up.check_bad", lang, reason=report.get("reason", "")),
            "ok" if report.get("ok") else "warn",
            id=f"{P}-check",
        )
    )
    kpis = html.Div(
        [
            kpi(t("common.rows", lang), fmt_count(totals.get("rows", 0), lang)),
            kpi(t("up.valid", lang), fmt_count(totals.get("valid_rows", 0), lang)),
            kpi(t("up.invalid", lang), fmt_count(totals.get("invalid_rows", 0), lang)),
            kpi(
                t("up.dups", lang),
                fmt_count(totals.get("duplicates_of_stored", 0) + totals.get("duplicates_in_file", 0), lang),
            ),
        ],
        className="kpis",
    )
    errors = [
        {
            "row": e.get("row"),
            "line": e.get("line"),
            "column": e.get("column") or "",
            "problem": rule_words(e.get("rule"), lang, with_column=False),
            "value": "" if e.get("value") is None else str(e.get("value"))[:60],
            "reason": row_detail(e, lang),
        }
        for e in (report.get("errors") or [])[:200]
    ]
    links = []
    if token and (totals.get("invalid_rows") or totals.get("skipped_duplicates")):
        links.append(
            html.A(
                t("up.bad_rows", lang),
                href=f"/download/staging/{token}/bad_rows.csv",
                className="button small",
                id=f"{P}-bad-rows",
            )
        )
    if report.get("retrain_flagged"):
        links.append(notice(t("up.retrain_flagged", lang), "warn"))
    return html.Div(
        [
            head,
            kpis,
            *links,
            table(
                errors,
                [
                    ("row", t("up.row", lang)),
                    ("line", t("up.line", lang)),
                    ("column", t("up.column", lang)),
                    ("problem", t("up.problem", lang)),
                    ("value", t("up.value", lang)),
                    ("reason", t("up.detail", lang)),
                ],
                id=f"{P}-errors",
                lang=lang,
                empty=t("up.no_errors", lang),
            ),
        ]
    )


def on_validate(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    token_data: dict | None,
    ids: list,
    values: list,
    on_duplicate: str,
    rate: float | None,
    shape_text: str | None,
    replaces: str | None = None,
) -> tuple[Any, bool]:
    """The dry run's report and whether "Cargar" is disabled: it is while the file would be rejected."""
    if not token_data:
        return notice(t("up.no_file", lang), "warn", id=f"{P}-no-file"), True
    try:
        staged = uploads.load_staged(ctx, principal, token_data.get("token"))
        raw = uploads.parse(ctx, staged, parse_shape(shape_text))
        report = uploads.validate(
            ctx, staged, raw, chosen_mapping(ids, values), on_duplicate, replaces or None
        )
    except (FileRejected, ReshapeError, ValueError) as exc:
        return notice(t("up.file_rejected", lang, reason=file_message(exc, lang)), "error"), True
    limit = float(rate if rate is not None else ctx.options.get("upload_max_error_rate"))
    body = report.to_dict(max_errors=200)
    body["ok"] = report.fatal is None and report.error_rate <= limit
    body["reason"] = verdict_reason(body, limit, lang)
    return _report_view(ctx, lang, body, staged.token), not body["ok"]


def on_load(
    ctx: AppContext,
    principal: Principal,
    lang: str,
    token_data: dict | None,
    ids: list,
    values: list,
    on_duplicate: str,
    rate: float | None,
    shape_text: str | None,
    replaces: str | None,
) -> tuple[Any, Any]:
    """Load the staged file: (report, the rebuilt batch lists)."""

    def answer(report: Any) -> tuple[Any, Any]:
        return report, batches_section(ctx, lang)

    if not token_data:
        return answer(notice(t("up.no_file", lang), "warn", id=f"{P}-no-file"))
    staged = uploads.load_staged(ctx, principal, token_data.get("token"))
    limit = float(rate if rate is not None else ctx.options.get("upload_max_error_rate"))
    if not 0.0 <= limit <= 1.0:
        return answer(notice(t("up.bad_rate", lang), "error"))
    try:
        result = uploads.commit(
            ctx,
            principal,
            staged,
            mapping=chosen_mapping(ids, values),
            shape=parse_shape(shape_text),
            on_duplicate=on_duplicate,
            max_error_rate=limit,
            replaces=replaces or None,
            ip=client_ip(),
        )
    except (FileRejected, ReshapeError) as exc:
        return answer(notice(t("up.file_rejected", lang, reason=file_message(exc, lang)), "error"))
    except (ValueError, uploads.RecordFailed) as exc:
        reason = file_message(exc, lang)
        return answer(notice(t("up.not_loaded", lang, reason=reason), "error", id=f"{P}-load-error"))
    result = {**result, "reason": verdict_reason(result, limit, lang)}
    return answer(_report_view(ctx, lang, result, staged.token, batch=True))


def on_delete(ctx: AppContext, principal: Principal, lang: str, batch_id: str | None) -> tuple[Any, Any]:
    """Delete the chosen batch: (message, rebuilt batch lists); with none chosen nothing is asked or done."""
    if not batch_id:
        return notice(t("up.choose_batch", lang), "warn", id=f"{P}-delete-error"), batches_section(ctx, lang)
    try:
        uploads.soft_delete(ctx, principal, batch_id, ip=client_ip())
    except ValueError:
        msg = notice(
            t("up.not_deleted", lang, reason=t("up.not_deletable", lang, batch=batch_id)),
            "error",
            id=f"{P}-delete-error",
        )
        return msg, batches_section(ctx, lang)
    except uploads.RecordFailed:
        msg = notice(
            t("up.not_deleted", lang, reason=t("up.record_failed", lang)), "error", id=f"{P}-delete-error"
        )
        return msg, batches_section(ctx, lang)
    return notice(t("up.deleted", lang, batch=batch_id), "ok", id=f"{P}-deleted"), batches_section(ctx, lang)


def on_restore(ctx: AppContext, principal: Principal, lang: str, batch_id: str | None) -> tuple[Any, Any]:
    """Restore a deleted batch as a new one: (message, rebuilt batch lists)."""
    try:
        restored = uploads.restore(ctx, principal, batch_id or "", ip=client_ip())
    except ValueError:
        msg = notice(t("up.not_restorable", lang, batch=batch_id or ""), "error", id=f"{P}-restore-error")
        return msg, batches_section(ctx, lang)
    except uploads.RecordFailed:
        msg = notice(
            t("up.not_restored", lang, reason=t("up.record_failed", lang)), "error", id=f"{P}-restore-error"
        )
        return msg, batches_section(ctx, lang)
    msg = notice(t("up.restored", lang, batch=batch_id, new=restored.batch_id), "ok", id=f"{P}-restored")
    return msg, batches_section(ctx, lang)


def register(app: Any, ctx: AppContext) -> None:
    @app.callback(Output(f"{P}-templates", "children"), Input(f"{P}-kind", "value"))
    @secured(STAFF)
    def _templates(principal, lang, kind):
        return templates_links(kind or "sales", lang)

    @app.callback(
        Output(f"{P}-replaces", "options"),
        Output(f"{P}-replaces", "value"),
        Input(f"{P}-kind", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _replaceable(principal, lang, kind):
        return _accepted(ctx, kind if isinstance(kind, str) else "sales"), None

    @app.callback(
        Output(f"{P}-token", "data"),
        Output(f"{P}-file-message", "children"),
        Output(f"{P}-mapping", "children"),
        Output(f"{P}-preview", "children"),
        Input(f"{P}-file", "contents"),
        Input(f"{P}-kind", "value"),
        Input(f"{P}-shape-apply", "n_clicks"),
        State(f"{P}-file", "filename"),
        State(f"{P}-shape", "value"),
        State(f"{P}-token", "data"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _file(principal, lang, contents, kind, _n, filename, shape_text, token_data):
        return on_file(ctx, principal, lang, contents, filename, kind, shape_text, token_data)

    @app.callback(
        Output(f"{P}-load-button", "disabled"),
        Output(f"{P}-report", "children", allow_duplicate=True),
        Input(f"{P}-token", "data"),
        Input({"type": f"{P}-map", "col": ALL}, "value"),
        Input(f"{P}-dup", "value"),
        Input(f"{P}-rate", "value"),
        Input(f"{P}-replaces", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _reset(principal, lang, token_data, _values, _dup, _rate, _replaces):
        return on_change(token_data, dash_ctx.triggered_id)

    @app.callback(
        Output(f"{P}-preview", "children", allow_duplicate=True),
        Input({"type": f"{P}-map", "col": ALL}, "value"),
        State({"type": f"{P}-map", "col": ALL}, "id"),
        State(f"{P}-token", "data"),
        State(f"{P}-shape", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _remap(principal, lang, values, ids, token_data, shape_text):
        if not token_data or not ids:
            return ""
        staged = uploads.load_staged(ctx, principal, token_data.get("token"))
        try:
            raw = uploads.parse(ctx, staged, parse_shape(shape_text))
        except (FileRejected, ReshapeError) as exc:
            return notice(t("up.file_rejected", lang, reason=file_message(exc, lang)), "error")
        return preview_table(ctx, raw, staged.kind, chosen_mapping(ids, values), lang)

    @app.callback(
        Output(f"{P}-report", "children"),
        Output(f"{P}-load-button", "disabled", allow_duplicate=True),
        Input(f"{P}-validate", "n_clicks"),
        State(f"{P}-token", "data"),
        State({"type": f"{P}-map", "col": ALL}, "id"),
        State({"type": f"{P}-map", "col": ALL}, "value"),
        State(f"{P}-dup", "value"),
        State(f"{P}-rate", "value"),
        State(f"{P}-shape", "value"),
        State(f"{P}-replaces", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _validate(principal, lang, _n, token_data, ids, values, on_duplicate, rate, shape_text, replaces):
        return on_validate(
            ctx, principal, lang, token_data, ids, values, on_duplicate, rate, shape_text, replaces
        )

    @app.callback(
        Output(f"{P}-report", "children", allow_duplicate=True),
        Output(f"{P}-batches", "children"),
        Input(f"{P}-load", "submit_n_clicks"),
        State(f"{P}-token", "data"),
        State({"type": f"{P}-map", "col": ALL}, "id"),
        State({"type": f"{P}-map", "col": ALL}, "value"),
        State(f"{P}-dup", "value"),
        State(f"{P}-rate", "value"),
        State(f"{P}-shape", "value"),
        State(f"{P}-replaces", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _load(principal, lang, _n, token_data, ids, values, on_duplicate, rate, shape_text, replaces):
        return on_load(
            ctx, principal, lang, token_data, ids, values, on_duplicate, rate, shape_text, replaces
        )

    @app.callback(
        Output(f"{P}-replaces", "options", allow_duplicate=True),
        Input(f"{P}-batches", "children"),
        State(f"{P}-kind", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _replaceable_again(principal, lang, _batches, kind):
        """Whenever the batch lists change (a load, a deletion, a restore), so do the batches a file may replace."""
        return _accepted(ctx, kind if isinstance(kind, str) else "sales")

    @app.callback(Output(f"{P}-delete-button", "disabled"), Input(f"{P}-delete-id", "value"))
    @secured(STAFF)
    def _can_delete(principal, lang, batch_id):
        return not batch_id

    @app.callback(Output(f"{P}-restore", "disabled"), Input(f"{P}-restore-id", "value"))
    @secured(STAFF)
    def _can_restore(principal, lang, batch_id):
        return not batch_id

    @app.callback(
        Output(f"{P}-batch-message", "children"),
        Output(f"{P}-batches", "children", allow_duplicate=True),
        Input(f"{P}-delete", "submit_n_clicks"),
        State(f"{P}-delete-id", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _delete(principal, lang, n_submit, batch_id):
        if not n_submit:
            return no_update, no_update
        return on_delete(ctx, principal, lang, batch_id)

    @app.callback(
        Output(f"{P}-batches", "children", allow_duplicate=True),
        Output(f"{P}-batch-message", "children", allow_duplicate=True),
        Input(f"{P}-restore", "n_clicks"),
        State(f"{P}-restore-id", "value"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _restore(principal, lang, n_clicks, batch_id):
        if not n_clicks:
            return no_update, no_update
        message, batches = on_restore(ctx, principal, lang, batch_id)
        return batches, message

    @app.callback(
        Output(f"{P}-batch-message", "children", allow_duplicate=True),
        Input(f"{P}-retrain", "n_clicks"),
        prevent_initial_call=True,
    )
    @secured(STAFF)
    def _retrain(principal, lang, _n):
        request_retrain(ctx.settings, principal.username, "requested from the upload page")
        from bakery.app import audit

        audit.record(ctx.db, principal.username, "upload.retrain_requested", ip=client_ip())
        return notice(t("up.retrain_flagged", lang), "ok")


def on_change(token_data: dict | None, trigger: Any) -> tuple[bool, Any]:
    """After a new file (the old report and any "upload a file first" go) or a changed mapping or option (the
    last verdict no longer holds): "Cargar" is enabled whenever there is a file. (disabled, report)"""
    report = "" if trigger == f"{P}-token" else no_update
    return not token_data, report


PAGE = Page("/uploads", STAFF, "nav.uploads", layout, register)
