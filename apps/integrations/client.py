"""Calls to a connection's service: its address, its credential (OAuth 2.0 tokens refreshed when
they expire and when the service answers 401), every request through the SSRF guard, and every
failure turned into a ConnectorError that says why."""

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode, urljoin, urlsplit

from django.conf import settings
from django.utils import timezone

from apps.core import ssrf

from .errors import ConnectorError, CredentialError

MAX_BODY = 4 * 1024 * 1024
EARLY_REFRESH = timedelta(seconds=30)  # an access token this close to expiring is refreshed first


def policy() -> ssrf.Policy:
    """Where connectors may send requests: https to public addresses (settings may allow plain
    http and loopback, for tests' local fakes)."""
    return ssrf.Policy(
        http=not settings.HUB_INTEGRATIONS_REQUIRE_HTTPS, loopback=settings.HUB_INTEGRATIONS_ALLOW_LOOPBACK
    )


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def data(self):
        """The body as JSON when it is JSON, else as text."""
        parsed = self.json()
        return parsed if parsed is not None else self.body.decode("utf-8", "replace")


def _reason_of(reply: Reply) -> str:
    """The service's own words about an error, from the usual places of its answer."""
    data = reply.json()
    if isinstance(data, dict):
        for key in ("error_description", "message", "detail", "error", "errorMessages", "errors", "title"):
            value = data.get(key)
            if value:
                if isinstance(value, list):
                    value = "; ".join(v if isinstance(v, str) else json.dumps(v) for v in value)
                return str(value if isinstance(value, str) else json.dumps(value))[:300]
    text = reply.body.decode("utf-8", "replace").strip()
    return text[:300]


