"""Cold import of each handler module in a fresh process, against `import boto3` alone.

Targets: the api's cold import <= 1.5 x boto3's; the api and the fetcher never import tweepy.
Measured as wall time of a fresh interpreter doing nothing but the import (interleaved runs, median).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.report import write_section

RUNS = 15
SUBJECTS = {
    "boto3 (baseline)": "import boto3",
    "api.app": "import api.app",
    "fetcher.app": "import fetcher.app",
    "worker.app": "import worker.app",
}
PROBE = "import sys, {module}; print('tweepy' in sys.modules)"


def _time(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    baseline_empty = statistics.median(_time("pass") for _ in range(RUNS))
    samples: dict[str, list[float]] = {name: [] for name in SUBJECTS}
    for _ in range(RUNS):  # interleaved, so a busy moment hurts every subject alike
        for name, code in SUBJECTS.items():
            samples[name].append(_time(code))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    boto3 = medians["boto3 (baseline)"]
    rows = []
    for name, median in medians.items():
        module = name.split()[0]
        tweepy = ""
        if module != "boto3":
            out = subprocess.run(
                [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True
            ).stdout.strip()
            tweepy = "yes" if out == "True" else "no"
        rows.append(f"| {name} | {median * 1000:.0f} | {median / boto3:.2f} | {tweepy} |")
    api_ratio = medians["api.app"] / boto3
    body = "\n".join(
        [
            f"{RUNS} fresh interpreters per subject, interleaved; wall time of the whole process (an empty",
            f"interpreter alone takes {baseline_empty * 1000:.0f} ms here).",
            "",
            "| module | median ms | x boto3 | imports tweepy |",
            "|---|---|---|---|",
            *rows,
            "",
            f"api / boto3 = **{api_ratio:.2f}** (target <= 1.5): {'met' if api_ratio <= 1.5 else 'NOT met'}.",
        ]
    )
    write_section("cold_import", "Cold import of the handlers (issue 2)", body)


if __name__ == "__main__":
    main()
