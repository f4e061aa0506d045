"""A real HTTP server on 127.0.0.1, in a thread, for the download tests (no internet needed).

server.files maps a URL path to its bytes; server.requests lists every path asked for.
A path in server.cut_short is sent with its full Content-Length but closed after half of
its bytes: an interrupted download."""

from __future__ import annotations

import http.server
import socket
import threading


class LoopbackServer:
    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.cut_short: set[str] = set()
        self.no_length: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if self.path not in server.no_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.cut_short:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)
                if self.path in server.no_length:
                    self.close_connection = True  # HTTP/1.0: the body ends when the socket does

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
