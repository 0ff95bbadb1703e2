"""A local HTTP receiver on 127.0.0.1 standing in for a tenant's webhook endpoint or a browser's
push service (the only remote parties of the event spine). Records every request; answers with
whatever the test queued (status, headers, body, delay), else 200. Counts the requests in flight
per path (and under "*" all of them), and the most there ever were at once."""

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes
    client_port: int = 0  # requests on one kept-alive connection share it
    at: float = field(default_factory=time.time)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # listen() backlog: socketserver's 5 drops connections opened together


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.answers: deque = deque()
        self.default = (200, {}, b"ok", 0.0)
        self.in_flight: Counter = Counter()
        self.most_in_flight: Counter = Counter()
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                with receiver.lock:
                    status, headers, answer, delay = (
                        receiver.answers.popleft() if receiver.answers else receiver.default
                    )
                    for key in (self.path, "*"):
                        receiver.in_flight[key] += 1
                        receiver.most_in_flight[key] = max(receiver.most_in_flight[key], receiver.in_flight[key])
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    for key in (self.path, "*"):
                        receiver.in_flight[key] -= 1
                with receiver.arrived:
                    receiver.requests.append(
                        Received(
                            "POST",
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            self.client_address[1],
                        )
                    )
                    receiver.arrived.notify_all()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, status=200, headers=None, body=b"ok", delay=0.0, times=1):
        with self.lock:
            for _ in range(times):
                self.answers.append((status, headers or {}, body, delay))

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self.arrived.wait(left)
            return list(self.requests)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
