"""The integration hub.

openapi_import_ms: reading the bundled OpenAPI document of the hub's own API (~0.6 MB of JSON,
139 operations) and deriving every operation's input and output schema, as start-up and an
import do; median of 5 passes, in milliseconds.

connector_call_p95_ms: one connector action (github.create_issue: its inputs checked against
the schema, the SSRF guard's resolution and checks, a new connection, the JSON request and
answer) against a local fake GitHub on 127.0.0.1 (a threaded http.server), 500 calls in a row,
p95 in milliseconds; also prints connector_call_p50_ms. In-process, no database (the connection
is an unsaved row), production settings with loopback allowed for the fake only.
"""

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

from bench.common import log, median, percentile, report

CALLS = 500


def openapi_import_ms():
    from apps.integrations import openapi

    document = (openapi.SPECS / "hub.json").read_text()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        ops = openapi.operations(json.loads(document))
        times.append((time.perf_counter() - started) * 1000)
    log(f"openapi_import_ms: {len(ops)} operations")
    report("openapi_import_ms", median(times), "ms")


class _GitHub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"id": 1, "number": 2, "html_url": "https://github.example/i/2"}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def connector_call_p95_ms():
    from django.test import override_settings

    from apps.integrations.catalogue import connectors
    from apps.integrations.models import Connection
    from apps.integrations.services import action_run

    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitHub)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = Connection(
            name="bench",
            connector="github",
            auth_type="bearer",
            base_url=f"http://127.0.0.1:{server.server_address[1]}/",
            secrets=json.dumps({"token": "ghp_bench"}),
        )
        action = next(a for a in connectors()["github"].actions if a.key == "github.create_issue")
        inputs = {"owner": "acme", "repo": "app", "title": "Bench", "labels": ["bench"]}
        times = []
        with override_settings(HUB_INTEGRATIONS_REQUIRE_HTTPS=False, HUB_INTEGRATIONS_ALLOW_LOOPBACK=True):
            for _ in range(CALLS):
                started = time.perf_counter()
                action_run(connection=connection, action=action, inputs=inputs)
                times.append((time.perf_counter() - started) * 1000)
    finally:
        server.shutdown()
        server.server_close()
    report("connector_call_p50_ms", median(times), "ms", digits=2)
    report("connector_call_p95_ms", percentile(times, 95), "ms", digits=2)
