"""Brute force, equal work for unknown emails, passwordless log-in by code, sessions, SMS
codes through the provider interface, and the hand-over's second-factor state."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import override_settings
from django_tenants.utils import schema_context

from apps.identity import lockout, mfa
from apps.identity.models import SMSDevice, TOTPDevice, UserSession
from tests.conftest import PASSWORD, audit_entries_remove, client_for, committed, set_mfa_state


def events(tenant, name):
    """Security events named `name` in the tenant's log (None: the platform's log), oldest first."""
    with schema_context(tenant.schema_name if tenant is not None else "public"):
        return list(LogEntry.objects.filter(additional_data__event=name).order_by("timestamp"))


def log_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


# --- brute force ----------------------------------------------------------------------------


def platform_events(name, email):
    """Security events of the platform's own log (the public schema) about `email`."""
    return [e for e in events(None, name) if e.additional_data.get("email") == email]


@pytest.mark.django_db
@override_settings(
    HUB_LOGIN_LOCK_THRESHOLD=3, HUB_LOGIN_LOCK_BASE_SECONDS=60, ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip"}
)
def test_failed_logins_lock_the_account_for_a_growing_time(tenant_a, owner_a):
    client = client_for(tenant_a)
    for _ in range(3):
        log_in(client, owner_a.email, "wrong-password")
    # Locked: even the right password is refused now, with a message saying so.
    response = log_in(client, owner_a.email)
    assert "Too many failed log-in attempts. Try again in 1 minute." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert 55 <= lockout.lock_remaining(email=owner_a.email) <= 60
    # The lock is the account's: another address is refused too.
    other = client_for(tenant_a)
    response = other.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in other.session
    # The lock grows with every further failure.
    assert lockout.lock_seconds_for(3) == 60
    assert lockout.lock_seconds_for(4) == 120
    assert lockout.lock_seconds_for(5) == 240
    assert len(events(tenant_a, "login.failed")) == 3
    locked = events(tenant_a, "login.locked")
    assert locked and locked[0].remote_addr == "127.0.0.1" and locked[0].additional_data["seconds"] == 60


