"""Every page's look in a real browser, at a desktop (1280 px) and a phone (375 px) width.

For each page and width: the text is set in the NL Design System's fonts (Noto Sans,
served from this site; never the browser's serif), nothing is wider than the window
(long values wrap, code and wide tables scroll in place), axe-core finds no WCAG 2.1
A/AA violation, and a screenshot matches its committed baseline in
``tests/service/screenshots/`` to within a small share of pixels. Values that change
from run to run (dates, times, hashes, case numbers) are masked before comparing; the
audit log, whose entries are the test run's own history, has no picture.

``WAARBORG_UPDATE_SCREENSHOTS=1 pytest tests/service/test_web_layout.py`` rewrites the
baselines after an intended change of the look; review the new images before committing.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.service.test_web_browser import browser, log_in, server, wcag_violations  # noqa: F401

BASELINES = Path(__file__).parent / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 375}
#: Share of pixels that may differ from the baseline (font hinting, anti-aliasing).
TOLERANCE = 0.01
#: What changes between runs: masked in the screenshots.
VOLATILE = "time, .volatile, code, [data-volatile]"

#: Pages whose content is the history of the test run itself (the audit log grows with
#: every sign-in and view before it): checked like the others, but not against a picture.
UNREPEATABLE = {"auditlog"}

#: page name → (user who sees it, path)
PAGES = {
    "login": (None, "/login"),
    "queue": ("kees", "/queue"),
    "case": ("kees", "/cases/{case}"),
    "notice": ("kees", "/cases/{case}/notice?lang=nl"),
    "oversight": ("sanne", "/oversight"),
    "processes": ("admin", "/processes"),
    "conditions": ("admin", "/processes/1/conditions"),
    "auditlog": ("aart", "/auditlog"),
    "users": ("admin", "/users"),
}


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def sized_page(request: pytest.FixtureRequest, browser: Any) -> Any:  # noqa: F811
    width = WIDTHS[request.param]
    context = browser.new_context(
        bypass_csp=True, viewport={"width": width, "height": 900}, device_scale_factor=1
    )
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def _open(page: Any, server: str, name: str) -> None:  # noqa: F811
    user, path = PAGES[name]
    if user:
        log_in(page, server, user)
    if "{case}" in path:
        page.goto(f"{server}/queue")
        href = page.locator("table a").first.get_attribute("href")
        path = path.format(case=href.rsplit("/", 1)[-1])
    page.goto(f"{server}{path}")
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")


def _fonts(page: Any) -> set[str]:
    """The first family of the computed font of every element with text of its own."""
    return set(
        page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
                .filter(e => e.offsetParent !== null)
                .map(e => getComputedStyle(e).fontFamily.split(',')[0])
                .map(f => f.replace(/["']/g, '').trim())"""
        )
    )


def _loaded_fonts(page: Any) -> set[str]:
    return set(
        page.evaluate(
            "() => [...document.fonts].filter(f => f.status === 'loaded')"
            ".map(f => f.family.replace(/[\"']/g, ''))"
        )
    )


def _overflow(page: Any) -> list[str]:
    """Elements that stick out of the window to the right (none should)."""
    return page.evaluate(
        """() => { const w = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > w + 1)
              .filter(e => !e.closest('pre, .scroll'))
              .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))
              .slice(0, 10); }"""
    )


def _differs(shot: bytes, baseline: Path) -> float:
    """Share of pixels that differ from the baseline (1.0 if the sizes differ)."""
    new = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)
    old = np.asarray(Image.open(baseline).convert("RGB"), dtype=np.int16)
    if new.shape != old.shape:
        return 1.0
    return float(np.mean(np.abs(new - old).max(axis=2) > 32))


@pytest.mark.parametrize("name", list(PAGES))
def test_page_look(sized_page: Any, server: str, name: str) -> None:  # noqa: F811
    page = sized_page
    _open(page, server, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], (
        f"{name} is wider than the window: {_overflow(page)}"
    )
    fonts = _fonts(page)
    assert fonts <= {"Noto Sans", "Noto Serif", "Noto Sans Mono"}, f"{name} uses {fonts}"
    assert "Noto Sans" in _loaded_fonts(page), "the bundled font is served and loaded"
    assert wcag_violations(page) == []

    if name in UNREPEATABLE:
        return
    shot = page.screenshot(full_page=True, mask=[page.locator(VOLATILE)], animations="disabled")
    baseline = BASELINES / f"{name}-{page.width_name}.png"
    if os.environ.get("WAARBORG_UPDATE_SCREENSHOTS") == "1" or not baseline.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no baseline {baseline.name}: make it with WAARBORG_UPDATE_SCREENSHOTS=1")
        BASELINES.mkdir(exist_ok=True)
        baseline.write_bytes(shot)
        pytest.skip(f"baseline {baseline.name} written; review and commit it")
    share = _differs(shot, baseline)
    if share > TOLERANCE:
        (BASELINES / f"{name}-{page.width_name}.actual.png").write_bytes(shot)
    assert share <= TOLERANCE, f"{name} at {page.width_name}: {share:.1%} of pixels differ"
