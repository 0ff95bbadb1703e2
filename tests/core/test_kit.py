"""The UI kit's server side: the template tags ({% load hub %}), the site's form renderer and the
time-zone middleware."""

import datetime
import zoneinfo
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from apps.core.middleware import TimeZoneMiddleware


def render(source: str, **context) -> str:
    return Template("{% load hub %}" + source).render(Context(context))


# --- {% time %} -----------------------------------------------------------------------------


def test_time_shows_relative_words_with_the_absolute_time_as_title():
    html = render("{% time when %}", when=timezone.now() - datetime.timedelta(minutes=5))
    assert html.startswith('<time datetime="')
    assert ">5\xa0minutes ago</time>" in html
    assert 'title="' in html and "UTC" in html


def test_time_reads_in_the_active_time_zone():
    when = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        html = render("{% time when %}", when=when)
    assert 'datetime="2026-03-01T12:00:00+00:00"' in html
    assert 'title="1 Mar 2026, 13:00 CET"' in html


def test_time_says_just_now_in_future_and_the_date_when_old():
    now = timezone.now()
    assert ">just now<" in render("{% time when %}", when=now)
    assert ">in 2\xa0hours<" in render("{% time when %}", when=now + datetime.timedelta(hours=2, minutes=1))
    old = datetime.datetime(2025, 1, 2, 9, 0, tzinfo=datetime.UTC)
    assert ">2 Jan 2025</time>" in render("{% time when %}", when=old)


def test_time_of_nothing_shows_the_default_and_a_date_shows_its_day():
    assert render("{% time when %}", when=None) == ""
    assert render('{% time when default="never" %}', when=None) == "never"
    assert render("{% time when %}", when=datetime.date(2026, 5, 4)) == '<time datetime="2026-05-04">4 May 2026</time>'


def test_time_escapes_its_default():
    html = render("{% time when default=fallback %}", when=None, fallback="<b>")
    assert html == "&lt;b&gt;"


# --- badges, empty states, copy -------------------------------------------------------------


def test_badge_has_its_tone_and_an_unknown_tone_is_neutral():
    assert render('{% badge "Delivered" "success" %}') == '<span class="badge badge-success">Delivered</span>'
    assert render('{% badge "Odd" "purple" %}') == '<span class="badge badge-neutral">Odd</span>'
    assert render("{% badge label %}", label="<script>") == '<span class="badge badge-neutral">&lt;script&gt;</span>'


def test_empty_state_offers_the_first_step():
    html = render(
        '{% empty_state "No keys yet" text="Create one to call the API." action_url="/keys/new"'
        ' action_label="Create a key" %}'
    )
    assert '<div class="empty-state">' in html
    assert "No keys yet" in html and "Create one to call the API." in html
    assert '<a class="button" href="/keys/new">Create a key</a>' in html
    assert "<a " not in render('{% empty_state "Nothing here" %}')


def test_copy_button_names_its_target():
    html = render('{% copy_button "#secret" %}')
    assert html == '<button type="button" class="button button-small button-ghost" data-copy="#secret">Copy</button>'


# --- the form renderer ----------------------------------------------------------------------


class SampleForm(forms.Form):
    email = forms.EmailField(help_text="Where we write to you.")
    remember = forms.BooleanField(required=False, label="Remember me")


def test_form_puts_label_field_help_then_errors_and_marks_the_invalid_field():
    form = SampleForm(data={"email": "not-an-address"})
    assert not form.is_valid()
    for html in (str(form), form.as_div(), form.as_p()):
        assert '<label for="id_email">Email<span class="field-required" aria-hidden="true"> *</span></label>' in html
        assert ":</label>" not in html
        label, field, help_, error = (
            html.index('<label for="id_email"'),
            html.index('<input type="email"'),
            html.index('id="id_email_helptext"'),
            html.index('id="id_email_error"'),
        )
        assert label < field < help_ < error
        assert 'aria-invalid="true"' in html
        assert 'aria-describedby="id_email_helptext id_email_error"' in html
        assert 'class="field field-invalid"' in html


def test_checkbox_sits_before_its_label():
    html = str(SampleForm())
    row = html[html.index('<div class="checkbox-row">') :]
    assert row.index('type="checkbox"') < row.index('<label for="id_remember">Remember me</label>')
    assert "aria-invalid" not in html


# --- the time-zone middleware ---------------------------------------------------------------


def active_zone_for(user, tenant) -> str:
    request = RequestFactory().get("/")
    request.user, request.tenant = user, tenant
    seen = []
    TimeZoneMiddleware(lambda r: seen.append(timezone.get_current_timezone_name()))(request)
    assert timezone.get_current_timezone_name() == "UTC"  # and deactivated afterwards
    return seen[0]


def person(zone):
    return SimpleNamespace(is_authenticated=True, time_zone=zone)