@pytest.mark.django_db
@override_settings(HUB_LOGIN_LOCK_THRESHOLD=3, ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip"})
def test_a_successful_log_in_clears_the_accounts_count(tenant_a, owner_a):
    client = client_for(tenant_a)
    for _ in range(2):
        log_in(client, owner_a.email, "wrong-password")
    assert log_in(client, owner_a.email).status_code == 302
    fresh = client_for(tenant_a)
    for _ in range(2):
        log_in(fresh, owner_a.email, "wrong-password")
    assert lockout.lock_remaining(email=owner_a.email) == 0
    assert log_in(fresh, owner_a.email).status_code == 302


@pytest.mark.django_db
@override_settings(HUB_LOGIN_LOCK_THRESHOLD=2, ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip"})
def test_a_locked_owner_still_gets_in_by_emailed_code_and_a_password_reset_lifts_the_lock(tenant_a, owner_a):
    for _ in range(2):
        log_in(client_for(tenant_a), owner_a.email, "wrong-password")
    assert lockout.lock_remaining(email=owner_a.email) > 0
    # A log-in code checks no password: the lock does not keep the owner out.
    coded = client_for(tenant_a)
    sent = coded.post("/accounts/login/code/", {"email": owner_a.email})
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mail.outbox[-1].body, re.M).group(1)
    coded.post(sent["Location"], {"code": code})
    assert coded.get("/").status_code == 200
    # A password reset lifts the lock.
    public = client_for(None)
    public.post("/accounts/password/reset/", {"email": owner_a.email})
    link = re.search(r"http://localhost(?::\d+)?(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
    form = public.get(link)["Location"]
    public.post(form, {"password1": "a-brand-new-password-5", "password2": "a-brand-new-password-5"})
    assert lockout.lock_remaining(email=owner_a.email) == 0
    assert log_in(client_for(tenant_a), owner_a.email, "a-brand-new-password-5").status_code == 302


@pytest.mark.django_db
@override_settings(HUB_LOGIN_LOCK_THRESHOLD=2, ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip"})
def test_unknown_emails_are_locked_too(tenant_a):
    client = client_for(tenant_a)
    for _ in range(2):
        log_in(client, "nobody@example.com", "wrong-password")
    assert lockout.lock_remaining(email="nobody@example.com") > 0
    failed = platform_events("login.failed", "nobody@example.com")
    assert len(failed) == 2 and failed[-1].additional_data["user_agent"] == ""


@pytest.mark.django_db
@override_settings(
    HUB_LOGIN_LOCK_THRESHOLD=100, HUB_LOGIN_IP_LOCK_THRESHOLD=3, ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip"}
)
def test_an_address_guessing_at_many_accounts_is_locked(tenant_a, tenant_b, owner_a):
    for n, tenant in enumerate((tenant_a, tenant_b, tenant_a)):
        log_in(client_for(tenant), f"target{n}@example.com", "wrong-password")
    # The address is locked, for every account (even with the right password) and on every host.
    response = log_in(client_for(tenant_b), owner_a.email)
    assert "Too many failed log-in attempts" in response.content.decode()
    assert lockout.lock_remaining(ip="127.0.0.1") > 0
    # Another address is not.
    other = client_for(tenant_a)
    response = other.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302


class CountingHasher(MD5PasswordHasher):
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=["tests.identity.test_login_security.CountingHasher"])
def test_a_login_with_an_unknown_email_does_as_much_hashing_as_with_a_known_one(tenant_a):
    """Time is dominated by the password hash (Argon2id: tens of ms, the rest well under 1 ms):
    the same number of hash computations means the same time."""
    from apps.identity.models import User

    User.objects.create_user(email="known@example.com", password="some-password-1")
    counts = {}
    for email in ("known@example.com", "unknown@example.com"):
        CountingHasher.calls = 0
        log_in(client_for(tenant_a), email, "wrong-password")
        counts[email] = CountingHasher.calls
    assert counts["known@example.com"] == counts["unknown@example.com"] >= 1


class SlowCountingHasher(MD5PasswordHasher):
    """Counts password hashes (thread-safe) and takes 50 ms each, as a real hash takes time: a
    burst of parallel log-ins overlaps inside the password check."""

    calls = 0
    lock = threading.Lock()

    def encode(self, password, salt):
        with SlowCountingHasher.lock:
            SlowCountingHasher.calls += 1
        time.sleep(0.05)
        return super().encode(password, salt)


def hashes_per_attempt(client, email) -> int:
    """How many password hashes one failed log-in with `email` computes (one per backend tried)."""
    SlowCountingHasher.calls = 0
    log_in(client, email, "wrong-password")
    return SlowCountingHasher.calls


@pytest.mark.django_db
@override_settings(
    PASSWORD_HASHERS=["tests.identity.test_login_security.SlowCountingHasher"],
    HUB_LOGIN_LOCK_THRESHOLD=5,
    ACCOUNT_RATE_LIMITS={"login_failed": "1000/m/ip,1000/5m/key"},
)
def test_the_account_lock_counts_across_tenant_hosts_and_addresses(tenant_a, tenant_b, owner_a):
    from apps.identity.services import organisation_provision

    tenants = [tenant_a, tenant_b] + [
        organisation_provision(name=f"Extra {n}", slug=f"extra-{n}", owner_email=f"extra{n}@example.com")[0]
        for n in range(4)
    ]
    per_attempt = hashes_per_attempt(client_for(tenant_a), "someone-else@example.com")
    SlowCountingHasher.calls = 0
    refused = 0
    for n, tenant in enumerate(tenants * 2):
        response = client_for(tenant).post(
            "/accounts/login/", {"login": owner_a.email, "password": "wrong-password"}, REMOTE_ADDR=f"10.1.0.{n + 1}"
        )
        refused += "Too many failed log-in attempts" in response.content.decode()
    # Twelve guesses on six hosts from twelve addresses: only five reached the password check.
    assert SlowCountingHasher.calls == 5 * per_attempt
    assert refused == 12 - 5


@pytest.mark.django_db
@override_settings(HUB_LOGIN_LOCK_THRESHOLD=100, ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip,3/5m/key"})
def test_allauths_rate_limits_count_across_tenant_hosts(tenant_a, tenant_b, owner_a):
    from django_redis import get_redis_connection

    for tenant in (tenant_a, tenant_b, tenant_a):
        log_in(client_for(tenant), owner_a.email, "wrong-password")
    response = log_in(client_for(tenant_b), owner_a.email)
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    keys = [k.decode() for k in get_redis_connection("default").keys("*allauth:rl:*")]
    assert keys and all(k.startswith("platform:") for k in keys)


@pytest.mark.django_db
@override_settings(
    PASSWORD_HASHERS=["tests.identity.test_login_security.SlowCountingHasher"],
    HUB_LOGIN_LOCK_THRESHOLD=3,
    ACCOUNT_RATE_LIMITS={"login_failed": "1000/m/ip,1000/5m/key"},
)
def test_a_parallel_burst_gets_no_more_password_checks_than_the_threshold(tenant_a):
    """Twelve log-ins for one account at the same moment, from twelve addresses, on a real
    tenant host (each thread its own client and database connection)."""
    from django.db import connection

    email = "burst-target@example.com"
    per_attempt = hashes_per_attempt(client_for(tenant_a), "warm-up@example.com")
    SlowCountingHasher.calls = 0
    start = threading.Barrier(12)
    answers = []

    def guess(n):
        try:
            client = client_for(tenant_a)
            start.wait()
            response = client.post(
                "/accounts/login/", {"login": email, "password": "wrong-password"}, REMOTE_ADDR=f"10.2.0.{n + 1}"
            )
            answers.append(response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        # The threads' audit entries were committed: remove them.
        committed(lambda: [_delete_entries(schema, email) for schema in ("public", tenant_a.schema_name)])
    assert len(answers) == 12
    assert SlowCountingHasher.calls <= 3 * per_attempt
    assert sum("Too many failed log-in attempts" in a for a in answers) >= 12 - 3


def _delete_entries(schema, email):
    audit_entries_remove(schema, additional_data__email=email)


# --- passwordless ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_passwordless_login_by_an_emailed_code(tenant_a, owner_a):
    client = client_for(tenant_a)
    response = client.post("/accounts/login/code/", {"email": owner_a.email})
    assert response.status_code == 302
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mail.outbox[-1].body, re.M).group(1)
    confirm = client.post(response["Location"], {"code": code})
    assert confirm.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_login_codes_are_rate_limited(tenant_a, owner_a, settings):
    from config.settings import base

    # base.py: at most 3 codes per address in 5 minutes (and 10 a minute per IP address).
    assert base.ACCOUNT_RATE_LIMITS["request_login_code"] == "10/m/ip,3/5m/key"
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "request_login_code": "10/m/ip,3/5m/key"}
    responses = [client_for(tenant_a).post("/accounts/login/code/", {"email": owner_a.email}) for _ in range(5)]
    assert len(mail.outbox) == 3
    assert [r.status_code for r in responses[:3]] == [302, 302, 302]
    assert all("Too many" in r.content.decode() for r in responses[3:])


@pytest.mark.django_db
def test_mandatory_sso_refuses_a_login_code_too(tenant_a):
    from apps.identity.models import Membership, TenantSecurity, User

    TenantSecurity.objects.create(tenant=tenant_a, sso_enabled=True, sso_enforced=True, sso_domains=["example.org"])
    mfa.tenant_security_forget(tenant=tenant_a)
    user = User.objects.create_user(email="coded@example.org", password=PASSWORD)
    Membership.objects.create(user=user, tenant=tenant_a, role="member")
    client = client_for(tenant_a)
    response = client.post("/accounts/login/code/", {"email": user.email})
    if response.status_code == 302 and mail.outbox:
        code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mail.outbox[-1].body, re.M).group(1)
        response = client.post(response["Location"], {"code": code})
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_passwordless_login_still_asks_for_the_second_factor(tenant_a, owner_a):
    TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20, confirmed=True)
    client = client_for(tenant_a)
    response = client.post("/accounts/login/code/", {"email": owner_a.email})
    code = re.search(r"^\s*([A-Z0-9-]{6,})\s*$", mail.outbox[-1].body, re.M).group(1)
    assert client.post(response["Location"], {"code": code})["Location"] == "/accounts/2fa/"
    assert "_auth_user_id" not in client.session


