"""X's error bodies: RFC 7807 problems as X v2 shapes them, with the type, title and wording X uses.

Problems go out as `application/problem+json`, which the spec's `default` response maps to its `Problem`
schema; the one v1-style body (`{"errors": [{"code", "message"}]}`, an unknown route) goes out as
`application/json`, which the same `default` response maps to `Error`.
"""

from __future__ import annotations

from typing import Any

PROBLEMS = "https://api.twitter.com/2/problems/"
PROBLEM_JSON = "application/problem+json"

Problem = dict[str, Any]


def _generic(status: int, title: str, detail: str | None = None) -> Problem:
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status}


def unauthorized() -> Problem:
    """Missing, unknown, expired or badly signed credentials: X says no more than this."""
    return _generic(401, "Unauthorized")


def forbidden(detail: str = "Forbidden") -> Problem:
    return _generic(403, "Forbidden", detail)


def unsupported_authentication() -> Problem:
    """An app-only bearer token on an endpoint that needs a user (liked_tweets, users/me)."""
    return {
        "title": "Unsupported Authentication",
        "detail": (
            "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
            "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
        ),
        "type": PROBLEMS + "unsupported-authentication",
        "status": 403,
    }


def not_authorized_for_resource(user_id: str) -> Problem:
    """Another user's likes: private since June 2024. X documents the type, not this exact refusal."""
    return {
        "title": "Authorization Error",
        "detail": f"Sorry, you are not authorized to see the likes of the User with id: [{user_id}].",
        "type": PROBLEMS + "not-authorized-for-resource",
        "status": 403,
        "value": user_id,
        "resource_id": user_id,
        "resource_type": "user",
        "section": "data",
        "parameter": "id",
    }


def invalid_request(errors: list[dict[str, Any]]) -> Problem:
    """One or more bad parameters; each entry is `{"parameters": {name: [value]}, "message": ...}`."""
    return {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }


def parameter_error(name: str, value: str, message: str) -> dict[str, Any]:
    return {"parameters": {name: [value]}, "message": message}


def rate_limit_exceeded() -> Problem:
    return {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": PROBLEMS + "rate-limit-exceeded",
        "status": 429,
    }


def usage_capped(period: str) -> Problem:
    shown = "Daily" if period == "daily" else "Monthly"
    return {
        "title": "UsageCapExceeded",
        "detail": f"Usage cap exceeded: {shown} product cap",
        "type": PROBLEMS + "usage-capped",
        "status": 429,
        "period": shown,
        "scope": "Product",
    }


def server_error(status: int) -> Problem:
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return _generic(status, titles.get(status, "Server Error"))


def not_found(resource_type: str, parameter: str, value: str) -> Problem:
    """An entry of a 200's `errors[]`: a user or post that does not exist (any more)."""
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def no_such_route() -> dict[str, Any]:
    """X's answer to a path it does not serve: the old v1.1 error shape, as `application/json`."""
    return {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
