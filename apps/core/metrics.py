"""The hub's Prometheus metrics, defined once so every layer can count what it does
(prometheus_client; the names are listed in docs/operations/observability.md and used by
deploy/grafana/hub.json).

Labels stay bounded: a route's name (never its path), a method, a status, a tenant's plan (never
its slug), a task's registered name, an outcome. With PROMETHEUS_MULTIPROC_DIR set (uvicorn with
several workers, Celery's prefork pool) each process writes its samples to files there and the
/metrics endpoint adds them up; the gauges say how (`livesum`: the live processes' sum).
"""

from prometheus_client import Counter, Gauge, Histogram

_children: dict = {}


def labelled(metric, *values: str):
    """`metric.labels(*values)`, looked up once per label set: labels() takes a lock, checks and
    copies its arguments on every call, which the hot paths (each request, statement, cache call)
    need not pay again. Label sets are bounded (see above), so this dict is too."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


# Seconds: from a cached read (1 ms) to a slow page (10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds: a query or a cache call.
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
# Seconds: a task's wait in the queue or its run.
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)

http_requests = Counter("hub_http_requests", "HTTP requests answered", ["route", "method", "status", "plan"])
http_request_duration = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["route", "method", "plan"],
    buckets=LATENCY_BUCKETS,
)
db_queries = Counter("hub_db_queries", "SQL statements run", ["outcome"])
db_query_duration = Histogram("hub_db_query_duration_seconds", "Time of one SQL statement", buckets=FAST_BUCKETS)
cache_operations = Counter("hub_cache_operations", "Cache calls", ["operation", "result"])
cache_operation_duration = Histogram(
    "hub_cache_operation_duration_seconds", "Time of one cache call", ["operation"], buckets=FAST_BUCKETS
)
celery_tasks_queued = Counter("hub_celery_tasks_queued", "Tasks sent to the broker", ["task"])
celery_tasks_running = Gauge("hub_celery_tasks_running", "Tasks running now", ["task"], multiprocess_mode="livesum")
celery_tasks_finished = Counter("hub_celery_tasks_finished", "Tasks that ended", ["task", "outcome"])
celery_task_duration = Histogram("hub_celery_task_duration_seconds", "Time a task ran", ["task"], buckets=TASK_BUCKETS)
celery_task_wait = Histogram(
    "hub_celery_task_wait_seconds", "Time from sending a task to its start", ["task"], buckets=TASK_BUCKETS
)
websocket_connections = Gauge(
    "hub_websocket_connections", "Open websockets (the dashboards' live pages)", multiprocess_mode="livesum"
)
websocket_connects = Counter("hub_websocket_connects", "Websockets accepted")
selector_cache = Counter("hub_selector_cache", "Cached selector reads (apps.core.caching)", ["selector", "result"])
webhook_deliveries = Counter("hub_webhook_deliveries", "Webhook delivery attempts", ["outcome"])
