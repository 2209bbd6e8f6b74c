"""HTML to PDF rendering with WeasyPrint, tuned for Chinese documents.

Why it is set up this way (measured, see DESIGN.md "Pitfalls"):

- Fonts are named explicitly ("Noto Sans CJK SC", "Noto Serif CJK SC") in
  ``templates/pdf/base.css``. Noto CJK subsets to a few hundred KB per document; a
  fontconfig fallback to WenQuanYi cannot be subset and embeds 9-17 MB.
- ``templates/pdf/base.css`` is applied to every document as a user stylesheet, so any HTML
  given to :func:`render_pdf` gets A4 pages, the CJK fonts and the "第 x 页 共 y 页" footer;
  a template's own ``<style>`` (author origin) still wins where it says something else.
- One font configuration per process, created on first use and reused: WeasyPrint caches
  font faces per configuration, so a fresh one per document repeats that work.
- Rendering holds a lock: WeasyPrint and Pango objects reachable through the shared font
  configuration are not documented as thread-safe, and a threaded server must not render
  two documents through them at once.
- Resources are fetched only from ``data:`` URLs and from files under ``templates/``,
  ``static/`` (or the given base folder): deployments often sit on intranets, and a
  document must never make the server reach the network or read other local files.

Deployment: fontconfig needs a writable cache directory (``XDG_CACHE_HOME``) or every
process rescans the fonts; ``libharfbuzz-subset0`` must be installed, or font subsetting
falls back to fontTools and is about 20 times slower.
"""
from __future__ import annotations

import threading
from base64 import b64encode
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

import qrcode
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from qrcode.image.svg import SvgPathImage
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
BASE_STYLESHEET = TEMPLATES_DIR / "pdf" / "base.css"
DISPLAY_TIMEZONE = ZoneInfo("Asia/Shanghai")

_render_lock = threading.Lock()


class LocalOnlyURLFetcher(URLFetcher):
    """Fetches ``data:`` URLs and files below the given folders, nothing else."""

    def __init__(self, roots: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"data", "file"})
        self._roots = tuple(root.resolve() for root in roots)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(root) for root in self._roots):
                raise ValueError(f"Refusing to read {url}: outside the document asset folders")
        return super().fetch(url, headers)


@cache
def font_configuration() -> FontConfiguration:
    """The process-wide font configuration, shared by every rendered document."""
    return FontConfiguration()


@cache
def _base_stylesheet() -> CSS:
    return CSS(
        string=BASE_STYLESHEET.read_text(encoding="utf-8"),
        base_url=BASE_STYLESHEET.parent.as_uri() + "/",
        font_config=font_configuration(),
        url_fetcher=LocalOnlyURLFetcher((TEMPLATES_DIR, STATIC_DIR)),
    )


def _fetch_roots(base_url: str | None) -> tuple[Path, ...]:
    roots = [TEMPLATES_DIR, STATIC_DIR]
    if base_url and base_url.startswith("file:"):
        roots.append(Path(url2pathname(urlsplit(base_url).path)))
    return tuple(roots)


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """Render an HTML document to PDF bytes (A4, Noto CJK fonts, page x of y footer).

    ``base_url`` resolves relative links; it defaults to ``static/`` so templates can use
    paths such as ``pdf/logo.png``. A ``file:`` base URL also allows reading below it.
    The HTML should carry ``<html lang="zh-CN">`` (``templates/pdf/base.html`` does).
    """
    base = base_url or STATIC_DIR.as_uri() + "/"
    document = HTML(string=html, base_url=base, url_fetcher=LocalOnlyURLFetcher(_fetch_roots(base)))
    with _render_lock:
        return document.write_pdf(
            stylesheets=[_base_stylesheet()], font_config=font_configuration()
        )


def qr_svg_data_uri(url: str) -> str:
    """A ``data:`` URI holding an SVG QR code of ``url`` (built locally, no network)."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
        image_factory=SvgPathImage,
    )
    qr.add_data(url)
    qr.make(fit=True)
    svg = qr.make_image().to_string()
    return "data:image/svg+xml;base64," + b64encode(svg).decode("ascii")


def local_time(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a timestamp for a document in Asia/Shanghai time.

    Naive datetimes are taken as UTC (the database stores naive UTC); strings are shown
    as given, so callers may pass an already formatted time.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(DISPLAY_TIMEZONE).strftime(fmt)


@cache
def default_environment() -> Environment:
    """A plain Jinja environment over ``templates/``, strict about missing variables."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def document_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The template context plus what every PDF template may use.

    Adds ``verify_qr`` (the QR code of ``verify_url``, when there is one and the caller
    did not give its own) and ``local_time`` (see :func:`local_time`).
    """
    full: dict[str, Any] = {"local_time": local_time, **context}
    verify_url = context.get("verify_url")
    if verify_url and "verify_qr" not in context:
        full["verify_qr"] = qr_svg_data_uri(verify_url)
    return full


def render_template_pdf(
    env: Environment | None, template_name: str, context: Mapping[str, Any]
) -> bytes:
    """Render a Jinja template under ``templates/`` (e.g. ``pdf/acceptance_record.html``).

    ``env`` is the Flask app's ``jinja_env`` inside the app, or ``None`` for a plain
    environment (tests, scripts).
    """
    environment = env or default_environment()
    html = environment.get_template(template_name).render(document_context(context))
    return render_pdf(html)
