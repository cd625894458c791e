"""The data dictionary: conf/dictionary.yml -> Delta table and column comments and a markdown document."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakery.config import Settings
from bakery.lakehouse import Lakehouse
from bakery.tables import LAYERS, SOURCE_LAYERS

log = logging.getLogger(__name__)

DICTIONARY_FILE = "dictionary.yml"


@dataclass(frozen=True)
class Dictionary:
    """Descriptions of layers, tables and columns, resolved in the order documented in conf/dictionary.yml."""

    raw: dict[str, Any]
    source_of_table: dict[str, str]  # silver/bronze table name -> source kind
    source_keys: dict[str, tuple[str, ...]]

    def layer(self, layer: str) -> str:
        return str((self.raw.get("layers") or {}).get(layer, ""))

    def _table_entry(self, layer: str, name: str) -> dict[str, Any]:
        return ((self.raw.get("tables") or {}).get(layer) or {}).get(name) or {}

    def _source(self, layer: str, name: str) -> dict[str, Any] | None:
        kind = self.source_of_table.get(name) if layer in SOURCE_LAYERS else None
        return (self.raw.get("sources") or {}).get(kind) if kind else None

    def table(self, layer: str, name: str) -> str | None:
        entry = self._table_entry(layer, name)
        if entry.get("description"):
            return _clean(entry["description"])
        source = self._source(layer, name)
        template = (self.raw.get("source_tables") or {}).get(layer)
        if source and template:
            keys = ", ".join(self.source_keys.get(self.source_of_table[name], ()))
            return _clean(
                template.format(description=source["description"], keys=keys, kind=self.source_of_table[name])
            )
        return None

    def column(self, layer: str, name: str, column: str) -> str | None:
        source = self._source(layer, name) or {}
        for scope in (
            self._table_entry(layer, name).get("columns"),
            source.get("columns"),
            self.raw.get("columns"),
        ):
            if scope and scope.get(column):
                return _clean(scope[column])
        for pattern, text in (self.raw.get("patterns") or {}).items():
            match = re.fullmatch(pattern, column)
            if match:
                return _clean(str(text).format(*match.groups()))
        for src in (self.raw.get("sources") or {}).values():
            if (src.get("columns") or {}).get(column):
                return _clean(src["columns"][column])
        return None

    def documented_tables(self) -> list[tuple[str, str]]:
        """Every (layer, table) the dictionary describes: source tables in bronze and silver, plus `tables`."""
        out = [(layer, table) for layer in SOURCE_LAYERS for table in self.source_of_table]
        for layer, tables in (self.raw.get("tables") or {}).items():
            out.extend((layer, name) for name in tables or {})
        return sorted(set(out), key=lambda t: (LAYERS.index(t[0]), t[1]))

    def documented_columns(self, layer: str, name: str) -> list[str]:
        source = self._source(layer, name) or {}
        return list(
            {**(source.get("columns") or {}), **(self._table_entry(layer, name).get("columns") or {})}
        )


def _clean(text: Any) -> str:
    return " ".join(str(text).split())


def load_dictionary(settings: Settings) -> Dictionary:
    with (settings.conf_dir / DICTIONARY_FILE).open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    return Dictionary(
        raw=raw,
        source_of_table={s.table: s.kind for s in settings.sources.values()},
        source_keys={s.kind: s.keys for s in settings.sources.values()},
    )


def with_comments(df: DataFrame, dictionary: Dictionary, layer: str, name: str) -> DataFrame:
    """Put the column descriptions into the schema, so an overwrite keeps the column comments."""
    cols = []
    for c in df.columns:
        text = dictionary.column(layer, name, c)
        cols.append(F.col(c).alias(c, metadata={"comment": text}) if text else F.col(c))
    return df.select(*cols)


# ---- live tables --------------------------------------------------------------------------------
@dataclass
class TableDoc:
    """One table as documented: its live schema (if it exists) and descriptions."""

    layer: str
    name: str
    description: str | None
    columns: list[tuple[str, str, str | None]]  # (column, type or "", description)
    exists: bool


@dataclass
class DictionaryResult:
    """What write_dictionary did: tables documented, comments changed, gaps left."""

    path: str
    tables: int = 0
    commented: list[str] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)


def _live_comments(lh: Lakehouse, layer: str, name: str) -> tuple[str | None, dict[str, str | None], list]:
    """(table comment, {column: comment}, schema fields) of an existing table."""
    fields = lh.read(layer, name).schema.fields
    return lh.table_comment(layer, name), {f.name: f.metadata.get("comment") for f in fields}, fields


def _sync_comments(
    lh: Lakehouse, dictionary: Dictionary, layer: str, name: str, result: DictionaryResult
) -> TableDoc:
    """Align one table's comments with the dictionary, committing only when something differs."""
    current_table, current_cols, fields = _live_comments(lh, layer, name)
    want_table = dictionary.table(layer, name)
    want_cols = {f.name: dictionary.column(layer, name, f.name) for f in fields}
    changed = {c: t for c, t in want_cols.items() if t and t != current_cols.get(c)}
    table_change = want_table if want_table and want_table != current_table else None
    if changed or table_change:
        lh.comment(layer, name, table_change, changed)
        result.commented.append(f"{layer}.{name}")
    if not want_table:
        result.undocumented.append(f"{layer}.{name}")
    result.undocumented.extend(f"{layer}.{name}.{c}" for c, t in want_cols.items() if not t)
    return TableDoc(
        layer,
        name,
        want_table,
        [(f.name, f.dataType.simpleString(), want_cols[f.name]) for f in fields],
        True,
    )


