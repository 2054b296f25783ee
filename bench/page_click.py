"""Click to rendered card, in Chromium, on the offline stack: the median of 50 "Another one" clicks.

    python -m bench.page_click [--clicks 50] [--no-write]      (or: python -m bench page; make bench)

Starts `python -m local.dev` on free ports (a temporary data directory), subscribes demo, waits for its
sync, then clicks "Another one" and times each card two ways:
- in the page: the `random-likes:click-to-card` measure app.js records, from the click handler to the new
  card in the DOM (one API request, JSON parsing, building the card);
- from outside: Playwright's click until the page reports the card, which adds the DevTools round trips.
Results go into bench/RESULTS.md, section `page` (rewritten by each run).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.report import write_section
from tests.e2e.browser.chromium import CHROMIUM, launch
from tests.e2e.browser.stack import RunningStack, running_stack

SECTION = "page"
WARMUP = 5


@dataclass(frozen=True)
class Timings:
    api: list[float]  # the same API request from Python, no browser
    dom: list[float]  # click handler -> new card in the DOM (performance.measure in app.js)
    paint: list[float]  # click handler -> its text painted (Element Timing)
    fetch: list[float]  # the request alone, in the browser (Resource Timing)
    outside: list[float]  # Playwright's click -> the page reports the card
    chromium: str


def click_times(stack: RunningStack, clicks: int) -> Timings:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{stack.url}?u=demo")
        page.wait_for_selector("body[data-view=card]")
        # Element Timing reports when each card's text was painted (card.js marks it `elementtiming`).
        page.evaluate(
            """() => {
                window.paints = [];
                new PerformanceObserver((list) => {
                    for (const entry of list.getEntries()) window.paints.push(entry.renderTime || entry.loadTime);
                }).observe({ type: "element", buffered: true });
            }"""
        )
        outside: list[float] = []
        for i in range(WARMUP + clicks):
            shown = page.evaluate("performance.getEntriesByName('random-likes:card', 'mark').length")
            started = time.perf_counter()
            page.click("#another")
            page.wait_for_function(
                "n => performance.getEntriesByName('random-likes:card', 'mark').length > n", arg=shown, polling="raf"
            )
            if i >= WARMUP:
                outside.append((time.perf_counter() - started) * 1000)
        page.wait_for_function("n => window.paints.length > n", arg=WARMUP + clicks)
        measured: dict[str, list[float]] = page.evaluate(
            """() => {
                const measures = performance.getEntriesByName("random-likes:click-to-card");
                // paints[0] is the first card, before any click; paints[i + 1] is the card of click i.
                const fetches = performance.getEntriesByType("resource")
                    .filter((e) => e.name.includes("/likes/random"));
                return {
                    dom: measures.map((m) => m.duration),
                    paint: measures.map((m, i) => window.paints[i + 1] - m.startTime),
                    fetch: fetches.slice(-measures.length).map((e) => e.duration),
                };
            }"""
        )
        version = browser.version
        browser.close()
    api: list[float] = []
    for draw in range(clicks):  # the same kind of request without a browser
        started = time.perf_counter()
        status, _ = stack.api("GET", f"api/subscriptions/demo/likes/random?deck=1&draw={draw}")
        api.append((time.perf_counter() - started) * 1000)
        assert status == 200
    return Timings(
        api=api,
        dom=measured["dom"][WARMUP:],
        paint=measured["paint"][WARMUP:],
        fetch=measured["fetch"][WARMUP:],
        outside=outside,
        chromium=version,
    )


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):.1f} ms, p90 {p90:.1f} ms, min {ordered[0]:.1f}, max {ordered[-1]:.1f}"


def body(timings: Timings, like_count: int) -> str:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=False).stdout.strip()
    return "\n".join(
        [
            f"`python -m bench.page_click`: Chromium {timings.chromium} (headless, {CHROMIUM}) on the offline stack",
            f"(`python -m local.dev`, loopback), demo with {like_count} likes, {len(timings.dom)} clicks on",
            f'"Another one" after {WARMUP} warm-up clicks. `uname -a`: `{uname}`.',
            "",
            "| from the click to | result |",
            "|---|---|",
            f"| the new card in the DOM (in the page, `performance.measure`) | {summary(timings.dom)} |",
            f"| its text painted (Element Timing) | {summary(timings.paint)} |",
            f"| Playwright seeing it (adds DevTools round trips) | {summary(timings.outside)} |",
            f"| (its API request alone, in the browser: Resource Timing) | {summary(timings.fetch)} |",
            f"| (the same API request from Python, no browser) | {summary(timings.api)} |",
            "",
            "Each click is one request (`GET api/subscriptions/demo/likes/random?deck=…&draw=…`): the api",
            "function's DynamoDB reads on moto, through the local HTTP API gateway. What the page itself adds",
            "(parsing, building the card, the deck) is the first row minus the request in the browser.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_click", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args([] if argv is None else argv)  # `python -m bench` calls main() with no arguments
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data)) as stack:
        like_count = stack.share("demo")["like_count"]  # connected, synced, shared: the page is a visitor's
        timings = click_times(stack, args.clicks)
    text = body(timings, like_count)
    if args.no_write:
        print(text)
    else:
        write_section(SECTION, "The page: click to rendered card (issue 5)", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
