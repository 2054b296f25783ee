"""`--accelerate N`: the stack's periods and windows shortened N times, never the clocks.

The functions read real time (nothing in src/ knows it runs locally) and the simulated X API runs on real
time too, so X's `x-rate-limit-reset` and the functions agree. What gets shorter instead: the schedules'
periods, the queues' visibility timeouts (set with SetQueueAttributes, never below the function's timeout,
as Lambda requires), the delays after which the worker
has a failed message delivered again (its SQS_REDELIVERY_* settings, given to the functions' environment),
the template's sync interval (a parameter, in whole minutes, at least 1), X's rate-limit window and how
often @demo gains a like.
Each change is reported, so the log says what differs from the template.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from shared.sync_queue import FIRST_REDELIVERY, MAX_REDELIVERY

SYNC_INTERVAL_PARAMETER = "SyncIntervalMinutes"
REDELIVERY = {"SQS_REDELIVERY_FIRST_SECONDS": FIRST_REDELIVERY, "SQS_REDELIVERY_MAX_SECONDS": MAX_REDELIVERY}


@dataclass(frozen=True)
class Acceleration:
    factor: float = 1.0

    def __post_init__(self) -> None:
        if not self.factor >= 1:
            raise ValueError("--accelerate must be at least 1")

    @property
    def active(self) -> bool:
        return self.factor > 1

    def seconds(self, value: float) -> int:
        """A duration in whole seconds (SQS counts in seconds), at least 1."""
        return max(1, math.ceil(value / self.factor))

    def visibility_timeout(self, original: int, function_timeout: int) -> int:
        """A queue's visibility timeout, shortened no further than its function's timeout: Lambda refuses an
        event source mapping whose queue would let a message reappear while an invocation still runs. (A
        failed record comes back sooner anyway: the worker sets its own, shortened, redelivery delay.)"""
        return max(self.seconds(original), function_timeout)

    def function_environment(self) -> tuple[dict[str, str], list[str]]:
        """Variables every function gets beyond the template's (only the worker reads them), and a note."""
        if not self.active:
            return {}, []
        env = {name: str(self.seconds(value)) for name, value in REDELIVERY.items()}
        first, longest = env.values()
        return env, [f"worker redelivery {FIRST_REDELIVERY}-{MAX_REDELIVERY} -> {first}-{longest} s"]

    def parameters(
        self, declared: Mapping[str, Mapping[str, object]], overrides: Mapping[str, str]
    ) -> tuple[dict[str, str], list[str]]:
        """The template parameters to use, with the sync interval scaled unless it was given explicitly."""
        chosen = dict(overrides)
        notes: list[str] = []
        spec = declared.get(SYNC_INTERVAL_PARAMETER)
        if self.active and spec is not None and SYNC_INTERVAL_PARAMETER not in overrides:
            original = int(str(spec.get("Default", 60)))
            scaled = max(1, round(original / self.factor))  # the functions read whole minutes, at least 1
            chosen[SYNC_INTERVAL_PARAMETER] = str(scaled)
            notes.append(f"{SYNC_INTERVAL_PARAMETER} {original} -> {scaled} min")
        return chosen, notes