def test_the_users_zone_wins_over_the_organisations():
    assert active_zone_for(person("Asia/Tokyo"), SimpleNamespace(time_zone="Europe/Paris")) == "Asia/Tokyo"


def test_the_organisations_zone_applies_when_the_user_has_none():
    assert active_zone_for(person(""), SimpleNamespace(time_zone="Europe/Paris")) == "Europe/Paris"
    assert active_zone_for(AnonymousUser(), SimpleNamespace(time_zone="America/New_York")) == "America/New_York"


def test_utc_when_nobody_says_or_the_zone_is_unknown():
    assert active_zone_for(AnonymousUser(), None) == "UTC"
    assert active_zone_for(SimpleNamespace(is_authenticated=True), SimpleNamespace()) == "UTC"
    assert active_zone_for(person("Mars/Olympus_Mons"), SimpleNamespace(time_zone="../etc")) == "UTC"


@pytest.mark.django_db
def test_a_page_renders_times_in_utc_by_default(tenant_a, owner_a):
    from tests.conftest import client_for, set_mfa_state

    client = client_for(tenant_a, owner_a)
    set_mfa_state(client, "verified")
    html = client.get("/security/sessions/").content.decode()
    assert "<time datetime=" in html and ' UTC">' in html


# --- the style guide and the shell ----------------------------------------------------------


def verified_client(tenant, user):
    from tests.conftest import client_for, set_mfa_state

    client = client_for(tenant, user)
    set_mfa_state(client, "verified")
    return client


@pytest.mark.django_db
def test_style_guide_is_for_staff_only(tenant_a, owner_a):
    from tests.conftest import client_for

    assert verified_client(tenant_a, owner_a).get("/style-guide/").status_code == 404
    assert client_for(tenant_a).get("/style-guide/").status_code == 404
    assert client_for(None).get("/style-guide/").status_code == 404
    owner_a.is_staff = True
    owner_a.save(update_fields=["is_staff"])
    html = verified_client(tenant_a, owner_a).get("/style-guide/").content.decode()
    for piece in (
        'class="button button-danger"',
        'class="badge badge-success"',
        'class="empty-state"',
        "data-confirm-typed",
        "data-copy=",
        "<time datetime=",
        'class="table-wrap"',
        'class="spinner"',
        'aria-invalid="true"',
    ):
        assert piece in html, piece
    # Shown inside the member's own shell (navigation and all).
    assert 'id="sidenav"' in html


@pytest.mark.django_db
def test_style_guide_is_open_to_all_in_debug(settings):
    from tests.conftest import client_for

    settings.DEBUG = True
    response = client_for(None).get("/style-guide/")
    assert response.status_code == 200
    assert b'<body class="public"' in response.content


