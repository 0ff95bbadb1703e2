"""The evaluation fast path (apps.flags.fastpath), driven as uvicorn drives the ASGI application:
what it answers equals the view's answer (status, body, headers), it never reads the database (the
test runs it in an event loop, where Django refuses database access), and whatever it cannot answer
from memory reaches the view with its body intact: bad input, unknown or revoked keys, another
tenant's key, a changed flag, a rate limit reached."""

import asyncio
import gc
import json

import pytest
from django.test import override_settings
from django_redis import get_redis_connection
from django_tenants.utils import schema_context

from apps.api.metering import meter
from apps.api.services import api_key_revoke
from apps.core import metrics
from apps.flags import selectors, services
from apps.flags.fastpath import EvaluateFastPath
from tests.analytics.conftest import host_client, post_json, project_key, stored, write
from tests.api.conftest import api_client, make_key
from tests.conftest import host_of

from .conftest import make_flag

pytestmark = pytest.mark.django_db
EVALUATE = "/api/v1/flags/evaluate"
VARIANTS = {"variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]}
TO_DJANGO = 599  # the stand-in for Django below answers with this status


class Sent:
    def __init__(self, status, headers, body, inner_body):
        self.status, self.headers, self.body, self.inner_body = status, headers, body, inner_body

    @property
    def answered(self) -> bool:
        """Whether the fast path answered itself (the application behind it was not called)."""
        return self.inner_body is None

    def json(self):
        return json.loads(self.body)


def call(host: str, body: bytes, headers: dict | None = None, *, path=EVALUATE, chunks: int = 1) -> Sent:
    """One request through EvaluateFastPath in front of an application that records the body it
    receives (Django's place), the body sent in `chunks` messages."""
    return asyncio.run(sending(EvaluateFastPath(None), host, body, headers, path=path, chunks=chunks))


async def sending(app, host, body, headers=None, *, path=EVALUATE, chunks=1) -> Sent:
    headers = {"host": host, "content-type": "application/json", **(headers or {})}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    size = -(-len(body) // chunks) if body else 1
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    received, sent = [], []

    async def inner(scope, receive, send):
        while True:
            message = await receive()
            received.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": TO_DJANGO, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    app.inner = inner
    await app(scope, receive, send)
    start, end = sent
    answer = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    inner_body = b"".join(received) if start["status"] == TO_DJANGO else None
    return Sent(start["status"], answer, end["body"], inner_body)


def view(client, body: dict, **headers):
    """The same request through Django (the test client); it also fills this process's caches."""
    return post_json(client, EVALUATE, body, **headers)


@pytest.fixture
def flags(tenant_a):
    make_flag(
        tenant_a,
        "checkout",
        filters={
            "groups": [{"properties": [{"key": "plan", "operator": "exact", "value": "pro", "type": "person"}]}],
            "multivariate": VARIANTS,
            "payloads": {"test": {"colour": "green"}, "control": {"colour": "grey"}},
        },
    )
    make_flag(tenant_a, "org-half", filters={"aggregation_group_type_index": 0, "groups": [{"rollout_percentage": 50}]})
    make_flag(tenant_a, "off", active=False)


@pytest.fixture
def key_a(tenant_a):
    return make_key(tenant_a, scope_list=["flags:read"])[1]


DYNAMIC = {"X-Request-ID", "RateLimit", "RateLimit-Remaining", "RateLimit-Reset"}


def same_answer(django, fast: Sent) -> None:
    assert fast.answered and fast.status == django.status_code == 200, (fast.status, fast.body)
    assert fast.json() == django.json()
    theirs = {k: v for k, v in django.items() if k not in DYNAMIC}
    ours = {k: v for k, v in fast.headers.items() if k not in DYNAMIC}
    # The view's request touched the session (the middlewares ask who is logged in), so its answer
    # varies by Cookie too; the fast path's does not.
    vary = set(theirs.pop("Vary").split(", "))
    assert "Cookie" in vary and set(ours.pop("Vary").split(", ")) == vary - {"Cookie"}
    assert ours == theirs
    assert DYNAMIC <= fast.headers.keys()


@pytest.mark.parametrize(
    "case",
    ["api key", "api key, some flags", "project key in the header", "project key in the body", "allowed origin"],
)
def test_the_fast_path_answers_as_the_view_does(tenant_a, flags, key_a, case):
    _, browser_key = project_key(tenant_a, origins=["https://www.alpha.test"])
    body = {"distinct_id": "u-7", "properties": {"plan": "pro"}, "groups": {"organisation": "acme"}, "exposures": False}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key_a}"}
    if case == "api key, some flags":
        body["flags"] = ["checkout", "off"]
    elif case == "project key in the header":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {browser_key}"}
    elif case in ("project key in the body", "allowed origin"):
        body["api_key"], headers = browser_key, {}
        if case == "allowed origin":
            headers["HTTP_ORIGIN"] = "https://www.alpha.test"
    django = view(host_client(tenant_a), body, **headers)
    fast = call(host_of(tenant_a), json.dumps(body).encode(), {k[5:].replace("_", "-"): v for k, v in headers.items()})
    same_answer(django, fast)
    assert fast.json()["flags"]["checkout"]["variant"] in ("control", "test")
    if case == "api key, some flags":
        assert fast.json()["flags"].keys() == {"checkout", "off"}
    if case == "allowed origin":
        assert fast.headers["Access-Control-Allow-Origin"] == "https://www.alpha.test"


def test_it_records_exposures_counts_the_call_and_keeps_the_request_id(tenant_a, flags, key_a):
    view(api_client(tenant_a, key_a), {"distinct_id": "warm", "exposures": False})
    counted = metrics.labelled(metrics.http_requests, "api:flags-evaluate", "POST", "200", tenant_a.plan)
    before = counted._value.get()
    fast = call(
        host_of(tenant_a),
        b'{"distinct_id": "u-1", "properties": {"plan": "pro"}}',
        {"authorization": f"Bearer {key_a}", "x-request-id": "trace-me-1"},
    )
    assert fast.answered and fast.status == 200
    assert fast.headers["X-Request-ID"] == "trace-me-1"
    assert counted._value.get() == before + 1
    meter.flush()
    usage = get_redis_connection("default").hgetall(f"hub:api:usage:{tenant_a.schema_name}:" + _today())
    assert sum(int(v) for v in usage.values()) >= 2  # the warm-up call and this one
    write(tenant_a)
    called = {r.properties["$feature_flag"] for r in stored(tenant_a, event="$feature_flag_called")}
    assert called == {"checkout", "org-half", "off"}


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d")


BODY = {"distinct_id": "u-1", "exposures": False}


@pytest.mark.parametrize(
    "body, headers",
    [
        ({"distinct_id": 7}, {}),  # the serializer converts a number: it says so itself
        ({"distinct_id": " padded "}, {}),
        ({"distinct_id": "x" * 201}, {}),
        ({"distinct_id": "tab\there"}, {}),
        ({"properties": {}}, {}),
        ({"distinct_id": "u", "properties": []}, {}),
        ({"distinct_id": "u", "properties": None}, {}),
        ({"distinct_id": "u", "groups": {"organisation": 5}}, {}),
        ({"distinct_id": "u", "groups": {"organisation": ""}}, {}),
        ({"distinct_id": "u", "group_properties": {"organisation": "x"}}, {}),
        ({"distinct_id": "u", "flags": "checkout"}, {}),
        ({"distinct_id": "u", "flags": ["x"] * 501}, {}),
        ({"distinct_id": "u", "exposures": "false"}, {}),
        ({"distinct_id": "u", "api_key": 5}, {}),
        ([BODY], {}),
        (b'{"distinct_id": "u", "properties": {"n": NaN}}', {}),
        (b'{"distinct_id": "u",', {}),
        ('{"distinct_id": "\u00e9"}'.encode("latin-1"), {}),
        (BODY, {"content-type": "text/plain"}),
        (BODY, {"content-type": "application/json; charset=latin-1"}),
        (BODY, {"content-encoding": "gzip"}),
        (BODY, {"accept": "text/html"}),
        (BODY, {"accept": "application/json; indent=4"}),
        (BODY, {"idempotency-key": "retry-1"}),
        (BODY, {"authorization": ""}),  # no credential: the view's 401
        (BODY, {"authorization": "Bearer hub_00000000_unknown"}),
        (BODY, {"authorization": "Bearer phc_00000000_unknown"}),
        (BODY, {"authorization": "Basic dXNlcjpwYXNz"}),
        (BODY, {"authorization": "", "cookie": "sessionid=abc"}),  # a member's session: the view's rules
        (BODY, {"host": "nobody.localhost"}),
        (BODY, {"host": "evil.example"}),
    ],
)
def test_what_it_cannot_answer_from_memory_reaches_the_view_with_its_body(tenant_a, flags, key_a, body, headers):
    view(api_client(tenant_a, key_a), BODY)  # everything it could use is warm
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = call(host_of(tenant_a), raw, {"authorization": f"Bearer {key_a}", **headers}, chunks=2)
    assert not sent.answered and sent.status == TO_DJANGO
    assert sent.inner_body == raw


def test_the_view_answers_the_cases_it_leaves_as_the_api_does(tenant_a, flags, key_a):
    client = api_client(tenant_a, key_a)
    assert view(client, {"distinct_id": 7}).status_code == 200  # converted, as before
    refused = view(client, {"distinct_id": "u", "exposures": "maybe"})
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["exposures"]


def test_a_large_body_and_a_client_that_leaves_go_to_django(tenant_a, flags, key_a):
    view(api_client(tenant_a, key_a), BODY)
    large = json.dumps({**BODY, "properties": {"blob": "x" * 70_000}}).encode()
    sent = call(host_of(tenant_a), large, {"authorization": f"Bearer {key_a}"}, chunks=8)
    assert not sent.answered and sent.inner_body == large


def test_another_tenants_keys_are_never_taken(tenant_a, tenant_b, flags, key_a):
    """A's keys are in this process's cache (A's calls warmed it); on B's host they are not B's."""
    _, browser_a = project_key(tenant_a)
    view(api_client(tenant_a, key_a), BODY)
    view(host_client(tenant_a), {**BODY, "api_key": browser_a})
    view(api_client(tenant_b, make_key(tenant_b, scope_list=["flags:read"])[1]), BODY)  # B warm too
    for headers, body in (({"authorization": f"Bearer {key_a}"}, BODY), ({}, {**BODY, "api_key": browser_a})):
        sent = call(host_of(tenant_b), json.dumps(body).encode(), headers)
        assert not sent.answered
        assert post_json(host_client(tenant_b), EVALUATE, body, **_meta(headers)).status_code == 401


def _meta(headers: dict) -> dict:
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}


