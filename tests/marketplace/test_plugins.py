"""Plugins per tenant: installed on the platform, enabled per tenant (its tables made in that
schema only, after its permissions are shown), configured against its JSON Schema (secrets
encrypted), disabled (everything it adds hidden, its data kept), uninstalled (data archived or
removed after a typed confirmation); a broken plugin is disabled for its tenant with the reason."""

import json

from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from apps.core.registry import EventHandler, registering_for, registry
from apps.events.models import Event
from apps.events.services import events_dispatch_new
from apps.identity import services as identity
from apps.identity.models import Invitation, User
from apps.marketplace import selectors
from apps.marketplace.models import PluginArchive, PluginInstall
from plugins.hello.models import Greeting
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import enable, table_exists


def _state(tenant, label):
    with schema_context(tenant.schema_name):
        return PluginInstall.objects.get(label=label)


def _sentences(tenant, event_type):
    with schema_context(tenant.schema_name):
        return [registry.event_sentence(e) for e in Event.objects.filter(type=event_type).order_by("id")]


def test_a_plugins_tables_exist_only_in_the_tenants_that_enabled_it(tenant_a, tenant_b, owner_a):
    assert not table_exists(tenant_a, "pulse_checkin") and not table_exists(tenant_b, "pulse_checkin")
    install = enable(tenant_a, "pulse", owner_a)
    assert install.state == "enabled" and install.accepted == list(registry["plugins"]["pulse"].asks_for)
    assert table_exists(tenant_a, "pulse_checkin") and table_exists(tenant_a, "pulse_kudos")
    assert not table_exists(tenant_b, "pulse_checkin")
    with schema_context(tenant_a.schema_name):
        assert selectors.enabled_plugins() >= {"pulse", "hello"}
    with schema_context(tenant_b.schema_name):
        assert "pulse" not in selectors.enabled_plugins()
    assert _sentences(tenant_a, "plugin.enabled") == [f"{owner_a.get_full_name()} enabled the plugin “Team pulse”"]


def test_the_plugin_page_shows_what_it_asks_for_before_enabling(tenant_a, tenant_b, owner_a):
    client = client_for(tenant_a, owner_a)
    page = client.get("/marketplace/pulse/").content.decode()
    assert "Add cards to members&#x27; home pages" in page and 'data-action="enable"' in page
    assert "It will be able to:" in page  # the kit's confirmation lists them too
    assert client.get("/plugins/pulse/").status_code == 404  # not enabled yet
    assert client.post("/marketplace/pulse/enable/").status_code == 302
    assert client.get("/plugins/pulse/").status_code == 200
    assert 'href="/plugins/pulse/"' in client.get("/").content.decode()
    owner_b = tenant_b.memberships.get(role="owner").user
    other = client_for(tenant_b, owner_b)
    assert other.get("/plugins/pulse/").status_code == 404
    assert 'href="/plugins/pulse/"' not in other.get("/").content.decode()
    listing = client.get("/marketplace/").content.decode()
    assert 'data-plugin="pulse"' in listing and "Team pulse" in listing and "Enabled" in listing


