"""mixed_load: the locust mix of bench/locustfile.py — members in the dashboards, integrators on
the API, sites sending analytics events, open websockets — at a fixed number of users, against
the ASGI server as the Dockerfile runs it (uvicorn, 2 worker processes, the production settings
through bench.settings) and a Celery worker (the analytics writer, the event dispatcher), on one
tenant. `make load` runs it; so does `make bench ONLY=mixed_load`.

Prints mixed_load_rps (requests per second over the run, websocket calls included) and
mixed_load_p95_ms (their p95), and on stderr each request type's count, failures, median and
p95. Failures above 1 % fail the run, so a broken page cannot look fast.

LOAD_USERS (default 50), LOAD_SECONDS (60) and LOAD_WAIT_MIN/MAX (0.5/1.5 s of think time
between a user's actions) change the mix's size; LOAD_WEB_PROCESSES (2) the server's processes.
With no think time (LOAD_WAIT_MIN=0 LOAD_WAIT_MAX=0) the figure is the server's capacity.
"""

import csv
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT, asgi_server, log, report
from bench.events import _start_worker, _stop_group

SLUG = "bench-load"
MEMBERS = 20
USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
WEB_PROCESSES = int(os.environ.get("LOAD_WEB_PROCESSES", "2"))  # the Dockerfile's WEB_CONCURRENCY
MAX_FAILURE_RATIO = 0.01
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@contextmanager
def load_tenant():
    """A tenant with MEMBERS members (a session each), an API key reading everything and a
    project key; yields (host, sessions, api key, project key)."""
    from django.conf import settings
    from django.test import Client
    from django_tenants.utils import schema_context

    from apps.analytics.services import project_key_create
    from apps.api.services import api_key_create
    from apps.core.api.scopes import all_scopes
    from apps.identity.models import Membership, User
    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    old = Tenant.objects.filter(slug=SLUG).first()
    if old is not None:
        tenant_delete(tenant=old)
    tenant, _ = organisation_provision(name="Bench load", slug=SLUG, owner_email="owner@bench-load.example.com")
    host = f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
    try:
        sessions = []
        for i in range(MEMBERS):
            email = "owner@bench-load.example.com" if i == 0 else f"member-{i:02}@bench-load.example.com"
            user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
            Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": "member"})
            client = Client(HTTP_HOST=host)
            client.force_login(user)
            sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
        owner = Membership.objects.select_related("user", "tenant").get(tenant=tenant, role="owner")
        with schema_context(tenant.schema_name):
            _, api_key = api_key_create(
                actor=owner, name="load", scopes=[s for s in all_scopes() if s.endswith(":read")]
            )
            _, project_key = project_key_create(tenant=tenant, actor=owner, name="Load site")
        yield host, sessions, api_key, project_key
    finally:
        tenant_delete(tenant=tenant)


def _rows(prefix: str) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def mixed_load():
    with (
        load_tenant() as (host, sessions, api_key, project_key),
        asgi_server("bench.settings", workers=WEB_PROCESSES, ready_host=host, ready_path="/healthz/live") as (_, port),
        tempfile.TemporaryDirectory() as tmp,
    ):
        worker = _start_worker("bench.settings", concurrency=2)
        try:
            env = {
                **os.environ,
                "LOAD_TENANT_HOST": host,
                "LOAD_SESSIONS": ",".join(sessions),
                "LOAD_API_KEY": api_key,
                "LOAD_PROJECT_KEY": project_key,
            }
            prefix = str(Path(tmp) / "load")
            log(f"mixed_load: {USERS} users for {SECONDS} s against uvicorn ({WEB_PROCESSES} processes) on :{port}")
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "locust"),
                    "-f", str(LOCUSTFILE), "--headless", "--only-summary",
                    "--host", f"http://127.0.0.1:{port}",
                    "--users", str(USERS), "--spawn-rate", str(max(1, USERS // 5)),
                    "--run-time", f"{SECONDS}s", "--stop-timeout", "10",
                    "--csv", prefix, "--loglevel", "WARNING",
                ],
                cwd=ROOT, env=env, check=False, stdout=sys.stderr, stderr=sys.stderr, timeout=SECONDS + 120,
            )  # fmt: skip
            rows = _rows(prefix)
            with open(f"{prefix}_failures.csv", newline="") as f:
                for failure in csv.DictReader(f):
                    what = f"{failure['Method']} {failure['Name']}"
                    log(f"  failed {failure['Occurrences']}× {what}: {failure['Error'][:200]}")
        finally:
            _stop_group(worker)
    total = next(row for row in rows if row["Name"] == "Aggregated")
    for row in rows:
        log(
            f"  {row['Type']:<5} {row['Name']:<24} {row['Request Count']:>7} requests  "
            f"{row['Failure Count']:>5} failed  median {row['Median Response Time']:>5} ms  p95 {row['95%']:>5} ms"
        )
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    if not requests or failures / requests > MAX_FAILURE_RATIO:
        raise RuntimeError(f"mixed_load: {failures} of {requests} requests failed (see above)")
    report("mixed_load_rps", float(total["Requests/s"]), "req/s")
    report("mixed_load_p95_ms", float(total["95%"]), "ms", digits=0)
