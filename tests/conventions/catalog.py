"""The Chinese catalog with the conventions fragment merged in, for tests that read
Chinese pages before the lead merges translations/fragments/conventions.po.

Flask-Babel caches translations per process (on the shared Babel object), so the
cache is cleared before and after each test that uses the fixture."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.extensions import babel

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def read_fragment():
    with FRAGMENT.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


@pytest.fixture
def zh_catalog(app, tmp_path):
    target = tmp_path / "catalog" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True)
    with target.open("wb") as handle:
        write_mo(handle, read_fragment())
    directories = app.extensions["babel"].translation_directories
    directories.append(str(tmp_path / "catalog"))
    _clear_cache(app)
    yield
    directories.remove(str(tmp_path / "catalog"))
    _clear_cache(app)


def _clear_cache(app) -> None:
    with app.app_context():
        babel.domain_instance.cache.clear()
