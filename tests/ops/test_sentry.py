"""Sentry is opt-in: off unless SENTRY_DSN is set; with a DSN, the real SDK sends errors to it
(here a local HTTP server standing in for Sentry, which receives the event's envelope)."""

import gzip
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sentry_sdk

from tests.conftest import subprocess_env
from tests.processes import ROOT


def test_sentry_is_not_initialised_by_default(settings):
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


class FakeSentry(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":  # the SDK's choice when brotli is installed
            import brotli

            body = brotli.decompress(body)
        self.received.append((self.path, body.decode(errors="replace")))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_with_a_dsn_an_error_line_reaches_sentry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
    script = (
        "import django; django.setup()\n"
        "import logging, sentry_sdk\n"
        "assert sentry_sdk.get_client().is_active()\n"
        "logging.getLogger('apps.ops').error('the sentry test error %s', 7)\n"
        "sentry_sdk.flush(5)\n"
    )
    try:
        env = subprocess_env(SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="test-env")
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        server.shutdown()
    envelopes = [body for path, body in FakeSentry.received if path == "/api/42/envelope/"]
    assert envelopes, FakeSentry.received
    assert any("the sentry test error 7" in body and '"environment":"test-env"' in body for body in envelopes)
