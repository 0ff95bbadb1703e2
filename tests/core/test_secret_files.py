"""Secrets from files: `<NAME>_FILE` (Kubernetes/Docker secrets, Vault Agent) for any setting."""

import os
import subprocess
import sys

from config.settings.base import HubEnv


def test_a_file_variable_gives_the_file_contents_without_its_newline(tmp_path, monkeypatch):
    secret = tmp_path / "db-url"
    secret.write_text("postgres://hub:s3cret@db:5432/hub\n")
    monkeypatch.setenv("HUB_TEST_DB_URL_FILE", str(secret))
    monkeypatch.setenv("HUB_TEST_DB_URL", "postgres://wrong@elsewhere/x")  # the file wins
    env = HubEnv()
    assert env("HUB_TEST_DB_URL") == "postgres://hub:s3cret@db:5432/hub"
    assert env.db_url("HUB_TEST_DB_URL")["PASSWORD"] == "s3cret"


def test_plain_variables_are_unchanged(monkeypatch):
    monkeypatch.setenv("HUB_TEST_PLAIN", "value with trailing newline\n")
    assert HubEnv()("HUB_TEST_PLAIN") == "value with trailing newline\n"


def test_production_settings_take_their_secrets_from_files(tmp_path):
    (tmp_path / "secret-key").write_text("k" * 60 + "\n")
    (tmp_path / "field-keys").write_text("ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=\n")
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SECRET_KEY", "HUB_FIELD_ENCRYPTION_KEYS", "DJANGO_SETTINGS_MODULE")
    }
    environ |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY_FILE": str(tmp_path / "secret-key"),
        "HUB_FIELD_ENCRYPTION_KEYS_FILE": str(tmp_path / "field-keys"),
    }
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY); print(settings.HUB_FIELD_ENCRYPTION_KEYS)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["k" * 60, "['ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc=']"]
