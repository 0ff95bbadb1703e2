"""Websockets are routed by host, like HTTP: only a page of the host itself may open one, and its
database work runs in the host's tenant schema (tests/websockets.py explains how they run)."""

import asyncio

import pytest
from django_tenants.utils import tenant_context

from apps.identity.models import Membership
from apps.notifications.models import Notification
from apps.tenancy.channels import same_origin
from tests.conftest import committed
from tests.websockets import handshake, logged_in


@pytest.mark.django_db(transaction=False)
def test_each_tenant_host_runs_the_sockets_database_work_in_its_own_schema(tenant_a, tenant_b, owner_a):
    # owner_a belongs to both tenants, with 2 unread notifications in alpha and 1 in beta.
    def setup():
        Membership.objects.create(user=owner_a, tenant=tenant_b, role="member")
        for tenant, count in ((tenant_a, 2), (tenant_b, 1)):
            with tenant_context(tenant):
                for i in range(count):
                    Notification.objects.create(user=owner_a, event_type="member.joined", title=f"n{i}")

    def undo():
        Membership.objects.filter(user=owner_a, tenant=tenant_b).delete()
        for tenant in (tenant_a, tenant_b):
            with tenant_context(tenant):
                Notification.objects.filter(user=owner_a).delete()

    committed(setup)
    try:
        cookies = {host: logged_in(owner_a, host)[1] for host in ("alpha.localhost", "beta.localhost")}
        # One after the other, and back: the shared sync thread must not keep the previous schema.
        for host, unread in (("alpha.localhost", 2), ("beta.localhost", 1), ("alpha.localhost", 2)):
            accepted, hello = asyncio.run(handshake(host, cookies[host]))
            assert accepted and hello["unread"] == unread, (host, hello)
    finally:
        committed(undo)


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("host", ["nobody.localhost", "localhost"])
def test_unknown_and_public_hosts_are_refused(tenant_a, host):
    assert asyncio.run(handshake(host)) == (False, 4403)


@pytest.mark.django_db(transaction=False)
def test_logging_out_ends_websocket_authentication(tenant_a, tenant_b, owner_a):
    client, cookie = logged_in(owner_a, "alpha.localhost")
    asyncio.run(handshake("beta.localhost"))  # leaves the shared sync thread in t_beta
    assert asyncio.run(handshake("alpha.localhost", cookie))[0]

    committed(lambda: client.post("/accounts/logout/"))

    asyncio.run(handshake("beta.localhost"))
    assert asyncio.run(handshake("alpha.localhost", cookie)) == (False, 4403)


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("who", ["anonymous", "member", "member of another tenant"])
def test_no_other_websocket_path_is_served(tenant_a, owner_a, owner_b, who):
    # There is no "who am I" socket (it told anyone the tenant's schema name): any path but /ws/
    # is refused at the handshake, whoever asks.
    user = {"anonymous": None, "member": owner_a, "member of another tenant": owner_b}[who]
    cookie = logged_in(user, "alpha.localhost")[1] if user else None
    for path in ("/ws/whoami/", "/ws/nothing/", "/"):
        assert asyncio.run(handshake("alpha.localhost", cookie, path=path)) == (False, 4403)


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    "origin",
    [
        "http://beta.localhost",  # another tenant's page
        "http://localhost",  # the public site
        "http://alpha.localhost:8001",  # another port of the same host name
        "https://evil.example.com",
        "null",
        None,  # no Origin: not a page
    ],
)
def test_a_socket_opened_from_any_other_origin_is_refused(tenant_a, tenant_b, owner_a, origin):
    # A page of tenant B (or any site) must not open a socket on tenant A with the visitor's
    # cookie for A: only A's own pages may.
    cookie = logged_in(owner_a, "alpha.localhost")[1]
    assert asyncio.run(handshake("alpha.localhost", cookie, origin=origin)) == (False, 4403)
    assert asyncio.run(handshake("alpha.localhost", cookie))[0]  # from alpha's own page


def test_same_origin_compares_host_name_and_port():
    assert same_origin("http://alpha.example.com", "alpha.example.com")
    assert same_origin("https://alpha.example.com", "ALPHA.example.com")
    assert same_origin("http://alpha.localhost:8000", "alpha.localhost:8000")
    assert same_origin("https://alpha.example.com:443", "alpha.example.com")
    assert not same_origin("http://alpha.localhost:8000", "alpha.localhost")
    assert not same_origin("http://beta.example.com", "alpha.example.com")
    assert not same_origin("http://example.com", "alpha.example.com")
    assert not same_origin("http://alpha.example.com.evil.net", "alpha.example.com")
    assert not same_origin("", "alpha.example.com")
    assert not same_origin("null", "alpha.example.com")
    assert not same_origin("ftp://alpha.example.com", "alpha.example.com")
    assert not same_origin("http://alpha.example.com:99999", "alpha.example.com")
