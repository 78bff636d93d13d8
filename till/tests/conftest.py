"""Fixtures for the till's browser tests: a Daphne child serving the collected
static files, and Debian's headless Chromium started after it (see
testsupport/browser.py for why the order matters)."""

from __future__ import annotations

import pytest

from testsupport import require_service
from testsupport.browser import WAIT_MS, chromium_available, collect_static, launched_chromium, session_cookie


@pytest.fixture(scope="session")
def till_var_dir(tmp_path_factory):
    available, reason = chromium_available()
    require_service("chromium", available, reason)
    var_dir = tmp_path_factory.mktemp("till-var")
    collect_static(var_dir)
    return var_dir


@pytest.fixture
def till_server(daphne, till_var_dir):
    # The server keeps Django's async-safety checks; this process drops them
    # for Playwright (launched_chromium).
    return daphne(VAR_DIR=str(till_var_dir), DJANGO_ALLOW_ASYNC_UNSAFE="")


@pytest.fixture
def chromium(till_server, monkeypatch):
    with launched_chromium(monkeypatch) as browser:
        yield browser


@pytest.fixture
def signed_in(chromium, till_server):
    """`signed_in(user, width, height)`: a browser context on the user's session."""
    contexts = []

    def open_context(user, width: int = 1280, height: int = 800):
        context = chromium.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(WAIT_MS)
        context.add_cookies([session_cookie(user, till_server.url)])
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
