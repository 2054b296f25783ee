"""What the offline stack runs, read from the SAM-transformed template: functions (with how Lambda treats
their asynchronous invocations), schedules, SQS event source mappings and the HTTP API. Every value is
resolved (parameters, Refs to the moto resources), so the rest of the stack works with plain dataclasses and
never looks at CloudFormation again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.stack.cfn import Resolver, TemplateError

# A function without an explicit limit may scale this far locally: processes, not Lambda's 1000.
DEFAULT_LOCAL_CONCURRENCY = 4
_INTEGRATION_FUNCTION = re.compile(r"\$\{(\w+)\.Arn\}")


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # the physical name, as AWS_LAMBDA_FUNCTION_NAME shows it
    handler: str  # "module.path.function"
    runtime: str
    timeout: int  # seconds
    memory: int  # MB
    environment: Mapping[str, str]  # the template's Globals + the function's own, resolved
    code_dir: Path
    log_group: str
    reserved_concurrency: int | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.name}"


@dataclass(frozen=True)
class AsyncInvokeSpec:
    """A function's AWS::Lambda::EventInvokeConfig (Lambda's defaults when it has none)."""

    function: str  # logical id
    function_arn: str
    maximum_retry_attempts: int = 2
    maximum_event_age: int = 21600  # seconds
    on_failure_queue: str | None = (
        None  # logical id of an AWS::SQS::Queue of this template; other kinds are not simulated
    )


@dataclass(frozen=True)
class ScheduleSpec:
    logical_id: str
    name: str
    arn: str
    expression: str  # rate(...), cron(...) or at(...)
    function: str  # logical id of the target function
    input: str | None  # a Rule target's Input / a Scheduler target's Input, delivered as is
    kind: str  # "rule" (EventBridge rule: the Scheduled Event envelope) or "scheduler" (EventBridge Scheduler)
    enabled: bool = True
    timezone: str = "UTC"


@dataclass(frozen=True)
class QueueMappingSpec:
    logical_id: str
    function: str  # logical id
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int
    batching_window: float  # MaximumBatchingWindowInSeconds
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool = True


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST ... or ANY
    path: str  # "/api/subscriptions/{username}", "/{proxy+}" or "$default"
    function: str  # logical id

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class Throttle:
    rate: float  # requests per second, steady state
    burst: int


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    api_id: str
    stage: str  # as deployed; the local gateway serves the $default stage (no prefix)
    routes: tuple[Route, ...]
    cors: Cors | None
    default_throttle: Throttle | None
    route_throttles: Mapping[str, Throttle] = field(default_factory=dict)


@dataclass(frozen=True)
class StackSpec:
    functions: Mapping[str, FunctionSpec]
    schedules: tuple[ScheduleSpec, ...]
    queue_mappings: tuple[QueueMappingSpec, ...]
    http_apis: tuple[HttpApiSpec, ...]
    async_invokes: Mapping[str, AsyncInvokeSpec] = field(default_factory=dict)  # by function logical id

    def async_invoke(self, function: str) -> AsyncInvokeSpec:
        return self.async_invokes.get(function) or AsyncInvokeSpec(function, self.functions[function].arn)


def read_stack(
    translated: Mapping[str, Any], source: Mapping[str, Any], resolver: Resolver, template_dir: Path
) -> StackSpec:
    """The runnable parts of `translated`; `source` (the untransformed template) still knows each CodeUri."""
    resources: Mapping[str, Any] = translated["Resources"]
    functions = {
        logical_id: _function(logical_id, resource["Properties"], source, resolver, template_dir)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and _included(resource, resolver)
    }
    schedules: list[ScheduleSpec] = []
    mappings: list[QueueMappingSpec] = []
    apis: list[HttpApiSpec] = []
    async_invokes: dict[str, AsyncInvokeSpec] = {}
    for logical_id, resource in resources.items():
        if not _included(resource, resolver):
            continue
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Events::Rule" and "ScheduleExpression" in props:
            schedules.extend(_rule(logical_id, props, resolver, functions))
        elif kind == "AWS::Scheduler::Schedule":
            schedules.extend(_scheduler(logical_id, props, resolver, functions))
        elif kind == "AWS::Lambda::EventSourceMapping":
            mapping = _queue_mapping(logical_id, props, resolver, resources)
            if mapping is not None:
                mappings.append(mapping)
        elif kind == "AWS::ApiGatewayV2::Api":
            apis.append(_http_api(logical_id, props, resolver, resources))
        elif kind == "AWS::Lambda::EventInvokeConfig":
            config = _async_invoke(logical_id, props, resolver, resources, functions)
            async_invokes[config.function] = config
    return StackSpec(functions, tuple(schedules), tuple(mappings), tuple(apis), async_invokes)


def _included(resource: Mapping[str, Any], resolver: Resolver) -> bool:
    condition = resource.get("Condition")
    return condition is None or resolver.condition(condition)


def _function(
    logical_id: str, props: Mapping[str, Any], source: Mapping[str, Any], resolver: Resolver, template_dir: Path
) -> FunctionSpec:
    resolved = resolver.resolve(dict(props))
    if resolved.get("PackageType") == "Image":
        raise TemplateError(f"{logical_id}: container image functions do not run offline")
    variables = resolved.get("Environment", {}).get("Variables", {})
    source_props = source.get("Resources", {}).get(logical_id, {}).get("Properties", {})
    code_uri = source_props.get("CodeUri") or source.get("Globals", {}).get("Function", {}).get("CodeUri")
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise TemplateError(f"{logical_id}: CodeUri must be a local directory to run offline")
    log_group = resolved.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{resolver.ref(logical_id)}"
    reserved = resolved.get("ReservedConcurrentExecutions")
    return FunctionSpec(
        logical_id=logical_id,
        name=str(resolver.ref(logical_id)),
        handler=str(resolved["Handler"]),
        runtime=str(resolved.get("Runtime", "")),
        timeout=int(resolved.get("Timeout", 3)),
        memory=int(resolved.get("MemorySize", 128)),
        environment={str(k): _env_string(v) for k, v in variables.items()},
        code_dir=(template_dir / code_uri).resolve(),
        log_group=str(log_group),
        reserved_concurrency=None if reserved is None else int(reserved),
    )


def _env_string(value: Any) -> str:
    # CloudFormation stringifies environment values: booleans as lowercase, numbers as written.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _target_function(arn: Any, functions: Mapping[str, FunctionSpec]) -> str | None:
    for spec in functions.values():
        if arn in (spec.arn, spec.name):
            return spec.logical_id
    return None


def _rule(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver, functions: Mapping[str, FunctionSpec]
) -> list[ScheduleSpec]:
    resolved = resolver.resolve(dict(props))
    name = str(resolver.ref(logical_id))
    found = []
    for target in resolved.get("Targets", []):
        function = _target_function(target.get("Arn"), functions)
        if function is None:
            continue  # a target that is not one of our functions (SNS, another account ...) is not ours to run
        if "InputPath" in target or "InputTransformer" in target:
            raise TemplateError(f"{logical_id}: InputPath / InputTransformer are not supported offline")
        found.append(
            ScheduleSpec(
                logical_id=logical_id,
                name=name,
                arn=resolver.get_att(logical_id, "Arn"),
                expression=str(resolved["ScheduleExpression"]),
                function=function,
                input=target.get("Input"),
                kind="rule",
                enabled=resolved.get("State", "ENABLED") == "ENABLED",
            )
        )
    return found


def _scheduler(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver, functions: Mapping[str, FunctionSpec]
) -> list[ScheduleSpec]:
    resolved = resolver.resolve(dict(props))
    target = resolved.get("Target", {})
    function = _target_function(target.get("Arn"), functions)
    if function is None:
        return []
    name = str(resolved.get("Name") or resolver.ref(logical_id))
    return [
        ScheduleSpec(
            logical_id=logical_id,
            name=name,
            arn=resolver.get_att(logical_id, "Arn"),
            expression=str(resolved["ScheduleExpression"]),
            function=function,
            # EventBridge Scheduler delivers the target's Input as is ("{}" when none is given).
            input=target.get("Input", "{}"),
            kind="scheduler",
            enabled=resolved.get("State", "ENABLED") == "ENABLED",
            timezone=str(resolved.get("ScheduleExpressionTimezone", "UTC")),
        )
    ]


def _queue_mapping(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver, resources: Mapping[str, Any]
) -> QueueMappingSpec | None:
    source = props.get("EventSourceArn")
    if not (isinstance(source, dict) and "Fn::GetAtt" in source):
        return None
    queue = source["Fn::GetAtt"][0] if isinstance(source["Fn::GetAtt"], list) else source["Fn::GetAtt"].split(".")[0]
    if resources.get(queue, {}).get("Type") != "AWS::SQS::Queue":
        return None  # streams (DynamoDB, Kinesis) are not simulated
    function_ref = props.get("FunctionName")
    function = function_ref.get("Ref") if isinstance(function_ref, dict) else None
    if function is None:
        raise TemplateError(f"{logical_id}: FunctionName must be a Ref to a function of this template")
    resolved = resolver.resolve({k: v for k, v in props.items() if k not in {"EventSourceArn", "FunctionName"}})
    if resolved.get("FilterCriteria"):
        raise TemplateError(f"{logical_id}: FilterCriteria is not simulated offline")
    scaling = resolved.get("ScalingConfig", {})
    return QueueMappingSpec(
        logical_id=logical_id,
        function=str(function),
        queue=str(queue),
        batch_size=int(resolved.get("BatchSize", 10)),
        batching_window=float(resolved.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in resolved.get("FunctionResponseTypes", []),
        maximum_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
        enabled=bool(resolved.get("Enabled", True)),
    )


def _async_invoke(
    logical_id: str,
    props: Mapping[str, Any],
    resolver: Resolver,
    resources: Mapping[str, Any],
    functions: Mapping[str, FunctionSpec],
) -> AsyncInvokeSpec:
    function_ref = props.get("FunctionName")
    function = str(function_ref.get("Ref")) if isinstance(function_ref, dict) else ""
    if function not in functions:
        raise TemplateError(f"{logical_id}: FunctionName must be a Ref to a function of this template")
    # The destination is a GetAtt on a queue of this template: read which one before resolution makes it an ARN.
    destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    target = str(destination.get("Fn::GetAtt", [""])[0]) if isinstance(destination, dict) else ""
    queue = target if resources.get(target, {}).get("Type") == "AWS::SQS::Queue" else None
    resolved = resolver.resolve({k: v for k, v in props.items() if k != "DestinationConfig"})
    return AsyncInvokeSpec(
        function=function,
        function_arn=functions[function].arn,
        maximum_retry_attempts=int(resolved.get("MaximumRetryAttempts", 2)),
        maximum_event_age=int(resolved.get("MaximumEventAgeInSeconds", 21600)),
        on_failure_queue=queue,
    )


def _http_api(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver, resources: Mapping[str, Any]
) -> HttpApiSpec:
    body = resolver.resolve(props.get("Body", {}))
    if not body and props.get("BodyS3Location"):
        raise TemplateError(f"{logical_id}: DefinitionUri / BodyS3Location are not read offline; inline the body")
    routes: list[Route] = []
    for path, operations in (body.get("paths") or {}).items():
        for method, operation in operations.items():
            integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if not integration:
                continue
            if str(integration.get("payloadFormatVersion", "2.0")) != "2.0":
                raise TemplateError(f"{logical_id} {method} {path}: only payload format 2.0 is simulated")
            function = _integration_function(props, path, method)
            verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            route_path = "$default" if path == "$default" else path
            routes.append(Route(verb, route_path, function))
    cors = _cors(body.get("x-amazon-apigateway-cors") or resolver.resolve(props.get("CorsConfiguration")))
    stage_name, default_throttle, route_throttles = "$default", None, {}
    for stage_id, stage in resources.items():
        stage_props = stage.get("Properties", {})
        if stage["Type"] != "AWS::ApiGatewayV2::Stage" or stage_props.get("ApiId") != {"Ref": logical_id}:
            continue
        resolved = resolver.resolve(dict(stage_props))
        stage_name = str(resolved.get("StageName", stage_id))
        default_throttle = _throttle(resolved.get("DefaultRouteSettings", {}))
        route_throttles = {
            key: throttle
            for key, settings in (resolved.get("RouteSettings") or {}).items()
            if (throttle := _throttle(settings)) is not None
        }
    return HttpApiSpec(
        logical_id=logical_id,
        api_id=str(resolver.ref(logical_id))[-10:].lower(),  # API ids are 10 lowercase characters
        stage=stage_name,
        routes=tuple(routes),
        cors=cors,
        default_throttle=default_throttle,
        route_throttles=route_throttles,
    )


def _integration_function(props: Mapping[str, Any], path: str, method: str) -> str:
    # The integration URI is a Fn::Sub naming ${Function.Arn}: read it before resolution turns it into an ARN.
    uri = props["Body"]["paths"][path][method]["x-amazon-apigateway-integration"].get("uri")
    text = json.dumps(uri)
    found = _INTEGRATION_FUNCTION.search(text) or re.search(r'"Fn::GetAtt": \["(\w+)", "Arn"\]', text)
    if not found:
        raise TemplateError(f"{method.upper()} {path}: the integration is not a function of this template")
    return found.group(1)


def _cors(config: Any) -> Cors | None:
    if not isinstance(config, dict) or not config:
        return None
    lower = {k[0].lower() + k[1:]: v for k, v in config.items()}  # CorsConfiguration is PascalCase, the body camel

    def strings(name: str) -> tuple[str, ...]:
        return tuple(str(v) for v in lower.get(name) or [] if str(v))

    max_age = lower.get("maxAge")
    return Cors(
        allow_origins=strings("allowOrigins"),
        allow_methods=tuple(m.upper() for m in strings("allowMethods")),
        allow_headers=tuple(h.lower() for h in strings("allowHeaders")),
        expose_headers=tuple(h.lower() for h in strings("exposeHeaders")),
        max_age=None if max_age in (None, "") else int(max_age),
        allow_credentials=bool(lower.get("allowCredentials", False)),
    )


def _throttle(settings: Mapping[str, Any]) -> Throttle | None:
    rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return None
    return Throttle(rate=float(rate if rate is not None else 10_000), burst=int(burst if burst is not None else 5_000))
