"""Mail servers: sending through any SMTP server, reading a mailbox on any IMAP server.

Both are reached like every outside service: the host name is resolved and checked by the SSRF
guard, and the connection goes to the address it checked (TLS still checks the certificate
against the host's name). Plain smtp:// and imap:// are allowed only where plain http is."""

import email
import imaplib
import re
import smtplib
import socket
import ssl
from datetime import date
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings

from apps.core import ssrf

from ..client import policy
from ..errors import ConnectorError, CredentialError
from . import Action, Connector, obj, text

SCHEMES = {
    "smtp": {"smtps": 465, "smtp+starttls": 587, "smtp": 25},
    "imap": {"imaps": 993, "imap+starttls": 143, "imap": 143},
}


def server_address(client, protocol: str):
    """(URL parts, port, checked address, words naming the server) of the connection's server."""
    connection = client.connection
    ports = SCHEMES[protocol]
    parts = urlsplit(client.base_url())
    if parts.scheme not in ports or not parts.hostname:
        kinds = ", ".join(f"{scheme}://" for scheme in ports)
        raise ConnectorError(f"“{connection.name}” needs an address starting {kinds}.")
    port = parts.port or ports[parts.scheme]
    rules = policy()
    try:
        if parts.scheme == protocol and not rules.http:  # unencrypted only where plain http is allowed
            raise ssrf.BlockedDestination(f"use {protocol}s:// or {protocol}+starttls://")
        infos = ssrf.resolve(ssrf.destination_host(parts.hostname), port, rules)
    except ssrf.BlockedDestination as exc:
        raise ConnectorError(f"The mail server of “{connection.name}” may not be reached: {exc}.") from None
    return parts, port, infos[0][4][0], f"The mail server of “{connection.name}”"


def _unreachable(service: str, exc: Exception) -> ConnectorError:
    if isinstance(exc, TimeoutError):
        return ConnectorError(f"{service} did not answer in time.", retryable=True)
    return ConnectorError(f"{service} is down or unreachable: {exc}.", retryable=True)


