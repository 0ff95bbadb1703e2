"""Raw events of a time range written to a file as CSV or Parquet, a chunk at a time.

The rows come through a server-side cursor (psycopg's named cursor: the server keeps the result
and sends `HUB_ANALYTICS_EXPORT_CHUNK_ROWS` at a time), so ten million events never sit in the
worker's memory; each chunk is written out (a CSV's lines, a Parquet row group) before the next
is fetched. Progress is how far through the range the last row's time is (no count(*) first).
"""

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import orjson
from django.db import connection, transaction

from . import conf, storage

COLUMNS = ["timestamp", "uuid", "event", "distinct_id", "person_uuid", "properties", "received_at"]
# Every event of the range with its person (as persons are now), in time order: the table's
# primary key (timestamp, uuid) gives that order from its index, partition by partition.
SQL = """
SELECT e."timestamp", e.uuid, e.event, e.distinct_id, p.uuid, e.properties::text, e.received_at
FROM {schema}.analytics_event e
LEFT JOIN {schema}.analytics_persondistinctid d ON d.distinct_id = e.distinct_id
LEFT JOIN {schema}.analytics_person p ON p.id = d.person_id
WHERE e."timestamp" >= %s AND e."timestamp" < %s
ORDER BY e."timestamp", e.uuid
"""


def day_bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The range's start and end (exclusive) as moments: local midnights in the tenant's zone."""
    return datetime.combine(date_from, time(), tzinfo=tz), datetime.combine(
        date_to + timedelta(days=1), time(), tzinfo=tz
    )


def events_export(out, *, format: str, date_from: date, date_to: date, tz: ZoneInfo, on_progress=None) -> int:
    """Writes the current tenant's events of the days date_from…date_to to the binary file `out`;
    returns how many. `on_progress(percent, rows)` is called after each chunk."""
    start, end = day_bounds(date_from, date_to, tz)
    if not storage.event_table_exists():
        return _write(out, format, iter(()), start, end, on_progress)
    schema = connection.ops.quote_name(connection.schema_name)
    chunk = conf.get("HUB_ANALYTICS_EXPORT_CHUNK_ROWS")
    connection.ensure_connection()
    with transaction.atomic():  # a named cursor lives in a transaction
        with connection.connection.cursor(name="analytics_export") as cursor:
            cursor.itersize = chunk
            cursor.execute(SQL.format(schema=schema), [start, end])
            return _write(out, format, _chunks(cursor, chunk), start, end, on_progress)


def _chunks(cursor, size: int):
    while rows := cursor.fetchmany(size):
        yield rows


def _write(out, format, chunks, start, end, on_progress) -> int:
    total = 0
    span = (end - start).total_seconds() or 1
    writer = _ParquetOut(out) if format == "parquet" else _CsvOut(out)
    for rows in chunks:
        writer.write(rows)
        total += len(rows)
        if on_progress:
            done = (rows[-1][0] - start).total_seconds() / span
            on_progress(min(99, int(100 * done)), total)
    writer.close()
    return total


class _CsvOut:
    def __init__(self, out):
        self.out = out
        out.write("\ufeff".encode())  # a BOM: Excel reads it as UTF-8
        self._line(COLUMNS)

    def _line(self, values) -> None:
        text = io.StringIO()
        csv.writer(text).writerow(values)
        self.out.write(text.getvalue().encode())

    def write(self, rows) -> None:
        text = io.StringIO()
        writer = csv.writer(text)
        for ts, uuid, event, distinct_id, person, properties, received in rows:
            writer.writerow([ts.isoformat(), uuid, event, distinct_id, person or "", properties, received.isoformat()])
        self.out.write(text.getvalue().encode())

    def close(self) -> None:
        pass


class _ParquetOut:
    """One row group per chunk; properties as JSON text (their keys differ from event to event)."""

    def __init__(self, out):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = pa.schema(
            [
                ("timestamp", pa.timestamp("us", tz="UTC")),
                ("uuid", pa.string()),
                ("event", pa.string()),
                ("distinct_id", pa.string()),
                ("person_uuid", pa.string()),
                ("properties", pa.string()),
                ("received_at", pa.timestamp("us", tz="UTC")),
            ]
        )
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")

    def write(self, rows) -> None:
        columns = list(zip(*rows, strict=True))
        arrays = [
            self.pa.array(columns[0], type=self.pa.timestamp("us", tz="UTC")),
            self.pa.array([str(u) for u in columns[1]]),
            self.pa.array(columns[2]),
            self.pa.array(columns[3]),
            self.pa.array([str(p) if p else None for p in columns[4]]),
            self.pa.array(columns[5]),
            self.pa.array(columns[6], type=self.pa.timestamp("us", tz="UTC")),
        ]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def properties_of(text: str) -> dict:
    """An exported `properties` cell back as a dict (for readers of the files, and the tests)."""
    return orjson.loads(text)
