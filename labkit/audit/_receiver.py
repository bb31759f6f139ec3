"""The lab's audit receivers as a stand-alone script (standard library only, so it
starts in a fraction of a second): ``tcp`` for the socket audit device, ``http`` for
OpenBao's http audit device. Each appends every entry it receives to ``--out``.
Started by :class:`labkit.audit.sink.AuditSink` through the supervisor."""

from __future__ import annotations

import argparse
import os
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"


class _Appender:
    def __init__(self, path: str):
        self.lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.fh = os.fdopen(fd, "ab", buffering=0)
        self.count = 0

    def add(self, data: bytes) -> None:
        data = data.strip()
        if not data:
            return
        with self.lock:
            self.fh.write(data + b"\n")
            self.count += 1


def serve_tcp(port: int, out: str) -> None:
    appender = _Appender(out)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            print(f"siem: connection from {self.client_address[0]}:{self.client_address[1]}", flush=True)
            for line in self.rfile:
                appender.add(line)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    with Server((LOOPBACK, port), Handler) as server:
        print(f"siem: listening on {LOOPBACK}:{port}, writing {out}", flush=True)
        server.serve_forever()


def serve_http(port: int, out: str) -> None:
    appender = _Appender(out)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server API)
            length = int(self.headers.get("Content-Length") or 0)
            appender.add(self.rfile.read(length))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *args):
            sys.stdout.write("receiver: " + (fmt % args) + "\n")
            sys.stdout.flush()

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    print(f"receiver: listening on {LOOPBACK}:{port}, writing {out}", flush=True)
    server.serve_forever()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="lab audit receiver (loopback only)")
    parser.add_argument("kind", choices=("tcp", "http"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    (serve_tcp if args.kind == "tcp" else serve_http)(args.port, args.out)


if __name__ == "__main__":
    main()
