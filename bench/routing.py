"""routing_ratio: req/s of a trivial page on a tenant host through the full middleware stack,
divided by req/s of the same page with no tenant routing (bench.settings_plain).

Both servers run side by side, identical but for the settings module: the ASGI server as the
Dockerfile runs it (uvicorn and its flags, bench.common.asgi_server) with WORKERS processes, the
Dockerfile's default for this 2-core kind of machine. wrk -t2 -c32 -d10s (keep-alive connections)
measures them alternately (plain, tenant, tenant, plain, plain, tenant) after a warm-up, and the
ratio is that of the medians.
"""

import os
import re
import subprocess
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.common import asgi_server, http_get, log, median, report

PATH = "/bench/ping/"
SLUG = "bench"
ROUNDS = int(os.environ.get("BENCH_ROUTING_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_ROUTING_DURATION", "10s")
WARMUP = "3s"
WORKERS = 2  # the Dockerfile's WEB_CONCURRENCY
SERVERS = {"plain": "bench.settings_plain", "tenant": "bench.settings"}


class Server:
    def __init__(self, proc, port):
        self.proc, self.port = proc, port

    def worker_cpu_seconds(self) -> float:
        """User + system CPU of the workers so far. CPU per request hardly moves when other work
        competes for the machine, unlike req/s, so it is logged alongside as a cross-check."""
        pids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def measure(self, host: str, duration: str, path: str = PATH) -> tuple[float, float]:
        """(req/s, worker CPU µs per request) of one wrk run."""
        cpu = self.worker_cpu_seconds()
        rps, requests = wrk(self.port, host, duration, path)
        return rps, (self.worker_cpu_seconds() - cpu) / requests * 1e6


@contextmanager
def web_server(settings_module: str, host: str, path: str, expect, headers=None, env=None):
    """The ASGI server (WORKERS processes) with `settings_module` (and `env`); yields a Server once
    `path` on `host` answers 200 and `expect(body)` holds."""
    with asgi_server(settings_module, workers=WORKERS, ready_host=host, ready_path=PATH, env=env) as (proc, port):
        status, body = http_get(port, host, path, headers)
        if status != 200 or not expect(body):
            raise RuntimeError(f"{settings_module}: {path} on {host} gave {status} {body[:300]!r}")
        yield Server(proc, port)


def wrk(port: int, host: str, duration: str, path: str = PATH) -> tuple[float, int]:
    """(requests per second, requests); fails on error responses or timeouts, so a broken page
    cannot look fast."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c32",
            f"-d{duration}",
            "--timeout",
            "10s",
            "-H",
            f"Host: {host}",
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if "Non-2xx" in out or (errors and int(errors.group(4))):
        raise RuntimeError(f"wrk saw error responses or timeouts:\n{out}")
    if errors:
        log(f"wrk: {errors.group(0)}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, int(re.search(r"(\d+) requests in", out).group(1))


@contextmanager
def bench_tenant():
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    tenant = Tenant.objects.filter(slug=SLUG).first() or tenant_create(name="Bench", slug=SLUG)
    try:
        yield tenant
    finally:
        tenant_delete(tenant=tenant)


def routing_ratio():
    from django.conf import settings

    host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
    with ExitStack() as stack:
        tenant = stack.enter_context(bench_tenant())
        expect = {"plain": "-", "tenant": tenant.schema_name}
        servers = {
            name: stack.enter_context(web_server(module, host, PATH, expect[name].__eq__))
            for name, module in SERVERS.items()
        }
        for server in servers.values():  # warm-up: imports, routing cache, database and Redis connections
            server.measure(host, WARMUP)
        rps, cpu = {name: [] for name in SERVERS}, {name: [] for name in SERVERS}
        for r in range(ROUNDS):
            for name in list(SERVERS) if r % 2 == 0 else reversed(SERVERS):
                v, c = servers[name].measure(host, DURATION)
                rps[name].append(v)
                cpu[name].append(c)
                log(f"routing round {r + 1}/{ROUNDS}: {name} {v:.0f} req/s, {c:.0f} µs worker CPU/request")
            log(f"routing round {r + 1}/{ROUNDS}: ratio {rps['tenant'][-1] / rps['plain'][-1]:.3f}")
    for name, values in rps.items():
        spread = max(values) / min(values) - 1
        if spread > 0.05:
            log(f"WARNING: {name} runs differ by {spread:.0%}; the machine is busy, so the ratio is unreliable")
    log(
        f"worker CPU per request (medians): plain {median(cpu['plain']):.0f} µs, tenant {median(cpu['tenant']):.0f} µs;"
        f" plain/tenant {median(cpu['plain']) / median(cpu['tenant']):.3f}"
    )
    plain, tenant_rps = median(rps["plain"]), median(rps["tenant"])
    report("routing_tenant_rps", tenant_rps, "req/s", 0)
    report("routing_plain_rps", plain, "req/s", 0)
    report("routing_ratio", tenant_rps / plain, "ratio", 3)
