"""A webhook receiver for the benchmarks, in a process of its own (so the publisher's Python does
not slow it down): prints `READY <port>`, then `<webhook-id> <unix time>` for each POST as it arrives. An
optional argument makes it answer that many seconds after the request arrived (a slow receiver)."""

import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        sys.stdout.write(f"{self.headers['webhook-id']} {time.time():.6f}\n")  # it has arrived
        sys.stdout.flush()
        if DELAY:
            time.sleep(DELAY)
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # listen() backlog: socketserver's 5 drops connections opened together


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
