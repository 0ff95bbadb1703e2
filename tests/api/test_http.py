"""The HTTP rules every endpoint follows: problem+json errors (never HTML under /api/),
versioning with Deprecation/Sunset, ETag/If-None-Match/If-Match, Idempotency-Key, rate limits."""

import json
import time
from unittest import mock

import pytest
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from apps.api.models import IdempotencyRecord
from apps.identity.models import Invitation
from apps.tenancy.services import tenant_set_status
from tests.conftest import client_for, host_of, set_mfa_state

from .conftest import api_client

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
# RFC 9110's reason phrases: every problem's title (RFC 9457 recommends it), the detail says more.
REASON_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    415: "Unsupported Media Type",
    418: "I'm a Teapot",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status and body["detail"]
    assert body["title"] == REASON_PHRASES[status]
    assert body["detail"] != body["title"]
    assert b"<html" not in response.content.lower()
    return body


# --- problem+json everywhere under /api/ ---------------------------------------------------------


def test_unknown_api_path_is_a_404_problem(api_a):
    _problem(api_a.get("/api/v1/no-such-thing/"), 404)
    _problem(api_a.get("/api/"), 404)


def test_unknown_version_is_a_404_problem(api_a):
    body = _problem(api_a.get("/api/v2/members/"), 404)
    assert "version" in body["detail"]


def test_wrong_method_is_a_405_problem_with_allow(api_a):
    response = api_a.put("/api/v1/members/", {}, content_type="application/json")
    _problem(response, 405)
    assert "GET" in response["Allow"]


def test_non_json_body_is_a_415_problem(api_a):
    _problem(api_a.post("/api/v1/invitations/", "email=x", content_type="application/x-www-form-urlencoded"), 415)


def test_malformed_json_is_a_400_problem(api_a):
    _problem(api_a.post("/api/v1/invitations/", "{not json", content_type="application/json"), 400)


def test_validation_error_names_each_field(api_a):
    response = api_a.post(
        "/api/v1/invitations/", {"email": "not-an-email", "role": "emperor"}, content_type="application/json"
    )
    body = _problem(response, 400)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"email", "role"}
    assert all(e["message"] and e["code"] for e in body["errors"])


def test_service_validation_error_names_the_field(api_a, owner_a):
    response = api_a.post(
        "/api/v1/invitations/", {"email": owner_a.email, "role": "member"}, content_type="application/json"
    )
    body = _problem(response, 422)
    assert body["errors"][0]["field"] == "email"
    assert "already a member" in body["errors"][0]["message"]


def test_a_bug_is_a_500_problem_not_an_html_page(tenant_a, key_a):
    client = Client(HTTP_HOST=host_of(tenant_a), HTTP_AUTHORIZATION=f"Bearer {key_a[1]}", raise_request_exception=False)
    with mock.patch("apps.identity.api.views.member_list", side_effect=RuntimeError("boom")):
        response = client.get("/api/v1/members/")
    body = _problem(response, 500)
    assert "boom" not in response.content.decode()
    assert body["title"] == "Internal Server Error"


def test_unknown_tenant_host_is_a_404_problem():
    body = _problem(Client(HTTP_HOST="nobody.localhost").get("/api/v1/tenant/"), 404)
    assert body["detail"] == "No organisation is served at nobody.localhost."
    assert body["code"] == "unknown_host"


def test_disallowed_host_is_a_problem():
    body = _problem(Client(HTTP_HOST="evil.example.org").get("/api/v1/tenant/"), 404)
    assert body["code"] == "unknown_host"


def test_suspended_tenant_is_a_403_problem(tenant_a, key_a):
    tenant_set_status(tenant=tenant_a, status="suspended")
    body = _problem(api_client(tenant_a, key_a[1]).get("/api/v1/tenant/"), 403)
    assert body["detail"] == f"{tenant_a.name} is suspended."
    assert body["code"] == "tenant_suspended"


def test_any_other_error_answer_under_the_api_is_rewritten_as_a_problem(rf):
    """What a layer below answers in HTML (a 418 here) leaves as problem+json, titled alike."""
    from django.http import HttpResponse

    from apps.api.middleware import ProblemJsonMiddleware

    middleware = ProblemJsonMiddleware(lambda request: HttpResponse("<html>teapot</html>", status=418))
    response = middleware(rf.get("/api/v1/tenant/"))
    body = _problem(response, 418)
    assert body["detail"] == "The request failed (I'm a Teapot)."