# --- sessions -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sessions_are_listed_and_others_can_be_ended(tenant_a, owner_a):
    phone = client_for(tenant_a)
    phone.post(
        "/accounts/login/",
        {"login": owner_a.email, "password": PASSWORD},
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/604.1",
    )
    laptop = client_for(tenant_a)
    laptop.post(
        "/accounts/login/",
        {"login": owner_a.email, "password": PASSWORD},
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
    )
    page = laptop.get("/security/sessions/").content.decode()
    assert "Safari on iPhone" in page and "Chrome on Linux" in page and "this session</span>" in page
    assert "127.0.0.1" in page
    phone_row = UserSession.objects.get(session_key=phone.session.session_key)
    assert laptop.post(f"/security/sessions/{phone_row.pk}/end/").status_code == 302
    assert phone.get("/")["Location"].startswith("/accounts/login/")
    assert laptop.get("/").status_code == 200


@pytest.mark.django_db
def test_end_all_other_sessions(tenant_a, owner_a):
    clients = [client_for(tenant_a) for _ in range(3)]
    for c in clients:
        log_in(c, owner_a.email)
    clients[0].post("/security/sessions/end-others/")
    assert clients[0].get("/").status_code == 200
    assert all(c.get("/")["Location"].startswith("/accounts/login/") for c in clients[1:])
    assert UserSession.objects.filter(user=owner_a).count() == 1


