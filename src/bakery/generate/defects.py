"""Injected POS defects (duplicates, bad quantities, malformed rows) and the record of where each one went."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

RATE_DEFECTS = (
    "duplicate_same_file",
    "negative_quantity",
    "absurd_quantity",
    "malformed_field_count",
    "malformed_number",
    "malformed_timestamp",
)
DEFECT_COLUMNS = ["source", "file", "row_number", "defect", "detail", "transaction_id", "product_id"]


@dataclass(frozen=True)
class DefectRecord:
    """One injected defect: the file (relative to the output folder) and 1-based data row it sits on."""

    source: str
    file: str
    row_number: int | None
    defect: str
    detail: str
    transaction_id: str | None = None
    product_id: str | None = None


def defects_frame(records: list[DefectRecord]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(r) for r in records], columns=DEFECT_COLUMNS)
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame


@dataclass
class _Insert:
    after: int  # clean row index the line follows (-1 = top of the file)
    text: str
    defect: str
    detail: str
    fields: list[str]
    source: tuple[int, int] | None = None  # (file, clean row) a duplicate copies
    order: int = 0


class _Body:
    """A clean CSV body (no header) addressed by line."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
        self.ends = ends
        self.starts = np.concatenate(([0], ends[:-1])).astype(np.int64)

    def __len__(self) -> int:
        return int(self.ends.size)

    def line(self, i: int) -> str:
        return self.data[self.starts[i] : self.ends[i]].decode()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 3))


def _comma(text: str) -> str:
    return text.replace(".", ",") if "." in text else text + ",00"


