"""The OpenAPI 3 document of the HTTP API, kept beside the routes it describes (tests fuzz one against the other)."""

from __future__ import annotations

from typing import Any

from bakery.decisions.overrides import REASON_CODES

STORE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
PRODUCT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_. -]{0,99}$"

_NUM = {"type": "number"}
_NULL_NUM = {"type": ["number", "null"]}
_NULL_STR = {"type": ["string", "null"]}
_DATE = {"type": "string", "format": "date"}


def _err(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _page_params(max_limit: int) -> list[dict[str, Any]]:
    return [
        _query(
            "limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": 1000}, "page size"
        ),
        _query(
            "offset", {"type": "integer", "minimum": 0, "maximum": 100_000_000, "default": 0}, "rows to skip"
        ),
    ]


def _ok(schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


_AUTH_ERRORS = {
    "401": _err("missing, expired or wrong bearer token"),
    "403": _err("the store or operation is outside the caller's scope"),
    "422": _err("a bad parameter; the message names it"),
}


def build_spec(max_limit: int, upload_kinds: list[str], max_upload_bytes: int) -> dict[str, Any]:
    """The whole document; limits and kinds come from conf/app.yml so the document matches the server."""
    store_q = _query(
        "store_id", {"type": "string", "pattern": STORE_ID_PATTERN}, "a store the caller may see"
    )
    product_q = _query("product_id", {"type": "string", "pattern": PRODUCT_ID_PATTERN}, "a product id")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bakery forecasting API",
            "version": "1.0.0",
            "description": "Forecasts, actuals and uploads of the bakery lakehouse. Managers see only their "
            "stores; a store outside the caller's scope gets 403 whether or not it exists.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/auth/token": {
                "post": {
                    "summary": "Exchange a user name and password for an expiring bearer token",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Credentials"}},
                            "application/x-www-form-urlencoded": {
                                "schema": {"$ref": "#/components/schemas/Credentials"}
                            },
                        },
                    },
                    "responses": {
                        "200": _ok("Token", "a bearer token"),
                        "401": _err("wrong user name or password"),
                        "422": _err("username or password missing"),
                        "429": _err("too many attempts; see Retry-After"),
                    },
                }
            },
            "/api/v1/auth/revoke": {
                "post": {
                    "summary": "Revoke every bearer token of the caller, the one sent included",
                    "responses": {
                        "200": _ok("Revoked", "how many tokens were revoked"),
                        "401": _AUTH_ERRORS["401"],
                    },
                }
            },
            "/api/v1/health": {
                "get": {
                    "summary": "Liveness and data freshness",
                    "security": [],
                    "responses": {"200": _ok("Health", "the server is up")},
                }
            },
            "/api/v1/stores": {
                "get": {
                    "summary": "The stores the caller may see",
                    "responses": {"200": _ok("StoreList", "stores"), "401": _AUTH_ERRORS["401"]},
                }
            },
            "/api/v1/forecasts": {
                "get": {
                    "summary": "Latest forecasts with intervals and model version",
                    "parameters": [
                        store_q,
                        product_q,
                        _query(
                            "horizon",
                            {"type": "integer", "minimum": 1, "maximum": 28},
                            "days ahead of the forecast date (1..28)",
                        ),
                        _query("date", _DATE, "the forecast day (YYYY-MM-DD)"),
                        _query(
                            "role",
                            {
                                "type": "string",
                                "enum": ["champion", "challenger", "shadow"],
                                "default": "champion",
                            },
                            "model role",
                        ),
                        *_page_params(max_limit),
                    ],
                    "responses": {
                        "200": _ok("ForecastPage", "forecasts (empty with as_of null before the first run)"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/sales": {
                "get": {
                    "summary": "Actual daily sales",
                    "parameters": [
                        store_q,
                        product_q,
                        _query("start", _DATE, "first day (YYYY-MM-DD)"),
                        _query("end", _DATE, "last day (YYYY-MM-DD)"),
                        *_page_params(max_limit),
                    ],
                    "responses": {"200": _ok("SalesPage", "actuals"), **_AUTH_ERRORS},
                }
            },
            "/api/v1/bake-plan": {
                "get": {
                    "summary": "A store's bake plan: per product the quantity to bake and why",
                    "description": "The quantity is the demand quantile at the product's critical ratio, minus "
                    "the stock carried over, rounded to batches (docs/bake-plan.md). `degraded` says whether the "
                    "plan stands on degraded data, and why. `override` is the store manager's change of a product's "
                    "quantity for that day (made on the Hornear hoy page), or null.",
                    "parameters": [
                        {**store_q, "required": True},
                        _query(
                            "date", _DATE, "the day to bake for (YYYY-MM-DD; default: the latest planned day)"
                        ),
                    ],
                    "responses": {
                        "200": _ok("BakePlan", "the plan (items empty when there is none)"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/uploads": {
                "post": {
                    "summary": "Validate a file against an import template and, if accepted, store it as a batch",
                    "description": "Analyst or admin only. The same validation as `bakery import`.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {"$ref": "#/components/schemas/UploadForm"},
                                "encoding": {"file": {"contentType": "application/octet-stream"}},
                            }
                        },
                    },
                    "responses": {
                        "201": _ok("UploadReport", "accepted and stored"),
                        "401": _AUTH_ERRORS["401"],
                        "403": _err("managers may not upload"),
                        "413": _err(f"file larger than {max_upload_bytes} bytes"),
                        "422": {
                            "description": "rejected by validation (or a bad form field)",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/UploadReport"},
                                            {"$ref": "#/components/schemas/Error"},
                                        ]
                                    }
                                }
                            },
                        },
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from POST /api/v1/auth/token",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                                "parameter": {"type": "string"},
                            },
                        }
                    },
                },
                "Credentials": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "minLength": 1, "maxLength": 200},
                        "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                    },
                },
                "Token": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"type": "string", "enum": ["bearer"]},
                        "expires_in": {"type": "integer"},
                    },
                },
                "Revoked": {
                    "type": "object",
                    "required": ["revoked"],
                    "properties": {"revoked": {"type": "integer", "minimum": 0}},
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "time", "data"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok"]},
                        "time": {"type": "string"},
                        "data": {
                            "type": "object",
                            "properties": {
                                "latest_sales_date": _NULL_STR,
                                "latest_forecast_as_of": _NULL_STR,
                                "forecast_stores": {"type": "integer"},
                                "forecast_stale": {
                                    "type": ["boolean", "null"],
                                    "description": "the latest forecast was made from data older than the run "
                                    "date's eve (null before the first forecast)",
                                },
                                "forecast_days_old": {
                                    "type": ["integer", "null"],
                                    "description": "days between the forecast's data date and the run date",
                                },
                                "forecast_degraded": {
                                    "type": ["boolean", "null"],
                                    "description": "some store's sales end before the forecast's data date",
                                },
                            },
                        },
                        "cache_warm": {"type": "boolean", "description": "the first page's data is loaded"},
                    },
                },
                "Store": {
                    "type": "object",
                    "required": ["store_id"],
                    "properties": {
                        "store_id": {"type": "string"},
                        "name": _NULL_STR,
                        "city": _NULL_STR,
                        "country": _NULL_STR,
                        "timezone": _NULL_STR,
                    },
                },
                "StoreList": {
                    "type": "object",
                    "required": ["items"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Store"}}
                    },
                },
                "Forecast": {
                    "type": "object",
                    "required": [
                        "store_id",
                        "product_id",
                        "date",
                        "horizon",
                        "yhat",
                        "yhat_lower",
                        "yhat_upper",
                        "model_version",
                        "role",
                    ],
                    "properties": {
                        "store_id": {"type": "string"},
                        "product_id": {"type": "string"},
                        "date": _DATE,
                        "horizon": {"type": "integer"},
                        "yhat": _NUM,
                        "yhat_lower": _NUM,
                        "yhat_upper": _NUM,
                        "model": _NULL_STR,
                        "model_version": {"type": "string"},
                        "role": {"type": "string"},
                        "explanation": _NULL_STR,
                        "fallback_reason": _NULL_STR,
                    },
                },
                "ForecastPage": {
                    "type": "object",
                    "required": ["as_of", "stale", "degraded", "reason", "count", "total", "items"],
                    "properties": {
                        "as_of": {
                            "type": ["string", "null"],
                            "format": "date",
                            "description": "the last day of data the forecast was made from (D+1 is the next day)",
                        },
                        "stale": {
                            "type": "boolean",
                            "description": "as_of is older than the run date's eve: D+1 is no longer tomorrow",
                        },
                        "degraded": {
                            "type": "boolean",
                            "description": "made from incomplete data: a store's sales end before as_of",
                        },
                        "reason": {
                            "type": ["string", "null"],
                            "description": "why the forecast is stale or degraded, in plain English",
                        },
                        "count": {"type": "integer"},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "message": {"type": "string"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Forecast"}},
                    },
                },
                "Sale": {
                    "type": "object",
                    "required": ["store_id", "product_id", "date"],
                    "properties": {
                        "store_id": {"type": "string"},
                        "product_id": {"type": "string"},
                        "date": _DATE,
                        "quantity_sold": _NULL_NUM,
                        "revenue": _NULL_NUM,
                        "status": _NULL_STR,
                        "stockout": {"type": ["boolean", "null"]},
                        "promo": {"type": ["boolean", "null"]},
                        "source": _NULL_STR,
                    },
                },
                "SalesPage": {
                    "type": "object",
                    "required": ["count", "total", "items"],
                    "properties": {
                        "count": {"type": "integer"},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Sale"}},
                    },
                },
                "BakePlanItem": {
                    "type": "object",
                    "required": [
                        "product_id",
                        "quantity",
                        "forecast",
                        "quantiles",
                        "reason",
                        "degraded",
                        "override",
                    ],
                    "properties": {
                        "product_id": {"type": "string"},
                        "name": _NULL_STR,
                        "quantity": _NUM,
                        "batches": {"type": ["integer", "null"]},
                        "batch_size": _NULL_NUM,
                        "forecast": _NULL_NUM,
                        "quantile": _NULL_NUM,
                        "quantile_level": _NULL_NUM,
                        "quantiles": {"type": "object", "additionalProperties": _NUM},
                        "carried_over": _NULL_NUM,
                        "display_min": _NULL_NUM,
                        "reason": _NULL_STR,
                        "cost_source": {
                            "type": ["string", "null"],
                            "enum": ["product", "recipe", "default", None],
                        },
                        "model_version": _NULL_STR,
                        "degraded": {"type": "boolean"},
                        "degraded_reason": _NULL_STR,
                        "override": {
                            "oneOf": [{"$ref": "#/components/schemas/BakeOverride"}, {"type": "null"}],
                            "description": "the manager's override in force for this product and day, or null",
                        },
                    },
                },
                "BakeOverride": {
                    "type": "object",
                    "description": "A manager's change of the planned quantity (docs/bake-plan.md#overrides); the "
                    "latest one per store, product and day is in force.",
                    "required": ["quantity", "reason_code", "note", "by", "at"],
                    "properties": {
                        "quantity": {"type": "number", "minimum": 0, "description": "units to bake instead"},
                        "reason_code": {"type": "string", "enum": list(REASON_CODES)},
                        "note": _NULL_STR,
                        "by": {"type": "string", "description": "the user who overrode the plan"},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
                "BakePlan": {
                    "type": "object",
                    "required": ["store_id", "date", "degraded", "items"],
                    "properties": {
                        "store_id": {"type": "string"},
                        "date": {"type": ["string", "null"], "format": "date"},
                        "as_of": {"type": ["string", "null"], "format": "date"},
                        "model_version": _NULL_STR,
                        "degraded": {"type": "boolean"},
                        "degraded_reason": _NULL_STR,
                        "message": {"type": "string"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/BakePlanItem"}},
                    },
                },
                "UploadForm": {
                    "type": "object",
                    "required": ["kind", "file"],
                    "properties": {
                        "kind": {"type": "string", "enum": upload_kinds},
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV, XLSX, JSON or Parquet",
                        },
                        "filename": {
                            "type": "string",
                            "description": "original name when the part carries none",
                        },
                        "mapping": {
                            "type": "string",
                            "description": "JSON object template column -> file column, "
                            'e.g. {"date": "Datum"}',
                        },
                        "shape": {
                            "type": "string",
                            "description": "JSON reshape spec for item-per-row or wide files",
                        },
                        "on_duplicate": {"type": "string", "enum": ["skip", "overwrite"], "default": "skip"},
                        "max_error_rate": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
                "UploadReport": {
                    "type": "object",
                    "required": ["accepted", "kind", "reason", "totals"],
                    "properties": {
                        "accepted": {"type": "boolean"},
                        "batch_id": _NULL_STR,
                        "kind": {"type": "string"},
                        "reason": {"type": "string"},
                        "totals": {"type": "object"},
                        "errors": {"type": "array"},
                        "mapping": {"type": "object"},
                        "ignored_columns": {"type": "array"},
                        "retrain_flagged": {"type": "boolean"},
                    },
                },
            },
        },
    }
