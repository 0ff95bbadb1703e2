"""metrics_overhead_ratio: req/s of a small tenant page (one cache read, one query) with the
Prometheus metrics AND OpenTelemetry tracing on as deployed (production settings: one request in
ten starts a kept trace, HUB_TRACING_SAMPLE_RATIO), divided by req/s of the same page with both
off (HUB_METRICS_ENABLED, HUB_TRACING_ENABLED). Target ≥ 0.95.

Four servers run side by side, identical but for those settings: the ASGI server as the
Dockerfile runs it, with WORKERS processes; a server with metrics writes them as production does
with several processes (PROMETHEUS_MULTIPROC_DIR, memory-mapped files, a directory each); a traced
server exports its spans (the request's and its SQL statement's) by OTLP/HTTP to a collector
stand-in in this process that answers each export and counts its bytes. The servers: both off;
metrics only (metrics_only_ratio); metrics and tracing as deployed (metrics_overhead_ratio); and
metrics with every request traced (metrics_tracing_all_ratio, OTEL_TRACES_SAMPLER=always_on). wrk -t2 -c32 measures them
in turn after a warm-up, ROUNDS rounds (5), the order reversed every other round. Each ratio is the
median of the rounds' own ratios (a server against "off" measured seconds apart in the same round),
so that the machine's drift between rounds, which moved the four servers' figures by up to 20 %,
cancels out instead of deciding the result. metrics_overhead_cpu_ratio is the same comparison by
worker CPU per request (off ÷ on), which a busy machine moves less.
"""

import os
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import asgi_server, http_get, log, median, report
from bench.routing import WARMUP, WORKERS, Server, bench_tenant

PATH = "/bench/work/"
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "5"))
DURATION = os.environ.get("BENCH_METRICS_DURATION", "10s")


@contextmanager
def otlp_sink():
    """An OTLP/HTTP endpoint that accepts every export (what a collector does first); yields its
    URL and a dict counting the exports and their bytes."""
    received = {"exports": 0, "bytes": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            size = len(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            received["exports"] += 1
            received["bytes"] += size
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def _servers(endpoint: str) -> dict[str, dict]:
    """Each server's environment: both off; metrics and tracing as deployed (the production
    settings' sampler); metrics only; metrics and every request traced."""
    tracing = {"HUB_TRACING_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "hub-bench"}
    return {
        "off": {"HUB_METRICS_ENABLED": "false", "HUB_TRACING_ENABLED": "false"},
        "on": {"HUB_METRICS_ENABLED": "true", **tracing},  # measured next to "off" in every round
        "metrics": {"HUB_METRICS_ENABLED": "true", "HUB_TRACING_ENABLED": "false"},
        "all": {"HUB_METRICS_ENABLED": "true", **tracing, "OTEL_TRACES_SAMPLER": "always_on"},
    }


def metrics_overhead_ratio():
    from django.conf import settings

    directories = []
    try:
        with ExitStack() as stack:
            endpoint, received = stack.enter_context(otlp_sink())
            tenant = stack.enter_context(bench_tenant())
            host = f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
            servers = {}
            for name, env in _servers(endpoint).items():
                if env["HUB_METRICS_ENABLED"] == "true":  # each server its own samples, as production
                    directories.append(tempfile.mkdtemp(prefix="hub-bench-metrics-"))
                    env = {**env, "PROMETHEUS_MULTIPROC_DIR": directories[-1]}
                proc, port = stack.enter_context(
                    asgi_server("bench.settings", workers=WORKERS, ready_host=host, ready_path=PATH, env=env)
                )
                status, body = http_get(port, host, PATH)
                if status != 200 or body != tenant.schema_name:
                    raise RuntimeError(f"metrics {name}: {PATH} gave {status} {body[:300]!r}")
                servers[name] = Server(proc, port)
            status, text = http_get(servers["on"].port, host, "/metrics")
            if status != 200 or "hub_http_requests_total" not in text:
                raise RuntimeError(f"metrics on: /metrics gave {status}")
            if http_get(servers["off"].port, host, "/metrics")[0] != 404:
                raise RuntimeError("metrics off: /metrics still answers")
            deadline = time.monotonic() + 15  # the batch processor exports every 5 s by default
            while not received["exports"]:
                if time.monotonic() > deadline:
                    raise RuntimeError("tracing on: no spans reached the OTLP endpoint")
                time.sleep(0.2)
            for server in servers.values():
                server.measure(host, WARMUP, PATH)
            rps = {name: [] for name in servers}
            cpu = {name: [] for name in servers}
            for r in range(ROUNDS):
                for name in list(servers) if r % 2 == 0 else reversed(list(servers)):
                    value, per_request = servers[name].measure(host, DURATION, PATH)
                    rps[name].append(value)
                    cpu[name].append(per_request)
                    log(
                        f"metrics round {r + 1}/{ROUNDS}: {name} {value:.0f} req/s,"
                        f" {per_request:.0f} µs worker CPU/request"
                    )
    finally:
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)
    log(f"metrics: the OTLP endpoint received {received['exports']} exports, {received['bytes'] / 1e6:.1f} MB")
    for name, values in rps.items():
        if max(values) / min(values) - 1 > 0.05:
            log(f"WARNING: metrics {name} runs differ by more than 5%; the machine is busy, the ratio unreliable")
        log(f"metrics: {name} worker CPU per request {median(cpu[name]):.0f} µs (median)")

    def paired(name, figures=rps, invert=False):
        """The median of each round's ratio of `name` to "off" (off to `name` for CPU)."""
        ratios = [b / a if invert else a / b for a, b in zip(figures[name], figures["off"], strict=True)]
        log(f"metrics: {name} / off by round: {', '.join(f'{r:.3f}' for r in ratios)}")
        return median(ratios)

    report("metrics_on_rps", median(rps["on"]), "req/s", 0)
    report("metrics_off_rps", median(rps["off"]), "req/s", 0)
    report("metrics_overhead_ratio", paired("on"), "ratio", 3)
    report("metrics_only_ratio", paired("metrics"), "ratio", 3)
    report("metrics_tracing_all_ratio", paired("all"), "ratio", 3)
    report("metrics_overhead_cpu_ratio", paired("on", cpu, invert=True), "ratio", 3)
