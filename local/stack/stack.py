"""The whole offline stack, started in order and stopped in reverse: `Stack(options, log).start()` ... `.stop()`.

Start: the AWS process (moto) boots while this process binds the gateway, starts X and translates the
template; then the tables and queues are created from it, the functions' environments resolved, the X
credentials stored in SSM, the queues' timings accelerated, and the pollers, the gateway and the schedules
started. Stop (Ctrl-C): gateway, schedules and pollers first, then every function process, then X, and
last the AWS process, which saves its state on the way out.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from local.provision import client, data_template
from local.stack import buckets, data_dir, x
from local.stack.accelerate import Acceleration
from local.stack.aws_process import AwsProcess, AwsStartError
from local.stack.cfn import Resolver, TemplateError
from local.stack.functions import FunctionPool, Invocation
from local.stack.gateway import Gateway
from local.stack.logstream import LogStream
from local.stack.poller import QueuePoller
from local.stack.schedule_expressions import ScheduleError
from local.stack.scheduler import Scheduler, sqs_failure_sink
from local.stack.spec import DEFAULT_LOCAL_CONCURRENCY, HttpApiSpec, QueueMappingSpec, StackSpec, read_stack
from local.template import TEMPLATE_PATH, load, translate

X_CREDENTIALS_PARAMETER = "XCredentialsParameter"
X_OAUTH2_CLIENT_PARAMETER = "XOAuth2ClientParameter"
X_BASE_URL_PARAMETER = "XApiBaseUrl"
X_AUTHORIZE_URL_PARAMETER = "XAuthorizeUrl"
STOP_BUDGET = 2.0  # seconds from Ctrl-C to nothing running


class StackError(RuntimeError):
    """The stack cannot start as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 3000
    aws_port: int = 4566
    x_port: int = 8787
    data_dir: Path = Path(".local/dev")
    clean: bool = False
    accelerate: float = 1.0
    seed: int = 42
    stack_name: str = "random-likes"
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    max_environments: int = DEFAULT_LOCAL_CONCURRENCY
    snapshot_every: float = 5.0
    template_path: Path = TEMPLATE_PATH


@dataclass(frozen=True)
class Endpoints:
    url: str  # the page and the API
    aws: str
    x: str