def test_session_write_without_csrf_token_is_a_403_problem(tenant_a, owner_a):
    client = Client(HTTP_HOST=host_of(tenant_a), enforce_csrf_checks=True)
    client.force_login(owner_a)
    body = _problem(client.patch("/api/v1/tenant/", {"name": "X"}, content_type="application/json"), 403)
    assert "CSRF" in body["detail"]


def test_dashboard_session_can_read_the_api(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).get("/api/v1/members/")
    assert response.status_code == 200
    assert response.json()["results"][0]["email"] == owner_a.email


def test_logged_in_non_member_gets_403(tenant_b, owner_a):
    body = _problem(client_for(tenant_b, owner_a).get("/api/v1/members/"), 403)
    assert "not a member" in body["detail"]


# --- versioning -------------------------------------------------------------------------------


def test_current_version_has_no_deprecation_headers(api_a):
    response = api_a.get("/api/v1/tenant/")
    assert "Deprecation" not in response and "Sunset" not in response


@override_settings(
    HUB_API_DEPRECATED_VERSIONS={
        "v1": {"deprecated": "2026-01-01", "sunset": "2099-07-01", "link": "/developers/docs/"}
    }
)
def test_deprecated_version_carries_deprecation_and_sunset(api_a):
    response = api_a.get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response["Deprecation"] == "@1767225600"
    assert response["Sunset"] == "Wed, 01 Jul 2099 00:00:00 GMT"
    assert 'rel="deprecation"' in response["Link"]
    # Errors of a deprecated version say so too.
    assert api_a.get("/api/v1/members/999999/")["Deprecation"] == "@1767225600"


@override_settings(HUB_API_DEPRECATED_VERSIONS={"v1": {"deprecated": "2020-01-01", "sunset": "2021-01-01"}})
def test_version_past_its_sunset_is_410(api_a):
    body = _problem(api_a.get("/api/v1/tenant/"), 410)
    assert "retired" in body["detail"]


# --- ETag / If-None-Match / If-Match ------------------------------------------------------------


