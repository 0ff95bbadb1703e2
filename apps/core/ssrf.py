"""Outbound HTTP to addresses that others give us (webhook endpoints, push services, an IdP's
metadata), safe from server-side request forgery.

The guard runs when sending, after DNS resolution: every address the host name resolves to must
be allowed, and the connection goes to exactly the address that was checked (no second lookup an
attacker's DNS could answer differently). What is allowed is the caller's Policy: by default
(PUBLIC) https to public unicast addresses only; a policy may allow plain http, loopback (the
tests' local receivers) or private networks (an IdP inside one's own network). Cloud metadata
addresses are never reached.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Cloud metadata services (most are link-local or private already; listed so the intent is explicit).
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("192.0.0.192"),  # Oracle Cloud
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


class BlockedDestination(Exception):
    """The URL is not allowed, or resolves to an address the policy does not allow."""


class InternalAddress(BlockedDestination):
    """The host is, or resolves to, an address the policy keeps out of reach (loopback, a private
    network, cloud metadata…)."""


class Unresolvable(ConnectionError):
    """The host name does not resolve (now: DNS answers may change)."""


@dataclass(frozen=True)
class Policy:
    """What a caller may reach besides https to public addresses."""

    http: bool = False  # plain http too
    loopback: bool = False  # 127.0.0.0/8, ::1, localhost
    private: bool = False  # private, link-local and shared (carrier-grade NAT) networks


PUBLIC = Policy()


def _embedded_ipv4(address):
    if address.version == 6:
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.ip_address(int(address) & 0xFFFFFFFF)
        if address.sixtofour:
            return address.sixtofour
    return None


def address_refusal(address, policy: Policy = PUBLIC) -> str | None:
    """Why `address` must not be reached, or None when it may be."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return address_refusal(inner, policy)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if policy.loopback else "a loopback address"
    if address.is_link_local:
        return None if policy.private else "a link-local address"
    if address.is_private or address in _SHARED:
        return None if policy.private else "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return "not a public address"
    return None


def _number(part: str) -> int:
    """One part of an IPv4 address as inet_aton and browsers read it: 0x… hexadecimal, 0… octal,
    else decimal. ValueError if it is none of them."""
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)
    if not part.isdigit():
        raise ValueError(part)
    return int(part)


def _ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    """The address that a numeric host such as 2130706433, 0x7f000001, 0177.0.0.1 or 127.1 stands
    for (resolvers read them so: inet_aton), None for a host name. A host whose last label is a
    number is an address (the WHATWG URL rule: no top-level domain is numeric); ValueError if it
    is not a valid one."""
    labels = host.split(".")
    last = labels[-1]
    if not (last.isdigit() or (last[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in last[2:]))):
        return None
    if len(labels) > 4:
        raise ValueError(host)
    numbers = [_number(label) for label in labels]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def destination_host(host: str) -> str:
    """`host` (as urlsplit gives it: lower case, IPv6 without brackets) in the form it is checked
    and stored in: a trailing dot dropped, an IPv4 address in any spelling written as a.b.c.d, an
    IPv6 address compressed. ValueError for a malformed numeric host."""
    host = host[:-1] if host.endswith(".") else host
    if not host or host.endswith("."):
        raise ValueError(host)
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    spelled = _ipv4_spelling(host)
    return str(spelled) if spelled is not None else host


