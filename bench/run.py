#!/usr/bin/env python
"""Benchmarks: `.venv/bin/python bench/run.py [--only NAME]` (what `make bench` runs).

Each benchmark prints its figures on stdout as `BENCH <name> <value> <unit>`; progress goes to
stderr. They use a database of their own (BENCH_DATABASE_NAME, default hub_bench) on the server
of DATABASE_URL, created and migrated here, and delete the tenants they create.

To add a benchmark: write a function that calls bench.common.report(), add it to BENCHMARKS.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

from bench.analytics import ingest_events_per_s  # noqa: E402
from bench.analytics_clickhouse import analytics_clickhouse  # noqa: E402
from bench.analytics_pages import analytics_pages  # noqa: E402
from bench.analytics_paths import paths_ms  # noqa: E402
from bench.analytics_queries import funnel_10m_ms, retention_10m_ms, trend_10m_ms, uniques_10m_ms  # noqa: E402
from bench.api import api_list  # noqa: E402
from bench.backup import backup_restore  # noqa: E402
from bench.caching import cache_db_queries  # noqa: E402
from bench.common import log, prepare_database  # noqa: E402
from bench.compliance import audit_verify_1m_s, dsar_export_s  # noqa: E402
from bench.content import upload_mb_per_s  # noqa: E402
from bench.content_dedup import dedup_100_versions_mb  # noqa: E402
from bench.content_s3 import content_upload_s3_mb_per_s  # noqa: E402
from bench.content_search import search_100k_docs_p95_ms, thumbnail_per_s  # noqa: E402
from bench.dashboards import dashboard_p95_ms  # noqa: E402
from bench.db_connections import db_connections_max  # noqa: E402
from bench.events import webhook_p95_ms, webhook_recovery_s, webhook_slow_p95_ms, ws_connections  # noqa: E402
from bench.flags import flag_api_p95_ms, flag_eval_us  # noqa: E402
from bench.graphql_list import graphql_list  # noqa: E402
from bench.integrations import connector_call_p95_ms, openapi_import_ms  # noqa: E402
from bench.load import mixed_load  # noqa: E402
from bench.login import login_p95_ms, login_pbkdf2_p95_ms, session_overhead_ms  # noqa: E402
from bench.metering import metering_events_per_s  # noqa: E402
from bench.metrics import metrics_overhead_ratio  # noqa: E402
from bench.plugins import plugin_enable_ms, plugin_overhead_ratio  # noqa: E402
from bench.provision import provision_ms  # noqa: E402
from bench.reports import export_and_report  # noqa: E402
from bench.routing import routing_ratio  # noqa: E402
from bench.scale import migrate_noop_1000_s, provision_p50_ms  # noqa: E402
from bench.streams import stream_events_per_s  # noqa: E402
from bench.threat import threat_detect_ms  # noqa: E402
from bench.workflow import rule_eval_us, workflow_runs  # noqa: E402

BENCHMARKS = {
    # Tenancy first: the event-spine benchmarks leave the database busy for a while.
    "provision_ms": provision_ms,
    "provision_p50_ms": provision_p50_ms,
    "migrate_noop_1000_s": migrate_noop_1000_s,
    "routing_ratio": routing_ratio,
    # Prometheus metrics on vs off (also prints metrics_on_rps, metrics_off_rps).
    "metrics_overhead_ratio": metrics_overhead_ratio,
    # The home page's SQL statements per request with the cached selectors on vs off (also
    # prints cache_db_queries_on/_off, cache_home_p95_ms_on/_off, cache_home_rps_on/_off).
    "cache_db_queries": cache_db_queries,
    # Identity.
    "login_p95_ms": login_p95_ms,
    "threat_detect_ms": threat_detect_ms,
    "login_pbkdf2_p95_ms": login_pbkdf2_p95_ms,
    "session_overhead_ms": session_overhead_ms,
    # Integrator API; also prints api_list_p95_ms, api_list_rps, api_list_plain_rps.
    "api_list": api_list,
    # The same 20 members through GraphQL beside the REST list (also prints graphql_list_rps,
    # graphql_list_rest_rps, graphql_list_ratio).
    "graphql_list": graphql_list,
    # Billing: usage records written by the metering collection over 40 tenants' counters (also
    # prints metering_tenants_per_s).
    "metering_events_per_s": metering_events_per_s,
    # Feature flags: one flag with 5 rules evaluated in-process, and the evaluate endpoint for 20
    # flags under 32 connections (also prints flag_api_rps, and the view-only baseline flag_api_view_*).
    "flag_eval_us": flag_eval_us,
    # The integration hub: an OpenAPI document's operations derived; one connector call.
    "openapi_import_ms": openapi_import_ms,
    "connector_call_p95_ms": connector_call_p95_ms,
    "flag_api_p95_ms": flag_api_p95_ms,
    # backup_tenant / restore_tenant of 100,000 audit rows; also prints backup_100k_rows_mb.
    "backup_restore": backup_restore,
    # PostgreSQL connections of one ASGI web process under 64 clients (its pool's bound).
    "db_connections_max": db_connections_max,
    # Event spine; ws_connections also prints ws_memory_per_conn_kb and ws_fanout_p95_ms.
    "webhook_p95_ms": webhook_p95_ms,
    # A receiver answering in 100 ms (also prints the fast receiver's webhook_p95_ms as the baseline).
    "webhook_slow_p95_ms": webhook_slow_p95_ms,
    # A worker killed mid-delivery and restarted at once: seconds from the kill to the last arrival.
    "webhook_recovery_s": webhook_recovery_s,
    "ws_connections": ws_connections,
    # Analytics: HTTP batches of 1,000 events to rows in the partitioned table, sustained.
    "ingest_events_per_s": ingest_events_per_s,
    # The locust mix (bench/locustfile.py) at a fixed user count: mixed_load_rps, mixed_load_p95_ms.
    "mixed_load": mixed_load,
    # The external event stream: outbox → NATS JetStream acks, sustained (one tenant's publisher).
    "stream_events_per_s": stream_events_per_s,
    # Analytics queries on raw events: paths (also paths_end_ms), cohort filters (also
    # cohort_static_ms and the baseline cohort_none_ms).
    "paths_ms": paths_ms,
    # The analytics pages on 200,000 events (also prints the person index's cost to the writer).
    "analytics_pages": analytics_pages,
    # The same queries on the ClickHouse store (chDB), 10 million events made once and kept on
    # disk: trend_10m_ch_ms, uniques_10m_ch_ms, funnel_10m_ch_ms, retention_10m_ch_ms.
    "analytics_clickhouse": analytics_clickhouse,
    # Analytics dashboards (also prints dashboard_cold_ms).
    "dashboard_p95_ms": dashboard_p95_ms,
    # Analytics: raw exports (CSV, Parquet) of 1,000,000 events and PDF/Excel reports of 4 insights;
    # prints export_csv_rows_per_s, export_parquet_rows_per_s, their peak memory, report_pdf_ms, report_xlsx_ms.
    "export_and_report": export_and_report,
    # Analytics queries on 10 million events of one tenant (made once, kept: bench/analytics_queries.py);
    # trend, uniques and retention also print their raw-scan baseline (<name>_raw_ms).
    "trend_10m_ms": trend_10m_ms,
    "uniques_10m_ms": uniques_10m_ms,
    "funnel_10m_ms": funnel_10m_ms,
    "retention_10m_ms": retention_10m_ms,
    # Content's direct upload of one 128 MB file to moto (S3) and to the local file system
    # (also prints content_upload_local_mb_per_s).
    "content_upload_s3_mb_per_s": content_upload_s3_mb_per_s,
    # Content: one 1 GB file through the tus endpoint to the local store (also upload_size_mb and
    # upload_patch_mb_per_s, the bytes received before the last PATCH).
    "upload_mb_per_s": upload_mb_per_s,
    # Content: the storage of 100 versions of a 10 MB file, each changing one 4 KB page (also
    # dedup_logical_mb, dedup_ratio and dedup_unchanged_100_mb: 100 saves of the same bytes).
    "dedup_100_versions_mb": dedup_100_versions_mb,
    # Content: full-text search over 100,000 documents with text (also search_100k_docs_p50_ms);
    # thumbnails of 12 MP JPEGs in one process (also thumbnail_only_per_s).
    "search_100k_docs_p95_ms": search_100k_docs_p95_ms,
    "thumbnail_per_s": thumbnail_per_s,
    # Workflow: a 10-clause condition set in-process (also rule_compile_us); 3-step workflows
    # started by events through a real worker: workflow_runs_per_s and trigger_latency_p95_ms.
    "rule_eval_us": rule_eval_us,
    "workflow_runs": workflow_runs,
    # Compliance: verify_audit over 1,000,000 chained audit entries (also audit_seal_1m_s, writing them).
    "audit_verify_1m_s": audit_verify_1m_s,
    # Compliance: a data subject access request's copy (data_request_build: every app's export, the
    # ZIP of JSON and CSV) for a member with 100,000 rows across apps (also prints dsar_export_rows).
    "dsar_export_s": dsar_export_s,
    # Plugins per tenant: enabling one with two tables; the home page with 10 enabled plugins vs none
    # (also prints plugin_overhead_rps_with_10 and _without).
    "plugin_enable_ms": plugin_enable_ms,
    "plugin_overhead_ratio": plugin_overhead_ratio,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run just this benchmark")
    args = parser.parse_args()

    names = [args.only] if args.only else list(BENCHMARKS)
    uses_wrk = {"routing_ratio", "api_list", "graphql_list", "metrics_overhead_ratio", "flag_api_p95_ms"}
    if shutil.which("wrk") is None and uses_wrk & set(names):
        sys.exit("bench: wrk is not installed; install it first (Debian: apt-get install wrk)")
    started = time.monotonic()
    prepare_database()
    log(f"database ready in {time.monotonic() - started:.1f} s")
    for name in names:
        t0 = time.monotonic()
        BENCHMARKS[name]()
        log(f"{name} took {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