_BRONZE_META = (
    ("_rescued_data", "string"),
    ("_malformed", "string"),
    ("_source_file", "string"),
    ("_file_hash", "string"),
    ("_row_number", "bigint"),
    ("_ingested_at", "timestamp"),
    ("_batch_id", "string"),
)
_SILVER_LINEAGE = (("_source_file", "string"), ("_batch_id", "string"), ("_ingested_at", "timestamp"))


def contract_columns(settings: Settings, layer: str, name: str) -> list[tuple[str, str]] | None:
    """The columns a bronze or silver source table has by contract (for tables not created yet)."""
    spec = next((s for s in settings.sources.values() if s.table == name), None)
    if spec is None or layer not in SOURCE_LAYERS:
        return None
    if layer == "bronze":
        return [(c, "string") for c in spec.column_names] + list(_BRONZE_META)
    cols = [(c.name, "bigint" if c.type == "long" else c.type) for c in spec.columns]
    if spec.event_time and spec.column(spec.event_time).type == "timestamp":
        cols.append(("local_date", "date"))
    return cols + list(_SILVER_LINEAGE)


def _absent_doc(dictionary: Dictionary, settings: Settings, layer: str, name: str) -> TableDoc:
    cols = contract_columns(settings, layer, name) or [
        (c, "") for c in dictionary.documented_columns(layer, name)
    ]
    return TableDoc(
        layer,
        name,
        dictionary.table(layer, name),
        [(c, t, dictionary.column(layer, name, c)) for c, t in cols],
        False,
    )


# ---- markdown -----------------------------------------------------------------------------------
def _md(text: str | None) -> str:
    return (text or "_undocumented_").replace("|", "\\|")


def render_markdown(dictionary: Dictionary, docs: list[TableDoc]) -> str:
    """The data dictionary as markdown: layers, then each table with its columns, types and meanings."""
    lines = [
        "# Data dictionary",
        "",
        "Generated by `bakery.gold.dictionary.write_dictionary` (run by every gold build) from",
        "`conf/dictionary.yml` and the live Delta schemas. Edit the YAML, not this file; the same texts",
        "are the Delta table and column comments.",
        "",
        "## Layers",
        "",
    ]
    lines += [f"- **{layer}**: {dictionary.layer(layer)}" for layer in LAYERS]
    for layer in LAYERS:
        mine = [d for d in docs if d.layer == layer]
        if not mine:
            continue
        lines += ["", f"## {layer}"]
        for doc in mine:
            note = "" if doc.exists else " (not created yet in the lakehouse this was generated from)"
            lines += [
                "",
                f"### {layer}.{doc.name}{note}",
                "",
                _md(doc.description),
                "",
                "| column | type | description |",
                "| --- | --- | --- |",
            ]
            lines += [f"| `{c}` | {t} | {_md(text)} |" for c, t, text in doc.columns]
    return "\n".join(lines) + "\n"


def write_dictionary(lh: Lakehouse, settings: Settings, out: Path | None = None) -> DictionaryResult:
    """Comment every existing table from conf/dictionary.yml and write the markdown (default <home>/reports)."""
    dictionary = load_dictionary(settings)
    path = Path(out) if out is not None else settings.reports_dir / "data_dictionary.md"
    result = DictionaryResult(path=str(path))
    existing = [(t.layer, t.name) for t in lh.list_tables()]
    docs = [_sync_comments(lh, dictionary, layer, name, result) for layer, name in existing]
    docs += [
        _absent_doc(dictionary, settings, layer, name)
        for layer, name in dictionary.documented_tables()
        if (layer, name) not in existing
    ]
    docs.sort(key=lambda d: (LAYERS.index(d.layer), d.name))
    result.tables = len(existing)
    text = render_markdown(dictionary, docs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    if result.undocumented:
        log.warning("data dictionary: no description for %s", ", ".join(result.undocumented))
    return result
