"""The browser fixtures (live server, chromium on a phone-sized page) for the patrol walk."""
from tests.browser.conftest import browser, live_server, page  # noqa: F401 - fixtures
