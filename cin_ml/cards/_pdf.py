"""The committee card printed to PDF (A4) by Debian's Chromium through Playwright, so the
committee can file and sign what it reviewed. The page's print stylesheet keeps the whole
committee summary on the first page. Playwright is imported only here, when a PDF is asked."""

from __future__ import annotations

import os
import shutil
import threading

from cin_ml.errors import ConfigError

__all__ = ["CHROMIUM", "chromium_path", "print_pdf"]

CHROMIUM = "/usr/bin/chromium"
"""Where Debian's ``chromium`` package puts the browser (no browser is downloaded)."""


def chromium_path() -> str:
    """The Chromium executable: ``$CIN_ML_CHROMIUM``, else ``/usr/bin/chromium``, else
    ``chromium`` on the PATH.

    Raises
    ------
    ConfigError
        No Chromium is installed.
    """
    for candidate in (os.environ.get("CIN_ML_CHROMIUM"), CHROMIUM, shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigError("printing a card to PDF needs Chromium: install Debian's `chromium` "
                      "package (or set CIN_ML_CHROMIUM to the browser's path)")


def print_pdf(pages: dict[str, str]) -> dict[str, bytes]:
    """Print each HTML page (``{name: html}``) to an A4 PDF (``{name: pdf bytes}``), in one
    browser session.

    Raises
    ------
    ConfigError
        Playwright or Chromium is missing.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise ConfigError("printing a card to PDF needs the `playwright` Python package "
                          "(pip install playwright; no browser download: Debian's chromium "
                          "is used)") from None
    exe = chromium_path()
    out: dict[str, bytes] = {}
    failure: list[BaseException] = []

    def run() -> None:
        try:
            _print(sync_playwright, exe, pages, out)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    # Playwright's sync API refuses a thread that already runs an event loop (a notebook's
    # kernel, or another Playwright session): print from a thread of its own.
    worker = threading.Thread(target=run, name="cin-ml-print-pdf")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return out


def _print(sync_playwright, exe: str, pages: dict[str, str], out: dict[str, bytes]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            for name, html in pages.items():
                page.set_content(html, wait_until="load")
                page.emulate_media(media="print")
                out[name] = page.pdf(format="A4", print_background=True,
                                     prefer_css_page_size=True)
        finally:
            browser.close()
