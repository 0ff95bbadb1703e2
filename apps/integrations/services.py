"""Writes: a tenant's connections (their secrets encrypted, never read back out), the connection
test, OAuth 2.0 tokens saved after a refresh or the provider's consent, imported OpenAPI
documents, and running an action (its failure on a refused credential recorded on the connection
with the reason)."""

import base64
import hashlib
import json
import secrets as tokens
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core import ssrf
from apps.core.events import publish

from . import openapi
from .catalogue import connectors
from .client import Client, policy, send
from .connectors.mail import SCHEMES as MAIL_SCHEMES
from .errors import ConnectorError, CredentialError
from .models import ApiSpec, Connection
from .schemas import validated_inputs

# auth type -> (settings it needs, secrets it needs)
REQUIRED = {
    "none": ((), ()),
    "api_key": ((), ("api_key",)),
    "basic": (("username",), ("password",)),
    "bearer": ((), ("token",)),
    "oauth2": (("token_url", "client_id"), ("client_secret",)),
    "webhook": ((), ("url",)),
}
SECRET_KEYS = ("api_key", "password", "token", "client_secret", "access_token", "refresh_token", "url")
URL_SETTINGS = ("token_url", "authorize_url")


def _check_url(value: str, field: str, errors: dict, mail: dict | None = None) -> str:
    """`value` cleaned by the SSRF guard's rules for URLs; a mail server's address (a scheme of
    `mail`) is checked when it is called (apps.integrations.connectors.mail)."""
    if not value:
        return value
    if mail and value.split(":", 1)[0] in mail:
        return value
    try:
        return ssrf.url_clean(value, policy())
    except ssrf.BlockedDestination as exc:
        errors.setdefault(field, []).append(str(exc))
        return value


def _validated(connection: Connection, secrets: dict) -> None:
    errors: dict = {}
    connector = connectors().get(connection.connector)
    if connector is None:
        errors["connector"] = [f"There is no connector “{connection.connector}”."]
    elif connection.auth_type not in connector.auth_types:
        kinds = ", ".join(connector.auth_types)
        errors["auth_type"] = [f"{connector.label} takes these kinds of credential: {kinds}."]
    if connection.auth_type not in REQUIRED:
        errors["auth_type"] = [f"“{connection.auth_type}” is not a kind of credential."]
    if not connection.name:
        errors["name"] = ["Give the connection a name."]
    elif Connection.objects.filter(name=connection.name).exclude(pk=connection.pk).exists():
        errors["name"] = [f"There is a connection named “{connection.name}” already."]
    if not isinstance(connection.settings, dict):
        errors["settings"] = ["Settings are an object of names and values."]
        connection.settings = {}
    needs_settings, needs_secrets = REQUIRED.get(connection.auth_type, ((), ()))
    for key in needs_settings:
        if not str(connection.settings.get(key) or "").strip():
            errors.setdefault(f"settings.{key}", []).append("This is required for this kind of credential.")
    for key in needs_secrets:
        if not str(secrets.get(key) or "").strip():
            errors.setdefault(f"secrets.{key}", []).append("This is required for this kind of credential.")
    unknown = sorted(set(secrets) - set(SECRET_KEYS))
    if unknown:
        errors["secrets"] = [f"Unknown secret: {', '.join(unknown)}."]
    mail = MAIL_SCHEMES.get(connection.connector)
    connection.base_url = _check_url(connection.base_url.strip(), "base_url", errors, mail)
    if mail and connection.base_url and connection.base_url.split("://", 1)[0] not in mail:
        kinds = ", ".join(f"{scheme}://" for scheme in mail)
        errors.setdefault("base_url", []).append(f"A mail server's address starts {kinds}.")
    if connector is not None and not connection.base_url and not connector.default_base_url:
        if connection.auth_type != "webhook":
            errors.setdefault("base_url", []).append(f"{connector.label} needs the address of your service.")
    for key in URL_SETTINGS:
        if connection.settings.get(key):
            connection.settings[key] = _check_url(connection.settings[key], f"settings.{key}", errors)
    if secrets.get("url"):
        secrets["url"] = _check_url(secrets["url"], "secrets.url", errors)
    headers = connection.settings.get("headers")
    if headers is not None and not (isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())):
        errors["settings.headers"] = ["Headers are an object of names and text values."]
    if errors:
        raise ValidationError(errors)


def _payload(connection: Connection) -> dict:
    return {
        "connection_id": connection.pk,
        "name": connection.name,
        "connector": connection.connector,
        "auth_type": connection.auth_type,
    }


