"""Log-in benchmarks (identity), in-process through Django's test client with the full
production middleware stack (tenant routing, sessions in Redis, OTP and MFA-policy middleware):

- login_p95_ms: the POST of the log-in form with a correct password hashed with Argon2id at
  OWASP's parameters (19 MiB, t=2, p=1); each POST from a fresh client (new session), p95 of RUNS.
- login_pbkdf2_p95_ms: the same POST with the password hashed with Django 5.2's default PBKDF2
  (1,000,000 iterations) and PBKDF2 as the only hasher (so no upgrade to Argon2id on log-in) —
  the baseline, measured in the same run.
- session_overhead_ms: median time of a trivial tenant page requested with a logged-in,
  MFA-verified session minus the same page requested anonymously (interleaved, SESSION_RUNS
  each): the cost of loading the session from Redis, the user, the OTP device and the policy check.

The tenant and user are created once in the benchmark database and kept for the next run.
allauth's per-IP rate limits are off here (40 log-ins a minute from one address would trip them);
they cost one Redis round trip, well under a millisecond.
"""

import statistics
import time

from bench.common import log, percentile, report

RUNS = 40
SESSION_RUNS = 400
SLUG = "bench-login"
EMAIL = "login@bench-login.example.com"
PASSWORD = "bench-login-password-2026"


def _setup():
    from apps.identity.models import User
    from apps.identity.services import organisation_provision
    from apps.tenancy.models import Tenant

    tenant = Tenant.objects.filter(slug=SLUG).first()
    if tenant is None:
        tenant, _ = organisation_provision(name="Bench login", slug=SLUG, owner_email=EMAIL, owner_password=PASSWORD)
    return tenant, User.objects.get(email=EMAIL)


def _host(tenant):
    from django.conf import settings

    return f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"


def _login_times(tenant, runs):
    from django.test import Client

    host = _host(tenant)
    times = []
    for _ in range(runs):
        client = Client(HTTP_HOST=host)
        started = time.perf_counter()
        response = client.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, response.status_code
    return times


def _run_login(hashers, label):
    from allauth.account.models import EmailAddress
    from django.test import override_settings

    tenant, user = _setup()
    EmailAddress.objects.update_or_create(user=user, email=EMAIL, defaults={"verified": True, "primary": True})
    with override_settings(
        PASSWORD_HASHERS=hashers,
        ACCOUNT_RATE_LIMITS=False,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        log(f"{label}: stored hash {user.password.split('$', 1)[0]}")
        _login_times(tenant, 3)  # warm-up, not counted
        times = _login_times(tenant, RUNS)
    log(f"{label}: median {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms over {RUNS}")
    return times


def login_p95_ms():
    times = _run_login(["apps.identity.hashers.Argon2idHasher"], "argon2id")
    report("login_p95_ms", percentile(times, 95), "ms")


def login_pbkdf2_p95_ms():
    times = _run_login(["django.contrib.auth.hashers.PBKDF2PasswordHasher"], "pbkdf2")
    report("login_pbkdf2_p95_ms", percentile(times, 95), "ms")


def session_overhead_ms():
    from django.test import Client

    from apps.identity import mfa
    from apps.identity.models import TOTPDevice

    tenant, user = _setup()
    TOTPDevice.objects.filter(user=user).delete()
    try:
        device = TOTPDevice.objects.create(user=user, name="bench", key="ab" * 20, confirmed=True)
        host = _host(tenant)
        anonymous = Client(HTTP_HOST=host)
        member = Client(HTTP_HOST=host)
        member.force_login(user)
        session = member.session
        session[mfa.MFA_STATE_KEY] = mfa.VERIFIED
        session["otp_device_id"] = device.persistent_id
        session.save()
        for client in (anonymous, member):
            for _ in range(20):  # warm-up
                assert client.get("/bench/ping/").status_code == 200
        anon, auth = [], []
        for _ in range(SESSION_RUNS):
            for client, bucket in ((anonymous, anon), (member, auth)):
                started = time.perf_counter()
                client.get("/bench/ping/")
                bucket.append((time.perf_counter() - started) * 1000)
        assert member.get("/bench/ping/").wsgi_request.user.is_verified()
        a, b = statistics.median(anon), statistics.median(auth)
        log(f"session: anonymous median {a:.3f} ms, authenticated+verified median {b:.3f} ms over {SESSION_RUNS}")
        report("session_overhead_ms", b - a, "ms", digits=2)
    finally:
        TOTPDevice.objects.filter(user=user).delete()
