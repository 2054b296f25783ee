"""One request and its response as the simulator's logic sees them, independent of the HTTP server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # names lowercased
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    scheme: str = "http"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def host(self) -> str:
        return self.header("host") or ""

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def form(self) -> list[tuple[str, str]]:
        """Body parameters, if the body is a form (they take part in an OAuth 1.0a signature then)."""
        content_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return []
        return parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def json(self) -> Any:
        """The body as JSON (an empty body is an empty object); ValueError if it is not JSON."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds to wait before answering (or dropping)

    @classmethod
    def json(
        cls, status: int, payload: Any, *, content_type: str = JSON, headers: dict[str, str] | None = None
    ) -> Response:
        # Compact and UTF-8 as X sends it; ensure_ascii=False so emoji and RTL text arrive as real characters.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, content_type, dict(headers or {}))
