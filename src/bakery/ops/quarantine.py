"""The quarantine table (ops.quarantine): every rejected file or row, with the rule it broke.

File-level rejections (bronze) and row-level rejections (silver) share this one writer. Writes are
MERGEs on (source, source_file, row_number, rule), so re-running a batch never duplicates entries.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakery.lakehouse import Lakehouse, struct_type
from bakery.tables import QUARANTINE

QUARANTINE_TABLE = QUARANTINE
QUARANTINE_KEYS = QUARANTINE.keys
QUARANTINE_SCHEMA = struct_type(QUARANTINE)


def quarantine_rows(lh: Lakehouse, rows: DataFrame) -> None:
    """Add rejected rows; `rows` has the QUARANTINE_SCHEMA columns except quarantined_at (filled here)."""
    if "quarantined_at" not in rows.columns:
        rows = rows.withColumn("quarantined_at", F.current_timestamp())
    rows = rows.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in QUARANTINE_SCHEMA.fields])
    lh.merge(rows, *QUARANTINE_TABLE, keys=QUARANTINE_KEYS, update=False)
