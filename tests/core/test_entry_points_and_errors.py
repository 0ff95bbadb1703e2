"""The platform's entry points and error answers: production settings (what README tells operators
to check), the WSGI module, the error pages in HTML and problem+json, and the command base's
one-line errors."""

import os
import subprocess
import sys

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.test import RequestFactory

from apps.core import events
from apps.core.forms import apply_errors
from apps.core.management import HubCommand
from apps.core.views import forbidden, not_found, server_error
from tests.processes import ROOT

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-key-for-the-deploy-check-0123456789",
    "HUB_FIELD_ENCRYPTION_KEYS": "ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=",
    "HUB_BASE_DOMAIN": "hub.example.com",
}


def python(*args, env) -> subprocess.CompletedProcess:
    """A Python process with `env` as its only DJANGO_/HUB_ settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_djangos_deploy_check():
    result = python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "HUB_FIELD_ENCRYPTION_KEYS"])
def test_production_settings_refuse_to_start_without_their_secrets(missing):
    result = python("manage.py", "check", env={k: v for k, v in PRODUCTION.items() if k != missing})
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_without_a_settings_module_manage_py_uses_the_development_settings():
    show = "from django.conf import settings as s; print(s.SETTINGS_MODULE, s.DEBUG, s.WHITENOISE_USE_FINDERS)"
    result = python("manage.py", "shell", "-c", show, env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["config.settings.dev", "True", "True"]


def test_the_wsgi_module_builds_the_application():
    code = "from config.wsgi import application; print(type(application).__name__)"
    result = python("-c", code, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "WSGIHandler"


@pytest.mark.parametrize(
    "handler, status, title",
    [(not_found, 404, "Not Found"), (forbidden, 403, "Forbidden"), (server_error, 500, "Internal Server Error")],
)
def test_error_answers_are_problem_json_under_the_api_and_pages_elsewhere(handler, status, title):
    api = handler(RequestFactory().get("/api/v1/anything/"))
    assert api.status_code == status
    assert api["Content-Type"] == "application/problem+json"
    assert b'"title": "' + title.encode() + b'"' in api.content
    page = handler(RequestFactory().get("/members/"))
    assert page.status_code == status
    assert page["Content-Type"].startswith("text/html")


def test_a_services_error_without_fields_goes_on_the_whole_form():
    class NameForm(forms.Form):
        name = forms.CharField()

    form = NameForm({"name": "x"})
    assert form.is_valid()
    apply_errors(form, ValidationError("The organisation was deleted meanwhile."))
    apply_errors(form, ValidationError({"unknown_field": ["Only the form knows."], "name": ["Taken."]}))
    assert form.non_field_errors() == ["The organisation was deleted meanwhile.", "Only the form knows."]
    assert form.errors["name"] == ["Taken."]


def test_commands_give_one_line_errors_from_any_exception():
    command = HubCommand()
    assert str(command.fail(ValidationError({"slug": ["Taken."], "name": ["Too long.", "Odd."]}))) == (
        "slug: Taken.; name: Too long. Odd."
    )
    assert str(command.fail(ValidationError(["First.", "Second."]))) == "First. Second."
    assert str(command.fail(ValueError("plain error"))) == "plain error"
    parser = command.create_parser("manage.py", "some_command")
    with pytest.raises(CommandError, match="^Error: the following arguments are required"):
        parser.add_argument("needed")
        parser.parse_args([])


def test_publishing_without_the_event_spine_says_what_to_install(monkeypatch):
    monkeypatch.setattr(events, "_publisher", None)
    with pytest.raises(LookupError, match="add apps.events to INSTALLED_APPS"):
        events.publish("member.joined", {}, tenant=None)
