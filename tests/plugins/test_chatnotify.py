"""The chat notifier plugin: the events a tenant chose are posted, in the activity feed's words,
to its Slack/Teams/Discord incoming webhook (a local fake server here) through the SSRF-safe
session, once the dispatch commits; nothing for events not chosen, nor in a tenant that did not
enable it; an address the SSRF rules refuse gets nothing."""

import json

import pytest
from django_tenants.utils import schema_context, tenant_context

from apps.events.services import events_dispatch_new
from apps.marketplace import services
from plugins.chatnotify.services import message_body, send
from tests.marketplace.conftest import enable
from tests.marketplace.test_plugins import _join
from tests.notifications.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def _configure(tenant, owner, **values):
    with schema_context(tenant.schema_name):
        return services.plugin_configure(tenant=tenant, actor=owner, label="chatnotify", values=values)


@pytest.mark.parametrize(
    "service, key",
    [("slack", "text"), ("teams", "text"), ("discord", "content")],
)
def test_chosen_events_are_posted_to_the_chat_webhook(
    tenant_a, tenant_b, owner_a, receiver, service, key, django_capture_on_commit_callbacks
):
    enable(tenant_a, "chatnotify", owner_a)
    _configure(tenant_a, owner_a, service=service, webhook_url=receiver.url("/chat"), events=["member.joined"])
    _join(tenant_a, owner_a, "chatty@example.com")
    _join(tenant_b, tenant_b.memberships.get(role="owner").user, "elsewhere@example.com")
    for tenant in (tenant_a, tenant_b):  # A: member.joined (chosen), plugin.* (not); B: not enabled
        with tenant_context(tenant), django_capture_on_commit_callbacks(execute=True):
            events_dispatch_new()
    posted = receiver.wait_for(1)
    assert len(posted) == 1 and posted[0].path == "/chat"
    assert posted[0].headers["content-type"] == "application/json"
    body = json.loads(posted[0].body)
    assert list(body) == [key] and "chatty@example.com" in body[key] and "joined" in body[key]


def test_a_refusing_webhook_or_a_blocked_address_is_logged_not_raised(receiver, settings):
    receiver.answer(status=500)
    assert send(url=receiver.url(), service="slack", texts=["one", "two"]) == 1  # the second got 200
    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = False  # production's rules: loopback is out of reach
    assert send(url=receiver.url(), service="slack", texts=["three"]) == 0
    assert len(receiver.requests) == 2


def test_messages_take_each_services_shape():
    assert message_body("slack", "Hi") == {"text": "Hi"}
    assert message_body("teams", "Hi") == {"text": "Hi"}
    assert message_body("discord", "x" * 2500) == {"content": "x" * 2000}


def test_its_settings_refuse_an_unknown_service_and_a_non_http_address(tenant_a, owner_a):
    from django.core.exceptions import ValidationError

    enable(tenant_a, "chatnotify", owner_a)
    with pytest.raises(ValidationError) as refused:
        _configure(tenant_a, owner_a, service="irc", webhook_url="javascript:alert(1)", events=["member.joined"])
    assert set(refused.value.message_dict) == {"service", "webhook_url"}
