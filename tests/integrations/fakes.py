"""Local fake services on 127.0.0.1 standing in for the outside services the connectors call
(Slack, GitHub, an OAuth provider…): a threaded http.server answering by route, recording every
request."""

import base64
import hashlib
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query
    query: dict
    headers: dict  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class FakeService:
    """Routes: {(method, path): handler(request) -> (status, body) | (status, body, headers)};
    a body that is not bytes is sent as JSON. Unknown routes answer 404."""

    def __init__(self):
        self.routes: dict = {}
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                fake.requests.append(request)
                handler = fake.routes.get((self.command, parts.path))
                answer = handler(request) if handler else (404, {"message": "Not Found"})
                status, body, headers = (*answer, {})[:3]
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                    headers = {"Content-Type": "application/json", **headers}
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, path: str):
        def add(handler):
            self.routes[(method, path)] = handler
            return handler

        return add

    def made(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]


@contextmanager
def fake_service():
    fake = FakeService()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


class FakeOAuth:
    """An OAuth 2.0 provider and a resource on one fake service: GET /authorize (the consent page:
    it consents at once, or refuses when told to, and sends the browser back with a code), POST
    /token (authorization_code with PKCE S256, refresh_token and client_credentials grants; tokens
    live `lifetime` seconds) and GET /api/me (needs a live token)."""

    def __init__(self, fake: FakeService, *, lifetime: int = 3600):
        self.fake, self.lifetime = fake, lifetime
        self.client = ("hub-client", "s3cret")
        self.refresh_tokens = {"refresh-1"}
        self.tokens: dict[str, float] = {}  # access token -> expiry (time.time())
        self.codes: dict[str, dict] = {}  # code -> the consent's query (redirect_uri, code_challenge…)
        self.refuse = ""  # an error the consent page answers with instead of a code
        self.issued = 0
        fake.route("GET", "/authorize")(self.authorize)
        fake.route("POST", "/token")(self.token)
        fake.route("GET", "/api/me")(self.me)

    def consent(self, query: dict) -> str:
        """What the provider does when its user allows access: a one-time code for this query."""
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = query
        return code

    def authorize(self, request):
        query = request.query
        if query.get("client_id") != self.client[0] or query.get("code_challenge_method") != "S256":
            return 400, b"unknown client, or no PKCE"
        answer = {"error": self.refuse, "error_description": "The user denied access."} if self.refuse else {}
        answer = answer or {"code": self.consent(query)}
        location = f"{query['redirect_uri']}?{urlencode({**answer, 'state': query['state']})}"
        return 302, b"", {"Location": location}

    def token(self, request):
        form = request.form()
        if (form.get("client_id"), form.get("client_secret")) != self.client:
            return 401, {"error": "invalid_client", "error_description": "Unknown client or wrong secret."}
        if form.get("grant_type") == "authorization_code":
            asked = self.codes.pop(form.get("code", ""), None)  # a code is good once
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            if (
                asked is None
                or asked["code_challenge"] != challenge
                or asked["redirect_uri"] != form.get("redirect_uri")
            ):
                return 400, {"error": "invalid_grant", "error_description": "The code is unknown, used or not yours."}
        elif form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "The refresh token was revoked."}
            self.refresh_tokens.discard(form["refresh_token"])
        elif form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued + 1}"
        self.tokens[access] = time.time() + self.lifetime
        self.refresh_tokens.add(refresh)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "refresh_token": refresh,
        }

    def me(self, request):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0) < time.time():
            return 401, {"error": "invalid_token", "error_description": "The access token expired."}
        return 200, {"login": "hub-bot"}

    def revoke_all(self):
        self.tokens.clear()
        self.refresh_tokens.clear()
