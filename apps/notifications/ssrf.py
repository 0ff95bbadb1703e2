"""Outbound HTTP to addresses that tenants give us (webhooks, push services), safe from SSRF.

The guard runs when sending, after DNS resolution: every address the host name resolves to must
be a public unicast address, and the connection goes to exactly the address that was checked
(no second lookup an attacker's DNS could answer differently). Loopback is allowed only when
settings.HUB_WEBHOOK_ALLOW_LOOPBACK is on (the test settings, for a receiver on 127.0.0.1);
private, link-local, shared, reserved and cloud-metadata addresses never are.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

# Cloud metadata services (most are link-local or private already; listed so the intent is explicit).
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("192.0.0.192"),  # Oracle Cloud
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedDestination(Exception):
    """The URL is not allowed, or resolves to an address we never connect to."""


def _embedded_ipv4(address):
    if address.version == 6:
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.ip_address(int(address) & 0xFFFFFFFF)
        if address.sixtofour:
            return address.sixtofour
    return None


def address_refusal(address) -> str | None:
    """Why `address` must not be reached, or None when it may be."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return address_refusal(inner)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if settings.HUB_WEBHOOK_ALLOW_LOOPBACK else "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return "not a public address"
    return None


def url_refusal(url: str) -> str | None:
    """Checks what can be checked without DNS: scheme, host, port, literal addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Enter an http(s) URL."
    if parts.scheme != "https" and settings.HUB_WEBHOOK_REQUIRE_HTTPS:
        return "The URL must use https."
    if parts.username or parts.password:
        return "Credentials in the URL are not allowed; put them in the path or a query parameter."
    if port == 0:
        return "Enter a valid port."
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
            if not settings.HUB_WEBHOOK_ALLOW_LOOPBACK:
                return f"{host} is not a public address."
        return None
    refusal = address_refusal(literal)
    return f"{host} is {refusal}." if refusal else None


def resolve(host: str, port: int) -> list[tuple]:
    """getaddrinfo, checked: every address must be allowed, or BlockedDestination."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc.strerror}") from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        refusal = address_refusal(address)
        if refusal:
            raise BlockedDestination(f"{host} resolves to {address}, {refusal}")
    return infos


def check_destination(url: str) -> None:
    """Raises BlockedDestination unless `url` may be reached right now (after DNS resolution)."""
    refusal = url_refusal(url)
    if refusal:
        raise BlockedDestination(refusal)
    parts = urlsplit(url)
    resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


@dataclass
class Response:
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""


class _PinnedMixin:
    """Connects to the address that was checked, not to whatever the name resolves to next."""

    pinned: tuple

    def connect(self):
        family, _, _, _, sockaddr = self.pinned
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(sockaddr)
            # As http.client does: a kept-alive request's body must not wait for the headers' ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _PinnedHTTPConnection(_PinnedMixin, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedMixin, http.client.HTTPSConnection):
    def connect(self):
        _PinnedMixin.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class Session:
    """POSTs over one kept-alive connection per host (webhook deliveries to one endpoint). Each
    new connection goes through the guard — the URL checked, the host resolved, every address
    checked — and goes to the address that was checked; a kept-alive connection stays with it.
    Use it for a short while (one batch of deliveries), then close it."""

    def __init__(self):
        self._conn = None
        self._key = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._key = None

    def post(self, url: str, body: bytes, headers: dict, *, timeout: float, max_body: int = 65536) -> Response:
        """POSTs `body` to `url` after the SSRF check. No redirects are followed (a 3xx is just a
        status); the whole exchange must finish within `timeout` seconds."""
        refusal = url_refusal(url)
        if refusal:
            raise BlockedDestination(refusal)
        parts = urlsplit(url)
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        deadline = time.monotonic() + timeout
        key = (parts.scheme, parts.hostname, port)
        if self._conn is not None and self._key == key:
            try:
                return self._exchange(path, body, headers, deadline, timeout, max_body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                pass  # the server closed the idle connection: open a new one
        self.close()
        infos = resolve(parts.hostname, port)
        last_error: Exception | None = None
        for info in infos[:2]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if https:
                conn = _PinnedHTTPSConnection(
                    parts.hostname, port, timeout=remaining, context=ssl.create_default_context()
                )
            else:
                conn = _PinnedHTTPConnection(parts.hostname, port, timeout=remaining)
            conn.pinned = info
            self._conn, self._key = conn, key
            try:
                return self._exchange(path, body, headers, deadline, timeout, max_body)
            except (ConnectionRefusedError, ConnectionResetError) as exc:
                last_error = exc  # try the next address, if any
        raise ConnectionError(str(last_error) if last_error else "timed out connecting")

    def _exchange(self, path, body, headers, deadline, timeout, max_body) -> Response:
        """One request on the session's connection; any error closes it."""
        conn = self._conn
        try:
            if conn.sock is not None:  # kept alive: the socket still has the last exchange's timeout
                conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            conn.request("POST", path, body=body, headers=headers)
            if conn.sock is not None:
                conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            raw = conn.getresponse()
            chunks, size = [], 0
            while size < max_body:
                if time.monotonic() > deadline:
                    raise TimeoutError("timed out reading the response")
                chunk = raw.read1(min(8192, max_body - size)) if hasattr(raw, "read1") else raw.read(8192)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except TimeoutError as exc:
            self.close()
            raise TimeoutError(f"no response within {timeout:g} s") from exc
        except BaseException:
            self.close()
            raise
        if (raw.isclosed() or raw.length == 0) and not raw.will_close:
            raw.close()  # read to the end: the connection is free for the next request
        else:
            self.close()
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, b"".join(chunks))
