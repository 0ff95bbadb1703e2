"""/api/v1/marketplace/plugins/: list, enable, settings (checked against the plugin's schema:
problem+json naming the field), disable, uninstall; per tenant, admins only."""

import json

from tests.api.conftest import api_client, make_key

from .conftest import table_exists


def _put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


def test_enable_configure_disable_and_uninstall_through_the_api(tenant_a, tenant_b):
    _, raw = make_key(tenant_a)
    client = api_client(tenant_a, raw)
    listed = client.get("/api/v1/marketplace/plugins/").json()["results"]
    by_label = {row["label"]: row for row in listed}
    assert by_label["hello"]["state"] == "enabled" and by_label["pulse"]["state"] == "available"
    assert {"code": "network.outbound", "description": by_label["chatnotify"]["asks_for"][1]["description"]} in (
        by_label["chatnotify"]["asks_for"]
    )
    enabled = client.post("/api/v1/marketplace/plugins/chatnotify/enable/")
    assert enabled.status_code == 200 and enabled.json()["state"] == "enabled"
    bad = _put(client, "/api/v1/marketplace/plugins/chatnotify/settings/", {"values": {"service": "fax"}})
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    fields = {error["field"] for error in bad.json()["errors"]}
    assert {"service", "webhook_url", "events"} <= fields
    url = "https://hooks.example.com/x"
    good = _put(
        client,
        "/api/v1/marketplace/plugins/chatnotify/settings/",
        {"values": {"service": "teams", "webhook_url": url, "events": ["member.joined"]}},
    )
    assert good.status_code == 200 and good.json()["secrets_set"] == ["webhook_url"]
    assert url not in good.content.decode()
    assert client.post("/api/v1/marketplace/plugins/chatnotify/disable/").json()["state"] == "disabled"
    client.post("/api/v1/marketplace/plugins/pulse/enable/")
    assert table_exists(tenant_a, "pulse_checkin")
    refused = client.post(
        "/api/v1/marketplace/plugins/pulse/uninstall/",
        {"mode": "remove", "confirm": "no"},
        content_type="application/json",
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "confirm"
    done = client.post(
        "/api/v1/marketplace/plugins/pulse/uninstall/", {"mode": "archive"}, content_type="application/json"
    )
    assert done.json()["state"] == "uninstalled" and not table_exists(tenant_a, "pulse_checkin")
    # Tenant B saw none of it.
    _, raw_b = make_key(tenant_b)
    b_rows = {r["label"]: r for r in api_client(tenant_b, raw_b).get("/api/v1/marketplace/plugins/").json()["results"]}
    assert b_rows["chatnotify"]["state"] == "available" and b_rows["chatnotify"]["config"] == {}
    assert b_rows["pulse"]["state"] == "available"


def test_an_unknown_plugin_is_404_and_a_key_without_the_scope_is_refused(tenant_a):
    _, raw = make_key(tenant_a)
    missing = api_client(tenant_a, raw).post("/api/v1/marketplace/plugins/nope/enable/")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    _, raw_read = make_key(tenant_a, scope_list=["plugins:read"])
    assert api_client(tenant_a, raw_read).post("/api/v1/marketplace/plugins/pulse/enable/").status_code == 403
    assert not table_exists(tenant_a, "pulse_checkin")