def _status_words(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def send(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None, service: str) -> Reply:
    """One request through the SSRF guard. Refusals, timeouts and connection failures become
    ConnectorErrors naming `service`; any answer is returned as it is."""
    timeout = settings.HUB_INTEGRATIONS_TIMEOUT_SECONDS
    headers = {"User-Agent": "ReactDjango-Hub integrations", **(headers or {})}
    try:
        with ssrf.Session(policy()) as session:
            answer = session.request(method, url, body, headers, timeout=timeout, max_body=MAX_BODY)
    except ssrf.BlockedDestination as exc:
        raise ConnectorError(f"{service} may not be reached at {url}: {exc}", retryable=False) from None
    except ssrf.Unresolvable as exc:
        raise ConnectorError(f"{service} is unreachable: {exc}.", retryable=True) from None
    except TimeoutError:
        raise ConnectorError(f"{service} did not answer within {timeout:g} s.", retryable=True) from None
    except OSError as exc:  # refused, reset, unreachable network
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConnectorError(f"{service} is down or unreachable: {reason}.", retryable=True) from None
    return Reply(answer.status, answer.headers, answer.body)


def raise_for_status(reply: Reply, service: str) -> Reply:
    """The reply if it is a success; else the ConnectorError that says why."""
    if reply.status < 400:
        return reply
    reason = _reason_of(reply)
    words = f"{service} answered {_status_words(reply.status)}" + (f": {reason}" if reason else ".")
    if reply.status in (401, 403):
        raise CredentialError(f"{words} (the credential was refused)", status=reply.status)
    retryable = reply.status in (408, 425, 429) or reply.status >= 500
    raise ConnectorError(words, retryable=retryable, status=reply.status)


class Client:
    """Requests to one connection's service with its credential."""

    def __init__(self, connection, *, service: str = "", default_base_url: str = "", save_tokens=None):
        self.connection = connection
        self.save_tokens = save_tokens  # save_tokens(connection=, access_token=, refresh_token=, expires_at=)
        self.service = service or connection.name
        self.default_base_url = default_base_url
        self.secrets = json.loads(connection.secrets or "{}")

    # --- where -------------------------------------------------------------------------------

    def base_url(self) -> str:
        if self.connection.auth_type == "webhook":
            return self.secrets.get("url", "")
        return self.connection.base_url or self.default_base_url

    def url(self, path: str) -> str:
        """`path` under the base address ("" = the base address itself; an absolute URL as is)."""
        if urlsplit(path).scheme:
            return path
        base = self.base_url()
        if not base:
            raise ConnectorError(f"The connection “{self.connection.name}” has no address: give it a base URL.")
        if not path:
            return base
        return urljoin(base if base.endswith("/") else base + "/", path.lstrip("/"))

    # --- the credential ----------------------------------------------------------------------

    def auth_headers(self) -> tuple[dict, dict]:
        """(headers, query parameters) that carry the credential."""
        c, s = self.connection, self.secrets
        if c.auth_type == "api_key":
            name = c.settings.get("name") or "X-API-Key"
            if c.settings.get("location") == "query":
                return {}, {name: s.get("api_key", "")}
            prefix = c.settings.get("prefix") or ""
            return {name: f"{prefix} {s.get('api_key', '')}".strip()}, {}
        if c.auth_type == "basic":
            pair = f"{c.settings.get('username', '')}:{s.get('password', '')}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}, {}
        if c.auth_type == "bearer":
            return {"Authorization": f"Bearer {s.get('token', '')}"}, {}
        if c.auth_type == "oauth2":
            return {"Authorization": f"Bearer {self.access_token()}"}, {}
        return {}, {}

    def access_token(self) -> str:
        expires = self.connection.token_expires_at
        token = self.secrets.get("access_token")
        if token and (expires is None or expires - EARLY_REFRESH > timezone.now()):
            return token
        return self.refresh()

    def refresh(self) -> str:
        """A new access token from the provider (the refresh token's grant, or the client's own
        credentials when there is no refresh token), saved on the connection."""
        refresh_token = self.secrets.get("refresh_token")
        if refresh_token:
            grant = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        else:
            grant = {"grant_type": "client_credentials"}
        if self.connection.settings.get("scope"):
            grant["scope"] = self.connection.settings["scope"]
        return self._grant(grant, "renew the token of")

    def exchange_code(self, *, code: str, verifier: str, redirect_uri: str) -> str:
        """The authorization code grant (RFC 6749 4.1.3, with PKCE's verifier): the tokens the
        provider's consent gave, saved on the connection."""
        grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._grant({**grant, "code_verifier": verifier}, "give tokens to")

    def _grant(self, grant: dict, refusing: str) -> str:
        """Posts `grant` with the client's id and secret to the token endpoint; saves the tokens
        it gives; CredentialError with the provider's reason when it refuses."""
        c, s = self.connection, self.secrets
        form = {"client_id": c.settings.get("client_id", ""), "client_secret": s.get("client_secret", ""), **grant}
        reply = send(
            "POST",
            c.settings.get("token_url", ""),
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            service=f"The OAuth provider of “{c.name}”",
        )
        data = reply.json() if isinstance(reply.json(), dict) else {}
        if reply.status >= 400 or not data.get("access_token"):
            if reply.status >= 500:
                raise_for_status(reply, f"The OAuth provider of “{c.name}”")
            reason = data.get("error_description") or data.get("error") or _reason_of(reply) or "no access token"
            raise CredentialError(
                f"The OAuth provider refused to {refusing} “{c.name}” ({_status_words(reply.status)}: "
                f"{reason}). Connect it again.",
                status=reply.status,
            )
        expires_in = data.get("expires_in")
        if self.save_tokens is None:
            raise ConnectorError(f"The tokens of “{c.name}” cannot be kept: this client has nowhere to save them.")
        self.save_tokens(
            connection=c,
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token") or s.get("refresh_token", ""),
            expires_at=timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None,
        )
        self.secrets = json.loads(c.secrets)
        return data["access_token"]

    # --- calls -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str = "",
        *,
        query: dict | None = None,
        headers: dict | None = None,
        json_body=None,
        body: bytes | None = None,
        check: bool = True,
    ) -> Reply:
        """Sends the request with the credential; with `check`, an error status raises. An OAuth
        2.0 connection answered 401 refreshes its token and tries once more."""
        url = self.url(path)
        for attempt in (1, 2):
            auth, auth_query = self.auth_headers()
            params = {**(query or {}), **auth_query}
            target = url + (("&" if "?" in url else "?") + urlencode(params, doseq=True) if params else "")
            extra = self.connection.settings.get("headers") or {}
            all_headers = {"Accept": "application/json", **extra, **(headers or {}), **auth}
            data = body
            if json_body is not None:
                data = json.dumps(json_body).encode()
                all_headers.setdefault("Content-Type", "application/json")
            reply = send(method, target, body=data, headers=all_headers, service=self.service)
            if reply.status == 401 and self.connection.auth_type == "oauth2" and attempt == 1:
                self.refresh()
                continue
            break
        return raise_for_status(reply, self.service) if check else reply