# --- SMTP ----------------------------------------------------------------------------------------


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
    parts, port, address, service = server_address(client, "smtp")
    try:
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
    except smtplib.SMTPAuthenticationError as exc:
        raise CredentialError(
            f"{service} refused the login: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}."
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise _unreachable(service, exc) from None


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


# --- IMAP ----------------------------------------------------------------------------------------

MAX_TEXT = 100_000  # characters of a message's text or HTML returned by imap.fetch
SUMMARY = "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE)])"
META = re.compile(rb"UID (\d+)|FLAGS \(([^)]*)\)|RFC822\.SIZE (\d+)")


class _PinnedIMAP(imaplib.IMAP4):
    pinned = ""

    def _create_socket(self, timeout):
        return socket.create_connection((self.pinned, self.port), timeout)


class _PinnedIMAPSSL(imaplib.IMAP4_SSL):
    pinned = ""

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.pinned, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class _Mailbox:
    """An IMAP session logged in to the connection's server, for a `with` block."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        connection = self.client.connection
        self.name = connection.name
        parts, port, address, self.service = server_address(self.client, "imap")
        timeout = settings.HUB_INTEGRATIONS_TIMEOUT_SECONDS
        context = ssl.create_default_context()
        try:
            if parts.scheme == "imaps":
                kind = type("Pinned", (_PinnedIMAPSSL,), {"pinned": address})
                self.imap = kind(parts.hostname, port, ssl_context=context, timeout=timeout)
            else:
                self.imap = type("Pinned", (_PinnedIMAP,), {"pinned": address})(parts.hostname, port, timeout=timeout)
                if parts.scheme == "imap+starttls":
                    self.imap.starttls(ssl_context=context)
            self.imap.login(connection.settings.get("username", ""), self.client.secrets.get("password", ""))
        except imaplib.IMAP4.error as exc:
            raise CredentialError(f"{self.service} refused the login: {_words(exc)}.") from None
        except OSError as exc:
            raise _unreachable(self.service, exc) from None
        return self

    def __exit__(self, *exc):
        try:
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
        return False

    def call(self, command: str, *args):
        """A command's data; ConnectorError with the server's words when it answers NO or BAD."""
        try:
            status, data = getattr(self.imap, command)(*args)
        except imaplib.IMAP4.error as exc:
            raise ConnectorError(f"{self.service} refused {command.upper()}: {_words(exc)}.") from None
        except OSError as exc:
            raise _unreachable(self.service, exc) from None
        if status != "OK":
            raise ConnectorError(f"{self.service} answered {command.upper()} with {status}: {_words(data)}.")
        return data

    def select(self, folder: str, *, readonly: bool = True) -> int:
        try:
            status, data = self.imap.select(_quoted(folder), readonly=readonly)
        except OSError as exc:
            raise _unreachable(self.service, exc) from None
        if status != "OK":
            raise ConnectorError(f"“{self.name}” has no folder “{folder}”: {_words(data)}.")
        return int(data[0] or 0)

    def uid(self, command: str, *args):
        return self.call("uid", command, *args)


def _words(value) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return str(value).strip() or "no reason given"


def _quoted(value: str) -> str:
    """An IMAP quoted string (no line breaks: they would start a new command)."""
    if "\r" in value or "\n" in value:
        raise ConnectorError("A folder or search text cannot contain line breaks.")
    if not value.isascii():
        raise ConnectorError(f"“{value}”: folders and search texts beyond ASCII are not supported yet.")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _criteria(inputs) -> list[str]:
    criteria = ["UNSEEN"] if inputs.get("unseen_only", True) else ["ALL"]
    for key, word in (("from", "FROM"), ("subject", "SUBJECT")):
        if inputs.get(key):
            criteria += [word, _quoted(inputs[key])]
    if inputs.get("since"):
        try:
            criteria += ["SINCE", date.fromisoformat(inputs["since"]).strftime("%d-%b-%Y")]
        except ValueError:
            raise ConnectorError(f"“{inputs['since']}” is not a day (YYYY-MM-DD).") from None
    return criteria


def _headers(raw: bytes, meta: bytes) -> dict:
    found = {"uid": None, "flags": "", "size": 0}
    for uid, flags, size in META.findall(meta):
        found["uid"] = int(uid) if uid else found["uid"]
        found["flags"] = flags.decode() if flags else found["flags"]
        found["size"] = int(size) if size else found["size"]
    message = email.message_from_bytes(raw, policy=email_policy.default)
    return {
        "uid": found["uid"],
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "date": _iso(message.get("Date")),
        "seen": "\\Seen" in found["flags"],
        "size": found["size"],
    }


def _iso(value) -> str:
    try:
        return parsedate_to_datetime(str(value)).isoformat() if value else ""
    except (TypeError, ValueError):
        return ""


def _imap_search(client, inputs):
    folder, limit = inputs.get("folder") or "INBOX", inputs.get("limit", 20)
    with _Mailbox(client) as box:
        box.select(folder)
        [found] = box.uid("SEARCH", None, *_criteria(inputs))
        uids = [int(u) for u in found.split()][-limit:]
        if not uids:
            return {"messages": []}
        data = box.uid("FETCH", ",".join(map(str, uids)), SUMMARY)
    messages = [_headers(part[1], part[0]) for part in data if isinstance(part, tuple)]
    return {"messages": sorted(messages, key=lambda m: m["uid"], reverse=True)}


def _imap_fetch(client, inputs):
    folder, uid = inputs.get("folder") or "INBOX", str(inputs["uid"])
    with _Mailbox(client) as box:
        box.select(folder, readonly=not inputs.get("mark_seen"))
        part = "BODY[]" if inputs.get("mark_seen") else "BODY.PEEK[]"
        data = box.uid("FETCH", uid, f"(UID FLAGS RFC822.SIZE {part})")
    parts = [p for p in data if isinstance(p, tuple)]
    if not parts:
        raise ConnectorError(f"There is no message with UID {uid} in “{folder}”.")
    meta, raw = parts[0]
    message = email.message_from_bytes(raw, policy=email_policy.default)
    plain, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    return {
        **_headers(raw, meta),
        "cc": str(message.get("Cc", "")),
        "message_id": str(message.get("Message-ID", "")),
        "text": plain.get_content()[:MAX_TEXT] if plain is not None else "",
        "html": html.get_content()[:MAX_TEXT] if html is not None else "",
        "attachments": [
            {
                "filename": a.get_filename() or "",
                "content_type": a.get_content_type(),
                "size": len(a.get_payload(decode=True) or b""),
            }
            for a in message.iter_attachments()
        ],
        "seen": bool(inputs.get("mark_seen")) or "\\Seen" in meta.decode(errors="replace"),
    }


def _imap_mark(client, inputs):
    folder, uids = inputs.get("folder") or "INBOX", ",".join(str(u) for u in inputs["uids"])
    with _Mailbox(client) as box:
        box.select(folder, readonly=False)
        data = box.uid("STORE", uids, "+FLAGS" if inputs.get("seen", True) else "-FLAGS", "(\\Seen)")
    return {"marked": sum(1 for part in data if part)}


def _imap_check(client):
    with _Mailbox(client) as box:
        count = box.select("INBOX")
    return f"Signed in; the inbox holds {count} message{'s' if count != 1 else ''}."


_MESSAGE = {
    "uid": {"type": "integer"},
    "from": {"type": "string"},
    "to": {"type": "string"},
    "subject": {"type": "string"},
    "date": {"type": "string", "description": "ISO 8601, as the message's Date header says"},
    "seen": {"type": "boolean"},
    "size": {"type": "integer"},
}
_FOLDER = text("The folder (default INBOX).")

IMAP = Connector(
    "imap",
    "Email (IMAP)",
    "Read a mailbox on your own mail server: find messages, read them, mark them read.",
    ("basic",),
    check=_imap_check,
    settings_help="Base URL: imaps://host:993 or imap+starttls://host:143. Username and password of the mailbox.",
    actions=(
        Action(
            "imap.search",
            "Email: find messages",
            "The newest messages of a folder that match: unread only, from, subject, since a day.",
            obj(
                {
                    "folder": _FOLDER,
                    "unseen_only": {"type": "boolean", "description": "Only unread messages (default true)."},
                    "from": text("Part of the sender's address or name."),
                    "subject": text("Part of the subject."),
                    "since": text("Received on or after this day (YYYY-MM-DD).", format="date"),
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                }
            ),
            _imap_search,
            obj({"messages": {"type": "array", "items": obj(_MESSAGE)}}),
        ),
        Action(
            "imap.fetch",
            "Email: read a message",
            "One message by its UID: headers, text, HTML and the list of its attachments.",
            obj(
                {
                    "uid": {"type": "integer", "minimum": 1},
                    "folder": _FOLDER,
                    "mark_seen": {"type": "boolean", "description": "Mark it read (default false)."},
                },
                ["uid"],
            ),
            _imap_fetch,
            obj(
                {
                    **_MESSAGE,
                    "cc": {"type": "string"},
                    "message_id": {"type": "string"},
                    "text": {"type": "string"},
                    "html": {"type": "string"},
                    "attachments": {"type": "array", "items": {"type": "object"}},
                }
            ),
        ),
        Action(
            "imap.mark",
            "Email: mark messages read or unread",
            "Sets or clears the read flag of messages by UID.",
            obj(
                {
                    "uids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
                    "folder": _FOLDER,
                    "seen": {"type": "boolean", "description": "Read (default) or unread."},
                },
                ["uids"],
            ),
            _imap_mark,
            obj({"marked": {"type": "integer"}}),
        ),
    ),
)

CONNECTORS = [SMTP, IMAP]