@pytest.mark.django_db
def test_style_guide_shows_a_real_data_table_searched_filtered_paged_and_exported(settings):
    from tests.conftest import client_for

    settings.DEBUG = True
    client = client_for(None)
    html = client.get("/style-guide/").content.decode()
    assert 'id="kit-data-table-title">Data table</h2>' in html
    assert 'id="kit-permissions-table"' in html and 'name="kit-q"' in html and 'name="kit-action"' in html
    assert "kit-_export=csv" in html and "kit-page=2" in html  # five rows a page
    assert "class PermissionsTable(DataTable)" in html  # its snippet
    searched = client.get("/style-guide/", {"kit-q": "change user", "kit-action": "change_"}).content.decode()
    assert "Can change user" in searched and "Can add user" not in searched
    # htmx asks for the table alone.
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "kit-permissions-table"}
    part = client.get("/style-guide/", {"kit-q": "user"}, **htmx)
    assert b"Can add user" in part.content and b"kit-section" not in part.content
    export = client.get("/style-guide/", {"kit-q": "add user", "kit-_export": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Permission,Kind of record" and "Can add user,user" in lines
    assert all("add" in line and "user" in line for line in lines[1:])


@pytest.mark.django_db
def test_style_guide_checks_the_sample_form_and_confirms_actions(tenant_a, owner_a):
    owner_a.is_staff = True
    owner_a.save(update_fields=["is_staff"])
    client = verified_client(tenant_a, owner_a)
    html = client.post("/style-guide/", {"action": "form", "sample-email": "jane@"}).content.decode()
    assert 'id="id_sample-email_error"' in html and "Enter a valid email address." in html
    valid = {
        "action": "form",
        "sample-name": "Jane",
        "sample-email": "jane@acme.test",
        "sample-role": "admin",
        "sample-plan": "team",
    }
    response = client.post("/style-guide/", valid, follow=True)
    assert "The sample form is valid." in response.content.decode()
    response = client.post("/style-guide/", {"action": "remove"}, follow=True)
    assert "Confirmed: the “remove” form was sent." in response.content.decode()


@pytest.mark.django_db
def test_security_tab_title_is_words_and_pages_have_a_skip_link(tenant_a, owner_a):
    from tests.conftest import client_for

    html = verified_client(tenant_a, owner_a).get("/security/").content.decode()
    title = html[html.index("<title>") : html.index("</title>")]
    assert title == f"<title>Security · {tenant_a.name}"
    assert '<a class="skip-link" href="#main">Skip to content</a>' in html and 'id="main"' in html
    landing = client_for(None).get("/").content.decode()
    assert '<a class="skip-link" href="#main">' in landing
    assert '<meta name="description" content="' in landing


@pytest.mark.django_db
def test_ending_other_sessions_and_withdrawing_an_invitation_ask_first(tenant_a, owner_a):
    from apps.identity.services import invitation_create

    client = verified_client(tenant_a, owner_a)
    assert 'data-confirm="End every other session?' in client.get("/security/sessions/").content.decode()
    invitation_create(actor=owner_a.memberships.get(tenant=tenant_a), email="bob@example.com", role="member")
    assert 'data-confirm="Withdraw the invitation to bob@example.com?' in client.get("/members/").content.decode()


@pytest.mark.django_db
def test_webhook_secret_and_new_api_key_have_copy_buttons(tenant_a, owner_a):
    from django_tenants.utils import tenant_context

    from apps.notifications.models import WebhookEndpoint

    client = verified_client(tenant_a, owner_a)
    with tenant_context(tenant_a):
        endpoint = WebhookEndpoint.objects.create(
            url="https://hooks.example.com/in", event_types=[], secret="whsec_kit"
        )
    html = client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert '<code class="secret" data-secret id="webhook-secret">whsec_kit</code>' in html
    assert 'data-copy="#webhook-secret"' in html
    html = client.post(
        "/developers/keys/", {"name": "Sync", "scopes": ["identity:read"], "expires_on": ""}
    ).content.decode()
    assert '<span id="new-key-secret"><code class="secret" data-secret>hub_' in html
    assert 'data-copy="#new-key-secret"' in html


@pytest.mark.django_db
def test_removing_a_second_factor_asks_first(tenant_a, owner_a):
    from apps.identity.models import TOTPDevice

    TOTPDevice.objects.create(user=owner_a, name="Phone app", confirmed=True)
    html = verified_client(tenant_a, owner_a).get("/security/").content.decode()
    assert 'data-confirm="Remove Phone app? You will no longer be able to use it to log in."' in html


DESTRUCTIVE = ("/remove/", "/revoke/", "/delete/", "/end/", "/end-others/", "withdraw", "/leave/")


@pytest.mark.django_db
def test_every_destructive_action_asks_once_in_the_kits_dialog(tenant_a, owner_a):
    """Each form that removes, revokes, deletes or ends something carries data-confirm (the kit's one
    dialog, with its button named); deleting a webhook endpoint asks for its host to be typed.
    (Deleting the organisation asks for its name in the form itself, checked by the server.)"""
    import re

    from django_tenants.utils import tenant_context

    from apps.api.services import api_key_create
    from apps.identity.models import TOTPDevice
    from apps.identity.services import invitation_create
    from apps.notifications.models import WebhookEndpoint
    from tests.factories import MembershipFactory

    membership = owner_a.memberships.get(tenant=tenant_a)
    MembershipFactory(tenant=tenant_a, role="member")
    invitation_create(actor=membership, email="bob@example.com", role="member")
    TOTPDevice.objects.create(user=owner_a, name="Phone app", confirmed=True)
    with tenant_context(tenant_a):
        api_key_create(actor=membership, name="Sync", scopes=["identity:read"])
        endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in", event_types=[], secret="s")
    client = verified_client(tenant_a, owner_a)
    seen = set()
    for path in (
        "/members/",
        "/developers/keys/",
        "/webhooks/",
        f"/webhooks/{endpoint.pk}/",
        "/security/",
        "/security/sessions/",
        "/accounts/email/",
    ):
        html = client.get(path).content.decode()
        for form in re.findall(r'<form [^>]*method="post"[^>]*>', html):
            action = re.search(r'action="([^"]*)"', form)
            if not action or not any(word in action.group(1) for word in DESTRUCTIVE):
                continue
            seen.add(re.sub(r"\d+", "N", action.group(1)))
            assert 'data-confirm="' in form and 'data-confirm-button="' in form, (path, form)
            if "/delete/" in action.group(1):
                assert 'data-confirm-typed="hooks.example.com"' in form, (path, form)
    assert {
        "/members/N/remove/",
        "/invitations/N/revoke/",
        "/developers/keys/N/revoke/",
        "/webhooks/N/delete/",
        "/security/factors/totp/N/remove/",
        "/security/sessions/end-others/",
    } <= seen, seen
