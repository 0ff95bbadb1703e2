"""What /metrics answers: the hub's metrics (apps.core.metrics) from this process, or from every
process sharing PROMETHEUS_MULTIPROC_DIR, plus the outbox lag read from the database at scrape
time. And the database's share: every SQL statement is counted and timed."""

import hmac
import ipaddress
import logging
import os
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from apps.core import metrics
from apps.events.models import Event
from apps.tenancy.models import Tenant

logger = logging.getLogger(__name__)
SCHEMAS_PER_QUERY = 200


def outbox_lag() -> tuple[int, float]:
    """How many events wait to be dispatched, across every tenant, and the age (seconds) of the
    oldest. One query per SCHEMAS_PER_QUERY tenants; each part reads the partial index of
    undispatched events (`event_undispatched`), so an empty outbox costs one index probe."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        # Only the schemas that have an outbox (not one being provisioned or dropped right now).
        cursor.execute(
            f'SELECT t.schema_name FROM public."{Tenant._meta.db_table}" AS t '
            "JOIN pg_catalog.pg_tables AS p ON p.schemaname = t.schema_name AND p.tablename = %s",
            [table],
        )
        schemas = [row[0] for row in cursor.fetchall()]
        waiting, oldest = 0, None
        for start in range(0, len(schemas), SCHEMAS_PER_QUERY):
            parts = " UNION ALL ".join(
                f'SELECT occurred_at FROM "{schema}"."{table}" WHERE dispatched_at IS NULL'
                for schema in schemas[start : start + SCHEMAS_PER_QUERY]
            )
            cursor.execute(f"SELECT count(*), min(occurred_at) FROM ({parts}) AS waiting")
            count, first = cursor.fetchone()
            waiting += count
            if first is not None and (oldest is None or first < oldest):
                oldest = first
    return waiting, (time.time() - oldest.timestamp()) if oldest else 0.0


class OutboxCollector:
    def collect(self):
        try:
            waiting, age = outbox_lag()
        except DatabaseError as exc:  # the rest of the metrics still answer
            logger.warning("metrics: could not read the outbox lag: %s", exc)
            return
        yield GaugeMetricFamily("hub_outbox_waiting_events", "Events not yet dispatched (every tenant)", value=waiting)
        yield GaugeMetricFamily(
            "hub_outbox_oldest_age_seconds", "Age of the oldest event not yet dispatched (0: none waits)", value=age
        )


def may_scrape(meta: dict, networks) -> bool:
    """Whether a request (its WSGI environ, or Django's request.META) may read the metrics: a bearer
    token equal to HUB_METRICS_TOKEN, or a direct request from one of `networks`. A request that
    came through a proxy (X-Forwarded-For or Forwarded) needs the token: its address is the
    proxy's, or one its client wrote."""
    token = settings.HUB_METRICS_TOKEN
    if token and hmac.compare_digest(meta.get("HTTP_AUTHORIZATION", "").encode(), f"Bearer {token}".encode()):
        return True
    if "HTTP_X_FORWARDED_FOR" in meta or "HTTP_FORWARDED" in meta:
        return False
    try:
        address = ipaddress.ip_address(meta.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in networks)


def allowed_networks():
    return [ipaddress.ip_network(n, strict=False) for n in settings.HUB_METRICS_ALLOWED_NETWORKS]


def exposition(*, outbox: bool = True) -> bytes:
    """The text /metrics answers (a worker's exporter leaves the outbox to the web servers)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY  # this process's own
    if not outbox:
        return generate_latest(processes)
    database = CollectorRegistry()
    database.register(OutboxCollector())
    return generate_latest(processes) + generate_latest(database)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # no access line per scrape
        pass


def serve_worker_metrics(port: int) -> None:
    """/metrics of a Celery worker (its prefork children's samples, from PROMETHEUS_MULTIPROC_DIR) on
    `port`, from a thread of the worker's main process; same rules as the web server's."""
    networks = allowed_networks()

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics" or not may_scrape(environ, networks):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found.\n"]
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")])
        return [exposition(outbox=False)]

    server = make_server("0.0.0.0", port, app, handler_class=_Quiet)  # noqa: S104 - Prometheus scrapes the pod's address
    threading.Thread(target=server.serve_forever, name="hub-metrics", daemon=True).start()


def _observe(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        result = execute(sql, params, many, context)
    except Exception:
        metrics.labelled(metrics.db_queries, "error").inc()
        raise
    metrics.db_query_duration.observe(time.perf_counter() - started)
    metrics.labelled(metrics.db_queries, "ok").inc()
    return result


def _install(sender, connection, **kwargs):
    if _observe not in connection.execute_wrappers:
        connection.execute_wrappers.append(_observe)


def observe_database():
    """Counts and times every statement of every connection this process opens."""
    connection_created.connect(_install, dispatch_uid="hub-metrics-db")
