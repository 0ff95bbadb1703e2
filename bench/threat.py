"""threat_detect_ms: the time from a log-in to the security incident it raises, under a load of
log-ins (target 200 a second, as many as this machine serves), on the ASGI server as the Dockerfile
runs it (uvicorn, 2 workers, `bench.settings_threat`), with a GeoIP city database written for the
run (London, Sydney).

Each of USERS members first logs in once from London (their baseline). Then, for SECONDS, log-ins
are sent at the target rate from LOAD_THREADS threads: most are normal (a member from London, the
browser they used before; one in twenty with a wrong password), one in twenty is an attack: a member
who has not been attacked yet logs in from Sydney (a new country, and a journey of 17,000 km in
seconds: impossible travel). The client notes when it sent each attack; the server stamps each
incident when it writes it (`raised_at`): p95 of the differences is threat_detect_ms (same clock,
one machine). The same load with detection off (HUB_THREAT_DETECTION=0) gives the log-in latency
without it:

- threat_detect_ms: p95 from sending the attacking log-in to its impossible-travel incident row;
- threat_login_p95_ms / threat_login_off_p95_ms: p95 of every log-in's response time, detection
  on / off; threat_logins_per_s: the rate the server kept up with.
"""

import http.client
import random
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import asgi_server, fresh_tenant, log, percentile, report

USERS = 400
SECONDS = 8
TARGET_PER_S = 200
LOAD_THREADS = 48
PASSWORD = "bench-threat-password"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
LONDON, SYDNEY = "192.0.2.", "203.0.113."


def _geoip(folder: Path) -> str:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    for network, country, city, lat, lon in (
        ("192.0.2.0/24", ("GB", "United Kingdom"), "London", 51.5072, -0.1276),
        ("203.0.113.0/24", ("AU", "Australia"), "Sydney", -33.8688, 151.2093),
    ):
        writer.insert_network(
            IPSet([network]),
            {
                "country": {"iso_code": country[0], "names": {"en": country[1]}},
                "city": {"names": {"en": city}},
                "location": {"latitude": lat, "longitude": lon},
            },
        )
    path = folder / "GeoLite2-City.mmdb"
    writer.to_db_file(str(path))
    return str(path)


def _members(tenant) -> list[str]:
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import MD5PasswordHasher

    from apps.identity.models import Membership, User

    hashed = MD5PasswordHasher().encode(PASSWORD, "benchsalt")
    emails = [f"m{i}@{tenant.slug}.example.com" for i in range(USERS)]
    # Accounts a previous run made are used again (deleting a user would reach into every schema).
    known = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    User.objects.bulk_create([User(email=e, full_name="Bench member") for e in emails if e not in known])
    User.objects.filter(email__in=emails).update(password=hashed, is_active=True)
    users = User.objects.filter(email__in=emails)
    EmailAddress.objects.filter(email__in=emails).update(verified=True, primary=True)
    verified = set(EmailAddress.objects.filter(email__in=emails).values_list("email", flat=True))
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users if u.email not in verified]
    )
    Membership.objects.bulk_create([Membership(user=u, tenant=tenant, role="member") for u in users])
    return emails


class Client:
    """One thread's connection: a CSRF token fetched once, then log-in POSTs without a session
    (each a new visitor), the address given in X-Forwarded-For (uvicorn's --proxy-headers)."""

    def __init__(self, port: int, host: str):
        self.port, self.host = port, host
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", "/accounts/login/", headers={"Host": host})
        response = self.conn.getresponse()
        body = response.read().decode()
        cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        self.cookie = f"csrftoken={cookie}"

    def log_in(self, email: str, password: str, ip: str) -> float:
        form = f"csrfmiddlewaretoken={self.token}&login={email}&password={password}"
        headers = {
            "Host": self.host, "Cookie": self.cookie, "User-Agent": CHROME, "X-Forwarded-For": ip,
            "Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{self.host}/accounts/login/",
        }  # fmt: skip
        started = time.perf_counter()
        self.conn.request("POST", "/accounts/login/", body=form, headers=headers)
        response = self.conn.getresponse()
        response.read()
        if response.status not in (200, 302):
            raise RuntimeError(f"log-in answered {response.status}")
        return (time.perf_counter() - started) * 1000