def test_etag_and_if_none_match(api_a):
    first = api_a.get("/api/v1/tenant/")
    etag = first["ETag"]
    assert etag.startswith('"')
    again = api_a.get("/api/v1/tenant/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    api_a.patch("/api/v1/tenant/", {"name": "Alpha Changed"}, content_type="application/json")
    changed = api_a.get("/api/v1/tenant/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_etag_on_member_detail(api_a, owner_a, tenant_a):
    member_id = tenant_a.memberships.get(user=owner_a).pk
    etag = api_a.get(f"/api/v1/members/{member_id}/")["ETag"]
    assert api_a.get(f"/api/v1/members/{member_id}/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_if_match_guards_concurrent_updates(api_a, tenant_a):
    etag = api_a.get("/api/v1/tenant/")["ETag"]
    ok = api_a.patch("/api/v1/tenant/", {"name": "First"}, content_type="application/json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200
    stale = api_a.patch("/api/v1/tenant/", {"name": "Second"}, content_type="application/json", HTTP_IF_MATCH=etag)
    _problem(stale, 412)
    tenant_a.refresh_from_db()
    assert tenant_a.name == "First"


# --- Idempotency-Key -------------------------------------------------------------------------


def _invite(client, email, idempotency_key):
    """POST /api/v1/invitations/ (a member role) with an Idempotency-Key."""
    return client.post(
        "/api/v1/invitations/",
        {"email": email, "role": "member"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
    )


def test_idempotent_post_replays_the_first_response(api_a, tenant_a):
    first = _invite(api_a, "once@example.com", "k-1")
    assert first.status_code == 201
    second = _invite(api_a, "once@example.com", "k-1")
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert Invitation.objects.filter(tenant=tenant_a, email="once@example.com").count() == 1


def test_same_idempotency_key_with_another_body_is_422(api_a):
    """draft-ietf-httpapi-idempotency-key-header: a key reused with a different payload is a 422."""
    _invite(api_a, "a@example.com", "k-2")
    other = _invite(api_a, "b@example.com", "k-2")
    body = _problem(other, 422)
    assert body["code"] == "idempotency_key_reused"
    assert body["title"] == "Unprocessable Content"


def test_same_idempotency_key_on_another_path_is_422(api_a):
    _invite(api_a, "a2@example.com", "k-2b")
    other = api_a.post(
        "/api/v1/api-keys/",
        {"name": "x", "scopes": ["identity:read"]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-2b",
    )
    assert _problem(other, 422)["code"] == "idempotency_key_reused"


def test_the_same_json_serialised_differently_is_the_same_request(api_a, tenant_a):
    first, again = (
        api_a.post("/api/v1/invitations/", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-json")
        for raw in (
            '{"email": "same@example.com", "role": "member"}',
            '{\n  "role":"member",\n  "email":"same@example.com"\n}',
        )
    )
    assert first.status_code == 201
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", " leading-space", "tab\tinside"])
def test_idempotency_key_outside_its_declared_syntax_is_a_400(api_a, key):
    body = _problem(_invite(api_a, "k@example.com", key), 400)
    assert body["errors"][0]["field"] == "Idempotency-Key"


def test_idempotency_key_of_255_printable_characters_is_accepted(api_a):
    assert _invite(api_a, "long@example.com", "~" + "a b" * 84 + "!").status_code == 201


def test_idempotency_key_is_per_caller(tenant_a, api_a):
    from .conftest import make_key

    _, other_raw = make_key(tenant_a, name="other")
    other = api_client(tenant_a, other_raw)
    _invite(api_a, "c@example.com", "k-3")
    response = _invite(other, "d@example.com", "k-3")
    assert response.status_code == 201
    assert response.json()["email"] == "d@example.com"


def test_idempotency_key_expires_after_24_hours(api_a, tenant_a):
    from datetime import timedelta

    from django.utils import timezone

    _invite(api_a, "e@example.com", "k-4")
    with schema_context(tenant_a.schema_name):
        IdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
    again = _invite(api_a, "f@example.com", "k-4")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again


def test_request_in_flight_with_same_key_is_409(api_a, tenant_a, key_a):
    """The same request again while the first one is still being processed: 409 (the draft)."""
    from django.test import RequestFactory

    from apps.api.idempotency import fingerprint

    first = RequestFactory().post(
        "/api/v1/invitations/", {"email": "g@example.com", "role": "member"}, content_type="application/json"
    )
    with schema_context(tenant_a.schema_name):
        IdempotencyRecord.objects.create(principal=f"key:{key_a[0].pk}", key="k-5", fingerprint=fingerprint(first))
    body = _problem(_invite(api_a, "g@example.com", "k-5"), 409)
    assert body["code"] == "idempotency_in_flight"


# --- rate limits -------------------------------------------------------------------------------


@pytest.fixture
def one_window():
    """Starts the test with at least 5 s left in the rate limit's one-minute window, so that its
    calls are all counted in the same window."""
    from apps.api.metering import WINDOW

    left = WINDOW - time.time() % WINDOW
    if left < 5:
        time.sleep(left + 0.05)


def test_rate_limit_headers_on_every_response(api_a, one_window):
    """draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy and RateLimit, structured fields."""
    import re

    response = api_a.get("/api/v1/tenant/")
    assert response["RateLimit-Policy"] == '"default";q=120;w=60'  # alpha is on the free plan
    remaining, reset = re.fullmatch(r'"default";r=(\d+);t=(\d+)', response["RateLimit"]).groups()
    assert remaining == "119" and 1 <= int(reset) <= 60
    assert api_a.get("/api/v1/tenant/")["RateLimit"].startswith('"default";r=118;t=')
    # The fields of the draft's earlier versions, deprecated, for the clients that read them.
    assert response["RateLimit-Limit"] == "120"
    assert response["RateLimit-Remaining"] == "119"
    assert response["RateLimit-Reset"] == reset


@override_settings(HUB_API_RATE_LIMITS={"free": 3, "team": 5, "enterprise": 7})
def test_rate_limit_exceeded_is_429_with_retry_after(api_a, tenant_a, key_a, one_window):
    for _ in range(3):
        assert api_a.get("/api/v1/tenant/").status_code == 200
    response = api_a.get("/api/v1/tenant/")
    body = _problem(response, 429)
    assert int(response["Retry-After"]) >= 1
    assert response["RateLimit"] == f'"default";r=0;t={response["Retry-After"]}'
    assert response["RateLimit-Remaining"] == "0"
    assert body["detail"]
    # Per key: another key of the same tenant has its own budget.
    from .conftest import make_key

    assert api_client(tenant_a, make_key(tenant_a, name="second")[1]).get("/api/v1/tenant/").status_code == 200


@override_settings(HUB_API_RATE_LIMITS={"free": 3, "team": 5, "enterprise": 7})
def test_rate_limit_follows_the_plan(api_a, tenant_a):
    tenant_a.plan = "enterprise"
    tenant_a.save()
    assert api_a.get("/api/v1/tenant/")["RateLimit-Policy"] == '"default";q=7;w=60'


# --- Redis down ----------------------------------------------------------------------------------


@override_settings(HUB_API_KEY_RECHECK_SECONDS=0)  # noticed at once, not after up to a second
def test_with_redis_down_calls_go_on_unlimited_and_keys_are_checked_in_the_database(tenant_a, key_a):
    from django.conf import settings

    key, raw = key_a
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/tenant/").status_code == 200  # cached while Redis was up
    down = {name: {**config, "LOCATION": "redis://127.0.0.1:1/0"} for name, config in settings.CACHES.items()}
    with override_settings(CACHES=down):
        response = client.get("/api/v1/tenant/")
        assert response.status_code == 200
        assert "RateLimit" not in response and "RateLimit-Limit" not in response
        # Revoked by another process, which could not tell anyone through Redis: still refused.
        from django.utils import timezone

        from apps.api.models import ApiKey

        with schema_context(tenant_a.schema_name):
            ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
        assert client.get("/api/v1/tenant/").status_code == 401


def test_a_session_held_by_its_second_factor_gets_a_problem_not_a_redirect(tenant_a, owner_a):
    from apps.identity import mfa

    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, mfa.PENDING)
    body = _problem(client.get("/api/v1/members/"), 403)
    assert body["code"] == "redirected"


def test_trailing_slash_redirect_stays_inside_the_api(api_a):
    response = api_a.get("/api/v1/members")
    assert response.status_code == 301
    assert response["Location"].endswith("/api/v1/members/")


@override_settings(HUB_API_RATE_LIMITS={"free": 1000, "team": 1000, "enterprise": 1000})
def test_a_busy_key_reserves_calls_in_leases_and_never_passes_its_limit(api_a, key_a, tenant_a, one_window):
    from apps.api.keycache import redis
    from apps.api.metering import WINDOW, lease_size

    assert lease_size(1000) == 10
    key, _ = key_a
    counters = lambda: list(redis().scan_iter(match=f"hub:api:rl:{tenant_a.schema_name}:key:{key.pk}:*"))  # noqa: E731
    remaining = [api_a.get("/api/v1/tenant/")["RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["999", "998", "997"]  # as if counted one by one
    [counter] = counters()
    assert int(redis().get(counter)) == 10  # one lease of 10 calls: Redis was asked once
    # Other processes take all but 5 of the rest of the window: this process's lease runs out
    # (7 more calls), its next lease gets the last 5, and the call after them is refused.
    redis().incrby(counter, 1000 - 10 - 5)
    statuses = [api_a.get("/api/v1/tenant/").status_code for _ in range(7 + 5 + 1)]
    assert statuses == [200] * 12 + [429]
    assert 0 < redis().ttl(counter) <= WINDOW + 5


def test_usage_reaches_redis_within_seconds_without_a_reader(api_a, key_a, tenant_a):
    """Other processes (the usage page, the flush task) see a process's calls once its
    background flush has run."""
    from datetime import UTC, datetime

    from apps.api.keycache import redis
    from apps.api.metering import FLUSH_SECONDS, usage_key

    key, _ = key_a
    for _ in range(2):
        api_a.get("/api/v1/tenant/")
    name = usage_key(tenant_a.schema_name, datetime.now(UTC).date().isoformat())
    deadline = time.monotonic() + FLUSH_SECONDS * 5
    while redis().hget(name, str(key.pk)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int(redis().hget(name, str(key.pk))) == 2
