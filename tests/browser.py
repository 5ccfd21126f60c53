"""Debian's Chromium driven by Playwright, for the tests that open a page as a person would.

``make test`` installs Chromium when it is missing (``make browser``); Playwright's own browser
download is never used. Every request is routed through ``only``: what it does not allow is
aborted and recorded (``Opened.refused``), so a test can assert that nothing left the page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Opened:
    page: object  # playwright Page
    requests: list[str] = field(default_factory=list)  # every request the page made
    refused: list[str] = field(default_factory=list)  # those aborted
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text) of messages


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A launched Chromium browser (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def open_page(
    browser, url: str, *, only: Callable[[str], bool], viewport=(1280, 900)
) -> Iterator[Opened]:
    """``url`` in a new page of ``browser``; requests ``only`` refuses are aborted."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    opened = Opened(page=page)

    def guard(route) -> None:
        request_url = route.request.url
        opened.requests.append(request_url)
        if only(request_url):
            route.continue_()
        else:
            opened.refused.append(request_url)
            route.abort()

    context.route("**/*", guard)
    page.on("console", lambda m: opened.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: opened.console.append(("pageerror", str(e))))
    try:
        page.goto(url)
        yield opened
    finally:
        context.close()
