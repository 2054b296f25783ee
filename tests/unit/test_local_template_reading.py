"""The offline stack reads what it runs from the SAM-transformed template.yaml: intrinsics resolved as
CloudFormation would, each function's environment exactly as deployed, schedules, the queue mapping, routes."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack.cfn import NO_VALUE, Resolver, TemplateError, physical_name
from local.stack.spec import StackSpec, read_stack
from local.template import TEMPLATE_PATH, load, translate, translated

QUEUE_URL = "http://127.0.0.1:4566/123456789012/random-likes-fetch"
REFS = {
    "LikesTable": "random-likes-LikesTable-ABC",
    "FetchQueue": QUEUE_URL,
    "FetchDeadLetterQueue": "http://127.0.0.1:4566/123456789012/random-likes-fetch-dlq",
}


def stack(parameters: dict[str, str] | None = None) -> StackSpec:
    template = translate(load(), parameters) if parameters else translated()
    resolver = Resolver(template, "random-likes", parameters or {}, REFS)
    return read_stack(template, load(), resolver, TEMPLATE_PATH.parent)


# --- intrinsics ---------------------------------------------------------------------------------------------

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "prod"},
        "Origin": {"Type": "String", "Default": ""},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
        "Required": {"Type": "String"},
    },
    "Conditions": {
        "HasOrigin": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Origin"}, ""]}]},
        "ProdWithOrigin": {"Fn::And": [{"Condition": "HasOrigin"}, {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]},
    },
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Fn": {"Type": "AWS::Lambda::Function"},
    },
}


def resolver(**parameters: str) -> Resolver:
    return Resolver(TEMPLATE, "stack", {"Required": "x", **parameters}, {"Queue": "http://h/123456789012/stack-q"})


def test_refs_give_parameters_pseudo_parameters_and_physical_ids() -> None:
    r = resolver()
    assert r.resolve({"Ref": "Stage"}) == "prod"
    assert r.resolve({"Ref": "Zones"}) == ["a", "b"]
    assert r.resolve({"Ref": "AWS::StackName"}) == "stack"
    assert r.resolve({"Ref": "Queue"}) == "http://h/123456789012/stack-q"  # a queue's Ref is its URL
    assert r.resolve({"Ref": "Fn"}) == physical_name("stack", "Fn")  # made up as CloudFormation does


def test_getatt_and_sub_build_arns_from_names() -> None:
    r = resolver()
    assert r.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:us-east-1:123456789012:stack-q"
    assert r.resolve({"Fn::Sub": "${Queue.Arn}/x/${Stage}/${!Literal}"}) == (
        "arn:aws:sqs:us-east-1:123456789012:stack-q/x/prod/${Literal}"
    )
    assert r.resolve({"Fn::Sub": ["${A}-${AWS::Region}", {"A": {"Ref": "Stage"}}]}) == "prod-us-east-1"


def test_conditions_choose_branches_and_novalue_removes_the_property() -> None:
    without = resolver().resolve({"Cors": {"Fn::If": ["HasOrigin", {"o": {"Ref": "Origin"}}, {"Ref": "AWS::NoValue"}]}})
    assert without == {}
    with_origin = resolver(Origin="https://e.example")
    assert with_origin.resolve({"Fn::If": ["ProdWithOrigin", "yes", "no"]}) == "yes"
    assert resolver().resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_unknown_or_missing_parameters_are_refused_by_name() -> None:
    with pytest.raises(TemplateError) as unknown:
        resolver(Nope="1")
    with pytest.raises(TemplateError) as missing:
        Resolver(TEMPLATE, "stack", {})

    assert "Nope" in str(unknown.value)
    assert "Required" in str(missing.value)


# --- the real template ------------------------------------------------------------------------------------


def test_each_function_gets_the_globals_and_its_own_environment_resolved_to_the_local_resources() -> None:
    functions = stack().functions
    shared = {"TABLE_NAME": REFS["LikesTable"], "FETCH_QUEUE_URL": QUEUE_URL, "SYNC_INTERVAL_MINUTES": "60"}
    for function in functions.values():
        assert dict(function.environment).items() >= shared.items()
    worker = functions["WorkerFunction"].environment
    assert worker["X_CREDENTIALS_PARAMETER"] == "/random-likes/prod/x-credentials"
    assert worker["X_API_BASE_URL"] == "https://api.x.com"
    # Only the worker is given the operator's X credentials; the api gets X only to connect accounts (the
    # OAuth 2.0 client and the write-only tokens); the fetcher gets none of X.
    api = functions["ApiFunction"].environment
    assert (
        api["X_OAUTH2_CLIENT_PARAMETER"] == worker["X_OAUTH2_CLIENT_PARAMETER"] == "/random-likes/prod/x-oauth2-client"
    )
    assert "X_CREDENTIALS_PARAMETER" not in api
    fetcher = set(functions["FetcherFunction"].environment)
    assert not {"X_API_BASE_URL", "X_CREDENTIALS_PARAMETER", "X_OAUTH2_CLIENT_PARAMETER", "TOKENS_KEY_ID"} & fetcher


def test_functions_keep_their_handler_timeout_memory_and_code_directory() -> None:
    api = stack().functions["ApiFunction"]
    assert (api.handler, api.timeout, api.memory) == ("api.app.handler", 10, 512)
    assert api.code_dir == TEMPLATE_PATH.parent / "src"
    assert api.name.startswith("random-likes-ApiFunction-")
    assert stack().functions["WorkerFunction"].timeout == 120


def test_parameter_overrides_reach_the_environment() -> None:
    worker = stack({"XApiBaseUrl": "http://127.0.0.1:8787", "SyncIntervalMinutes": "1"}).functions["WorkerFunction"]
    assert worker.environment["X_API_BASE_URL"] == "http://127.0.0.1:8787"
    assert worker.environment["SYNC_INTERVAL_MINUTES"] == "1"


def test_the_schedule_and_the_queue_mapping_come_from_the_template() -> None:
    spec = stack()
    (schedule,) = spec.schedules
    assert (schedule.expression, schedule.function, schedule.kind) == ("rate(5 minutes)", "FetcherFunction", "rule")
    assert schedule.arn.startswith("arn:aws:events:us-east-1:123456789012:rule/random-likes-FetcherFunctionSchedule-")
    mapping, imports = sorted(spec.queue_mappings, key=lambda m: m.function, reverse=True)
    assert (mapping.function, mapping.queue, mapping.batch_size, mapping.batching_window) == (
        "WorkerFunction",
        "FetchQueue",
        5,
        1.0,
    )
    assert mapping.report_batch_item_failures is True
    assert mapping.maximum_concurrency == 2
    # The import function pulls one upload (or continuation) at a time, two imports at most at once
    assert (imports.function, imports.queue, imports.batch_size, imports.maximum_concurrency) == (
        "ImportFunction",
        "ImportQueue",
        1,
        2,
    )
    assert imports.report_batch_item_failures is True


def test_the_http_api_has_the_templates_routes_throttle_and_no_cors_by_default() -> None:
    (api,) = stack().http_apis
    assert {route.key for route in api.routes} == {
        "GET /",
        "GET /assets/{name}",
        "POST /api/subscriptions",
        "GET /api/subscriptions/{username}",
        "DELETE /api/subscriptions/{username}",
        "GET /api/subscriptions/{username}/likes/random",
        "POST /api/subscriptions/{username}/imports",
        "GET /api/subscriptions/{username}/imports/{id}",
        "GET /api/openapi.json",
        "PATCH /api/subscriptions/{username}",
        "GET /api/me",
        "GET /auth/x/login",
        "GET /auth/x/callback",
        "POST /auth/logout",
    }
    assert {route.function for route in api.routes} == {"ApiFunction"}
    assert api.default_throttle is not None
    assert (api.default_throttle.rate, api.default_throttle.burst) == (50.0, 100)
    assert api.cors is None
    assert len(api.api_id) == 10


def test_an_allowed_origin_parameter_turns_cors_on() -> None:
    (api,) = stack({"AllowedCorsOrigin": "https://example.com"}).http_apis
    assert api.cors is not None
    assert api.cors.allow_origins == ("https://example.com",)
    assert api.cors.allow_methods == ("GET", "POST", "PATCH", "DELETE")
    assert api.cors.max_age == 600