@pytest.mark.django_db
def test_someone_elses_session_cannot_be_ended(tenant_a, tenant_b, owner_a, owner_b):
    theirs = client_for(tenant_b)
    log_in(theirs, owner_b.email)
    row = UserSession.objects.get(session_key=theirs.session.session_key)
    mine = client_for(tenant_a)
    log_in(mine, owner_a.email)
    assert mine.post(f"/security/sessions/{row.pk}/end/").status_code == 404
    assert theirs.get("/").status_code == 200
    assert owner_b.email not in mine.get("/security/sessions/").content.decode()


@pytest.mark.django_db
def test_a_password_change_ends_the_other_sessions(tenant_a, owner_a):
    first, second = client_for(tenant_a), client_for(tenant_a)
    log_in(first, owner_a.email)
    log_in(second, owner_a.email)
    response = first.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "changed-password-77", "password2": "changed-password-77"},
    )
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/")["Location"].startswith("/accounts/login/")
    assert UserSession.objects.filter(user=owner_a).count() == 1


@pytest.mark.django_db
def test_login_and_logout_are_audited_with_ip_and_user_agent(tenant_a, owner_a):
    client = client_for(tenant_a)
    client.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD}, HTTP_USER_AGENT="AuditAgent/1.0")
    session_key = client.session.session_key
    assert UserSession.objects.filter(user=owner_a, session_key=session_key).exists()
    client.post("/accounts/logout/", HTTP_USER_AGENT="AuditAgent/1.0")
    login, logout = events(tenant_a, "login")[-1], events(tenant_a, "logout")[-1]
    for entry in (login, logout):
        assert entry.remote_addr == "127.0.0.1"
        assert entry.additional_data["user_agent"] == "AuditAgent/1.0"
        assert entry.object_pk == str(owner_a.pk)
    assert not UserSession.objects.filter(session_key=session_key).exists()


# --- SMS through the provider interface -----------------------------------------------------