def connection_create(
    *,
    tenant,
    actor=None,
    name: str,
    connector: str,
    auth_type: str,
    base_url: str = "",
    settings: dict | None = None,
    secrets: dict | None = None,
) -> Connection:
    """Adds a connection; its secrets are stored encrypted. Publishes integrations.connection_created."""
    secrets = {k: str(v) for k, v in (secrets or {}).items() if v not in (None, "")}
    connection = Connection(
        name=(name or "").strip(),
        connector=connector,
        auth_type=auth_type,
        base_url=base_url or "",
        settings=settings if settings is not None else {},
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _validated(connection, secrets)
    connection.secrets = json.dumps(secrets)
    with transaction.atomic():
        connection.save()
        publish("integrations.connection_created", _payload(connection), tenant=tenant, actor=actor)
    return connection


def connection_update(
    *, tenant, actor=None, connection: Connection, secrets: dict | None = None, **fields
) -> Connection:
    """Changes a connection. A secret not given (or given empty) is kept; the others replace it.
    A changed credential or address is tested afresh (status back to untested)."""
    kept = json.loads(connection.secrets or "{}")
    given = {k: str(v) for k, v in (secrets or {}).items() if v not in (None, "")}
    for name in ("name", "connector", "auth_type", "base_url", "settings"):
        if name in fields and fields[name] is not None:
            setattr(connection, name, fields[name].strip() if isinstance(fields[name], str) else fields[name])
    merged = {**kept, **given}
    _validated(connection, merged)
    connection.secrets = json.dumps(merged)
    if given or {"auth_type", "base_url", "settings", "connector"} & set(fields):
        connection.status, connection.status_reason = "untested", ""
        if "access_token" not in given and ({"client_secret", "refresh_token"} & set(given)):
            connection.token_expires_at = None
    with transaction.atomic():
        connection.save()
        publish("integrations.connection_changed", _payload(connection), tenant=tenant, actor=actor)
    return connection


def connection_delete(*, tenant, actor=None, connection: Connection) -> None:
    payload = _payload(connection)
    with transaction.atomic():
        connection.delete()
        publish("integrations.connection_deleted", payload, tenant=tenant, actor=actor)


def connection_tokens_save(*, connection: Connection, access_token: str, refresh_token: str, expires_at) -> None:
    """Keeps the OAuth 2.0 tokens a refresh gave (encrypted, like every secret)."""
    secrets = json.loads(connection.secrets or "{}")
    secrets.update(access_token=access_token, refresh_token=refresh_token)
    connection.secrets = json.dumps({k: v for k, v in secrets.items() if v})
    connection.token_expires_at = expires_at
    connection.save(update_fields=["secrets", "token_expires_at", "updated"])


def _status_save(connection: Connection, status: str, reason: str, *, tenant, actor=None) -> None:
    was = connection.status
    connection.status, connection.status_reason, connection.checked_at = status, reason, timezone.now()
    connection.save(update_fields=["status", "status_reason", "checked_at", "updated"])
    if status in ("failing", "expired") and was != status:
        publish(
            "integrations.connection_failed",
            {**_payload(connection), "reason": reason},
            tenant=tenant,
            actor=actor,
        )


def client_for(connection: Connection) -> Client:
    connector = connectors().get(connection.connector)
    label = f"{connector.label} (“{connection.name}”)" if connector else f"“{connection.name}”"
    return Client(
        connection,
        service=label,
        default_base_url=connector.default_base_url if connector else "",
        save_tokens=connection_tokens_save,
    )


def connection_test(*, tenant, actor=None, connection: Connection) -> tuple[bool, str]:
    """Tries the connection (the connector's own check, else the address through the SSRF guard);
    records the status and its reason. (ok, words)."""
    connector = connectors().get(connection.connector)
    client = client_for(connection)
    try:
        if connection.auth_type == "oauth2":
            client.access_token()
        if connector is not None and connector.check is not None:
            words = connector.check(client) or _address_check(client)
        else:
            words = _address_check(client)
    except CredentialError as exc:
        _status_save(connection, "expired", exc.message, tenant=tenant, actor=actor)
        return False, exc.message
    except ConnectorError as exc:
        _status_save(connection, "failing", exc.message, tenant=tenant, actor=actor)
        return False, exc.message
    _status_save(connection, "working", words, tenant=tenant, actor=actor)
    return True, words


# --- OAuth 2.0 consent: the authorization code flow with PKCE (RFC 6749 4.1, RFC 7636) -----------


@dataclass(frozen=True)
class Consent:
    url: str  # the provider's authorization page, with this attempt's state and challenge
    state: str
    verifier: str


def oauth_consent_start(*, connection: Connection, redirect_uri: str) -> Consent:
    """Where to send the admin who connects `connection`: the provider's consent page, asked to
    come back to `redirect_uri` with a code. The caller keeps `state` and `verifier` (the
    session) for oauth_consent_finish."""
    authorize_url = connection.settings.get("authorize_url", "")
    if connection.auth_type != "oauth2" or not authorize_url:
        raise ValidationError(
            {"settings.authorize_url": ["Give the provider's authorization URL to connect through its consent page."]}
        )
    state, verifier = tokens.token_urlsafe(24), tokens.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": connection.settings.get("client_id", ""),
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if connection.settings.get("scope"):
        query["scope"] = connection.settings["scope"]
    separator = "&" if "?" in authorize_url else "?"
    return Consent(url=f"{authorize_url}{separator}{urlencode(query)}", state=state, verifier=verifier)


def oauth_consent_finish(
    *, tenant, actor=None, connection: Connection, code: str, verifier: str, redirect_uri: str
) -> str:
    """Exchanges the code the provider's consent gave for tokens (kept encrypted, replacing any
    earlier ones); the connection is working from then on. Raises CredentialError or
    ConnectorError with the provider's reason (the connection keeps what it had)."""
    client_for(connection).exchange_code(code=code, verifier=verifier, redirect_uri=redirect_uri)
    words = "Connected through the provider's consent."
    with transaction.atomic():
        _status_save(connection, "working", words, tenant=tenant, actor=actor)
        publish("integrations.connection_changed", _payload(connection), tenant=tenant, actor=actor)
    return words


def _address_check(client) -> str:
    url = client.url("")
    try:
        ssrf.destination_clean(url, policy())
    except ssrf.BlockedDestination as exc:
        raise ConnectorError(f"{client.service} may not be reached: {exc}") from None
    return "The address may be reached (a webhook is only tried by posting to it)."


def action_run(*, connection: Connection, action, inputs: dict, tenant=None):
    """Runs a connector action with `connection`; a refused credential marks the connection
    expired with the reason (and publishes integrations.connection_failed) before re-raising."""
    if action.auth_types and connection.auth_type not in action.auth_types:
        kinds = ", ".join(action.auth_types)
        raise CredentialError(
            f"“{action.label}” needs a connection of kind {kinds}; “{connection.name}” is {connection.auth_type}."
        )
    validated_inputs(action.input_schema, inputs, action.key)
    try:
        return action.call(client_for(connection), inputs)
    except CredentialError as exc:
        if tenant is not None:
            _status_save(connection, "expired", exc.message, tenant=tenant)
        raise


# --- OpenAPI documents --------------------------------------------------------------------------


def spec_fetch(url: str) -> bytes:
    """An OpenAPI document fetched from `url` through the SSRF guard; ValidationError on "url"."""
    try:
        reply = send("GET", url, headers={"Accept": "application/json, application/yaml"}, service=url)
    except ConnectorError as exc:
        raise ValidationError({"url": [exc.message]}) from None
    if reply.status != 200:
        raise ValidationError({"url": [f"{url} answered {reply.status}, not the document."]})
    return reply.body


def spec_import(*, tenant, actor=None, document: str | bytes = "", url: str = "", key: str = "") -> ApiSpec:
    """Imports an OpenAPI 3 document (its text, or fetched from `url`): each operation becomes
    an action. Publishes integrations.spec_imported."""
    if not document and not url:
        raise ValidationError({"document": ["Upload a document or give its address."]})
    if url and not document:
        document = spec_fetch(url)
    parsed = openapi.parse(document)
    ops = openapi.operations(parsed)
    if not ops:
        raise ValidationError({"document": ["The document has no operations."]})
    title = str(parsed.get("info", {}).get("title") or "API")[:200]
    key = slugify(key or title)[:60] or "api"
    if ApiSpec.objects.filter(key=key).exists():
        raise ValidationError({"key": [f"There is an imported API with the key “{key}” already: choose another."]})
    with transaction.atomic():
        spec = ApiSpec.objects.create(
            key=key,
            title=title,
            version=str(parsed.get("info", {}).get("version") or "")[:60],
            source_url=url,
            server_url=openapi.server_url(parsed),
            operations=ops,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        publish(
            "integrations.spec_imported",
            {"spec_id": spec.pk, "key": spec.key, "title": spec.title, "operations": len(ops)},
            tenant=tenant,
            actor=actor,
        )
    return spec


def spec_delete(*, tenant, actor=None, spec: ApiSpec) -> None:
    payload = {"spec_id": spec.pk, "key": spec.key, "title": spec.title, "operations": len(spec.operations)}
    with transaction.atomic():
        spec.delete()
        publish("integrations.spec_deleted", payload, tenant=tenant, actor=actor)
