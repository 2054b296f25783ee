"""Run the benchmarks: `python -m bench` runs all of them, `python -m bench pick cold_import` some."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "pick": "bench.pick",
    "cold_import": "bench.cold_import",
    "gateway": "bench.gateway",
    "ready": "bench.ready",
    "page": "bench.page_click",
    "package": "bench.package_size",
    "fault_storm": "bench.fault_storm",
    "stop": "bench.stop",
    "xsim_latency": "bench.xsim_latency",
    "due_index": "bench.due_index",
    "import": "bench.import_archive",
    "month": "bench.month",
}


def main(argv: list[str]) -> None:
    # Options after the names go to the benchmarks that take them: `python -m bench month --accounts 100`.
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    argv, options = argv[:first_option], argv[first_option:]
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        module.main(options) if options else module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
