"""Tenant commands and routing at their edges: names and plans that do not fit, a delete with
nobody at the terminal, backup files that cannot be written, Redis gone while routing, and a
websocket that names no host."""

import asyncio
import logging
from io import StringIO

import pytest
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_exists

from apps.tenancy import services
from apps.tenancy.models import Domain, Tenant
from apps.tenancy.routing import routes, routing_changed
from tests.conftest import cache_redis_down

pytestmark = pytest.mark.django_db


def one_line_error(*args) -> str:
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=StringIO())
    assert "\n" not in str(exc.value)
    return str(exc.value)


@pytest.mark.parametrize(
    "name, message",
    [("   ", "name: Please give the organisation a name."), ("x" * 101, "name: Use at most 100 characters.")],
)
def test_create_tenant_refuses_a_name_that_does_not_fit(tenant_a, name, message):
    assert one_line_error("create_tenant", name, "fits-not", "x@example.com") == message
    assert not Tenant.objects.filter(slug="fits-not").exists()


def test_services_refuse_unknown_plans_and_statuses_and_empty_names(tenant_a):
    with pytest.raises(ValidationError) as plan:
        services.tenant_create(name="Planless", slug="planless", plan="platinum")
    assert list(plan.value.message_dict) == ["plan"]
    with pytest.raises(ValidationError) as status:
        services.tenant_set_status(tenant=tenant_a, status="frozen")
    assert list(status.value.message_dict) == ["status"]
    with pytest.raises(ValidationError) as name:
        services.tenant_rename(tenant=tenant_a, name="  ")
    assert name.value.message_dict == {"name": ["Please give the organisation a name."]}
    tenant_a.refresh_from_db()
    assert (tenant_a.status, tenant_a.name) == ("active", "Alpha Ltd")
    with pytest.raises(ValidationError, match="The public schema cannot be deleted."):
        services.tenant_delete(tenant=Tenant.objects.get(schema_name="public"))


def test_delete_tenant_with_nobody_at_the_terminal_deletes_nothing(tenant_a, monkeypatch):
    def no_terminal(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    assert one_line_error("delete_tenant", "alpha") == "Not confirmed; nothing was deleted."
    assert schema_exists("t_alpha")


def test_backup_tenant_refuses_an_output_it_cannot_write(tenant_a, tmp_path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("")
    assert one_line_error("backup_tenant", "alpha", "--output", str(a_file / "alpha.tar.gz")).endswith(
        "plain-file is not a folder."
    )
    message = one_line_error("backup_tenant", "alpha", "--output", "/proc/alpha.tar.gz")
    assert "/proc/alpha.tar.gz" in message
    assert not list(tmp_path.glob("*.partial"))


@pytest.fixture
def redis_down(settings):
    cache_redis_down(settings)
    settings.HUB_ROUTING_RECHECK_SECONDS = 0
    routes.clear()
    yield
    routes.clear()


def test_without_redis_routing_reads_the_database_so_a_suspension_still_counts(
    tenant_a, redis_down, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.WARNING, logger="apps.tenancy.routing"):
        assert routes.tenant_for_host("alpha.localhost").pk == tenant_a.pk
        Tenant.objects.filter(pk=tenant_a.pk).update(status=Tenant.Status.SUSPENDED)
        assert routes.tenant_for_host("alpha.localhost").is_active is False  # not an old cached copy
        with django_capture_on_commit_callbacks(execute=True):
            routing_changed()  # cannot tell the other processes; does not fail the change
    assert "routing version unavailable; re-reading tenants from the database" in caplog.text
    assert "could not publish a routing change" in caplog.text


def test_a_domain_names_its_host(tenant_a):
    assert str(Domain.objects.get(tenant=tenant_a, is_primary=True)) == "alpha.localhost"


def test_a_websocket_without_a_host_header_is_refused(tenant_a):
    from config.asgi import application

    async def talk():
        communicator = WebsocketCommunicator(application, "/ws/whoami/", headers=[(b"origin", b"http://x")])
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    assert asyncio.run(talk()) is False


def test_delete_tenant_goes_ahead_once_the_slug_is_typed(tenant_a, monkeypatch):
    from apps.identity.services import organisation_provision

    organisation_provision(name="Typed", slug="typed-co", owner_email="o@typed.example.com", owner_password="x-pass-1")
    monkeypatch.setattr("builtins.input", lambda prompt: " typed-co \n")
    out = StringIO()
    call_command("delete_tenant", "typed-co", stdout=out)
    assert "Deleted typed-co and its schema t_typed_co." in out.getvalue()
    assert not schema_exists("t_typed_co")
