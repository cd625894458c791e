"""Dashboard SQL with sqlglot: parse a dataset in the Databricks dialect, refuse anything but a query, find and
re-point its tables, and build a widget's query (its fields, grouped, over the filtered dataset). Output goes
to DuckDB (the local engine) or Spark SQL (what Databricks runs), so the same text is checked on both."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from bakery.dashboards.model import DashboardError, Dataset, WidgetQuery

READ = "databricks"


@dataclass(frozen=True)
class TableRef:
    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class Condition:
    """A filter on one column of a dataset: values (any of) or an inclusive [low, high] range."""

    column: str
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None


def parse_query(sql: str, file: str, dataset: str) -> exp.Query:
    """The dataset's one SELECT (a private copy: parses are cached, since every render would repeat them)."""
    return _parse_query(sql, file, dataset).copy()


@functools.lru_cache(maxsize=1024)
def _parse_query(sql: str, file: str, dataset: str) -> exp.Query:
    """The dataset's one SELECT (WITH/UNION included); DashboardError for SQL that does not parse, several
    statements, or any statement that writes or changes the catalog, before anything runs."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=READ) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" (line {first.get('line')}, column {first.get('col')})" if first else ""
        raise DashboardError(
            file, f"SQL does not parse{where}: {first.get('description', exc)}", dataset
        ) from exc
    if len(statements) != 1:
        raise DashboardError(file, f"expected one SELECT statement, found {len(statements)}", dataset)
    tree = statements[0]
    writes = (exp.Insert, exp.Merge, exp.Delete, exp.Update, exp.Drop, exp.Create, exp.Alter, exp.Command)
    if not isinstance(tree, exp.Query) or any(tree.find_all(*writes)):
        kind = type(tree).__name__.upper() if not isinstance(tree, exp.Query) else "a write"
        raise DashboardError(file, f"only SELECT runs here; refused {kind} statement", dataset)
    return tree


def warm() -> None:
    """Load the two dialects and the parser once (about a second cold), so the first dashboard a user opens
    does not pay for it."""
    parse_query("SELECT 1 AS x FROM t", "warm", "warm").sql(dialect="duckdb")


def table_refs(tree: exp.Expression) -> list[TableRef]:
    """The tables a query reads, CTE names excluded, in order of first appearance."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    seen: dict[TableRef, None] = {}
    for t in tree.find_all(exp.Table):
        if not t.db and t.name in ctes:
            continue
        seen.setdefault(TableRef(t.db or None, t.name), None)
    return list(seen)


def repoint(tree: exp.Query, target: Callable[[TableRef], exp.Table]) -> exp.Query:
    """A copy of the query whose table references are replaced by target(ref) (aliases kept)."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not (not node.db and node.name in ctes) and node.name:
            new = target(TableRef(node.db or None, node.name))
            if node.alias:
                new.set("alias", node.args.get("alias"))
            return new
        return node

    return tree.copy().transform(swap)


def parse_field(expression: str, file: str, dataset: str) -> exp.Expression:
    return _parse_field(expression, file, dataset).copy()


@functools.lru_cache(maxsize=4096)
def _parse_field(expression: str, file: str, dataset: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(expression, read=READ)
    except ParseError as exc:
        raise DashboardError(file, f"field expression {expression!r} does not parse", dataset) from exc


def columns_used(node: exp.Expression) -> list[str]:
    return sorted({c.name for c in node.find_all(exp.Column)})


def _condition(c: Condition) -> exp.Expression:
    col = exp.column(c.column, quoted=True)
    if c.values:
        return col.isin(*[exp.convert(v) for v in c.values])
    parts = []
    if c.low is not None:
        parts.append(exp.GTE(this=col.copy(), expression=exp.cast(exp.convert(str(c.low)), "date")))
    if c.high is not None:
        parts.append(exp.LTE(this=col.copy(), expression=exp.cast(exp.convert(str(c.high)), "date")))
    return exp.and_(*parts) if parts else exp.true()


def filtered(dataset: exp.Query, conditions: Iterable[Condition]) -> exp.Query:
    """SELECT * FROM (dataset) WHERE every condition holds (values bound as literals, never spliced text)."""
    conds = [_condition(c) for c in conditions]
    if not conds:
        return dataset
    return exp.select("*").from_(dataset.subquery("ds")).where(exp.and_(*conds))


def widget_query(
    dataset: exp.Query, query: WidgetQuery, file: str, order_by: Sequence[str] = ()
) -> exp.Query:
    """The widget's own query: its fields over the dataset, grouped by the fields that do not aggregate
    (as Databricks does unless the query is disaggregated), ordered by `order_by` field names."""
    items, keys = [], []
    for f in query.fields:
        node = parse_field(f.expression, file, query.dataset)
        items.append(exp.alias_(node, f.name, quoted=True))
        if not node.find(exp.AggFunc):
            keys.append(node.copy())
    select = exp.select(*items).from_(dataset.subquery("ds"))
    if not query.disaggregated and keys and len(keys) < len(items):
        select = select.group_by(*keys)
    # Charts follow their x axis; otherwise the rows come in the order of the fields that do not aggregate
    # (an engine's grouping order is arbitrary, and a table that reshuffles on each load cannot be read).
    names = order_by or [
        f.name for f, item in zip(query.fields, items, strict=True) if not item.find(exp.AggFunc)
    ]
    for name in names:
        select = select.order_by(exp.column(name, quoted=True))
    return select


def to_sql(tree: exp.Expression, dialect: str) -> str:
    return tree.sql(dialect=dialect)


def dataset_tree(ds: Dataset, file: str) -> exp.Query:
    return parse_query(ds.sql, file, ds.name)
