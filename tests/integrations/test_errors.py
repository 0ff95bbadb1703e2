"""Failures of the service behind a connection, each a ConnectorError saying why and whether to
retry: down, timing out, 5xx and 429 (retryable), 4xx (not), a refused credential (not, and the
connection marked), an address the SSRF guard refuses (nothing sent)."""

import time

import pytest
from django_tenants.utils import schema_context

from apps.integrations.errors import ConnectorError, CredentialError
from tests.processes import free_port

from .conftest import make_connection, run_node

pytestmark = pytest.mark.django_db


def _call(tenant, conn, path="/x"):
    return run_node(tenant, "http.request", {"credential": conn.pk, "path": path})


@pytest.mark.parametrize(
    "status, body, retryable, words",
    [
        (500, {"message": "boom"}, True, "500 Internal Server Error: boom"),
        (503, b"maintenance", True, "503 Service Unavailable: maintenance"),
        (429, {"error": "slow down"}, True, "429 Too Many Requests: slow down"),
        (404, {"message": "no such thing"}, False, "404 Not Found: no such thing"),
        (422, {"errors": ["title is missing"]}, False, "422 Unprocessable"),
    ],
)
def test_error_statuses_are_connector_errors_with_the_services_reason(tenant_a, fake, status, body, retryable, words):
    fake.route("GET", "/x")(lambda r: (status, body))
    conn = make_connection(tenant_a, base_url=fake.url)
    with pytest.raises(ConnectorError) as error:
        _call(tenant_a, conn)
    assert words in error.value.message and error.value.retryable is retryable and error.value.status == status
    assert not isinstance(error.value, CredentialError)


def test_a_refused_credential_marks_the_connection_with_the_reason(tenant_a, fake):
    fake.route("GET", "/x")(lambda r: (401, {"message": "Bad credentials"}))
    conn = make_connection(tenant_a, base_url=fake.url)
    with pytest.raises(CredentialError, match="401 Unauthorized: Bad credentials") as error:
        _call(tenant_a, conn)
    assert error.value.retryable is False
    with schema_context(tenant_a.schema_name):
        conn.refresh_from_db()
    assert conn.status == "expired" and "Bad credentials" in conn.status_reason


def test_a_service_that_is_down_is_retryable(tenant_a):
    conn = make_connection(tenant_a, base_url=f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(ConnectorError, match="down or unreachable") as error:
        _call(tenant_a, conn)
    assert error.value.retryable is True


def test_a_service_that_does_not_answer_in_time_is_retryable(tenant_a, fake, settings):
    settings.HUB_INTEGRATIONS_TIMEOUT_SECONDS = 0.5
    fake.route("GET", "/x")(lambda r: (time.sleep(2), (200, {}))[1])
    conn = make_connection(tenant_a, base_url=fake.url)
    started = time.monotonic()
    with pytest.raises(ConnectorError, match="did not answer within 0.5 s") as error:
        _call(tenant_a, conn)
    assert error.value.retryable is True and time.monotonic() - started < 1.8


def test_production_rules_refuse_loopback_and_send_nothing(tenant_a, fake, settings):
    conn = make_connection(tenant_a, base_url=fake.url)
    settings.HUB_INTEGRATIONS_ALLOW_LOOPBACK = False
    with pytest.raises(ConnectorError, match="may not be reached") as error:
        _call(tenant_a, conn)
    assert error.value.retryable is False and fake.requests == []
