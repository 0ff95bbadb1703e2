"""Under production's rules no webhook (or push) ever reaches a loopback, private, link-local or
cloud-metadata address — checked when sending, after DNS resolution, not only when saving.

Nothing here sends a packet to a non-loopback address: every refusal happens before connecting."""

import ipaddress

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core import ssrf
from apps.core.events import publish
from apps.notifications import webhooks
from apps.notifications.models import WebhookDelivery, WebhookEndpoint

PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


@pytest.fixture
def production_rules(settings):
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = True
    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = False


def test_production_settings_module_enforces_the_rules():
    source = open("config/settings/production.py").read()
    assert "HUB_WEBHOOK_REQUIRE_HTTPS = True" in source and "HUB_WEBHOOK_ALLOW_LOOPBACK = False" in source


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://127.8.9.10/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:169.254.169.254]/",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://user:pw@example.com/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_saving_refuses_urls_that_are_not_public_https(production_rules, url):
    assert ssrf.url_refusal(url) is not None


def test_public_https_urls_are_accepted(production_rules):
    assert ssrf.url_refusal("https://hooks.example.com/x?y=1") is None
    assert ssrf.address_refusal(ipaddress.ip_address("93.184.216.34")) is None


def test_host_names_are_checked_after_resolution(production_rules):
    with pytest.raises(ssrf.BlockedDestination, match="resolves to 127.0.0.1"):
        ssrf.resolve("localhost", 443)


def _stored_endpoint(url):
    """An endpoint whose URL passed the checks when it was saved (or whose DNS changed since)."""
    return WebhookEndpoint.objects.create(url=url, secret="whsec_" + "A" * 44, event_types=[])


@pytest.mark.parametrize("https", [True, False])
def test_sending_blocks_loopback_even_if_the_url_was_accepted_earlier(
    in_tenant_a, receiver, settings, django_capture_on_commit_callbacks, eager_tasks, https
):
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = https
    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = False
    scheme = "https" if https else "http"
    # "localhost" goes through DNS resolution (to 127.0.0.1); the literal address is checked as such.
    for host in ("localhost", "127.0.0.1"):
        _stored_endpoint(f"{scheme}://{host}:{receiver.port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        publish("organisation.settings_changed", PAYLOAD, tenant=in_tenant_a)
    deliveries = list(WebhookDelivery.objects.all())
    assert len(deliveries) == 2
    for delivery in deliveries:
        assert delivery.status == "failed"
        [attempt] = delivery.attempts.all()
        assert attempt.error.startswith("Blocked:") and attempt.response_status is None
    assert receiver.requests == []  # nothing reached the listening server


def test_metadata_and_private_addresses_are_blocked_at_send_time(in_tenant_a, production_rules):
    for url in ("https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/hook", "https://[fe80::1]/x"):
        endpoint = _stored_endpoint(url)
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id="msg_x", event_type="t", body="{}", next_attempt_at=timezone.now()
        )
        assert webhooks.delivery_attempt(delivery_id=delivery.pk) == "failed"
        assert delivery.attempts.get().error.startswith("Blocked:")


def test_loopback_is_allowed_only_by_the_test_setting(settings):
    settings.HUB_WEBHOOK_ALLOW_LOOPBACK = True
    policy = webhooks.destination_policy()
    assert ssrf.address_refusal(ipaddress.ip_address("127.0.0.1"), policy) is None
    # never the private ranges or the metadata service, whatever the setting
    assert ssrf.address_refusal(ipaddress.ip_address("10.0.0.1"), policy) == "a private address"
    assert ssrf.address_refusal(ipaddress.ip_address("169.254.169.254"), policy) == "a cloud metadata address"


# Other spellings of loopback, private and metadata addresses: resolvers read them as addresses
# (inet_aton), so they are refused when saved, for webhooks and push subscriptions alike.
DISGUISED = [
    "https://2130706433/x",  # 127.0.0.1 as one decimal number
    "https://0x7f000001/x",  # … as one hexadecimal number
    "https://0X7F.0.0.1/x",
    "https://0177.0.0.1/x",  # … octal
    "https://127.1/x",  # … short form
    "https://127.0.1/x",
    "https://0/x",  # 0.0.0.0
    "https://017700000001/x",
    "https://012.0.0.7/x",  # 10.0.0.7
    "https://0xa9fea9fe/latest/meta-data/",  # 169.254.169.254
    "https://2852039166/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:7f00:1]/x",
    "https://[::1]/x",
    "https://[0:0:0:0:0:0:0:1]/x",
    "https://[::]/x",
    "https://[::127.0.0.1]/x",
    "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of the metadata address
    "https://localhost./x",  # trailing dots
    "https://127.0.0.1./x",
    "https://169.254.169.254./x",
    "https://metadata.google.internal./x",
    "https://example.123/x",  # a numeric last label is an address, and this one is malformed
    "https://1.2.3.4.5/x",
    "https://256.0.0.1/x",
    "https://08.0.0.1/x",  # not octal
]


@pytest.mark.parametrize("url", DISGUISED)
def test_every_spelling_of_an_internal_address_is_refused_when_saved(in_tenant_a, owner_a, production_rules, url):
    from apps.notifications import services

    with pytest.raises(ValidationError) as push:
        services.push_subscription_save(user=owner_a, endpoint=url, p256dh="k", auth="a")
    assert "endpoint" in push.value.message_dict
    with pytest.raises(ValidationError) as hook:
        webhooks.endpoint_create(url=url, event_types=[])
    assert "url" in hook.value.message_dict
    assert ssrf.url_refusal(url) is not None  # and again when sending


@pytest.mark.parametrize(
    "url, saved",
    [
        ("https://0x5db8d822/hook", "https://93.184.216.34/hook"),
        ("https://1572395042:8443/hook?a=1", "https://93.184.216.34:8443/hook?a=1"),
        ("https://[2606:2800:0220:0001:0248:1893:25c8:1946]/hook", "https://[2606:2800:220:1:248:1893:25c8:1946]/hook"),
    ],
)
def test_public_addresses_are_saved_in_canonical_form(in_tenant_a, production_rules, url, saved):
    assert webhooks.endpoint_create(url=url, event_types=[]).url == saved


def test_host_names_are_kept_as_given_but_for_a_trailing_dot(production_rules):
    assert ssrf.url_clean("https://hooks.example.com./hook") == "https://hooks.example.com/hook"
    assert ssrf.url_clean("https://Hooks.Example.com/hook") == "https://Hooks.Example.com/hook"