def test_a_key_without_the_scope_or_a_role_without_the_permission_is_left_to_the_view(tenant_a, flags):
    raw = make_key(tenant_a, scope_list=["analytics:read"])[1]
    assert view(api_client(tenant_a, raw), BODY).status_code == 403
    assert not call(host_of(tenant_a), json.dumps(BODY).encode(), {"authorization": f"Bearer {raw}"}).answered


def test_a_refused_origin_is_left_to_the_view(tenant_a, flags):
    _, raw = project_key(tenant_a, origins=["https://www.alpha.test"])
    body = {**BODY, "api_key": raw}
    assert view(host_client(tenant_a), body).status_code == 200
    assert not call(host_of(tenant_a), json.dumps(body).encode(), {"origin": "https://evil.test"}).answered
    refused = view(host_client(tenant_a), body, HTTP_ORIGIN="https://evil.test")
    assert refused.status_code == 403 and "evil.test" in refused.json()["detail"]


def test_a_revoked_key_stops_at_once(tenant_a, flags, key_a, django_capture_on_commit_callbacks):
    view(api_client(tenant_a, key_a), BODY)
    assert call(host_of(tenant_a), json.dumps(BODY).encode(), {"authorization": f"Bearer {key_a}"}).answered
    with schema_context(tenant_a.schema_name):
        from apps.api.models import ApiKey

        key = ApiKey.objects.get(prefix=key_a[: len("hub_") + 8])
        with django_capture_on_commit_callbacks(execute=True):
            api_key_revoke(actor=None, key=key)
    assert not call(host_of(tenant_a), json.dumps(BODY).encode(), {"authorization": f"Bearer {key_a}"}).answered
    assert view(api_client(tenant_a, key_a), BODY).status_code == 401


