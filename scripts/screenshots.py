"""`make screenshots`: the README's screenshots, docs/screenshots/<state>-<desktop|phone>[-dark].png.

Starts the offline stack (`python -m local.dev` on free ports, a fresh data directory, the tour's small read
budget), drives Debian's Chromium through Playwright on the tour of every state (tests/e2e/browser/tour.py,
the same tour tests/e2e/browser/test_screenshots.py checks), and writes one PNG per state and viewport.
Exits 1 without writing anything if the page raised an error or logged one on the way.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.browser.chromium import launch
from tests.e2e.browser.stack import running_stack
from tests.e2e.browser.tour import PAGE_OPTIONS, STACK_ARGS, screenshot, take_the_tour, what_went_wrong
from tests.e2e.browser.watched import PAGE_OPTIONS as CONTEXT_OPTIONS
from tests.e2e.browser.watched import watch

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        taken = Path(tmp) / "shots"
        taken.mkdir()
        with running_stack(Path(tmp) / "stack", *STACK_ARGS) as stack:
            browser = launch(playwright)
            context = browser.new_context(**{**CONTEXT_OPTIONS, **PAGE_OPTIONS})
            watched = watch(context.new_page(), stack.origin)
            shots: list[Path] = []

            def shoot(name: str, *, dark: bool = False) -> None:
                shots.extend(screenshot(watched, taken, name, dark=dark))

            take_the_tour(watched, stack, shoot)
            browser.close()
        problems = what_went_wrong(watched)
        if problems:
            print("the page went wrong on the tour; nothing written:", *problems, sep="\n  ", file=sys.stderr)
            return 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, SHOTS / shot.name)
            print(f"wrote docs/screenshots/{shot.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
