"""The analytics pages: project keys (admins), live events and persons (viewers and up), the
dashboards' own page-view snippet; each page's tenant isolation and roles."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from apps.analytics import selectors, services
from apps.analytics.models import PageViewSettings, ProjectKey
from apps.events.models import Event as DomainEvent
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import host_client, post_json, project_key, write

pytestmark = pytest.mark.django_db

KEYS, EVENTS, PERSONS = "/analytics/keys/", "/analytics/events/", "/analytics/persons/"


def send(tenant, raw, *events):
    start = datetime.now(UTC) - timedelta(minutes=5)
    batch = [{**e, "timestamp": (start + timedelta(seconds=i)).isoformat()} for i, e in enumerate(events)]
    response = post_json(host_client(tenant), "/batch/", {"api_key": raw, "batch": batch})
    assert response.json()["accepted"] == len(events), response.content
    write(tenant)


@pytest.fixture
def shop_events(tenant_a, key_a):
    """Events of two people in alpha: jo (identified, with an email) and an anonymous visitor."""
    send(
        tenant_a,
        key_a[1],
        {"event": "$pageview", "distinct_id": "anon-7", "properties": {"$pathname": "/pricing", "plan": "team"}},
        {
            "event": "signed_up",
            "distinct_id": "user-42",
            "properties": {"plan": "team", "$set": {"email": "jo@shop.test"}},
        },
        {"event": "purchase", "distinct_id": "user-42", "properties": {"amount": 12, "plan": "pro", "odd__name": "x"}},
    )
    with schema_context(tenant_a.schema_name):
        return selectors.person_of("user-42")


def member(tenant, role):
    return client_for(tenant, MembershipFactory(tenant=tenant, role=role).user)


def rows(html: str) -> list[str]:
    """The event rows of a page (each holds a table of its properties, so split, not matched)."""
    return html.split("<tr data-event-row")[1:]


# --- Project keys ------------------------------------------------------------------------------


def test_admin_creates_a_key_shown_once_with_its_snippet(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    assert client.get(KEYS).status_code == 200
    response = client.post(KEYS, {"name": "Website", "allowed_origins": "https://www.shop.test\n\n*"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    raw = re.search(r'<code class="secret" data-secret>(phc_[^<]+)</code>', html).group(1)
    assert f'posthog.init("{raw}", {{ api_host: "http://alpha.' in html.replace("&quot;", '"')
    with schema_context(tenant_a.schema_name):
        key = ProjectKey.objects.get(name="Website")
    assert key.allowed_origins == ["https://www.shop.test", "*"]
    # The key sends events, and the page never shows it again.
    assert (
        post_json(
            host_client(tenant_a), "/api/v1/analytics/capture", {"api_key": raw, "event": "e", "distinct_id": "d"}
        ).status_code
        == 200
    )
    again = client.get(KEYS).content.decode()
    assert raw not in again and f"{key.prefix}…" in again


def test_bad_key_form_names_the_field(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post(KEYS, {"name": "Site", "allowed_origins": "www.shop.test"})
    assert response.status_code == 400
    assert "is not an origin: write it as https://www.example.com." in response.content.decode()
    assert client.post(KEYS, {"name": "", "allowed_origins": ""}).status_code == 400
    with schema_context(tenant_a.schema_name):
        assert not ProjectKey.objects.filter(builtin=False).exists()


def test_revoke_through_the_page(tenant_a, owner_a, key_a):
    key, raw = key_a
    client = client_for(tenant_a, owner_a)
    html = client.get(KEYS).content.decode()
    row = re.search(rf'<tr data-key="{key.prefix}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert 'data-confirm="Revoke site? Events sent with it are refused from then on."' in row
    response = client.post(f"/analytics/keys/{key.pk}/revoke/", follow=True)
    assert "was revoked" in response.content.decode()
    body = {"api_key": raw, "event": "e", "distinct_id": "d"}
    assert post_json(host_client(tenant_a), "/api/v1/analytics/capture", body).status_code == 401
    row = re.search(rf'<tr data-key="{key.prefix}"[^>]*>.*?</tr>', response.content.decode(), re.S).group(0)
    assert ">Revoked<" in row and "Revoke</button>" not in row


def test_builtin_key_is_listed_as_such_and_cannot_be_revoked(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.get("/")  # a member's page makes the built-in key
    with schema_context(tenant_a.schema_name):
        builtin = ProjectKey.objects.get(builtin=True)
    # (Browser tests' live servers may have added their own origins to alpha's key, committed.)
    assert builtin.name == "Dashboards (built-in)" and "http://alpha.localhost" in builtin.allowed_origins
    html = client.get(KEYS).content.decode()
    row = re.search(rf'<tr data-key="{builtin.prefix}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert "Built-in" in row and "Revoke</button>" not in row
    response = client.post(f"/analytics/keys/{builtin.pk}/revoke/", follow=True)
    assert "switch page views off instead" in response.content.decode()
    builtin.refresh_from_db()
    assert builtin.revoked_at is None
    # Nor through the API.
    from tests.api.conftest import api_client, make_key

    _, api_raw = make_key(tenant_a, name="k", scope_list=["analytics:write"])
    answer = api_client(tenant_a, api_raw).post(f"/api/v1/analytics/project-keys/{builtin.pk}/revoke/")
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "key"
    listed = api_client(tenant_a, api_raw).get("/api/v1/analytics/project-keys/").json()["results"]
    assert [k["builtin"] for k in listed if k["id"] == builtin.pk] == [True]


def test_an_admin_manages_keys(tenant_a, key_a):
    client = member(tenant_a, "admin")
    assert client.get(KEYS).status_code == 200
    assert "was revoked" in client.post(f"/analytics/keys/{key_a[0].pk}/revoke/", follow=True).content.decode()
    assert client.post("/analytics/keys/page-views/", {}).status_code == 302


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_only_admins_manage_keys(tenant_a, key_a, role):
    client = member(tenant_a, role)
    assert client.get(KEYS).status_code == 403
    assert client.post(f"/analytics/keys/{key_a[0].pk}/revoke/").status_code == 403
    assert client.post("/analytics/keys/page-views/", {}).status_code == 403
    nav = re.search(r'<nav id="sidenav".*?</nav>', client.get("/").content.decode(), re.S).group(0)
    assert 'href="/analytics/keys/"' not in nav and 'href="/analytics/events/"' in nav


def test_another_tenants_key_is_not_found(tenant_a, tenant_b, owner_a):
    other, _ = project_key(tenant_b, name="beta site")
    assert client_for(tenant_a, owner_a).post(f"/analytics/keys/{other.pk}/revoke/").status_code == 404
    with schema_context(tenant_b.schema_name):
        assert ProjectKey.objects.get(pk=other.pk).revoked_at is None


# --- The page-view snippet ---------------------------------------------------------------------


SNIPPET = re.compile(
    r'<script src="[^"]*analytics/pageview[^"]*\.js" defer id="hub-page-views"'
    r' data-key="(phc_[^"]+)" data-distinct-id="(\d+)"'
)


def snippet(html: str):
    return SNIPPET.search(html)


def test_members_pages_carry_the_snippet_with_the_builtin_key(tenant_a, owner_a):
    found = snippet(client_for(tenant_a, owner_a).get("/").content.decode())
    assert found and found.group(2) == str(owner_a.pk)
    body = {"api_key": found.group(1), "event": "$pageview", "distinct_id": found.group(2)}
    origin = {"HTTP_ORIGIN": "http://alpha.localhost"}
    assert post_json(host_client(tenant_a), "/api/v1/analytics/capture", body, **origin).status_code == 200
    # Another site may not send with it.
    assert (
        post_json(host_client(tenant_a), "/api/v1/analytics/capture", body, HTTP_ORIGIN="https://evil.test").status_code
        == 403
    )
    assert snippet(client_for(tenant_a).get("/accounts/login/").content.decode()) is None  # not for visitors


def test_do_not_track_and_the_tenant_switch(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    assert snippet(client.get("/", HTTP_DNT="1").content.decode()) is None
    assert snippet(client.get("/", HTTP_SEC_GPC="1").content.decode()) is None
    raw = snippet(client.get("/").content.decode()).group(1)
    response = client.post("/analytics/keys/page-views/", {}, follow=True)  # the box unticked: off
    assert "no longer recorded" in response.content.decode()
    assert snippet(response.content.decode()) is None
    body = {"api_key": raw, "event": "$pageview", "distinct_id": "1"}
    assert post_json(host_client(tenant_a), "/api/v1/analytics/capture", body).status_code == 401  # its key is revoked
    response = client.post("/analytics/keys/page-views/", {"enabled": "on"}, follow=True)
    again = snippet(response.content.decode())
    assert again and again.group(1) != raw
    with schema_context(tenant_a.schema_name):
        assert PageViewSettings.objects.get().enabled
        switched = list(DomainEvent.objects.filter(type="analytics.page_views_switched").order_by("occurred_at"))
    assert [e.payload["enabled"] for e in switched] == [False, True]
    assert all(e.actor_id == owner_a.pk for e in switched)


# --- Live events -------------------------------------------------------------------------------


def test_viewer_sees_the_events_newest_first(tenant_a, shop_events):
    html = member(tenant_a, "viewer").get(EVENTS).content.decode()
    found = rows(html)
    assert [re.search(r'<summary class="event-summary">([^<]+)<', r).group(1) for r in found] == [
        "purchase",
        "signed_up",
        "$pageview",
    ]
    # The person's words and a link to their page; the key properties; all of them inside.
    assert f'href="/analytics/persons/{shop_events.uuid}/">jo@shop.test</a>' in found[0]
    assert "<code>amount</code> 12" in found[0]
    assert "<code>$pathname</code> /pricing" in found[2]
    assert "data-live-bar" in html and 'href="/analytics/events/"' in html


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"event": "signed_up"}, ["signed_up"]),
        ({"distinct_id": "user-42"}, ["purchase", "signed_up"]),
        ({"property": "plan=team"}, ["signed_up", "$pageview"]),
        ({"property": "amount=12"}, ["purchase"]),
        ({"property": "amount"}, ["purchase"]),
        ({"property": "odd__name=x"}, ["purchase"]),
        ({"property": "=x"}, ["purchase", "signed_up", "$pageview"]),
        ({"period": "1h", "event": "nothing"}, []),
    ],
)
def test_event_filters(tenant_a, owner_a, shop_events, query, names):
    html = client_for(tenant_a, owner_a).get(EVENTS, query).content.decode()
    assert [re.search(r'class="event-summary">([^<]+)<', r).group(1) for r in rows(html)] == names


@pytest.mark.parametrize(
    "query",
    [
        {"period": "forever"},
        {"event": "a\x00b"},
        {"property": "k\x00=v"},
        {"page": "x"},
        {"page": "99"},
        {"sort": "nope"},
        {"event": "x" * 5000},
    ],
)
def test_bad_filters_are_no_500(tenant_a, owner_a, shop_events, query):
    assert client_for(tenant_a, owner_a).get(EVENTS, query).status_code == 200


def test_htmx_asks_for_the_table_alone_and_csv_exports(tenant_a, owner_a, shop_events):
    client = client_for(tenant_a, owner_a)
    partial = client.get(EVENTS, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="events-table").content.decode()
    assert partial.lstrip().startswith('<div id="events-table"') and len(rows(partial)) == 3
    csv = b"".join(client.get(EVENTS, {"_export": "csv"}).streaming_content).decode()
    assert csv.count("\n") == 4 and "user-42" in csv


def test_another_tenant_sees_none_of_them(tenant_b, owner_b, shop_events):
    client = client_for(tenant_b, owner_b)
    assert rows(client.get(EVENTS).content.decode()) == []
    assert client.get(f"{PERSONS}{shop_events.uuid}/").status_code == 404
    assert "jo@shop.test" not in client.get(PERSONS, {"q": "jo@shop"}).content.decode()


def test_events_page_before_any_event(tenant_b, owner_b):
    response = client_for(tenant_b, owner_b).get(EVENTS)
    assert response.status_code == 200 and "No events in this period." in response.content.decode()


def test_outsiders_and_visitors_are_refused(tenant_a, owner_b):
    assert client_for(tenant_a, owner_b).get(EVENTS).status_code == 403
    assert client_for(tenant_a).get(PERSONS).status_code == 302


# --- Persons -----------------------------------------------------------------------------------


def test_persons_list_and_search(tenant_a, shop_events):
    client = member(tenant_a, "viewer")
    html = client.get(PERSONS).content.decode()
    assert f'href="/analytics/persons/{shop_events.uuid}/">jo@shop.test</a>' in html
    assert "<code>anon-7</code>" in html and 'href="/analytics/persons/"' in html
    for q in ("user-4", "JO@SHOP", "anon"):
        found = re.findall(r'<tr data-person="([^"]+)"', client.get(PERSONS, {"q": q}).content.decode())
        assert len(found) == 1, q
    assert re.findall(r'<tr data-person="([^"]+)"', client.get(PERSONS, {"q": "user-42"}).content.decode()) == [
        str(shop_events.uuid)
    ]
    assert client.get(PERSONS, {"q": "\x00"}).status_code == 200


def test_person_page(tenant_a, shop_events):
    html = member(tenant_a, "viewer").get(f"{PERSONS}{shop_events.uuid}/").content.decode()
    assert "<h1>jo@shop.test</h1>" in html and "<code>user-42</code>" in html
    assert re.search(r"<code>email</code></th><td><pre>jo@shop.test</pre>", html)
    assert [re.search(r'class="event-summary">([^<]+)<', r).group(1) for r in rows(html)] == ["purchase", "signed_up"]


def test_unknown_person_is_404(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    assert client.get(f"{PERSONS}{uuid.uuid4()}/").status_code == 404
    assert client.get(f"{PERSONS}not-a-uuid/").status_code == 404


def test_palette_finds_persons_by_email_and_distinct_id(tenant_a, owner_a, shop_events):
    client = client_for(tenant_a, owner_a)
    for q in ("jo@shop", "user-42"):
        groups = client.get("/api/v1/search/", {"q": q}).json()
        found = [r for g in groups["groups"] for r in g["results"] if g["label"] == "Persons"]
        assert [r["url"] for r in found] == [f"/analytics/persons/{shop_events.uuid}/"], groups


def test_members_are_named_by_their_name(tenant_a, owner_a, key_a):
    """The platform's own events and the page views carry the member's user id: the pages say
    the member's name instead; a user id of someone who is not a member stays a number."""
    outsider = MembershipFactory(tenant=tenant_a, role="viewer").user
    send(
        tenant_a,
        key_a[1],
        {"event": "$pageview", "distinct_id": str(owner_a.pk)},
        {"event": "x", "distinct_id": "999999"},
    )
    client = client_for(tenant_a, owner_a)
    html = client.get(EVENTS).content.decode()
    name = owner_a.get_full_name()
    assert f">{name}</a>" in html and ">999999</a>" in html
    assert f">{name}</a>" in client.get(PERSONS).content.decode()
    with schema_context(tenant_a.schema_name):
        person = selectors.person_of(str(owner_a.pk))
    assert f"<h1>{name}</h1>" in client.get(f"{PERSONS}{person.uuid}/").content.decode()
    assert outsider.get_full_name() not in html


def test_the_builtin_key_does_not_count_towards_the_limit(tenant_a, owner_a, monkeypatch):
    client_for(tenant_a, owner_a).get("/")  # makes the built-in key
    with schema_context(tenant_a.schema_name):
        assert ProjectKey.objects.filter(builtin=True, revoked_at__isnull=True).exists()
        mine = ProjectKey.objects.filter(builtin=False, revoked_at__isnull=True).count()
    monkeypatch.setattr(services, "MAX_KEYS_PER_TENANT", mine + 1)
    project_key(tenant_a, name="the last one allowed")
