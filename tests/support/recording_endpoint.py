"""An HTTP endpoint on loopback that records every request made to it, for tests about what a client sends.

`RecordingEndpoint()` refuses every request as AWS refuses unknown keys (403 InvalidClientTokenId);
`RecordingEndpoint(upstream=moto_url)` passes each request on to moto and its answer back, so a client
pointed at it works as usual while the test sees every call. `hold(matches)` keeps the first request that
`matches` waiting (unanswered) until `release()`: the client is then stopped at a known point, without
timing anything.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

# What AWS answers a request signed with unknown keys, in the JSON protocol (X-Amz-Target) and the query one.
JSON_REFUSAL = b'{"__type": "InvalidClientTokenId", "message": "refused by the recording endpoint"}'
XML_REFUSAL = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
    b"<Message>refused by the recording endpoint</Message></Error></ErrorResponse>"
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        """X-Amz-Target: the AWS JSON protocol's operation (e.g. AmazonSQS.ReceiveMessage), or ""."""
        return next((v for k, v in self.headers.items() if k.lower() == "x-amz-target"), "")


class RecordingEndpoint:
    def __init__(self, upstream: str | None = None) -> None:
        self.requests: list[Recorded] = []
        self.held = threading.Event()  # set once a request matching `hold` is being held
        self._upstream = upstream
        self._lock = threading.Lock()
        self._hold: Callable[[Recorded], bool] | None = None
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def hold(self, matches: Callable[[Recorded], bool]) -> None:
        """Hold the first request that `matches`, before it goes on, until `release()`."""
        self._hold = matches

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> RecordingEndpoint:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)
            hold = self._hold is not None and self._hold(recorded)
            if hold:
                self._hold = None
        if hold:
            self.held.set()
            self._release.wait(60)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                recorded = Recorded(self.command, self.path, dict(self.headers.items()), body)
                endpoint._record(recorded)
                if endpoint._upstream is None:
                    if recorded.target:
                        self._answer(403, {"content-type": "application/x-amz-json-1.0"}, JSON_REFUSAL)
                    else:
                        self._answer(403, {"content-type": "text/xml"}, XML_REFUSAL)
                    return
                upstream = urlsplit(endpoint._upstream)
                connection = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    self._answer(answer.status, dict(answer.getheaders()), answer.read())
                finally:
                    connection.close()

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the test reads `requests`, not a log

        return Handler
