"""A tiny HTTP server on 127.0.0.1 (port 0) serving canned responses, for collector and LLM tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class LocalServer:
    """Serves ``routes[path] = (status, content_type, body_bytes)``; records every request."""

    def __init__(self):
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                outer.requests.append({"method": self.command, "path": parts.path, "query": parts.query,
                                       "headers": dict(self.headers), "body": body})
                status, ctype, payload = outer.routes.get(parts.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    def json(self, path: str, payload, status: int = 200):
        self.routes[path] = (status, "application/json", json.dumps(payload).encode())

    def raw(self, path: str, body: bytes | str, status: int = 200, ctype: str = "text/plain"):
        self.routes[path] = (status, ctype, body.encode() if isinstance(body, str) else body)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