class FakeTwilio(BaseHTTPRequestHandler):
    received: list = []
    fail = False

    def do_POST(self):  # noqa: N802
        from urllib.parse import parse_qs

        body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        FakeTwilio.received.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        status, payload = (
            (400, {"code": 21211, "message": "The 'To' number is not valid."})
            if FakeTwilio.fail
            else (201, {"sid": "SM123"})
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_twilio(settings):
    server = HTTPServer(("127.0.0.1", 0), FakeTwilio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeTwilio.received, FakeTwilio.fail = [], False
    settings.HUB_SMS_BACKEND = "apps.identity.sms.TwilioSMSBackend"
    settings.HUB_TWILIO_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    settings.HUB_TWILIO_ACCOUNT_SID, settings.HUB_TWILIO_AUTH_TOKEN, settings.HUB_TWILIO_FROM = (
        "AC1",
        "secret",
        "+15005550006",
    )
    yield FakeTwilio
    server.shutdown()


@pytest.mark.django_db
def test_sms_codes_through_the_twilio_adapter(tenant_a, owner_a, fake_twilio):
    import base64

    client = client_for(tenant_a, owner_a)
    bad = client.post("/security/codes/sms/", {"number": "12"})
    assert bad.status_code == 400 and "international form" in bad.content.decode()
    assert client.post("/security/codes/sms/", {"number": "+44 7700 900123"}).status_code == 302
    sent = fake_twilio.received[-1]
    assert sent["path"] == "/2010-04-01/Accounts/AC1/Messages.json"
    assert sent["To"] == ["+447700900123"] and sent["From"] == ["+15005550006"]
    assert sent["auth"] == "Basic " + base64.b64encode(b"AC1:secret").decode()
    code = re.search(r"(\d{6})", sent["Body"][0]).group(1)
    assert client.post("/security/codes/sms/", {"code": code}).status_code == 302
    assert SMSDevice.objects.get(user=owner_a).confirmed


@pytest.mark.django_db
def test_a_refusing_sms_provider_gives_a_clear_message(tenant_a, owner_a, fake_twilio):
    fake_twilio.fail = True
    response = client_for(tenant_a, owner_a).post("/security/codes/sms/", {"number": "+447700900123"})
    assert response.status_code == 502
    assert "The SMS provider refused the message (400)" in response.content.decode()


# --- hand-over ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_handover_carries_a_checked_second_factor_but_not_an_sso_login(tenant_a, tenant_b, owner_a):
    from apps.identity.models import Membership

    Membership.objects.create(user=owner_a, tenant=tenant_b, role="member")
    TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20, confirmed=True)
    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.VERIFIED)
    target = client.post("/switch/beta/")["Location"].split("8000", 1)[1]
    beta = client_for(tenant_b)
    beta.get(target)
    assert beta.get("/").status_code == 200

    set_mfa_state(client, mfa.SSO)
    assert client.post("/switch/beta/")["Location"].endswith("/accounts/login/")


@pytest.mark.django_db
def test_handover_of_an_unverified_session_asks_for_the_factor(tenant_a, tenant_b, owner_a):
    from apps.identity.models import Membership

    Membership.objects.create(user=owner_a, tenant=tenant_b, role="member")
    TOTPDevice.objects.create(user=owner_a, name="app", key="ab" * 20, confirmed=True)
    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.NONE)
    target = client.post("/switch/beta/")["Location"].split("8000", 1)[1]
    beta = client_for(tenant_b)
    beta.get(target)
    assert beta.get("/")["Location"].startswith("/accounts/2fa/")


def test_the_console_sms_backend_logs_the_message(caplog, settings):
    from apps.identity.sms import sms_send

    settings.HUB_SMS_BACKEND = "apps.identity.sms.ConsoleSMSBackend"
    with caplog.at_level("WARNING", logger="apps.identity.sms"):
        assert sms_send(to="+447700900123", body="Your code is 123456") == "console"
    assert "SMS to +447700900123: Your code is 123456" in caplog.text


def test_an_unreachable_sms_provider_is_a_clear_error(settings):
    from apps.identity.sms import SMSError, sms_send

    settings.HUB_SMS_BACKEND = "apps.identity.sms.TwilioSMSBackend"
    settings.HUB_TWILIO_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(SMSError, match="could not be reached"):
        sms_send(to="+447700900123", body="x")