class Stack:
    def __init__(
        self,
        options: Options,
        log: LogStream,
        environ: Mapping[str, str] | None = None,
        *,
        aws: AwsProcess | None = None,
        data_dir_lock: IO[str] | None = None,
    ) -> None:
        """`aws` and `data_dir_lock` may be taken before this module is even imported (see local.dev)."""
        self.options = options
        self.log = log
        self._environ = dict(os.environ if environ is None else environ)
        self.acceleration = Acceleration(options.accelerate)
        self._gateway: Gateway | None = None
        self._aws = aws
        self._x: x.XService | None = None
        self._pools: dict[str, FunctionPool] = {}
        self._pollers: list[QueuePoller] = []
        self._scheduler: Scheduler | None = None
        self._lock_file = data_dir_lock

    # --- start ----------------------------------------------------------------------------------------------

    def start(self) -> Endpoints:
        o = self.options
        if self._lock_file is None:
            try:
                self._lock_file = data_dir.lock(o.data_dir)
            except data_dir.DataDirInUse as exc:
                raise StackError(str(exc)) from None
        aws = self._aws = self._aws or start_aws(o, self.log)
        try:
            gateway = self._gateway = Gateway(self.log, host=o.host, port=o.port)
        except OSError as exc:
            raise StackError(f"the gateway cannot listen on {o.host}:{o.port} ({exc.strerror}); try --port") from None
        url = f"http://{o.host}:{gateway.port}"
        service = self._x = self._start_x(f"{url}/x-media", _callback_urls(o.host, gateway.port))
        self.log.add_secrets(service.secrets())

        source = load(o.template_path)
        parameters, notes = self._parameters(source, service)
        translated = translate(source, dict(parameters))

        try:
            endpoint = aws.wait_listening()
            ready = aws.provision(o.stack_name, data_template(translated, o.stack_name, parameters))
        except AwsStartError as exc:
            raise StackError(f"moto did not start: {exc} (--aws-port {o.aws_port})") from None
        refs: dict[str, str] = dict(ready["refs"])
        self.log.event("aws", f"moto on {endpoint}: stack {o.stack_name} created, {ready['restored']}")
        try:
            resolver = Resolver(translated, o.stack_name, parameters, refs, stack_id=str(ready["stack_id"]))
            spec = read_stack(translated, source, resolver, o.template_path.parent)
            scheduler = Scheduler(
                spec.schedules,
                self._invoke_async,
                self.log,
                accelerate=o.accelerate,
                async_invokes=spec.async_invoke,
                send_failure=sqs_failure_sink(client("sqs", endpoint), refs),
            )
        except (TemplateError, ScheduleError) as exc:
            raise StackError(f"template.yaml cannot run offline: {exc}") from None

        self._store_x_credentials(endpoint, resolver, service)
        for line in buckets.allow_origins(client("s3", endpoint), translated, resolver, _origins(o.host, gateway.port)):
            self.log.event("aws", line)
        notes.extend(self._accelerate_queues(endpoint, translated, spec, refs, service))
        self._start_functions(endpoint, spec)
        for mapping in spec.queue_mappings:
            if mapping.enabled:
                self._start_poller(endpoint, mapping, refs[mapping.queue], resolver.get_att(mapping.queue, "Arn"))
        if spec.http_apis:
            self._start_gateway(gateway, url, spec, service)
        self._scheduler = scheduler
        for line in scheduler.describe():
            self.log.event("schedule", line)
        if self.acceleration.active:
            self.log.event("stack", f"accelerated x{o.accelerate:g}: " + "; ".join(notes))
        scheduler.start()
        return Endpoints(url=url, aws=endpoint, x=service.base_url)

    def _parameters(self, source: Mapping[str, Any], service: x.XService) -> tuple[dict[str, str], list[str]]:
        """The template parameters: the overrides, the accelerated sync interval, X's base URL and consent page."""
        declared = source.get("Parameters", {})
        overrides = self.options.parameter_overrides
        for name, variable in (
            (X_BASE_URL_PARAMETER, "X_API_BASE_URL"),
            (X_AUTHORIZE_URL_PARAMETER, "X_AUTHORIZE_URL"),
        ):
            if name in overrides:
                raise StackError(f"set {variable} in the environment instead of overriding {name}")
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise StackError(f"template.yaml has no parameter {', '.join(unknown)} (it has {', '.join(declared)})")
        parameters, notes = self.acceleration.parameters(declared, overrides)
        if X_BASE_URL_PARAMETER in declared:
            parameters[X_BASE_URL_PARAMETER] = service.base_url
        if X_AUTHORIZE_URL_PARAMETER in declared:
            parameters[X_AUTHORIZE_URL_PARAMETER] = service.authorize_url
        return parameters, notes

    def _start_x(self, media_base_url: str, callback_urls: tuple[str, ...]) -> x.XService:
        o = self.options
        try:
            if x.choose(self._environ):
                service = x.external(self._environ)
            else:
                service = x.simulated(
                    host=o.host,
                    port=o.x_port,
                    seed=o.seed,
                    accelerate=o.accelerate,
                    media_base_url=media_base_url,
                    data_dir=o.data_dir,
                    clean=o.clean,
                    callback_urls=callback_urls,
                )
        except x.XConfigError as exc:
            raise StackError(str(exc)) from None
        self.log.event("x", service.description)
        return service

    def _store_x_credentials(self, endpoint: str, resolver: Resolver, service: x.XService) -> None:
        """Both SecureStrings the functions read, as an operator puts them on AWS (docs/accounts.md)."""
        declared = resolver.template.get("Parameters", {})
        ssm = client("ssm", endpoint)
        if X_CREDENTIALS_PARAMETER in declared:
            name = str(resolver.parameter(X_CREDENTIALS_PARAMETER))
            ssm.put_parameter(Name=name, Value=json.dumps(service.credentials), Type="SecureString", Overwrite=True)
            self.log.event("aws", f"X credentials stored as the SecureString {name}")
        if X_OAUTH2_CLIENT_PARAMETER in declared:
            name = str(resolver.parameter(X_OAUTH2_CLIENT_PARAMETER))
            if service.oauth2_client is None:
                # Left as it was: a stale client would fail at X all the same, and the log says why.
                self.log.event(
                    "aws",
                    f"no OAuth 2.0 client for {service.base_url}: Connect with X cannot work "
                    "(set X_OAUTH2_CLIENT_ID and X_OAUTH2_CLIENT_SECRET)",
                    level="WARNING",
                )
                return
            ssm.put_parameter(Name=name, Value=json.dumps(service.oauth2_client), Type="SecureString", Overwrite=True)
            self.log.event("aws", f"X OAuth 2.0 client stored as the SecureString {name}")

    def _accelerate_queues(
        self,
        endpoint: str,
        translated: Mapping[str, Any],
        spec: StackSpec,
        refs: Mapping[str, str],
        service: x.XService,
    ) -> list[str]:
        if not self.acceleration.active:
            return []
        notes = self.acceleration.function_environment()[1]
        sqs = client("sqs", endpoint)
        for logical_id in sorted({m.queue for m in spec.queue_mappings}):
            original = int(translated["Resources"][logical_id]["Properties"].get("VisibilityTimeout", 30))
            timeouts = [spec.functions[m.function].timeout for m in spec.queue_mappings if m.queue == logical_id]
            scaled = self.acceleration.visibility_timeout(original, max(timeouts))
            sqs.set_queue_attributes(QueueUrl=refs[logical_id], Attributes={"VisibilityTimeout": str(scaled)})
            notes.append(f"{logical_id} VisibilityTimeout {original} -> {scaled} s")
        if service.simulator is not None:
            config = service.simulator.config
            notes.append(f"X rate-limit window 900 -> {config.window_seconds} s")
            notes.append(f"@demo gains a like every {config.like_every_minutes['demo'] * 60:g} s")
        return notes

    def _start_functions(self, endpoint: str, spec: StackSpec) -> None:
        extra_env, _ = self.acceleration.function_environment()
        for logical_id, function in spec.functions.items():
            if function.reserved_concurrency is not None:
                limit = function.reserved_concurrency
            else:
                mapped = [m.maximum_concurrency or 0 for m in spec.queue_mappings if m.function == logical_id]
                limit = max([self.options.max_environments, *mapped])
            self._pools[logical_id] = FunctionPool(
                function,
                limit=limit,
                endpoint_url=endpoint,
                sink=self.log.function_line,
                label=_label(logical_id),
                extra_env=extra_env,
            )

    def _start_poller(self, endpoint: str, mapping: QueueMappingSpec, url: str, arn: str) -> None:
        sqs = client("sqs", endpoint)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        pool = self._pools[mapping.function]
        concurrency = min(mapping.maximum_concurrency or pool.limit, pool.limit)

        def invoke(event: dict[str, Any]) -> Invocation:
            return pool.invoke(event)

        poller = QueuePoller(
            mapping,
            queue_url=url,
            queue_arn=arn,
            fifo=attributes.get("FifoQueue") == "true",
            sqs=sqs,
            invoke=invoke,
            log=self.log,
            concurrency=concurrency,
        )
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        dlq = f", DLQ after {redrive['maxReceiveCount']} receives" if redrive else ""
        self.log.event(
            "sqs",
            f"{mapping.queue} -> {mapping.function}: batch {mapping.batch_size}, window {mapping.batching_window:g} s, "
            f"concurrency {concurrency}, visibility {attributes['VisibilityTimeout']} s{dlq}",
        )
        poller.start()
        self._pollers.append(poller)

    def _start_gateway(self, gateway: Gateway, url: str, spec: StackSpec, service: x.XService) -> None:
        api: HttpApiSpec = spec.http_apis[0]
        for ignored in spec.http_apis[1:]:
            self.log.event("gateway", f"{ignored.logical_id} is not served: one HTTP API per stack", level="WARNING")

        def invoke(function: str, event: dict[str, Any], request_id: str, wait: float) -> Invocation:
            return self._pools[function].invoke(event, request_id=request_id, wait=wait)

        gateway.attach(
            api,
            invoke,
            function_timeouts={k: v.timeout for k, v in spec.functions.items()},
            media_origin=service.base_url if service.simulator is not None else None,
        )
        gateway.start()
        throttle = api.default_throttle
        self.log.event(
            "gateway",
            f"{len(api.routes)} routes of {api.logical_id} on {url} ($default stage)"
            + (f", throttled at {throttle.rate:g}/s burst {throttle.burst}" if throttle else "")
            + (", CORS for " + ",".join(api.cors.allow_origins) if api.cors else ""),
        )

    def _invoke_async(self, function: str, event: Any) -> Invocation:
        return self._pools[function].invoke(event, wait=60.0)

    # --- stop -----------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Everything down within STOP_BUDGET seconds, the AWS process last (it saves the state)."""
        started = time.monotonic()
        if self._gateway is not None:
            self._gateway.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
        for poller in self._pollers:
            poller.stop()
        stoppers = [threading.Thread(target=pool.stop) for pool in self._pools.values()]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(timeout=1.0)
        if self._x is not None:
            self._x.stop()
        if self._aws is not None:
            self._aws.stop(timeout=max(0.3, STOP_BUDGET - 0.2 - (time.monotonic() - started)))
        if self._lock_file is not None:
            self._lock_file.close()


def start_aws(options: Options, log: LogStream) -> AwsProcess:
    return AwsProcess(
        host=options.host,
        port=options.aws_port,
        data_dir=options.data_dir,
        clean=options.clean,
        snapshot_every=options.snapshot_every,
        log=log,
    )


def _origins(host: str, port: int) -> tuple[str, ...]:
    """The page's origins: its own, and localhost's for a browser opened on http://localhost:PORT when the
    stack listens on loopback."""
    hosts = [host]
    if host == "127.0.0.1":
        hosts.append("localhost")
    return tuple(f"http://{name}:{port}" for name in hosts)


def _callback_urls(host: str, port: int) -> tuple[str, ...]:
    """The app's OAuth 2.0 redirect URIs, as registered with X: the page's own origin (and localhost's, for a
    browser opened on http://localhost:PORT, when the stack listens on loopback)."""
    hosts = [host]
    if host == "127.0.0.1":
        hosts.append("localhost")
    return tuple(f"http://{name}:{port}{x.CALLBACK_PATH}" for name in hosts)


def _label(logical_id: str) -> str:
    """ApiFunction -> api: the short name the log stream shows."""
    return logical_id.removesuffix("Function").lower() or logical_id
