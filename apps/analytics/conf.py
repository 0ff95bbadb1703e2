"""Analytics' settings, each overridable in the project's settings under the same name."""

from django.conf import settings

DEFAULTS = {
    # The largest request body accepted (after gzip is undone), in bytes.
    "HUB_ANALYTICS_MAX_BODY_BYTES": 5 * 1024 * 1024,
    # The most events in one batch.
    "HUB_ANALYTICS_MAX_BATCH": 1000,
    # An event may be this far ahead of the server's clock (after skew correction)…
    "HUB_ANALYTICS_MAX_FUTURE_SECONDS": 24 * 3600,
    # …and this old.
    "HUB_ANALYTICS_MAX_AGE_DAYS": 365,
    # Months of partitions kept ready ahead of the current one, and made behind it.
    "HUB_ANALYTICS_PARTITIONS_AHEAD": 2,
    "HUB_ANALYTICS_PARTITIONS_BEHIND": 1,
    # Request batches waiting in a tenant's queue past which capture answers 503 (try again later):
    # the writer is down or far behind, and Redis's memory is not endless.
    "HUB_ANALYTICS_MAX_QUEUED": 10_000,
    # The writer takes up to this many request batches per transaction.
    "HUB_ANALYTICS_WRITER_TAKE": 20,
    # A writer that has not renewed its claim on what it took for this long is taken for dead.
    "HUB_ANALYTICS_WRITER_LEASE_SECONDS": 60.0,
    # The filters a query with "exclude_test_accounts": true adds (the query's filter shape): by
    # default, events of persons whose property `test_account` is true are left out.
    "HUB_ANALYTICS_TEST_ACCOUNT_FILTERS": [{"type": "person", "key": "test_account", "op": "ne", "value": True}],
    # The event store of a tenant that has not chosen one: "postgres" or "clickhouse" (stores/).
    "HUB_ANALYTICS_STORE": "postgres",
    # Where the ClickHouse store lives: a server, http(s)://user:password@host:port, or chDB
    # (in-process, one process at a time: tests and benchmarks), chdb:///path ({pid}: the
    # process id). See stores/chclient.py and docs/apps/analytics.md.
    "HUB_ANALYTICS_CLICKHOUSE_URL": "chdb:///tmp/hub-chdb-{pid}",
    # How long a query's answer is kept in the cache (it is also dropped when new events arrive).
    "HUB_ANALYTICS_QUERY_CACHE_SECONDS": 3600,
    # Reports' and exports' files (and their jobs) are deleted this many days after they were made.
    "HUB_ANALYTICS_REPORT_KEEP_DAYS": 7,
    # How long a report's or export's signed download link works.
    "HUB_ANALYTICS_DOWNLOAD_MAX_AGE_SECONDS": 3600,
    # About this many rows per Parquet row group of a raw export (Arrow reads the CSV that
    # PostgreSQL wrote in blocks of ~200 bytes a row): what a Parquet export holds in memory.
    "HUB_ANALYTICS_EXPORT_CHUNK_ROWS": 50_000,
    # The host and port BI tools connect to (shown on the BI page); "" = the database's own.
    "HUB_ANALYTICS_BI_HOST": "",
    "HUB_ANALYTICS_BI_PORT": 0,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
