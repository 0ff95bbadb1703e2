"""The personal-data map: every model that refers to a person (a user reference or an e-mail field)
is declared by its app, with categories and an erasure; the exporters and erasers it drives; the
data inventory page and its CSV/JSON exports."""

import csv
import io
import json

from auditlog.models import LogEntry
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.api.services import api_key_create
from apps.core.personal_data import user_references
from apps.core.registry import registry
from apps.events.models import Event
from apps.identity.models import Membership, UserSession
from apps.notifications.models import Notification
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.flags.conftest import make_flag

# Models that refer to a person and are deliberately in no map, and why.
NOT_MAPPED: dict[str, str] = {}


def _in_scope():
    for config in apps.get_app_configs():
        if config.name.startswith(("apps.", "plugins.")) or config.name == "auditlog":
            yield from config.get_models()


def _refers_to_a_person(model) -> bool:
    return bool(user_references(model)) or any(isinstance(f, models.EmailField) for f in model._meta.concrete_fields)


def test_every_model_with_a_user_reference_or_an_email_field_is_in_the_map():
    mapped = {held.model for _, held in registry.personal_data_map()}
    missing = [
        m._meta.label for m in _in_scope() if _refers_to_a_person(m) and m._meta.label not in mapped | set(NOT_MAPPED)
    ]
    assert missing == [], f"models holding personal data that no app declares: {missing}"


def test_every_declared_model_and_field_exists():
    for area, held in registry.personal_data_map():
        model = apps.get_model(held.model)
        for name in held.fields:
            model._meta.get_field(name)  # FieldDoesNotExist names the mistake
        assert held.purpose, (area, held.model)
        if held.erasure == "keep":
            assert held.note, f"{held.model} is kept on erasure: say why"


def _person_with_data(tenant, owner):
    member = MembershipFactory(tenant=tenant, role="admin")
    person = member.user
    UserSession.objects.create(
        user=person, session_key="pd-session", tenant=tenant, ip_address="10.1.2.3", expires_at=timezone.now()
    )
    make_flag(tenant, key="pd-flag", actor=person)
    with schema_context(tenant.schema_name):
        api_key_create(actor=member, name="pd key", scopes=["flags:read"])
        Notification.objects.create(user=person, event_type="member.joined", title="Hello pd")
        Event.objects.create(type="member.joined", payload={}, actor=person, occurred_at=timezone.now())
    return person


def test_the_exporters_gather_the_person_s_data_across_apps(tenant_a, owner_a):
    person = _person_with_data(tenant_a, owner_a)
    with schema_context(tenant_a.schema_name):
        export = {e.key: e.export(user=person) for e in registry["data_exporters"].values()}
    text = json.dumps(export, cls=DjangoJSONEncoder)  # JSON-able, as the access request's ZIP needs
    assert export["identity"]["account"]["email"] == person.email
    assert export["identity"]["membership"][0]["role"] == "admin"
    assert export["identity"]["sessions"][0]["ip_address"] == "10.1.2.3"
    assert [r["key"] for r in export["flags"]["flags.Flag"]] == ["pd-flag"]
    assert export["api"]["api.ApiKey"][0]["name"] == "pd key"
    assert export["notifications"]["notifications.Notification"][0]["title"] == "Hello pd"
    assert len(export["events"]["events.Event"]) >= 1
    assert "owner@alpha" not in text  # only the person's own rows


def test_the_erasers_delete_or_anonymise_as_declared_and_end_sessions(tenant_a, owner_a):
    person = _person_with_data(tenant_a, owner_a)
    address = person.email
    with schema_context(tenant_a.schema_name):
        LogEntry.objects.create(content_type_id=1, object_pk="1", object_repr="kept", action=0, actor=person)
        for eraser in registry["data_erasers"].values():
            eraser.erase(user=person)
        tables = set(connection.introspection.table_names())
        for area, held in registry.personal_data_map():
            model = apps.get_model(held.model)
            refs = user_references(model)
            if held.erasure == "keep" or not refs:
                continue
            if model._meta.db_table not in tables:
                continue  # a plugin this organisation never enabled: its tables are not in the schema
            if model._meta.label in ("identity.User",):
                continue
            left = [r for r in refs for _ in model.objects.filter(**{r: person})]
            assert left == [], f"{held.model} still refers to the erased person ({area})"
        assert LogEntry.objects.filter(actor=person, object_repr="kept").exists()  # the audit trail keeps it
    person.refresh_from_db()
    assert not Membership.objects.filter(user=person).exists()
    assert not UserSession.objects.filter(user=person).exists()
    assert person.email == f"erased-{person.pk}@erased.invalid" and not person.is_active and person.full_name == ""
    assert not person.has_usable_password() and address != person.email


def test_a_person_in_another_organisation_keeps_their_account(tenant_a, tenant_b, owner_a):
    person = _person_with_data(tenant_a, owner_a)
    MembershipFactory(tenant=tenant_b, user=person)
    with schema_context(tenant_a.schema_name):
        registry["data_erasers"]["identity"].erase(user=person)
    person.refresh_from_db()
    assert person.is_active and not person.email.startswith("erased-")
    assert not Membership.objects.filter(user=person, tenant=tenant_a).exists()
    assert Membership.objects.filter(user=person, tenant=tenant_b).exists()


def test_the_data_inventory_page_and_its_exports(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    page = client.get("/compliance/data-inventory/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-model="auditlog.LogEntry"' in html and "Kept (a legal obligation" in html
    exported = client.get("/compliance/data-inventory/?_export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode().lstrip("\ufeff"))))
    assert rows[0][:2] == ["Where", "Record"] and len(rows) - 1 == len(registry.personal_data_map())
    record = client.get("/compliance/data-inventory.json").json()
    assert record["organisation"] == tenant_a.name
    by_model = {r["model"]: r for r in record["records"]}
    assert by_model["identity.User"]["category_codes"] == ["identity", "preferences"]
    assert by_model["notifications.PushSubscription"]["erasure"] == "delete"


def test_the_inventory_is_for_admins_only(tenant_a, owner_b):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    for user in (member, owner_b):
        for path in ("/compliance/data-inventory/", "/compliance/data-inventory.json"):
            assert client_for(tenant_a, user).get(path).status_code == 403
