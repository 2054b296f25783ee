"""Checks an HTTP response against X's OpenAPI spec (the subset in tests/spec), as X's own spec describes it.

openapi-core validates the response against the operation: the declared status if there is one, else the
operation's `default` response, which maps `application/json` to `Error` and `application/problem+json` to
`Problem`. The spec's `Problem` and `Media` carry a discriminator without `oneOf`, which validators skip; so
this also validates each problem (top-level or in `errors[]`) and each media item against the subtype its
discriminator names (e.g. not-authorized-for-resource must carry resource_id, resource_type, section...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from jsonschema import ValidationError
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parents[1] / "spec" / "x-api-openapi.subset.json"
PROBLEM_JSON = "application/problem+json"


@dataclass
class SpecRequest:
    """openapi-core's Request protocol, for a request made to `host_url` (the spec's server, api.x.com)."""

    host_url: str
    path: str
    method: str
    query: list[tuple[str, str]]
    parameters: RequestParameters = field(init=False)
    body: bytes | None = None
    content_type: str = ""

    def __post_init__(self) -> None:
        self.parameters = RequestParameters(query=ImmutableMultiDict(self.query), header=Headers())


@dataclass
class SpecResponse:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes


class XSpec:
    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        # openapi-core knows application/json; X's problems come as application/problem+json.
        config = Config(extra_media_type_deserializers={PROBLEM_JSON: json.loads})
        self.openapi = OpenAPI.from_dict(self.document, config=config)
        self.server = self.document["servers"][0]["url"]

    def response_violations(self, response: requests.Response) -> list[str]:
        """What in this response (from the simulator) X's spec does not allow for its request; [] if nothing."""
        url = urlsplit(response.request.url or "")
        return self.violations(
            method=response.request.method or "GET",
            path=url.path,
            query=parse_qsl(url.query, keep_blank_values=True),
            status=response.status_code,
            headers=dict(response.headers),
            body=response.content,
        )

    def violations(
        self, *, method: str, path: str, query: list[tuple[str, str]], status: int, headers: dict[str, str], body: bytes
    ) -> list[str]:
        """Each way the response breaks the spec, as "where: what" (e.g. "/data/0/created_at: 'x' is not a
        'date-time'"); [] when the spec allows it."""
        try:
            self.check(method=method, path=path, query=query, status=status, headers=headers, body=body)
        except ValidationError as exc:  # a discriminated subtype (check_subtype)
            return [_where(exc)]
        except OpenAPIError as exc:  # the operation's own schema: openapi-core keeps each error on the cause
            return [_where(error) for error in getattr(exc.__cause__, "schema_errors", ())] or [repr(exc)]
        return []

    def check(
        self, *, method: str, path: str, query: list[tuple[str, str]], status: int, headers: dict[str, str], body: bytes
    ) -> None:
        """Raise if the response is not one X's spec allows for its request."""
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        request = SpecRequest(self.server, path, method.lower(), query)
        response = SpecResponse(status, content_type, Headers(list(headers.items())), body)
        self.openapi.validate_response(request, response)
        payload = json.loads(body)
        if content_type.startswith(PROBLEM_JSON):
            self.check_subtype("Problem", payload)
        for problem in payload.get("errors", []) if status == 200 else []:
            self.check_subtype("Problem", problem)
        for item in payload.get("includes", {}).get("media", []):
            self.check_subtype("Media", item)

    def check_subtype(self, base: str, value: dict[str, Any]) -> None:
        """Validate `value` against the schema its discriminator value maps to (if the spec maps it)."""
        discriminator = self.document["components"]["schemas"][base]["discriminator"]
        target = discriminator["mapping"].get(value.get(discriminator["propertyName"]))
        if target is None:
            return
        schema = {"$ref": target, "components": self.document["components"]}
        OAS30Validator(schema, format_checker=oas30_format_checker).validate(value)

    def enum(self, parameter: str) -> set[str]:
        """The allowed values of a list parameter (e.g. TweetFieldsParameter)."""
        return set(self.document["components"]["parameters"][parameter]["schema"]["items"]["enum"])


def _where(error: ValidationError) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path) + f": {error.message}"