def url_clean(url: str, policy: Policy = PUBLIC) -> str:
    """The URL with its host in canonical form (destination_host), or BlockedDestination saying
    why it may not be used. Checks what can be checked without DNS: scheme, host, port, addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BlockedDestination("Enter a valid URL.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BlockedDestination("Enter an http(s) URL.")
    if parts.scheme != "https" and not policy.http:
        raise BlockedDestination("The URL must use https.")
    if parts.username or parts.password:
        raise BlockedDestination("Credentials in the URL are not allowed; put them in the path or a query parameter.")
    if port == 0:
        raise BlockedDestination("Enter a valid port.")
    try:
        host = destination_host(parts.hostname)
    except ValueError:
        raise BlockedDestination(f"{parts.hostname} is not a valid host name.") from None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
            if not policy.loopback:
                raise InternalAddress(f"{host} is not a public address.") from None
    else:
        refusal = address_refusal(literal, policy)
        if refusal:
            shown = parts.hostname if host == parts.hostname else f"{parts.hostname} ({host})"
            raise InternalAddress(f"{shown} is {refusal}.")
    if host == parts.hostname:
        return url
    netloc = f"[{host}]" if ":" in host else host
    return parts._replace(netloc=netloc if port is None else f"{netloc}:{port}").geturl()


def url_refusal(url: str, policy: Policy = PUBLIC) -> str | None:
    """Why `url` may not be used (url_clean), or None."""
    try:
        url_clean(url, policy)
    except BlockedDestination as exc:
        return str(exc)
    return None


def destination_clean(url: str, policy: Policy = PUBLIC) -> str:
    """What a stored destination (a webhook endpoint, a push subscription) is saved with: the URL
    in canonical form (url_clean) and, if its host resolves now, resolving to allowed addresses
    only (checked again at every send, which is what protects: DNS answers may change).
    BlockedDestination says why not."""
    url = url_clean(url, policy)
    parts = urlsplit(url)
    try:
        resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), policy)
    except InternalAddress as exc:
        raise InternalAddress(f"{exc}.") from None
    except Unresolvable:
        pass  # checked when sending
    return url


def resolve(host: str, port: int, policy: Policy = PUBLIC) -> list[tuple]:
    """getaddrinfo, checked: every address must be allowed, or BlockedDestination."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc.strerror}") from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        refusal = address_refusal(address, policy)
        if refusal:
            raise InternalAddress(f"{host} resolves to {address}, {refusal}")
    return infos


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
    """Requests over one kept-alive connection per host (e.g. webhook deliveries to one endpoint).
    Each new connection goes through the guard — the URL checked, the host resolved, every
    address checked, all under `policy` — and goes to the address that was checked; a kept-alive
    connection stays with it. Use it for a short while (one batch of deliveries), then close it."""

    def __init__(self, policy: Policy = PUBLIC):
        self.policy = policy
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
        """POSTs `body` to `url` (see request)."""
        return self.request("POST", url, body, headers, timeout=timeout, max_body=max_body)

    def get(self, url: str, headers: dict | None = None, *, timeout: float, max_body: int = 65536) -> Response:
        """GETs `url` (see request)."""
        return self.request("GET", url, None, headers or {}, timeout=timeout, max_body=max_body)

    def request(
        self, method: str, url: str, body: bytes | None, headers: dict, *, timeout: float, max_body: int
    ) -> Response:
        """Sends the request after the SSRF check and reads at most `max_body` bytes of the answer.
        No redirects are followed (a 3xx is just a status); the whole exchange must finish within
        `timeout` seconds."""
        parts = urlsplit(url_clean(url, self.policy))
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        deadline = time.monotonic() + timeout
        key = (parts.scheme, parts.hostname, port)
        if self._conn is not None and self._key == key:
            try:
                return self._exchange(method, path, body, headers, deadline, timeout, max_body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                pass  # the server closed the idle connection: open a new one
        self.close()
        infos = resolve(parts.hostname, port, self.policy)
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
                return self._exchange(method, path, body, headers, deadline, timeout, max_body)
            except (ConnectionRefusedError, ConnectionResetError) as exc:
                last_error = exc  # try the next address, if any
        raise ConnectionError(str(last_error) if last_error else "timed out connecting")

    def _exchange(self, method, path, body, headers, deadline, timeout, max_body) -> Response:
        """One request on the session's connection; any error closes it."""
        conn = self._conn
        try:
            if conn.sock is not None:  # kept alive: the socket still has the last exchange's timeout
                conn.sock.settimeout(max(0.01, deadline - time.monotonic()))
            conn.request(method, path, body=body, headers=headers)
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