def test_members_below_admin_cannot_manage_plugins(tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    client = client_for(tenant_a, member)
    assert client.get("/marketplace/").status_code == 403
    assert client.post("/marketplace/pulse/enable/").status_code == 403
    assert not table_exists(tenant_a, "pulse_checkin")


def _join(tenant, owner, email):
    actor = tenant.memberships.get(user=owner)
    invitation, _ = identity.invitation_create(actor=actor, email=email, role="member")
    user = User.objects.create_user(email=email, password="x-pass-12345")
    identity.invitation_accept(invitation=Invitation.objects.get(pk=invitation.pk), user=user)
    return user


def test_disabling_hides_everything_it_adds_and_keeps_its_data(tenant_a, tenant_b, owner_a):
    with tenant_context(tenant_a):
        Greeting.objects.create(user=owner_a, message="Welcome, owner!")
    client = client_for(tenant_a, owner_a)
    assert client.get("/plugins/hello/").status_code == 200  # on by default
    services_disable = client.post("/marketplace/hello/disable/")
    assert services_disable.status_code == 302
    assert _state(tenant_a, "hello").state == "disabled"
    assert client.get("/plugins/hello/").status_code == 404
    home = client.get("/").content.decode()
    assert 'href="/plugins/hello/"' not in home and "Latest greetings" not in home
    api = client.get("/api/v1/plugins/hello/greetings/")
    assert api.status_code == 404 and api["Content-Type"] == "application/problem+json"
    with tenant_context(tenant_a):
        assert "hello.latest" not in [w.key for w in registry.widgets()]
        assert all(
            registry.plugin_of("event_handlers", (h.event_type, h.handler)) != "hello"
            for h in registry.handlers_for("member.joined")
        )
    _join(tenant_a, owner_a, "quiet@example.com")
    with tenant_context(tenant_a):
        events_dispatch_new()
        assert list(Greeting.objects.values_list("message", flat=True)) == [
            "Welcome, owner!"
        ]  # no new greeting, old kept
    client_b = client_for(tenant_b, tenant_b.memberships.get(role="owner").user)
    assert client_b.get("/plugins/hello/").status_code == 200  # still on in B
    assert client.post("/marketplace/hello/enable/").status_code == 302
    assert "Welcome, owner!" in client.get("/plugins/hello/").content.decode()
    assert _sentences(tenant_a, "plugin.disabled") == [f"{owner_a.get_full_name()} disabled the plugin “Hello”"]


def test_settings_are_checked_against_the_schema_and_secrets_are_encrypted(tenant_a, owner_a):
    enable(tenant_a, "chatnotify", owner_a)
    client = client_for(tenant_a, owner_a)
    page = client.get("/marketplace/chatnotify/").content.decode()
    assert 'name="webhook_url"' in page and 'type="password"' in page and "Member joined" in page
    bad = client.post("/marketplace/chatnotify/", {"service": "slack", "webhook_url": "ftp://x", "events": []})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "does not match" in text and "This setting is required." not in text.split('name="service"')[0][-400:]
    assert "should be non-empty" in text or "is too short" in text  # events: at least one
    url = "https://hooks.example.com/services/T000/B000/XXXX"
    good = client.post(
        "/marketplace/chatnotify/", {"service": "slack", "webhook_url": url, "events": ["member.joined"]}
    )
    assert good.status_code == 302
    install = _state(tenant_a, "chatnotify")
    assert install.config == {"service": "slack", "events": ["member.joined"]}
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT secrets FROM "{tenant_a.schema_name}".marketplace_plugininstall WHERE label = %s', ["chatnotify"]
        )
        raw = cursor.fetchone()[0]
    assert url not in raw and json.loads(install.secrets) == {"webhook_url": url}
    # The secret is never shown back, and left empty it is kept.
    again = client.get("/marketplace/chatnotify/").content.decode()
    assert url not in again and "It is set: leave this empty to keep it." in again
    client.post("/marketplace/chatnotify/", {"service": "discord", "webhook_url": "", "events": ["member.joined"]})
    with schema_context(tenant_a.schema_name):
        assert selectors.plugin_settings("chatnotify").values == {
            "service": "discord",
            "events": ["member.joined"],
            "webhook_url": url,
        }


