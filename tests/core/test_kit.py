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

NOW = timezone.now()


def render(source: str, **context) -> str:
    return Template("{% load hub %}" + source).render(Context(context))


# --- {% time %} -----------------------------------------------------------------------------


def test_time_shows_relative_words_with_the_absolute_time_as_title():
    html = render("{% time when %}", when=NOW - datetime.timedelta(minutes=5))
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
    assert ">just now<" in render("{% time when %}", when=NOW)
    assert ">in 2\xa0hours<" in render("{% time when %}", when=NOW + datetime.timedelta(hours=2, minutes=1))
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
    assert "<time datetime=" in html and " UTC\">" in html
