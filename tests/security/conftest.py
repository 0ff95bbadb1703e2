"""Threat-detection fixtures: a small GeoIP city database written for the test (the MaxMind DB
format, by mmdb-writer) mapping documentation networks to cities, and log-ins as a browser makes
them (the real log-in form, from an address and a browser of the test's choosing)."""

import pytest
from django.test import Client
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tests.conftest import PASSWORD, host_of
from tests.events.fixtures import eager_tasks, run_now  # noqa: F401

CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"

# Documentation and test networks (RFC 5737, RFC 3849), each a city.
CITIES = {
    "192.0.2.0/24": ("GB", "United Kingdom", "London", 51.5072, -0.1276),
    "198.51.100.0/24": ("GB", "United Kingdom", "Manchester", 53.4808, -2.2426),
    "203.0.113.0/24": ("AU", "Australia", "Sydney", -33.8688, 151.2093),
    "2001:db8::/48": ("JP", "Japan", "Tokyo", 35.6762, 139.6503),
}
LONDON, MANCHESTER, SYDNEY, TOKYO = "192.0.2.10", "198.51.100.20", "203.0.113.30", "2001:db8::7"


def write_city_database(path) -> None:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    for network, (iso, country, city, lat, lon) in CITIES.items():
        writer.insert_network(
            IPSet([network]),
            {
                "country": {"iso_code": iso, "names": {"en": country}},
                "city": {"names": {"en": city}},
                "location": {"latitude": lat, "longitude": lon},
            },
        )
    writer.to_db_file(str(path))


@pytest.fixture
def geoip(settings, tmp_path):
    path = tmp_path / "GeoLite2-City.mmdb"
    write_city_database(path)
    settings.HUB_GEOIP_DATABASE = str(path)
    return path


@pytest.fixture(autouse=True)
def _fresh_networks():
    from apps.security import detect

    detect.forget_networks()
    yield
    detect.forget_networks()


def log_in(tenant, email, *, ip, password=PASSWORD, ua=CHROME_LINUX) -> Client:
    """The log-in form posted from `ip` with the browser `ua`; the client, logged in or not."""
    client = Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)
    client.post("/accounts/login/", {"login": email, "password": password})
    return client


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session
