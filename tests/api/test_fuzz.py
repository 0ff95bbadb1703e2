"""Schemathesis fuzzes the live API from its own OpenAPI schema: a real ASGI server (uvicorn on
the test database), a tenant of its own on the enterprise plan, an owner's key with every scope.
Fixed seed, bounded examples. Every check runs: it must find no 5xx, no response that breaks the
schema, no undocumented status code or content type, no schema-invalid request accepted and no
schema-valid request rejected as malformed (a 400): the document declares every parameter as
strictly as the server checks it. What else a valid request may get (412, 422) is in
schemathesis.toml beside this file.
"""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from apps.api.services import api_key_create
from apps.core.api import scopes
from apps.identity.models import Membership, User
from apps.tenancy.services import tenant_delete
from tests.api.test_isolation import operations
from tests.browser.conftest import live_hub  # noqa: F401  (the live ASGI server fixture)
from tests.conftest import provision_afresh

SCHEMATHESIS = Path(settings.BASE_DIR) / ".venv" / "bin" / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261125
MAX_EXAMPLES = 15
# Every operation of the schema (apps add endpoints under /api/v1/<app>/ as they come).
OPERATIONS = len(operations())
# Operations that can take the fuzzer's own access away (revoking its key; demoting or removing the
# member who created it, once it has made someone else an owner): fuzzed apart, after the rest,
# each with a key of its own, so that the main run keeps its access to the end.
REVOKE = r"/api-keys/\{id\}/revoke/$"  # the fuzzer's own key (a project key's revocation locks nobody out)
MEMBER = r"/members/\{id\}/$"
SELF_LOCKING = len([path for path, _ in operations() if re.search(f"{REVOKE}|{MEMBER}", path)])
# django_db: so that pytest-django sets up the test database even when this file runs alone.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture(scope="module")
def fuzz_tenant(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        tenant, owner = provision_afresh("fuzz", plan="enterprise", owner_password="fuzz-pass-2026")
        # Users are kept afterwards (deleting one reaches into every app's tables): reuse them.
        other = User.objects.filter(email="member@fuzz.example.com").first()
        other = other or User.objects.create_user(email="member@fuzz.example.com", password=None)
        Membership.objects.create(user=other, tenant=tenant, role="member")
        actor = Membership.objects.select_related("user", "tenant").get(user=owner, tenant=tenant)
        with schema_context(tenant.schema_name):
            keys = [api_key_create(actor=actor, name=f"fuzzer {i}", scopes=scopes.all_scopes())[1] for i in range(3)]
        try:
            yield tenant, keys
        finally:
            tenant_delete(tenant=tenant)


def _schemathesis(base_url, key, tmp_path, *extra):
    port = base_url.rsplit(":", 1)[1]
    cmd = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"http://127.0.0.1:{port}/api/v1/schema/",
        # The served schema names the tenant's host in `servers`; the test reaches it by address.
        "--url", f"http://127.0.0.1:{port}",
        "--header", f"Host: fuzz.localhost:{port}",
        "--header", f"Authorization: Bearer {key}",
        "--checks", "all",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",
        "--no-shrink",
        "--wait-for-schema", "30",
        "--request-timeout", "10",
        *extra,
    ]  # fmt: skip
    return subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"}
    )


def _fuzz(base_url, key, tmp_path, *extra):
    result = _schemathesis(base_url, key, tmp_path, *extra)
    out = result.stdout + result.stderr
    (tmp_path / "schemathesis.out").write_text(out)  # the whole report, when the tail is not enough
    assert result.returncode == 0, out[-6000:]
    assert " passed" in out, out[-3000:]
    return out


def test_fuzzing_finds_no_server_error_and_no_schema_violation(live_hub, fuzz_tenant, tmp_path):  # noqa: F811
    tenant, keys = fuzz_tenant
    out = _fuzz(live_hub, keys[0], tmp_path, "--exclude-path-regex", f"{REVOKE}|{MEMBER}")
    assert f"Selected: {OPERATIONS - SELF_LOCKING}/{OPERATIONS}" in out, out[-3000:]
    assert "Authentication failed" not in out, out[-3000:]  # it kept its access to the end


def test_fuzzing_key_revocation(live_hub, fuzz_tenant, tmp_path):  # noqa: F811
    tenant, keys = fuzz_tenant
    out = _fuzz(live_hub, keys[1], tmp_path, "--include-path-regex", REVOKE)
    assert f"Selected: 1/{OPERATIONS}" in out, out[-3000:]


def test_fuzzing_member_changes(live_hub, fuzz_tenant, tmp_path):  # noqa: F811
    tenant, keys = fuzz_tenant
    out = _fuzz(live_hub, keys[2], tmp_path, "--include-path-regex", MEMBER)
    assert f"Selected: {SELF_LOCKING - 1}/{OPERATIONS}" in out, out[-3000:]
