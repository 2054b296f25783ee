"""The HTTP side: a stdlib threading server that turns each request into an `exchange.Request` for the app and
writes its `Response` back, late if the app asks for latency, or not at all (connection closed) for a drop.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from local.xsim.app import XSimApp
from local.xsim.exchange import Request, Response

log = logging.getLogger("xsim")
MAX_BODY = 1 << 20  # the API takes small forms and JSON; anything bigger is a mistake


def _handler(app: XSimApp, sleep: Callable[[float], object]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keeps connections open, as X's edge does; every response says its Content-Length.
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms each.
        disable_nagle_algorithm = True

        def version_string(self) -> str:
            return "xsim"

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def do_DELETE(self) -> None:
            self._dispatch()

        def do_PUT(self) -> None:
            self._dispatch()

        def _dispatch(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._write(Response(413, b"", "text/plain"))
                return
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qsl(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                client_ip=self.client_address[0],
            )
            response = app.handle(request)
            if response.delay:
                sleep(response.delay)
            if response.drop:
                self._drop()
                return
            try:
                self._write(response)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (its timeout was shorter than the latency asked for): nothing to
                # answer, and no traceback on stderr, where it would land in whatever test runs next.
                self.close_connection = True

        def _write(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("content-type", response.content_type)
            self.send_header("content-length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)

        def _drop(self) -> None:
            """Close the socket without a byte of response: the client sees a dropped connection."""
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may be gone already
                self.connection.shutdown(socket.SHUT_RDWR)

        def date_time_string(self, timestamp: float | None = None) -> str:
            # The Date header follows the simulated clock, so a manual clock gives identical responses.
            return formatdate(app.clock.time() if timestamp is None else timestamp, usegmt=True)

        def log_message(self, format: str, *args: object) -> None:
            # Request lines only (never headers: they carry credentials), and only when asked for.
            log.debug("%s " + format, self.client_address[0], *args)

    return Handler


class XSimServer(ThreadingHTTPServer):
    # Handler threads may sit on idle keep-alive connections: never wait for them on stop.
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self, app: XSimApp, host: str = "127.0.0.1", port: int = 0, *, sleep: Callable[[float], object] = time.sleep
    ) -> None:
        # `sleep` waits out injected latency: a test passes its own to see the wait asked for, or to hold it.
        super().__init__((host, port), _handler(app, sleep))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_background(self) -> None:
        # A short poll interval makes stop() quick (serve_forever checks for shutdown between polls).
        self._thread = threading.Thread(target=self.serve_forever, args=(0.01,), name="xsim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
