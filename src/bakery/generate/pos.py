"""Till receipts of one store: the day's sales split into ticket lines, tickets timed over opening hours."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bakery.generate.catalog import Product, Store
from bakery.generate.params import stream

POS_COLUMNS = [
    "transaction_id",
    "timestamp",
    "store_id",
    "product_id",
    "quantity_sold",
    "price_unit",
    "total_amount",
    "promotion_applied_id",
]


@dataclass(frozen=True)
class PosLines:
    """One store's ticket lines in file order (day, ticket time, product); quantities scaled to integers."""

    day: np.ndarray
    seq: np.ndarray  # ticket number within the day, in time order (1-based)
    second: np.ndarray  # local seconds since midnight of the ticket
    product: np.ndarray
    qty: np.ndarray  # units, or grams for products sold by weight
    price: np.ndarray  # cents per unit (or per kg), after any promotion discount
    total: np.ndarray  # cents
    promo: np.ndarray  # promotion id index, -1 = none
    hourly_tickets: np.ndarray  # (days, 24) tickets per local hour

    def __len__(self) -> int:
        return int(self.day.size)


def split_totals(
    totals: np.ndarray, parts: np.ndarray, minimum: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Split each total into `parts` random integer pieces of at least `minimum`, summing exactly to it."""
    group = np.repeat(np.arange(totals.size), parts)
    last = np.cumsum(parts) - 1
    first = last - parts + 1
    weights = rng.gamma(2.0, 1.0, group.size)
    cum = np.cumsum(weights)
    within = cum - (cum[first] - weights[first])[group]
    extra = totals - parts * minimum
    reach = np.round(within / within[last][group] * extra[group]).astype(np.int64)
    previous = np.concatenate(([0], reach[:-1]))
    previous[first] = 0
    return minimum[group] + reach - previous


def _ticket_hours(
    weights: np.ndarray, hours: np.ndarray, days: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    clock = np.arange(24)
    allowed = (clock[None, :] >= hours[:, :1]) & (clock[None, :] < hours[:, 1:])
    w = np.where(allowed, weights[None, :], 0.0)
    w = np.where(w.sum(1, keepdims=True) > 0, w, allowed.astype(float))
    cdf = np.cumsum(w, axis=1) / np.maximum(w.sum(1, keepdims=True), 1e-12)
    u = rng.random(days.size)
    return np.minimum((cdf[days] < u[:, None]).sum(1), 23)


def store_lines(
    cfg: dict[str, Any],
    store: Store,
    products: list[Product],
    sold: np.ndarray,
    prices: np.ndarray,
    discount: np.ndarray,
    promo: np.ndarray,
    hours: np.ndarray,
    seed: int,
) -> PosLines:
    """Turn a store's daily sales (products x days, scaled units) into timed ticket lines.

    Each product-day total is split into lines of about `line_qty`; lines of a day are shuffled and cut into
    tickets of 1-4 lines (a product landing twice on one ticket is merged into one line); each ticket
    gets a time from the store type's hourly profile within that day's opening hours.
    """
    rng = stream(seed, "pos", store.index)
    n_p, n_d = sold.shape
    scale = np.array([p.scale for p in products])
    per_line = np.array([p.line_qty for p in products]) * scale
    minimum = np.where(scale > 1, 100, 1)
    d_idx, p_idx = np.nonzero(sold.T)
    q = sold[p_idx, d_idx]
    lines_per = np.where(scale[p_idx] > 1, np.round(q / per_line[p_idx]), np.ceil(q / per_line[p_idx]))
    lines_per = np.clip(lines_per, 1, np.maximum(q // minimum[p_idx], 1)).astype(np.int64)
    qty = split_totals(q, lines_per, minimum[p_idx], rng)
    group = np.repeat(np.arange(q.size), lines_per)
    line_p, line_d = p_idx[group], d_idx[group]

    order = np.lexsort((rng.random(qty.size), line_d))
    line_p, line_d, qty = line_p[order], line_d[order], qty[order]
    sizes = rng.choice(4, size=qty.size, p=np.asarray(cfg["pos"]["ticket_lines"], dtype=float)) + 1
    starts = np.zeros(qty.size, dtype=bool)
    ends = np.cumsum(sizes)
    starts[ends[ends < qty.size]] = True
    if qty.size:
        starts[0] = True
    starts[1:] |= line_d[1:] != line_d[:-1]
    ticket = np.cumsum(starts) - 1

    merge = np.lexsort((line_p, ticket))
    ticket, line_p, line_d, qty = ticket[merge], line_p[merge], line_d[merge], qty[merge]
    first = np.flatnonzero(
        np.concatenate(([True], (ticket[1:] != ticket[:-1]) | (line_p[1:] != line_p[:-1])))
    )
    qty = np.add.reduceat(qty, first) if first.size else qty
    ticket, line_p, line_d = ticket[first], line_p[first], line_d[first]

    n_tickets = int(ticket[-1]) + 1 if ticket.size else 0
    ticket_day = np.zeros(n_tickets, dtype=np.int64)
    ticket_day[ticket] = line_d
    weights = np.asarray(cfg["store_types"][store.store_type]["hourly"], dtype=float)
    hour = _ticket_hours(weights, hours, ticket_day, rng)
    second = hour * 3600 + rng.integers(0, 3600, n_tickets)
    by_time = np.lexsort((second, ticket_day))
    rank = np.empty(n_tickets, dtype=np.int64)
    rank[by_time] = np.arange(n_tickets)
    day_first = np.searchsorted(ticket_day[by_time], np.arange(n_d))
    seq = rank - day_first[ticket_day] + 1

    final = np.argsort(rank[ticket] * n_p + line_p, kind="stable")
    ticket, line_p, line_d, qty = ticket[final], line_p[final], line_d[final], qty[final]
    unit_price = np.round(prices[line_p, line_d] * (1.0 - discount[line_p, line_d])).astype(np.int64)
    total = (qty * unit_price + scale[line_p] // 2) // scale[line_p]
    hourly = np.bincount(ticket_day * 24 + hour, minlength=n_d * 24).reshape(n_d, 24)
    return PosLines(
        day=line_d,
        seq=seq[ticket],
        second=second[ticket],
        product=line_p,
        qty=qty,
        price=unit_price,
        total=total,
        promo=promo[line_p, line_d],
        hourly_tickets=hourly,
    )


@cache
def clock_texts() -> pa.Array:
    """The text HH:MM:SS of every second of a day, so timestamps are built by lookup."""
    return pa.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)])


def take(values: list[Any] | pa.Array, index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow array (strings are built once and looked up, never formatted per row)."""
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    return arr.take(pa.array(index))


def local_timestamps(
    day_texts: list[str],
    offsets: list[str],
    day: np.ndarray,
    second: np.ndarray,
    offset_index: np.ndarray | None = None,
) -> pa.Array:
    """ISO 8601 local timestamps with the store's UTC offset, e.g. 2026-03-01T08:15:00+01:00.

    `offsets` holds the offset texts, looked up by `offset_index` (default: the day index).
    """
    prefix = take([f"{d}T" for d in day_texts], day)
    where = day if offset_index is None else offset_index
    return pc.binary_join_element_wise(prefix, take(clock_texts(), second), take(offsets, where), "")


def pos_table(
    lines: PosLines,
    store: Store,
    products: list[Product],
    day_texts: list[str],
    offsets: list[str],
    promo_ids: list[str],
) -> pa.Table:
    """The `pos` source columns of a store's lines (numbers as float64, written in shortest form)."""
    scale = np.array([p.scale for p in products], dtype=float)
    width = max(4, len(str(int(lines.seq.max())))) if len(lines) else 4
    numbers = pa.array([str(i).zfill(width) for i in range(int(lines.seq.max()) + 1 if len(lines) else 1)])
    prefixes = [f"{store.store_id}-{d.replace('-', '')}-" for d in day_texts]
    tid = pc.binary_join_element_wise(take(prefixes, lines.day), take(numbers, lines.seq), "")
    promo = np.where(lines.promo >= 0, lines.promo, len(promo_ids))
    return pa.table(
        {
            "transaction_id": tid,
            "timestamp": local_timestamps(day_texts, offsets, lines.day, lines.second),
            "store_id": take([store.store_id], np.zeros(len(lines), dtype=np.int64)),
            "product_id": take([p.product_id for p in products], lines.product),
            "quantity_sold": lines.qty / scale[lines.product],
            "price_unit": lines.price / 100.0,
            "total_amount": lines.total / 100.0,
            "promotion_applied_id": take([*promo_ids, None], promo),
        }
    )