def test_a_flag_changed_in_another_process_is_compiled_again_first(tenant_a, flags, key_a):
    view(api_client(tenant_a, key_a), BODY)
    assert selectors.compiled_flags(schema=tenant_a.schema_name, cached_only=True) is not None
    get_redis_connection("default").incr(selectors.version_key(tenant_a.schema_name))  # its commit
    selectors._versions.clear()  # as if RECHECK_SECONDS had passed
    assert selectors.compiled_flags(schema=tenant_a.schema_name, cached_only=True) is None
    assert not call(host_of(tenant_a), json.dumps(BODY).encode(), {"authorization": f"Bearer {key_a}"}).answered
    view(api_client(tenant_a, key_a), BODY)  # the view compiles them again
    assert call(host_of(tenant_a), json.dumps(BODY).encode(), {"authorization": f"Bearer {key_a}"}).answered


def test_a_change_here_is_published_to_the_other_processes(tenant_a, flags, django_capture_on_commit_callbacks):
    versions = get_redis_connection("default")
    before = int(versions.get(selectors.version_key(tenant_a.schema_name)) or 0)
    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        from apps.flags.models import Flag

        services.flag_update(tenant=tenant_a, actor=None, flag=Flag.objects.get(key="off"), active=True)
    assert int(versions.get(selectors.version_key(tenant_a.schema_name))) == before + 1


