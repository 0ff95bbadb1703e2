"""Raw events of a time range written to a file as CSV or Parquet, streamed.

PostgreSQL writes the CSV itself: one `COPY (SELECT …) TO STDOUT` per day of the range, whose
blocks psycopg hands over as they come and which go straight to the file, so ten million events
never sit in the worker's memory and no Python code touches a row. Progress is the days done.
Parquet is made from each day's CSV (a temporary file) by Arrow's streaming CSV reader, a block at
a time, each block a row group: memory is set by the largest day, not by the number of rows.
"""

import tempfile
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from django.db import connection, transaction

from . import conf, storage

COLUMNS = ["timestamp", "uuid", "event", "distinct_id", "person_uuid", "properties", "received_at"]
ISO = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''  # ISO 8601 in UTC, to the microsecond
# One day's events with their person (as persons are now), in time order: the table's primary key
# (timestamp, uuid) gives that order from its index, and each person is looked up once (memoized).
SQL = f"""
COPY (
  SELECT to_char(e."timestamp" AT TIME ZONE 'UTC', {ISO}), e.uuid, e.event, e.distinct_id, p.uuid,
         e.properties::text, to_char(e.received_at AT TIME ZONE 'UTC', {ISO})
  FROM {{schema}}.analytics_event e
  LEFT JOIN {{schema}}.analytics_persondistinctid d ON d.distinct_id = e.distinct_id
  LEFT JOIN {{schema}}.analytics_person p ON p.id = d.person_id
  WHERE e."timestamp" >= %s AND e."timestamp" < %s
  ORDER BY e."timestamp", e.uuid
) TO STDOUT WITH (FORMAT csv)
"""


def day_bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The range's start and end (exclusive) as moments: local midnights in the tenant's zone."""
    return datetime.combine(date_from, time(), tzinfo=tz), datetime.combine(
        date_to + timedelta(days=1), time(), tzinfo=tz
    )


def _days(date_from: date, date_to: date, tz: ZoneInfo):
    day = date_from
    while day <= date_to:
        yield day_bounds(day, day, tz)
        day += timedelta(days=1)


def events_export(out, *, format: str, date_from: date, date_to: date, tz: ZoneInfo, on_progress=None) -> int:
    """Writes the current tenant's events of the days date_from…date_to to the binary file `out`;
    returns how many. `on_progress(percent, rows)` is called after each day."""
    days = list(_days(date_from, date_to, tz))
    if format == "parquet":
        with _ParquetOut(out) as parquet:
            return _copy_days(days, parquet.day, on_progress)
    out.write(("\ufeff" + ",".join(COLUMNS) + "\n").encode())  # a BOM: Excel reads it as UTF-8
    return _copy_days(days, lambda copy: _drain(copy, out), on_progress)


def _drain(copy, out) -> None:
    for block in copy:
        out.write(block)


def _copy_days(days, take, on_progress) -> int:
    """Runs each day's COPY and hands it to `take(copy)`; returns the rows copied."""
    if not storage.event_table_exists():
        return 0
    schema = connection.ops.quote_name(connection.schema_name)
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        for n, (start, end) in enumerate(days, start=1):
            with raw.copy(SQL.format(schema=schema), [start, end]) as copy:
                take(copy)
            total += max(raw.rowcount, 0)
            if on_progress:
                on_progress(min(99, 100 * n // len(days)), total)
    return total


class _ParquetOut:
    """One Parquet file, a day at a time: each day's CSV goes to a temporary file that Arrow's
    streaming reader (fresh each day: a long-lived reader's memory grows with the rows it has
    read) turns into row groups of about HUB_ANALYTICS_EXPORT_CHUNK_ROWS rows."""

    def __init__(self, out):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        when = pa.timestamp("us", tz="UTC")
        self.types = {c: pa.string() for c in COLUMNS} | {"timestamp": when, "received_at": when}
        self.schema = pa.schema([(c, self.types[c]) for c in COLUMNS])
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")
        self.block = max(1 << 20, conf.get("HUB_ANALYTICS_EXPORT_CHUNK_ROWS") * 200)  # ~200 bytes a row

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.writer.close()

    def day(self, copy) -> None:
        import pyarrow.csv as pacsv

        with tempfile.TemporaryFile() as text:
            _drain(copy, text)
            if not text.tell():
                return
            text.seek(0)
            reader = pacsv.open_csv(
                text,
                read_options=pacsv.ReadOptions(block_size=self.block, use_threads=False, column_names=COLUMNS),
                convert_options=pacsv.ConvertOptions(column_types=self.types, strings_can_be_null=True),
            )
            for batch in reader:
                self.writer.write_table(self.pa.Table.from_batches([batch]).cast(self.schema))


def properties_of(text: str) -> dict:
    """An exported `properties` cell back as a dict (for readers of the files, and the tests)."""
    return orjson.loads(text)
