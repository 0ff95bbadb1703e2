"""The webhook and notification pages beyond the happy path: editing an endpoint (with bad
input), turning it off and on, deleting it, replaying through the page, unknown actions, and
where "mark as read" goes next."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.events import publish
from apps.notifications import services, webhooks
from apps.notifications.models import Notification, WebhookEndpoint
from tests.conftest import client_for

PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def endpoint(in_tenant_a, receiver):
    return webhooks.endpoint_create(url=receiver.url(), event_types=["organisation.settings_changed"])


@pytest.fixture
def admin_client(in_tenant_a, owner_a):
    return client_for(in_tenant_a, owner_a)


def reload(endpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(pk=endpoint.pk)


def test_an_endpoint_is_edited_from_its_page(endpoint, admin_client, receiver):
    response = admin_client.post(
        f"/webhooks/{endpoint.pk}/",
        {"url": receiver.url() + "?v=2", "description": "CRM v2", "event_types": ["member.joined"]},
    )
    assert response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert messages_of(response) == ["Webhook endpoint saved."]
    saved = reload(endpoint)
    assert saved.url.endswith("?v=2") and saved.description == "CRM v2"
    assert saved.event_types == ["member.joined"]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"url": "ftp://example.com/hook"}, "url", "Enter an http(s) URL."),
        ({"url": ""}, "url", "This field is required."),
        ({"url": "https://example.com/hook", "event_types": ["no.such"]}, "event_types", "Select a valid choice"),
    ],
)
def test_a_bad_edit_is_shown_again_and_changes_nothing(endpoint, admin_client, data, field, message):
    before = reload(endpoint)
    response = admin_client.post(f"/webhooks/{endpoint.pk}/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    after = reload(endpoint)
    assert (after.url, after.event_types) == (before.url, before.event_types)


def test_an_endpoint_is_disabled_enabled_and_deleted_from_its_page(endpoint, admin_client):
    disabled = admin_client.post(f"/webhooks/{endpoint.pk}/disable/")
    assert messages_of(disabled) == ["Endpoint disabled: nothing is sent to it until you enable it."]
    assert reload(endpoint).is_active is False
    enabled = admin_client.post(f"/webhooks/{endpoint.pk}/enable/")
    assert messages_of(enabled)[-1] == "Endpoint enabled."
    assert reload(endpoint).is_active is True
    deleted = admin_client.post(f"/webhooks/{endpoint.pk}/delete/")
    assert deleted["Location"] == "/webhooks/"
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert admin_client.get(f"/webhooks/{endpoint.pk}/").status_code == 404


def test_rotating_the_secret_from_the_page_keeps_the_old_one_for_a_while(endpoint, admin_client):
    before = webhooks.signing_secrets(endpoint)
    response = admin_client.post(f"/webhooks/{endpoint.pk}/rotate/")
    assert messages_of(response) == ["New secret created. The old one keeps signing for 24 hours too."]
    after = webhooks.signing_secrets(reload(endpoint))
    assert len(after) == len(before) + 1


def test_an_unknown_action_is_404_and_a_get_is_refused(endpoint, admin_client):
    assert admin_client.post(f"/webhooks/{endpoint.pk}/explode/").status_code == 404
    assert admin_client.get(f"/webhooks/{endpoint.pk}/disable/").status_code == 405
    assert reload(endpoint).is_active is True


def test_a_replay_from_the_page_says_how_many_events_are_queued(in_tenant_a, endpoint, admin_client):
    with tenant_context(in_tenant_a):
        publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
    since = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = admin_client.post(
        f"/webhooks/{endpoint.pk}/replay/", {"event_type": "organisation.settings_changed", "since": since}
    )
    assert response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert messages_of(response) == ["1 event queued for re-delivery."]


def test_a_replay_from_the_future_is_refused_on_the_page(endpoint, admin_client):
    since = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = admin_client.post(f"/webhooks/{endpoint.pk}/replay/", {"event_type": "member.joined", "since": since})
    assert response.status_code == 400
    assert "since" in response.context["replay_form"].errors


def test_a_delivery_of_another_endpoint_is_not_found(in_tenant_a, endpoint, admin_client, receiver):
    other = webhooks.endpoint_create(url=receiver.url() + "?other", event_types=[])
    with tenant_context(in_tenant_a):
        delivery = webhooks.endpoint_send_test(endpoint=other)
    assert admin_client.get(f"/webhooks/{other.pk}/deliveries/{delivery.pk}/").status_code == 200
    assert admin_client.get(f"/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/").status_code == 404


@pytest.mark.parametrize(
    "next_path, goes_to",
    [
        ("/members/", "/members/"),
        ("//evil.example.com/", "/notifications/"),
        ("https://evil.example.com/", "/notifications/"),
    ],
)
def test_mark_as_read_goes_back_only_to_a_page_of_this_site(in_tenant_a, owner_a, next_path, goes_to):
    with tenant_context(in_tenant_a):
        note = services.notification_create(user_id=owner_a.pk, event_type="member.joined", title="Someone joined")
    response = client_for(in_tenant_a, owner_a).post(f"/notifications/{note.pk}/read/", {"next": next_path})
    assert response["Location"] == goes_to
    with tenant_context(in_tenant_a):
        assert Notification.objects.get(pk=note.pk).read_at is not None


def test_a_member_who_wants_nothing_gets_no_notification(in_tenant_a, owner_a):
    services.preference_set(user=owner_a, event_type="member.joined", channel="none")
    with tenant_context(in_tenant_a):
        assert services.notification_create(user_id=owner_a.pk, event_type="member.joined", title="x") is None
        assert not Notification.objects.filter(user=owner_a, title="x").exists()


def test_preferences_refuse_unknown_event_types_and_channels(owner_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as unknown_type:
        services.preference_set(user=owner_a, event_type="no.such", channel="email")
    assert unknown_type.value.message_dict == {"event_type": ["Unknown event type “no.such”."]}
    with pytest.raises(ValidationError) as unknown_channel:
        services.preference_set(user=owner_a, event_type="member.joined", channel="pigeon")
    assert list(unknown_channel.value.message_dict) == ["channel"]
