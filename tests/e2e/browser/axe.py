"""axe-core in Chromium: the page's accessibility audit (WCAG 2.1 A and AA, and axe's best practices).

axe-core comes bundled in the axe-playwright-python package (a pinned dev dependency); it is evaluated into the
page through Playwright (the DevTools protocol), which the page's CSP does not govern, so the page's own policy
stays exactly what the api serves.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@cache
def _axe_source() -> str:
    return resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def audit(page: Any) -> list[str]:
    """Every violation on the page as it is now, one line each: rule, impact, and the elements it found.

    A page switched to another colour scheme is audited once its colours follow (`Watched.color_scheme`)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" ")),
            }));
        }""",
        TAGS,
    )
    return [f"{v['id']} ({v['impact']}): {', '.join(v['targets'])}" for v in violations]