def _run_load(port: int, host: str, emails: list[str], attack: bool) -> tuple[list[float], dict[str, float], float]:
    """Sends the mixed load for SECONDS from LOAD_THREADS threads, each paced to its share of
    TARGET_PER_S (a thread whose log-in takes longer sends its next one at once: the server's
    capacity caps the rate). Returns (every log-in's ms, attacked email -> epoch sent, log-ins per s)."""
    times, sent, lock = [], {}, threading.Lock()
    victims = iter(random.sample(emails, len(emails)))
    counter = iter(range(10**9))
    started = time.perf_counter()
    deadline = started + SECONDS
    every = LOAD_THREADS / TARGET_PER_S

    def worker(k: int):
        client = Client(port, host)
        due = started + k * every / LOAD_THREADS
        while True:
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if time.perf_counter() >= deadline:
                return
            due += every
            with lock:
                n = next(counter)
                ip, email, password = f"{LONDON}{n % 200 + 1}", random.choice(emails), PASSWORD
                if attack and n % 20 == 10:
                    email, ip = next(victims), f"{SYDNEY}{n % 200 + 1}"
                    sent[email] = time.time()
                elif n % 20 == 5:
                    password = "wrong-password"
            ms = client.log_in(email, password, ip)
            with lock:
                times.append(ms)

    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(worker, range(LOAD_THREADS)))
    return times, sent, len(times) / (time.perf_counter() - started)


def _baseline(port: int, host: str, emails: list[str]) -> None:
    def first(chunk):
        client = Client(port, host)
        for i, email in chunk:
            client.log_in(email, PASSWORD, f"{LONDON}{i % 200 + 1}")

    chunks = [list(enumerate(emails))[k::16] for k in range(16)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(first, chunks))


def threat_detect_ms():
    from django.conf import settings
    from django_tenants.utils import schema_context

    from apps.security.models import Incident

    with tempfile.TemporaryDirectory() as folder, fresh_tenant("bench-threat", "Bench threat") as tenant:
        emails = _members(tenant)
        host = f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
        env = {"HUB_GEOIP_DATABASE": _geoip(Path(folder))}
        results, delays = {}, []
        for detection in ("1", "0"):
            env["HUB_THREAT_DETECTION"] = detection
            server = asgi_server(
                "bench.settings_threat", workers=2, ready_host=host, ready_path="/accounts/login/", env=env
            )
            with server as (_, port):
                _baseline(port, host, emails)
                with schema_context(tenant.schema_name):
                    Incident.objects.all().delete()
                times, sent, rate = _run_load(port, host, emails, attack=detection == "1")
                results[detection] = (times, rate)
                log(f"detection {'on' if detection == '1' else 'off'}: {len(times)} log-ins at {rate:.0f}/s")
            if detection == "1":
                with schema_context(tenant.schema_name):
                    found = Incident.objects.filter(rule="impossible_travel")
                    raised = {i.email: i.raised_at.timestamp() for i in found}
                missed = [e for e in sent if e not in raised]
                if missed:
                    raise RuntimeError(f"{len(missed)} of {len(sent)} attacks raised no incident, e.g. {missed[0]}")
                delays = [(raised[e] - at) * 1000 for e, at in sent.items()]
        report("threat_detect_ms", percentile(delays, 95), "ms")
        report("threat_login_p95_ms", percentile(results["1"][0], 95), "ms")
        report("threat_login_off_p95_ms", percentile(results["0"][0], 95), "ms")
        report("threat_logins_per_s", results["1"][1], "log-ins/s", digits=0)
        report("threat_logins_off_per_s", results["0"][1], "log-ins/s", digits=0)