def test_flags_naming_a_cohort_are_left_to_the_view(tenant_a, key_a):
    from apps.analytics.models import Cohort

    with schema_context(tenant_a.schema_name):
        cohort = Cohort.objects.create(name="Pros", kind=Cohort.STATIC)
    conditions = [{"type": "cohort", "key": "id", "value": cohort.pk}]
    make_flag(tenant_a, "pros", filters={"groups": [{"properties": conditions}]})
    view(api_client(tenant_a, key_a), BODY)
    assert not call(host_of(tenant_a), json.dumps(BODY).encode(), {"authorization": f"Bearer {key_a}"}).answered


@override_settings(HUB_API_RATE_LIMITS={"free": 2, "team": 2, "enterprise": 2})
def test_the_rate_limit_holds_and_its_429_is_the_apis(tenant_a, flags, key_a):
    meter.clear()
    assert view(api_client(tenant_a, key_a), BODY).status_code == 200
    headers = {"authorization": f"Bearer {key_a}"}
    assert call(host_of(tenant_a), json.dumps(BODY).encode(), headers).status == 200
    fast = call(host_of(tenant_a), json.dumps(BODY).encode(), headers)
    django = view(api_client(tenant_a, key_a), BODY)
    assert fast.answered and fast.status == django.status_code == 429
    assert fast.headers["Content-Type"] == django["Content-Type"] == "application/problem+json"
    assert fast.json()["code"] == django.json()["code"] == "throttled"
    assert fast.headers["RateLimit"].startswith('"default";r=0;')
    assert 0 < int(fast.headers["Retry-After"]) <= 60
    meter.clear()


def test_an_answer_leaves_nothing_for_the_garbage_collector(tenant_a, flags, key_a):
    """Objects in reference cycles wait for the collector, and collecting the cycles of some
    thousand requests at once stalled a worker for 50-150 ms: the benchmark's p95 tripled."""
    view(api_client(tenant_a, key_a), BODY)
    app, headers = EvaluateFastPath(None), {"authorization": f"Bearer {key_a}"}

    async def answers(n):
        for i in range(n):
            body = json.dumps({**BODY, "distinct_id": f"u-{i}", "groups": {"organisation": "acme"}}).encode()
            assert (await sending(app, host_of(tenant_a), body, headers)).answered

    def garbage(n: int) -> int:
        gc.collect()
        gc.disable()
        try:
            asyncio.run(answers(n))
            return gc.collect()
        finally:
            gc.enable()

    garbage(1)
    assert garbage(201) - garbage(1) < 50  # 200 answers; a request left in a cycle leaves ~24 objects