class PosDefects:
    """Plans and renders the defects of one store's POS files; keeps the records of where they went."""

    def __init__(self, cfg: dict[str, Any], rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.rng = rng
        self.records: list[DefectRecord] = []
        self._extra = 0

    def _new_id(self, fields: list[str]) -> str:
        self._extra += 1
        return f"{fields[0].rsplit('-', 1)[0]}-{9000 + self._extra}"

    def _extra_row(self, defect: str, fields: list[str], variant: int) -> tuple[str, str]:
        f = list(fields)
        f[0] = self._new_id(fields)
        if defect == "negative_quantity":
            f[4], f[6] = "-" + f[4], "-" + f[6]
            return ",".join(f), f"quantity_sold {f[4]}"
        if defect == "absurd_quantity":
            qty = (int(float(f[4])) + 2) * 1000
            f[4], f[6] = str(qty), _number(round(qty * float(f[5]), 2))
            return ",".join(f), f"quantity_sold {qty}"
        if defect == "malformed_field_count":
            if variant % 2 == 0:
                return ",".join(f[:5]), "expected 8 fields, found 5 (truncated line)"
            f[6] = _comma(f[6])
            return ",".join(f), "expected 8 fields, found 9 (unquoted decimal comma in total_amount)"
        if defect == "malformed_number":
            kind = variant % 3
            if kind == 0:
                f[4] = "N/A"
                return ",".join(f), "quantity_sold 'N/A'"
            if kind == 1:
                f[5] = f'"{_comma(f[5])}"'
                return ",".join(f), f"price_unit {f[5]} (quoted decimal comma)"
            f[6] = "#VALUE!"
            return ",".join(f), "total_amount '#VALUE!'"
        ts = f[1]
        kind = variant % 3
        if kind == 0:
            f[1] = ts[:8] + "32" + ts[10:]
        elif kind == 1:
            f[1] = ts[:11] + "25:61" + ts[16:]
        else:
            f[1] = f"{ts[8:10]}/{ts[5:7]}/{ts[:4]} {ts[11:16]}"
        return ",".join(f), f"timestamp '{f[1]}'"

    def plan(self, bodies: list[_Body]) -> list[list[_Insert]]:
        """Choose template rows per defect type and build the lines to insert into each file."""
        pcfg = self.cfg["pos"]
        sizes = np.array([len(b) for b in bodies], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(sizes)))
        total = int(offsets[-1])
        inserts: list[list[_Insert]] = [[] for _ in bodies]
        if total == 0:
            return inserts
        minimum = int(pcfg.get("min_per_store", 0))
        for defect in RATE_DEFECTS:
            count = min(max(minimum, int(self.rng.binomial(total, float(pcfg[defect])))), total)
            picks = np.sort(self.rng.choice(total, size=count, replace=False))
            for variant, pick in enumerate(picks):
                f_idx = int(np.searchsorted(offsets, pick, side="right") - 1)
                row = int(pick - offsets[f_idx])
                text = bodies[f_idx].line(row).rstrip("\n")
                fields = text.split(",")
                if defect == "duplicate_same_file":
                    after = int(self.rng.integers(row, sizes[f_idx]))
                    inserts[f_idx].append(
                        _Insert(
                            after, text, defect, "exact copy of row {row} of {file}", fields, (f_idx, row)
                        )
                    )
                else:
                    line, detail = self._extra_row(defect, fields, variant)
                    inserts[f_idx].append(_Insert(row, line, defect, detail, line.split(",")))
        self._plan_overlaps(bodies, sizes, inserts, minimum)
        return inserts

    def _plan_overlaps(
        self, bodies: list[_Body], sizes: np.ndarray, inserts: list[list[_Insert]], minimum: int
    ) -> None:
        spec = self.cfg["pos"]["duplicate_next_file"]
        boundaries = [j for j in range(len(bodies) - 1) if sizes[j] > 0]
        chosen = [j for j in boundaries if self.rng.random() < float(spec["probability"])]
        if not chosen and boundaries and minimum > 0:
            chosen = [boundaries[int(self.rng.integers(len(boundaries)))]]
        for j in chosen:
            k = int(min(self.rng.integers(1, int(spec["max_lines"]) + 1), sizes[j]))
            for row in range(int(sizes[j]) - k, int(sizes[j])):
                text = bodies[j].line(row).rstrip("\n")
                inserts[j + 1].append(
                    _Insert(
                        -1,
                        text,
                        "duplicate_next_file",
                        "exact copy of row {row} of {file}",
                        text.split(","),
                        (j, row),
                    )
                )

    def render(self, relative: str, body: _Body, inserts: list[_Insert], locate: Any) -> bytes:
        """The file body with its inserted lines; records the final row number of each one.

        `locate(file, clean_row)` gives (file name, final row number) of the row a duplicate copies.
        """
        for i, ins in enumerate(inserts):
            ins.order = i
        inserts = sorted(inserts, key=lambda x: (x.after, x.order))
        pieces, cursor = [], 0
        for n, ins in enumerate(inserts):
            cut = 0 if ins.after < 0 else int(body.ends[ins.after])
            pieces.append(body.data[cursor:cut])
            pieces.append((ins.text + "\n").encode())
            cursor = cut
            fields = ins.fields + [""] * 8
            detail = ins.detail
            if ins.source is not None:
                file, row = locate(*ins.source)
                detail = detail.format(row=row, file=file)
            self.records.append(
                DefectRecord(
                    "pos",
                    relative,
                    ins.after + 1 + n + 1,
                    ins.defect,
                    detail,
                    fields[0] or None,
                    fields[3] or None,
                )
            )
        pieces.append(body.data[cursor:])
        return b"".join(pieces)


def render_pos_files(
    cfg: dict[str, Any], bodies: list[bytes], names: list[str], rng: np.random.Generator
) -> tuple[list[bytes], list[DefectRecord]]:
    """Inject the configured defects into one store's POS file bodies (in file order)."""
    injector = PosDefects(cfg, rng)
    parsed = [_Body(b) for b in bodies]
    plans = injector.plan(parsed)
    afters = [np.sort(np.array([i.after for i in plan], dtype=np.int64)) for plan in plans]

    def locate(file: int, row: int) -> tuple[str, int]:
        return names[file], row + 1 + int(np.searchsorted(afters[file], row, side="left"))

    out = [
        injector.render(name, body, plan, locate)
        for name, body, plan in zip(names, parsed, plans, strict=True)
    ]
    return out, injector.records
