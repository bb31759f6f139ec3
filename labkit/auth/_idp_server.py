"""The lab identity provider's HTTP side as a stand-alone script (standard library
only, so it starts fast): serves OIDC discovery and the JWKS from files in
``--folder``. Started by :class:`labkit.auth.idp.IdentityProvider`."""

from __future__ import annotations

import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOPBACK = "127.0.0.1"


def _handler(folder: Path):
    routes = {"/.well-known/openid-configuration": "openid-configuration.json", "/jwks.json": "jwks.json"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            name = routes.get(self.path.split("?")[0])
            if name is None:
                self.send_error(404, "only discovery and JWKS are served here")
                return
            body = (folder / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stdout.write("idp: " + (fmt % args) + "\n")
            sys.stdout.flush()

    return Handler


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="lab OIDC discovery + JWKS server (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((LOOPBACK, args.port), _handler(Path(args.folder)))
    print(f"idp: serving {args.folder} on {LOOPBACK}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
