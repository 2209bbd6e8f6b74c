"""Conventions tests read Chinese pages with the package's catalog fragment merged in."""
import pytest

from tests.conventions.catalog import zh_catalog  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def _chinese(request):
    """Tests that build the app get the conventions catalog; pure unit tests do not."""
    if "app" in request.fixturenames:
        request.getfixturevalue("zh_catalog")
    yield
