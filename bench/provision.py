"""provision_ms: one organisation (tenant, schema, domain, owner with an Argon2id-hashed password,
membership) through organisation_provision, as sign-up does; each is deleted afterwards."""

import secrets
import time

from bench.common import log, median, report

RUNS = 5
SLUG = "bench-prov-{}"
EMAIL_DOMAIN = "bench.example.com"


_undeletable = {}  # email -> error: users left in the benchmark database (emails are unique per run)


def _delete_users(users):
    from django.db import DatabaseError

    for user in users:
        try:
            user.delete()
            _undeletable.pop(user.email, None)
        except DatabaseError as exc:
            _undeletable[user.email] = str(exc).splitlines()[0]


def _delete_leftovers():
    from apps.identity.models import User
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    for tenant in Tenant.objects.filter(slug__startswith=SLUG.format("")):
        tenant_delete(tenant=tenant)
    _delete_users(User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}"))


def provision_once(i: int, run_id: str) -> float:
    from apps.identity.services import organisation_provision
    from apps.tenancy.services import tenant_delete

    started = time.perf_counter()
    tenant, owner = organisation_provision(
        name=f"Bench {i}",
        slug=SLUG.format(i),
        owner_email=f"owner-{i}-{run_id}@{EMAIL_DOMAIN}",
        owner_password="bench-password-1234",
    )
    elapsed = (time.perf_counter() - started) * 1000
    tenant_delete(tenant=tenant)
    _delete_users([owner])
    return elapsed


def provision_ms():
    run_id = secrets.token_hex(4)
    _delete_leftovers()
    try:
        cold = provision_once(0, run_id)  # first in the process: loads migrations etc.; not counted
        log(f"provision: cold run {cold:.1f} ms (not counted)")
        times = [provision_once(i, run_id) for i in range(1, RUNS + 1)]
    finally:
        _delete_leftovers()
    if _undeletable:
        log(f"WARNING: {len(_undeletable)} bench users could not be deleted: {next(iter(_undeletable.values()))}")
    log("provision runs (ms): " + ", ".join(f"{t:.1f}" for t in times))
    report("provision_ms", median(times), "ms")
    # Not provision_p95_ms: that name is the scale benchmark's (1,000 tenants present).
    report("provision_max_ms", max(times), "ms")
    report("provision_min_ms", min(times), "ms")
