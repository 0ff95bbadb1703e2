"""routing_ratio: req/s of a trivial page on a tenant host through the full middleware stack,
divided by req/s of the same page with no tenant routing (bench.settings_plain).

Both servers run side by side, identical but for the settings module: gunicorn, 2 sync workers.
wrk -t2 -c32 -d10s measures them alternately (plain, tenant, tenant, plain, plain, tenant) after
a warm-up, and the ratio is that of the medians.

Each wrk run gets a port of its own (every server listens on several). A sync worker closes the
connection after each response, so a run leaves ~25,000 server-side TIME_WAIT sockets for 60 s;
a second run on the same port reuses those 4-tuples (the ephemeral range is ~28,000) and came out
~25 % slower, which read as a routing cost whenever one server happened to run twice in a row.
"""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.common import log, median, report, stop

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
PATH = "/bench/ping/"
SLUG = "bench"
ROUNDS = int(os.environ.get("BENCH_ROUTING_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_ROUTING_DURATION", "10s")
WARMUP = "3s"
SERVERS = {"plain": "bench.settings_plain", "tenant": "bench.settings"}


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _get(port: int, host: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", PATH, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


class Server:
    def __init__(self, proc, ports):
        self.proc, self.ports = proc, iter(ports)

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

    def measure(self, host: str, duration: str) -> tuple[float, float]:
        """(req/s, worker CPU µs per request) of one wrk run on a port not used before."""
        cpu = self.worker_cpu_seconds()
        rps, requests = wrk(next(self.ports), host, duration)
        return rps, (self.worker_cpu_seconds() - cpu) / requests * 1e6


@contextmanager
def gunicorn(settings_module: str, host: str, expect: str, nports: int):
    """A gunicorn serving config.wsgi with `settings_module` on `nports` ports; yields a Server
    once every port answers `expect`."""
    ports = _free_ports(nports)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module}
    binds = [arg for port in ports for arg in ("--bind", f"127.0.0.1:{port}")]
    cmd = [
        str(GUNICORN),
        "config.wsgi:application",
        "--chdir",
        str(ROOT),
        *binds,
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=sys.stderr)
    try:
        deadline = time.monotonic() + 30
        for port in ports:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn ({settings_module}) exited with {proc.returncode}")
                try:
                    status, body = _get(port, host)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"gunicorn ({settings_module}) did not answer in 30 s") from None
                    time.sleep(0.2)
            if (status, body) != (200, expect):
                raise RuntimeError(f"{settings_module}: {PATH} on {host} gave {status} {body[:200]!r}, not {expect!r}")
        yield Server(proc, ports)
    finally:
        stop(proc)


def wrk(port: int, host: str, duration: str) -> tuple[float, int]:
    """(requests per second, requests); fails on error responses or timeouts, so a broken page
    cannot look fast."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{duration}", "-H", f"Host: {host}", f"http://127.0.0.1:{port}{PATH}"],
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
            name: stack.enter_context(gunicorn(module, host, expect[name], nports=ROUNDS + 1))
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
