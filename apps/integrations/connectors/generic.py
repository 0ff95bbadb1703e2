"""Generic connectors: any HTTP/JSON service, and sending email through any SMTP server."""

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import urlsplit

from django.conf import settings

from apps.core import ssrf

from ..client import policy
from ..errors import ConnectorError, CredentialError
from . import Action, Connector, obj, text

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _http_request(client, inputs):
    reply = client.request(
        inputs.get("method") or "GET",
        inputs.get("path") or "",
        query=inputs.get("query") or None,
        headers=inputs.get("headers") or None,
        json_body=inputs.get("body"),
    )
    return {"status": reply.status, "body": reply.data()}


def _http_check(client):
    reply = client.request("GET", client.connection.settings.get("check_path", ""), check=False)
    if reply.status in (401, 403):
        from ..client import raise_for_status

        raise_for_status(reply, client.service)
    if reply.status >= 500:
        raise ConnectorError(f"{client.service} answered {reply.status}.", retryable=True, status=reply.status)
    return f"{client.service} answered {reply.status}."


HTTP = Connector(
    "http",
    "HTTP / JSON",
    "Any service that speaks HTTP and JSON: the connection holds its address and credential.",
    ("none", "api_key", "basic", "bearer", "oauth2"),
    check=_http_check,
    settings_help="check_path: the path the connection test GETs (default: the base URL itself).",
    actions=(
        Action(
            "http.request",
            "HTTP: send a request",
            "Sends a request to a path of the connection's address, with its credential, and returns the answer.",
            obj(
                {
                    "method": {"type": "string", "enum": METHODS, "default": "GET"},
                    "path": text("The path under the connection's address, e.g. /v1/orders."),
                    "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {"description": "A JSON body (POST, PUT, PATCH)."},
                }
            ),
            _http_request,
            obj({"status": {"type": "integer"}, "body": {}}),
        ),
    ),
)


class _Pinned:
    """Connects to the address the SSRF guard checked, whatever the host name resolves to next."""

    pinned = ""

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(self.pinned, port, timeout)


class _PinnedSMTP(_Pinned, smtplib.SMTP):
    pass


class _PinnedSMTPSSL(_Pinned, smtplib.SMTP_SSL):
    pass


def _smtp(client):
    """An SMTP session to the connection's server (smtp://, smtp+starttls:// or smtps://host:port),
    connected to the address the SSRF guard checked, logged in when it has a password."""
    connection = client.connection
    parts = urlsplit(client.base_url())
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise ConnectorError(f"“{connection.name}” needs an smtp://, smtp+starttls:// or smtps:// address.")
    port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
    rules = policy()
    service = f"The mail server of “{connection.name}”"
    try:
        if parts.scheme == "smtp" and not rules.http:  # unencrypted SMTP only where plain http is allowed
            raise ssrf.BlockedDestination("use smtps:// or smtp+starttls://")
        infos = ssrf.resolve(ssrf.destination_host(parts.hostname), port, rules)
        address = infos[0][4][0]
        timeout = settings.HUB_INTEGRATIONS_TIMEOUT_SECONDS
        context = ssl.create_default_context()
        if parts.scheme == "smtps":
            server = _PinnedSMTPSSL(timeout=timeout, context=context)
        else:
            server = _PinnedSMTP(timeout=timeout)
        server.pinned = address
        server.connect(parts.hostname, port)  # TLS checks the certificate against the host's name
        if parts.scheme == "smtp+starttls":
            server.starttls(context=context)
        if connection.auth_type == "basic":
            server.login(connection.settings.get("username", ""), client.secrets.get("password", ""))
        return server
    except ssrf.BlockedDestination as exc:
        raise ConnectorError(f"{service} may not be reached: {exc}.") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise CredentialError(
            f"{service} refused the login: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}."
        ) from None
    except TimeoutError:
        raise ConnectorError(f"{service} did not answer in time.", retryable=True) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ConnectorError(f"{service} is down or unreachable: {exc}.", retryable=True) from None


def _smtp_send(client, inputs):
    message = EmailMessage()
    message["From"] = inputs.get("from") or client.connection.settings.get("from", "")
    message["To"] = ", ".join(inputs["to"])
    message["Subject"] = inputs["subject"]
    message.set_content(inputs.get("body", ""))
    if not message["From"]:
        raise ConnectorError(
            f"Give a sender: the action's “from” or the connection “{client.connection.name}”'s setting."
        )
    server = _smtp(client)
    try:
        refused = server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ConnectorError(f"The mail server refused every recipient: {', '.join(exc.recipients)}.") from None
    except smtplib.SMTPResponseException as exc:
        raise ConnectorError(
            f"The mail server refused the message: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}.",
            retryable=exc.smtp_code >= 400 and exc.smtp_code < 500,
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ConnectorError(f"The mail server dropped the connection: {exc}.", retryable=True) from None
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return {"accepted": [r for r in inputs["to"] if r not in refused], "refused": sorted(refused)}


def _smtp_check(client):
    server = _smtp(client)
    code, _ = server.noop()
    server.quit()
    return f"The mail server answered ({code})."


SMTP = Connector(
    "smtp",
    "Email (SMTP)",
    "Send email through your own mail server.",
    ("none", "basic"),
    check=_smtp_check,
    settings_help="Base URL: smtps://host:465 or smtp+starttls://host:587. Settings: from (the sender address).",
    actions=(
        Action(
            "smtp.send",
            "Email: send a message",
            "Sends a plain-text email through the connection's mail server.",
            obj(
                {
                    "to": {"type": "array", "items": {"type": "string", "minLength": 3}, "minItems": 1},
                    "subject": text("The subject.", minLength=1),
                    "body": text("The text."),
                    "from": text("The sender (default: the connection's)."),
                },
                ["to", "subject"],
            ),
            _smtp_send,
            obj(
                {
                    "accepted": {"type": "array", "items": {"type": "string"}},
                    "refused": {"type": "array", "items": {"type": "string"}},
                }
            ),
        ),
    ),
)

CONNECTORS = [HTTP, SMTP]
