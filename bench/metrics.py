"""metrics_overhead_ratio: req/s of a small tenant page (one cache read, one query) with the
Prometheus metrics on, divided by req/s of the same page with them off (HUB_METRICS_ENABLED).

Both servers run side by side, identical but for that setting: the ASGI server as the Dockerfile
runs it, with WORKERS processes; the server with metrics writes them as production does with
several processes (PROMETHEUS_MULTIPROC_DIR, memory-mapped files). wrk -t2 -c32 measures them
alternately after a warm-up; the ratio is that of the medians (target ≥ 0.95).
"""

import os
import shutil
import tempfile
from contextlib import ExitStack

from bench.common import asgi_server, http_get, log, median, report
from bench.routing import WARMUP, WORKERS, Server, bench_tenant

PATH = "/bench/work/"
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_METRICS_DURATION", "10s")


def metrics_overhead_ratio():
    from django.conf import settings

    metrics_dir = tempfile.mkdtemp(prefix="hub-bench-metrics-")
    envs = {
        "off": {"HUB_METRICS_ENABLED": "false"},
        "on": {"HUB_METRICS_ENABLED": "true", "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
    }
    try:
        with ExitStack() as stack:
            tenant = stack.enter_context(bench_tenant())
            host = f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
            servers = {}
            for name, env in envs.items():
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
            for server in servers.values():
                server.measure(host, WARMUP, PATH)
            rps = {name: [] for name in servers}
            for r in range(ROUNDS):
                for name in list(servers) if r % 2 == 0 else reversed(list(servers)):
                    value, cpu = servers[name].measure(host, DURATION, PATH)
                    rps[name].append(value)
                    log(f"metrics round {r + 1}/{ROUNDS}: {name} {value:.0f} req/s, {cpu:.0f} µs worker CPU/request")
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    for name, values in rps.items():
        if max(values) / min(values) - 1 > 0.05:
            log(f"WARNING: metrics {name} runs differ by more than 5%; the machine is busy, the ratio unreliable")
    report("metrics_on_rps", median(rps["on"]), "req/s", 0)
    report("metrics_off_rps", median(rps["off"]), "req/s", 0)
    report("metrics_overhead_ratio", median(rps["on"]) / median(rps["off"]), "ratio", 3)
