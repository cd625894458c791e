"""The Lakeview export format, read into plain objects: pages, datasets (SQL, catalog, schema) and widgets
(queries over a dataset with field expressions, and a spec naming the widget type and its encodings).

Reading never raises on a widget it does not know: unknown types are kept so the renderer can show a
"not supported here" tile. A file that is not a dashboard at all raises DashboardError naming the file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUFFIX = ".lvdash.json"
FILTER_TYPES = ("filter-multi-select", "filter-single-select", "filter-date-range-picker")


class DashboardError(ValueError):
    """A problem in a dashboard file, naming the file and, where known, the dataset and column."""

    def __init__(self, file: str, message: str, dataset: str | None = None, column: str | None = None):
        self.file, self.dataset, self.column, self.message = file, dataset, column, message
        where = [f"file {file}"]
        if dataset:
            where.append(f"dataset {dataset!r}")
        if column:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class Dataset:
    name: str
    display_name: str
    sql: str
    catalog: str | None = None
    schema: str | None = None


@dataclass(frozen=True)
class Field:
    """One field of a widget query: the output name and its expression over the dataset's columns."""

    name: str
    expression: str


@dataclass(frozen=True)
class WidgetQuery:
    name: str
    dataset: str
    fields: tuple[Field, ...]
    disaggregated: bool = False


@dataclass(frozen=True)
class Widget:
    name: str
    type: str  # spec.widgetType; "text" for a multiline textbox
    title: str
    queries: tuple[WidgetQuery, ...]
    encodings: dict[str, Any]
    position: dict[str, int]
    text: str = ""

    @property
    def is_filter(self) -> bool:
        return self.type in FILTER_TYPES

    def encoded_fields(self) -> list[dict[str, Any]]:
        """Every encoding that names a field (x, y, color, value, each table column, each filter field)."""
        out: list[dict[str, Any]] = []
        for enc in self.encodings.values():
            items = enc if isinstance(enc, list) else [enc]
            out.extend(i for i in items if isinstance(i, dict) and "fieldName" in i)
        return out


@dataclass(frozen=True)
class Page:
    name: str
    display_name: str
    widgets: tuple[Widget, ...]


@dataclass(frozen=True)
class Dashboard:
    path: Path
    title: str
    datasets: dict[str, Dataset]
    pages: tuple[Page, ...]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def slug(self) -> str:
        return self.path.name[: -len(SUFFIX)] if self.path.name.endswith(SUFFIX) else self.path.stem

    def widgets(self) -> list[Widget]:
        return [w for p in self.pages for w in p.widgets]

    def filters(self) -> list[Widget]:
        return [w for w in self.widgets() if w.is_filter]


def _sql(lines: Any) -> str:
    return "".join(lines) if isinstance(lines, list) else str(lines or "")


def _widget(file: str, raw: dict[str, Any]) -> Widget:
    w = raw.get("widget") or {}
    spec = w.get("spec") or {}
    text_spec = w.get("multilineTextboxSpec")
    queries = []
    for q in w.get("queries") or []:
        body = q.get("query") or {}
        fields = tuple(Field(str(f.get("name")), str(f.get("expression"))) for f in body.get("fields") or [])
        queries.append(
            WidgetQuery(
                str(q.get("name", "main_query")),
                str(body.get("datasetName", "")),
                fields,
                bool(body.get("disaggregated", False)),
            )
        )
    frame = spec.get("frame") or {}
    return Widget(
        name=str(w.get("name", "")),
        type="text" if text_spec is not None else str(spec.get("widgetType", "")),
        title=str(frame.get("title", "")) if frame.get("showTitle", True) else "",
        queries=tuple(queries),
        encodings=spec.get("encodings") or {},
        position=raw.get("position") or {},
        text="\n".join(text_spec.get("lines") or []) if text_spec else "",
    )


def parse_dashboard(path: Path, text: str | None = None) -> Dashboard:
    """Read one .lvdash.json file; raise DashboardError (naming the file) when it is not JSON or not a
    dashboard. Widgets are ordered by their grid position (row, then column), as Databricks lays them out."""
    file = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8") if text is None else text)
    except (OSError, json.JSONDecodeError) as exc:
        raise DashboardError(file, f"not a readable JSON file ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("pages"), list):
        raise DashboardError(file, "not a Lakeview dashboard: no 'pages' list")
    datasets: dict[str, Dataset] = {}
    for d in raw.get("datasets") or []:
        if not isinstance(d, dict) or not d.get("name"):
            raise DashboardError(file, "a dataset without a name")
        datasets[d["name"]] = Dataset(
            d["name"],
            d.get("displayName", d["name"]),
            _sql(d.get("queryLines", d.get("query", ""))),
            d.get("catalog"),
            d.get("schema"),
        )
    pages = []
    for p in raw["pages"]:
        layout = sorted(
            p.get("layout") or [],
            key=lambda i: ((i.get("position") or {}).get("y", 0), (i.get("position") or {}).get("x", 0)),
        )
        pages.append(
            Page(
                str(p.get("name", "")),
                str(p.get("displayName", p.get("name", ""))),
                tuple(_widget(file, i) for i in layout),
            )
        )
    title = str((raw.get("uiSettings") or {}).get("displayName") or raw.get("displayName") or path.name)
    return Dashboard(path, title, datasets, tuple(pages), raw)


def dashboard_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{SUFFIX}"))


def default_dir(settings: Any) -> Path:
    """Where the dashboard files live: conf `dashboards.dir` (relative to the conf dir's parent), else the
    `dashboards/` folder beside the conf dir (the repository's, which the bundle deploys)."""
    base = Path(settings.conf_dir).parent
    configured = settings.get("dashboards.dir")
    return (base / configured) if configured else base / "dashboards"
