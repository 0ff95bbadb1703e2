"""The API keys dashboard page: admins create a key (shown once), revoke it, see its usage."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from apps.api.keycache import hash_key
from apps.api.models import ApiKey
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def test_admin_creates_a_key_shown_once(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    page = client.get("/developers/keys/")
    assert page.status_code == 200
    assert b"No keys yet." in page.content
    response = client.post(
        "/developers/keys/", {"name": "Billing sync", "scopes": ["identity:read", "audit:read"], "expires_on": ""}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(rb"<code class=\"secret\" data-secret[^>]*>(hub_[^<]+)</code>", response.content).group(1).decode()
    with schema_context(tenant_a.schema_name):
        key = ApiKey.objects.get(name="Billing sync")
    assert key.key_hash == hash_key(raw) and key.scopes == ["identity:read", "audit:read"]
    assert key.created_by_email == owner_a.email
    # The key works, and the page never shows it again.
    assert api_client(tenant_a, raw).get("/api/v1/members/").status_code == 200
    again = client.get("/developers/keys/").content.decode()
    assert raw not in again
    assert f"{key.prefix}…" in again


def test_bad_form_is_rerendered_with_messages(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post("/developers/keys/", {"name": "", "scopes": []})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="errorlist') >= 2
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    response = client.post("/developers/keys/", {"name": "Old", "scopes": ["audit:read"], "expires_on": yesterday})
    assert response.status_code == 400
    assert "Choose a time in the future." in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not ApiKey.objects.exists()


def test_revoke_from_the_page(tenant_a, owner_a):
    key, raw = make_key(tenant_a, name="To revoke")
    client = client_for(tenant_a, owner_a)
    response = client.post(f"/developers/keys/{key.pk}/revoke/", follow=True)
    assert "was revoked" in response.content.decode()
    assert api_client(tenant_a, raw).get("/api/v1/members/").status_code == 401
    row = re.search(rf'<tr data-key="{key.prefix}"[^>]*>.*?</tr>', response.content.decode(), re.S).group(0)
    assert ">Revoked<" in row and "Revoke</button>" not in row


def test_page_shows_last_use_and_calls(tenant_a, owner_a, key_a):
    key, raw = key_a
    for _ in range(3):
        api_client(tenant_a, raw).get("/api/v1/tenant/")
    html = client_for(tenant_a, owner_a).get("/developers/keys/").content.decode()
    row = re.search(rf'<tr data-key="{key.prefix}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert re.findall(r"<td class=\"num\"[^>]*><div class=\"cell\">(\d+)</div></td>", row) == ["3", "3"]
    assert re.search(r'data-label="Last used"><div class="cell"><time datetime="[^"]+"[^>]*>just now</time>', row)
    assert re.search(r'<td class="num">3</td>', re.search(r'id="api-usage".*?</table>', html, re.S).group(0))


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_non_admins_get_403_and_no_nav_item(tenant_a, role):
    member = MembershipFactory(tenant=tenant_a, role=role)
    client = client_for(tenant_a, member.user)
    assert client.get("/developers/keys/").status_code == 403
    assert client.post("/developers/keys/", {"name": "x", "scopes": ["audit:read"]}).status_code == 403
    assert b'href="/developers/keys/"' not in client.get("/").content


def test_admin_sees_the_nav_item(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    assert b'href="/developers/keys/"' in client_for(tenant_a, admin.user).get("/").content


def test_other_tenants_admin_gets_403_and_cannot_revoke(tenant_a, tenant_b, owner_b):
    key, raw = make_key(tenant_a)
    client = client_for(tenant_a, owner_b)
    assert client.get("/developers/keys/").status_code == 403
    assert client.post(f"/developers/keys/{key.pk}/revoke/").status_code == 403
    # On their own tenant, tenant A's key id is simply not there.
    own = client_for(tenant_b, owner_b)
    with schema_context(tenant_b.schema_name):
        missing = (ApiKey.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    assert own.post(f"/developers/keys/{missing}/revoke/").status_code == 404
    assert api_client(tenant_a, raw).get("/api/v1/members/").status_code == 200


def _usage_chart(html: str) -> dict:
    import json

    found = re.search(r'<script id="api-usage-chart" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_usage_chart_data_is_in_the_page_busiest_keys_first_the_rest_together(tenant_a, owner_a):
    from apps.api.models import ApiKeyUsage

    today = datetime.now(UTC).date()
    with schema_context(tenant_a.schema_name):
        for i in range(7):  # key i made i + 1 calls yesterday; key 0 also 100 today
            key, _ = make_key(tenant_a, name=f"key {i}")
            ApiKeyUsage.objects.create(key=key, day=today - timedelta(days=1), count=i + 1)
            if i == 0:
                ApiKeyUsage.objects.create(key=key, day=today, count=100)
    html = client_for(tenant_a, owner_a).get("/developers/keys/").content.decode()
    chart = _usage_chart(html)
    assert chart["type"] == "bar" and chart["stacked"] is True
    assert len(chart["labels"]) == 14 and chart["labels"][-1] == today.strftime("%a %-d %b")
    assert [d["label"] for d in chart["datasets"]] == ["key 0", "key 6", "key 5", "key 4", "key 3", "Other keys"]
    assert chart["datasets"][0]["data"][-2:] == [1, 100]
    assert chart["datasets"][-1]["data"][-2:] == [3 + 2, 0]  # keys 2 and 1, added up
    assert 'data-chart="api-usage-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    # The table has the same numbers: today's row, then yesterday's.
    table = re.search(r'id="api-usage".*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)
    assert re.findall(r'<td class="num">(\d+)</td>', rows[0]) == ["100", "100", "0", "0", "0", "0", "0"]
    assert re.findall(r'<td class="num">(\d+)</td>', rows[1]) == ["28", "1", "7", "6", "5", "4", "5"]


def test_no_calls_no_chart(tenant_a, owner_a):
    html = client_for(tenant_a, owner_a).get("/developers/keys/").content.decode()
    assert _usage_chart(html) is None and "No calls in the last 14 days." in html


def test_keys_table_filters_exports_and_never_shows_another_tenants_keys(tenant_a, tenant_b, owner_a, owner_b):
    import csv
    import io

    kept, _ = make_key(tenant_a, name="Kept key")
    gone, _ = make_key(tenant_a, name="Gone key")
    with schema_context(tenant_a.schema_name):
        ApiKey.objects.filter(pk=gone.pk).update(revoked_at=datetime.now(UTC))
    make_key(tenant_b, name="Beta secret key")
    client = client_for(tenant_a, owner_a)
    active = client.get("/developers/keys/", {"status": "active"}).content.decode()
    assert "Kept key" in active and "Gone key" not in active and "Beta secret key" not in active
    response = client.get("/developers/keys/", {"_export": "csv", "sort": "name"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Name", "Prefix", "Scopes", "Status"] and "Actions" not in rows[0]
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        ("Gone key", f"{gone.prefix}…", "revoked"),
        ("Kept key", f"{kept.prefix}…", "active"),
    ]
    partial = client.get("/developers/keys/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="api-keys-table")
    assert partial.content.decode().strip().startswith('<div id="api-keys-table"')
    beta = client_for(tenant_b, owner_b).get("/developers/keys/", {"_export": "csv"})
    assert b"Kept key" not in b"".join(beta.streaming_content)
