"""api_list: GET /api/v1/members/ (20 rows, API-key authentication, tenant-routed) against the
same list in a plain DRF view without tenant routing or key authentication (bench.views_api),
both under the production settings on the ASGI server as the Dockerfile runs it (uvicorn, 2
worker processes; see bench.routing), wrk -t2 -c32, in one run.

Both servers run side by side. After a warm-up, wrk measures them alternately (plain, api, api,
plain, …, five 10 s runs each), and the figures are medians: api_list_p95_ms (the API's p95
latency), api_list_rps, and api_list_ratio (API req/s ÷ plain req/s); api_list_cpu_ratio (plain ÷
API worker CPU per request) is
a cross-check that moves less when other work competes for the machine. Every response is
checked to be a 200 first, so a broken endpoint cannot look fast; the API key's rate limit is
lifted (bench.settings_api) but still counted.
"""

import json
import os
import re
import subprocess
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.common import log, median, report
from bench.routing import web_server

SLUG = "bench-api"
ROWS = 20
# Five rounds: on this kind of machine about one 10 s run in five comes out ~20 % slow for either
# server (seen running one server alone, 8 runs in a row), and a median of three can land on two.
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "5"))
DURATION = os.environ.get("BENCH_API_DURATION", "10s")
WARMUP = "3s"
SERVERS = {"plain": "bench.settings_api_plain", "api": "bench.settings_api"}
PATHS = {"plain": "/bench/plain-members/", "api": "/api/v1/members/"}
LUA = Path(__file__).with_name("api_p95.lua")


@contextmanager
def api_tenant(scopes=("identity:read",)):
    """A tenant with an owner and 19 more members (20 rows), and an API key with `scopes`."""
    from django_tenants.utils import schema_context

    from apps.api.services import api_key_create
    from apps.identity.models import Membership, User
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        tenant_delete(tenant=old)
    tenant = tenant_create(name="Bench API", slug=SLUG, plan="enterprise")
    try:
        for i in range(ROWS):
            email = f"member-{i:02}@bench-api.example.com"
            user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
            Membership.objects.create(user=user, tenant=tenant, role="owner" if i == 0 else "member")
        owner = Membership.objects.select_related("user", "tenant").get(tenant=tenant, role="owner")
        with schema_context(tenant.schema_name):
            _, raw = api_key_create(actor=owner, name="bench", scopes=list(scopes))
        yield tenant, raw
    finally:
        tenant_delete(tenant=tenant)


def _lists_all_rows(body: str) -> bool:
    return len(json.loads(body).get("results", [])) == ROWS


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def wrk(
    port: int, host: str, path: str, key: str | None, duration: str, headers: dict | None = None, script: Path = LUA
) -> tuple[float, float, int]:
    """(req/s, p95 ms, requests) with wrk -t2 -c32; fails on error responses or timeouts. `script`
    (wrk's Lua) prints P95_US and may shape the requests (bench/flags_evaluate.lua POSTs)."""
    cmd = ["wrk", "-t2", "-c32", f"-d{duration}", "--timeout", "10s", "-s", str(script), "-H", f"Host: {host}"]
    for name, value in {**(_auth(key) if key else {}), **(headers or {})}.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if "Non-2xx" in out or (errors and int(errors.group(4))):
        raise RuntimeError(f"wrk saw error responses or timeouts:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p95 = int(re.search(r"P95_US (\d+)", out).group(1)) / 1000
    return rps, p95, int(re.search(r"(\d+) requests in", out).group(1))


def api_list():
    from django.conf import settings

    host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
    with ExitStack() as stack:
        tenant, key = stack.enter_context(api_tenant())
        os.environ["BENCH_API_TENANT_ID"] = str(tenant.pk)  # read by the plain view's server
        keys = {"plain": None, "api": key}
        servers = {
            name: stack.enter_context(
                web_server(module, host, PATHS[name], _lists_all_rows, keys[name] and _auth(keys[name]))
            )
            for name, module in SERVERS.items()
        }
        for name, server in servers.items():
            wrk(server.port, host, PATHS[name], keys[name], WARMUP)  # warm-up: caches, connections
        results = {name: [] for name in SERVERS}
        cpu_per_request = {name: [] for name in SERVERS}
        for r in range(ROUNDS):
            for name in list(SERVERS) if r % 2 == 0 else reversed(SERVERS):
                server = servers[name]
                cpu = server.worker_cpu_seconds()
                rps, p95, requests = wrk(server.port, host, PATHS[name], keys[name], DURATION)
                cpu_us = (server.worker_cpu_seconds() - cpu) / requests * 1e6
                results[name].append((rps, p95))
                cpu_per_request[name].append(cpu_us)
                log(
                    f"api_list round {r + 1}/{ROUNDS}: {name} {rps:.0f} req/s, p95 {p95:.1f} ms,"
                    f" {cpu_us:.0f} µs CPU/req"
                )
    api_rps = median([rps for rps, _ in results["api"]])
    plain_rps = median([rps for rps, _ in results["plain"]])
    log(f"api_list: plain DRF view {plain_rps:.0f} req/s, p95 {median([p for _, p in results['plain']]):.1f} ms")
    report("api_list_p95_ms", median([p95 for _, p95 in results["api"]]), "ms")
    report("api_list_rps", api_rps, "req/s", 0)
    report("api_list_plain_rps", plain_rps, "req/s", 0)
    report("api_list_ratio", api_rps / plain_rps, "ratio", 3)
    # Cross-check that a busy machine hardly moves: worker CPU per request, plain ÷ API.
    for name in SERVERS:
        values = [rps for rps, _ in results[name]]
        if max(values) / min(values) - 1 > 0.05:
            log(f"WARNING: {name} runs differ by {max(values) / min(values) - 1:.0%}: the machine is busy")
    report("api_list_cpu_ratio", median(cpu_per_request["plain"]) / median(cpu_per_request["api"]), "ratio", 3)
