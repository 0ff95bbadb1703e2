"""Tenancy at scale: N tenants in one PostgreSQL.

`make bench` runs `provision_p50_ms` (provisioning with 1,000 tenants present) and
`migrate_noop_1000_s`; both first make sure the benchmark database holds SCALE_TENANTS tenants
(created once, kept between runs). The full report, with the resident memory of a web process
that has served every tenant and what the catalogue costs, is `python bench/scale.py [--tenants N]`.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

from bench.common import log, median, percentile, report, stop  # noqa: E402

SCALE_TENANTS = int(os.environ.get("BENCH_SCALE_TENANTS", "1000"))
PREFIX = "scale-"
OWNER = "scale-owner@bench.example.com"


def _scale_slugs() -> set[str]:
    from apps.tenancy.models import Tenant

    return set(Tenant.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True))


def ensure_tenants(n: int) -> list[float]:
    """Creates scale tenants until n exist; returns the time of each creation in ms."""
    from apps.identity.models import User
    from apps.identity.services import organisation_provision

    owner = User.objects.filter(email=OWNER).first() or User.objects.create_user(email=OWNER, password=None)
    existing = _scale_slugs()
    missing = [f"{PREFIX}{i:05d}" for i in range(n) if f"{PREFIX}{i:05d}" not in existing]
    times = []
    if missing:
        log(f"scale: creating {len(missing)} tenants ({len(existing)} exist)")
    for done, slug in enumerate(missing, start=1):
        started = time.perf_counter()
        organisation_provision(name=f"Scale {slug}", slug=slug, owner=owner)
        times.append((time.perf_counter() - started) * 1000)
        if done % 100 == 0 or done == len(missing):
            log(f"  {done}/{len(missing)}  p50 of the last 100: {median(times[-100:]):.1f} ms")
    return times


def provision_p50_ms():
    """Provisioning an organisation with its owner (Argon2id password) with SCALE_TENANTS present."""
    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    ensure_tenants(SCALE_TENANTS)
    times = []
    try:
        for i in range(21):
            started = time.perf_counter()
            organisation_provision(
                name=f"Probe {i}",
                slug=f"probe-{i}",
                owner_email=f"probe-{i}@bench.example.com",
                owner_password="probe-password-1234",
            )
            times.append((time.perf_counter() - started) * 1000)
    finally:
        # The probe owners are kept (and reused next run): users are shared across schemas.
        for tenant in Tenant.objects.filter(slug__startswith="probe-"):
            tenant_delete(tenant=tenant)
    times = times[1:]  # the first loads the template's DDL into this process
    log(
        f"provision with {len(_scale_slugs())} tenants (ms): "
        f"p50 {median(times):.1f}, p95 {percentile(times, 95):.1f}, max {max(times):.1f}"
    )
    report("provision_p50_ms", median(times), "ms")
    report("provision_p95_ms", percentile(times, 95), "ms")


def _migrate_noop_seconds() -> float:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or "up to date" not in result.stdout:
        raise RuntimeError(f"migrate_schemas was not a no-op:\n{result.stdout}\n{result.stderr}")
    log("migrate_schemas: " + result.stdout.strip().splitlines()[-1])
    return elapsed


def migrate_noop_1000_s():
    """`manage.py migrate_schemas` with nothing to apply, SCALE_TENANTS tenants, whole command."""
    ensure_tenants(SCALE_TENANTS)
    runs = [_migrate_noop_seconds() for _ in range(3)]
    report(f"migrate_noop_{SCALE_TENANTS}_s", median(runs), "s", digits=2)


def _catalogue_report():
    """What many schemas cost PostgreSQL: catalogue size, and one backend that touched them all."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%%'")
        schemas = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class")
        relations = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_total_relation_size('pg_class') + pg_total_relation_size('pg_attribute') "
            "+ pg_total_relation_size('pg_index') + pg_total_relation_size('pg_constraint')"
        )
        catalogue_mb = cursor.fetchone()[0] / 2**20

        def backend_mb():
            cursor.execute("SELECT sum(total_bytes) FROM pg_backend_memory_contexts")
            return cursor.fetchone()[0] / 2**20

        def planning_ms(schema):
            cursor.execute(f'EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM "{schema}".auditlog_logentry WHERE id = 1')
            return cursor.fetchone()[0][0]["Planning Time"]

        cursor.execute("SELECT schema_name FROM tenancy_tenant WHERE slug LIKE 'scale-%%' ORDER BY 1")
        names = [row[0] for row in cursor.fetchall()]
        fresh_mem = backend_mb()
        fresh_plan = median([planning_ms(names[0]) for _ in range(5)])
        for name in names:  # one pooled connection serving every tenant in turn
            planning_ms(name)
        warm_mem = backend_mb()
        warm_plan = median([planning_ms(names[-1]) for _ in range(5)])
    log(
        f"catalogue: {schemas} tenant schemas, {relations} relations, "
        f"{catalogue_mb:.1f} MB in pg_class/attribute/index/constraint"
    )
    log(f"one backend: {fresh_mem:.1f} MB fresh, {warm_mem:.1f} MB after touching {len(names)} schemas")
    log(f"planning a tenant query: {fresh_plan:.3f} ms fresh, {warm_plan:.3f} ms after touching all")
    report("scale_catalogue_mb", catalogue_mb, "MB")
    report("scale_backend_mem_mb", warm_mem, "MB")
    report("scale_planning_ms", warm_plan, "ms", digits=3)


def _web_rss_mb() -> float:
    """RSS of one web worker (gunicorn, 1 sync worker) after serving a page on every tenant."""
    import http.client
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=sys.stderr,
    )

    def get(host):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/bench/ping/", headers={"Host": host})
            return conn.getresponse().status
        finally:
            conn.close()

    hosts = [f"{slug}.localhost" for slug in sorted(_scale_slugs())]
    try:
        for _ in range(150):
            try:
                get(hosts[0])
                break
            except OSError:
                time.sleep(0.2)
        assert all(get(host) == 200 for host in hosts)
        worker = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()[0]
        status = Path(f"/proc/{worker}/status").read_text()
    finally:
        stop(proc, timeout=30)
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024


def main():
    global SCALE_TENANTS
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=SCALE_TENANTS)
    args = parser.parse_args()
    SCALE_TENANTS = args.tenants
    from bench.common import prepare_database

    prepare_database()
    created = ensure_tenants(SCALE_TENANTS)
    if created:
        report("scale_create_p50_ms", median(created), "ms")
        report("scale_create_p95_ms", percentile(created, 95), "ms")
        report("scale_create_p99_ms", percentile(created, 99), "ms")
    provision_p50_ms()
    migrate_noop_1000_s()
    report("scale_web_rss_mb", _web_rss_mb(), "MB")
    _catalogue_report()


if __name__ == "__main__":
    main()
