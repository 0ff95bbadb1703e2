"""export_rows_per_s and report_pdf_ms: analytics' raw exports and reports, in-process.

A tenant of its own gets BENCH_EXPORT_EVENTS events (default 1,000,000, over 30 days, 1,000
persons) written straight into its partitioned table; then
- `export_csv_rows_per_s`, `export_parquet_rows_per_s`: exports.events_export of the 30 days to a
  file on disk (a COPY … TO STDOUT per day; Parquet through Arrow's streaming CSV reader), rows ÷ seconds;
- `export_csv_peak_mb`, `export_parquet_peak_mb`: the same export again in a process of its own:
  its resident memory sampled every 20 ms during the export, the highest minus the value just
  before it, i.e. what the export added; set by a COPY block (CSV) or by the largest day (Parquet), not by the rows;
- `report_pdf_ms`, `report_xlsx_ms`: reports.report_bytes of four insights (a 30-day daily
  trend, a 3-step funnel, 4 weekly retention cohorts, a weekly lifecycle), queries included,
  cache cold (the version is bumped before each); `report_pdf_render_ms`: the PDF alone, from the
  four answers (WeasyPrint and the SVG charts).
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from bench.common import log, report

ROOT = Path(__file__).resolve().parent.parent
SLUG = "bench-reports"
EVENTS = int(os.environ.get("BENCH_EXPORT_EVENTS", "1000000"))
DAY0, DAYS = date(2026, 10, 1), 30


def _fill(schema: str) -> None:
    from django.db import connection
    from psycopg import sql

    from apps.analytics import storage

    storage.event_table_ensure()
    q = sql.Identifier(schema)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                """
                INSERT INTO {s}.analytics_person (uuid, properties, created)
                SELECT gen_random_uuid(), jsonb_build_object('plan', CASE WHEN g %% 3 = 0 THEN 'team' ELSE 'free' END),
                       now() FROM generate_series(1, 1000) g;
                INSERT INTO {s}.analytics_persondistinctid (distinct_id, person_id)
                SELECT 'person-' || row_number() OVER (ORDER BY id), id FROM {s}.analytics_person;
                INSERT INTO {s}.analytics_event ("timestamp", uuid, event, distinct_id, properties, received_at)
                SELECT %s::timestamptz + (g::float8 / %s) * interval '30 days', gen_random_uuid(),
                       (ARRAY['$pageview', '$pageview', 'signed_up', 'purchase'])[1 + g %% 4],
                       'person-' || (1 + g %% 1000),
                       jsonb_build_object('$current_url', 'https://shop.example.com/p/' || g, 'amount', g %% 50),
                       now()
                FROM generate_series(0, %s - 1) g;
                """
            ).format(s=q),
            [f"{DAY0.isoformat()}T00:00:00Z", EVENTS, EVENTS],
        )
        cursor.execute(sql.SQL("ANALYZE {}.analytics_event").format(q))


INSIGHTS = [
    ("Daily page views", {"kind": "trends", "date_from": "2026-10-01", "date_to": "2026-10-30",
                          "series": [{"event": "$pageview"}, {"event": "purchase", "math": "unique_persons"}]}),
    ("Sign-up funnel", {"kind": "funnel", "date_from": "2026-10-01", "date_to": "2026-10-07",
                        "steps": [{"event": "$pageview"}, {"event": "signed_up"}, {"event": "purchase"}]}),
    ("Weekly retention", {"kind": "retention", "date_from": "2026-10-05", "date_to": "2026-10-25",
                          "start_event": "signed_up", "return_event": "$pageview", "period": "week", "periods": 4}),
    ("Lifecycle", {"kind": "lifecycle", "date_from": "2026-10-05", "date_to": "2026-10-25", "event": "$pageview",
                   "interval": "week"}),
]  # fmt: skip


def _export(fmt: str, tz) -> tuple[int, float]:
    from apps.analytics import exports

    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        rows = exports.events_export(out, format=fmt, date_from=DAY0, date_to=date(2026, 10, 30), tz=tz)
        return rows, time.perf_counter() - t0


def export_and_report():
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django_tenants.utils import schema_context

    from apps.analytics import report_files, reports
    from apps.analytics.models import Insight
    from apps.analytics.queries.run import version_bump
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    for old in Tenant.objects.filter(slug=SLUG):
        tenant_delete(tenant=old)
    tenant = tenant_create(name="Bench Reports", slug=SLUG, plan="enterprise")
    tz = ZoneInfo("UTC")
    try:
        with schema_context(tenant.schema_name):
            t0 = time.perf_counter()
            _fill(tenant.schema_name)
            log(f"reports: {EVENTS:,} events written in {time.perf_counter() - t0:.1f} s")
            for fmt in ("csv", "parquet"):
                rows, seconds = _export(fmt, tz)
                assert rows == EVENTS, (fmt, rows)
                log(f"reports: {fmt} export of {rows:,} rows in {seconds:.1f} s")
                report(f"export_{fmt}_rows_per_s", rows / seconds, "rows/s", 0)
            for fmt in ("csv", "parquet"):
                child = subprocess.run(
                    [sys.executable, "-m", "bench.reports", fmt, tenant.schema_name],
                    cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                report(f"export_{fmt}_peak_mb", float(child.stdout.split()[-1]), "MB")
            insights = [Insight.objects.create(name=name, query=query) for name, query in INSIGHTS]
            for fmt in ("pdf", "xlsx"):
                times = []
                for _ in range(3):
                    version_bump(connection.schema_name)  # a cold cache: the queries run each time
                    t0 = time.perf_counter()
                    data = reports.report_bytes(tenant=tenant, title="Bench", insights=insights, format=fmt)
                    times.append((time.perf_counter() - t0) * 1000)
                log(f"reports: {fmt} of 4 insights, {len(data):,} bytes, runs {[round(t) for t in times]} ms")
                report(f"report_{fmt}_ms", sorted(times)[1], "ms", 0)
            # The file alone (the queries' answers made once): what reports add to the query engine.
            sections = reports.insights_sections(tenant=tenant, insights=insights)
            for section in sections:
                section["headers"] = section["pdf_headers"]
            t0 = time.perf_counter()
            report_files.sections_pdf(title="Bench", subtitle="", sections=sections)
            report("report_pdf_render_ms", (time.perf_counter() - t0) * 1000, "ms", 0)
    finally:
        tenant_delete(tenant=tenant)


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


if __name__ == "__main__":  # the memory pass: python -m bench.reports <format> <schema>
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from zoneinfo import ZoneInfo

    import pyarrow  # noqa: F401  (loaded before the baseline, as in a worker that has exported before)
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(sys.argv[2]):
        connection.ensure_connection()
        before, peak, done = _rss_mb(), [0.0], threading.Event()

        def watch():  # resident memory sampled every 20 ms while the export runs
            while not done.wait(0.02):
                peak[0] = max(peak[0], _rss_mb())

        watcher = threading.Thread(target=watch)
        watcher.start()
        _export(sys.argv[1], ZoneInfo("UTC"))
        done.set()
        watcher.join()
    print(f"{max(peak[0], _rss_mb()) - before:.1f}")
