"""The simulator as a `requests` transport: a request goes to `XSimApp.handle` in the same process, no socket.

The simulated month (`python -m bench month`) sends tens of thousands of requests through the real X client
(tweepy, its adapter, RetryingX); over loopback HTTP each one would cost a connection and a server thread.
Here the answer is the simulator's own: status, headers and body as its server would write them; a dropped
connection raises `requests.ConnectionError`, as urllib3 would. A fault's latency is not slept: it is added
to `latency_seconds` (the simulated time the answers would have taken), which the caller may count.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from local.xsim.app import XSimApp
from local.xsim.exchange import Request
from shared.x_client import TWEEPY_HOST, XClient, _BaseUrlAdapter


class XSimTransport:
    """Hands requests to `app` and counts them (and the latency its faults asked for)."""

    def __init__(self, app: XSimApp) -> None:
        self.app = app
        self.requests = 0
        self.latency_seconds = 0.0

    def send(self, request: requests.PreparedRequest) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body or b""
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers.setdefault("host", parts.netloc)
        sim_request = Request(
            method=(request.method or "GET").upper(),
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=headers,
            body=body.encode() if isinstance(body, str) else bytes(body),
            scheme=parts.scheme or "http",
        )
        answer = self.app.handle(sim_request)
        self.requests += 1
        self.latency_seconds += answer.delay
        if answer.drop:
            raise requests.ConnectionError("the simulator dropped the connection", request=request)
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(
            {"content-type": answer.content_type, "content-length": str(len(answer.body)), **answer.headers}
        )
        response._content = answer.body
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        response.reason = "OK" if answer.status < 400 else "Error"
        return response


class InProcessAdapter(HTTPAdapter):
    """A `requests` adapter that answers every request from the simulator, whatever host its URL names."""

    def __init__(self, transport: XSimTransport) -> None:
        super().__init__(max_retries=0)
        self.transport = transport

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        return self.transport.send(request)


class _InProcessBaseUrl(_BaseUrlAdapter, InProcessAdapter):
    """The client's own base-URL adapter (its rewrite, OAuth 1.0a signing and timeout) over the in-process
    transport: its `super().send` reaches InProcessAdapter.send instead of a socket."""

    def __init__(self, mounted: HTTPAdapter, transport: XSimTransport) -> None:
        # Take over the mounted adapter's state as it is (base URL, signer, timeout), not a second construction.
        self.__dict__.update(mounted.__dict__)
        self.transport = transport


def in_process(client: XClient, transport: XSimTransport) -> XClient:
    """`client`, its requests answered by the simulator in-process. Mounted from outside on tweepy's session,
    where the client mounts its own adapter: the client is the one the worker builds, otherwise unchanged."""
    session: requests.Session = client._client.session  # where XClient mounts its adapter
    mounted = session.get_adapter(TWEEPY_HOST)
    if not isinstance(mounted, _BaseUrlAdapter):
        raise TypeError("the X client has no base-URL adapter to run in-process")
    session.mount(TWEEPY_HOST, _InProcessBaseUrl(mounted, transport))
    return client