def test_uninstall_archives_its_data_or_removes_it_after_typing_its_name(tenant_a, owner_a):
    enable(tenant_a, "pulse", owner_a)
    with tenant_context(tenant_a):
        from plugins.pulse.services import checkin_create

        checkin_create(user=owner_a, score=4, note="good week")
    client = client_for(tenant_a, owner_a)
    page = client.get("/marketplace/pulse/").content.decode()
    assert 'data-confirm="Uninstall' in page
    refused = client.post("/marketplace/pulse/uninstall/", {"mode": "remove", "confirm": "pulse?"})
    assert refused.status_code == 400 and "Type the plugin&#x27;s name, “Team pulse”" in refused.content.decode()
    assert table_exists(tenant_a, "pulse_checkin")
    assert client.post("/marketplace/pulse/uninstall/", {"mode": "archive"}).status_code == 302
    assert not table_exists(tenant_a, "pulse_checkin") and _state(tenant_a, "pulse").state == "uninstalled"
    with schema_context(tenant_a.schema_name):
        archive = PluginArchive.objects.get(label="pulse")
    assert archive.rows == 1 and archive.data[0]["fields"]["note"] == "good week"
    assert client.get("/plugins/pulse/").status_code == 404
    # Enabled again: fresh tables, then removed for good with the typed name.
    enable(tenant_a, "pulse", owner_a)
    assert table_exists(tenant_a, "pulse_checkin")
    done = client.post("/marketplace/pulse/uninstall/", {"mode": "remove", "confirm": "Team pulse"})
    assert done.status_code == 302 and not table_exists(tenant_a, "pulse_checkin")
    said = _sentences(tenant_a, "plugin.uninstalled")
    assert sorted(s.split(" uninstalled ")[1] for s in said) == [
        "the plugin “Team pulse” (its data archived)",
        "the plugin “Team pulse” (its data removed)",
    ]


def test_a_plugin_whose_handler_raises_is_disabled_for_that_tenant_and_nothing_else_breaks(tenant_a, tenant_b, owner_a):
    enable(tenant_a, "pulse", owner_a)

    def explodes(event):
        from plugins.pulse.models import Kudos

        Kudos.objects.create(sender=owner_a, recipient=owner_a, message="half-way")
        raise ZeroDivisionError("division by zero")

    with registering_for("pulse"):
        broken = EventHandler("member.joined", explodes)
    registry["event_handlers"].add(broken, app="pulse")
    try:
        user = _join(tenant_a, owner_a, "brave@example.com")
        with tenant_context(tenant_a):
            events_dispatch_new()
            from plugins.pulse.models import Kudos

            assert not Kudos.objects.exists()  # what it did half-way is undone
            assert list(Greeting.objects.values_list("user_id", flat=True)) == [user.pk]  # hello still ran
            assert not Event.objects.filter(type="member.joined", dispatched_at__isnull=True).exists()
    finally:
        registry.unregister(broken)
    install = _state(tenant_a, "pulse")
    assert (
        install.state == "broken" and install.reason == "Its event handler failed: ZeroDivisionError: division by zero"
    )
    assert _sentences(tenant_a, "plugin.disabled") == [
        "The plugin “Team pulse” was disabled because it failed: "
        "Its event handler failed: ZeroDivisionError: division by zero"
    ]
    client = client_for(tenant_a, owner_a)
    assert client.get("/plugins/pulse/").status_code == 404
    assert "Its event handler failed" in client.get("/marketplace/pulse/").content.decode()
    with schema_context(tenant_b.schema_name):
        assert not PluginInstall.objects.filter(state="broken").exists()


def test_a_failing_migration_leaves_the_plugin_disabled_with_the_reason(tenant_a, owner_a):
    with connection.cursor() as cursor:  # a table in its way: its CreateModel fails
        cursor.execute(f'CREATE TABLE "{tenant_a.schema_name}".pulse_kudos (id integer)')
    client = client_for(tenant_a, owner_a)
    assert client.post("/marketplace/pulse/enable/").status_code == 302
    install = _state(tenant_a, "pulse")
    assert install.state == "broken" and not install.tables
    assert install.reason.startswith("Its database migration failed: ProgrammingError:")
    assert "already exists" in install.reason
    assert not table_exists(tenant_a, "pulse_checkin")  # its first table was undone with the rest
    page = client.get("/marketplace/pulse/").content.decode()
    assert "Its database migration failed" in page
    assert client.get("/plugins/hello/").status_code == 200  # the rest is untouched
    assert client.get("/").status_code == 200
