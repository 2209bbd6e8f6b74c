"""Rendering: Chinese text that can be extracted, subset Noto CJK fonts, A4 with page footer."""
from __future__ import annotations

import base64
import re
from datetime import datetime, timezone

import jinja2
import pytest

from documents.pdf import (
    STATIC_DIR,
    LocalOnlyURLFetcher,
    local_time,
    qr_svg_data_uri,
    render_pdf,
    render_template_pdf,
)
from documents.samples import sample_acceptance_record

ACCEPTANCE_TEMPLATE = "pdf/acceptance_record.html"


def _compact(text: str) -> str:
    """Text without whitespace: pdftotext spaces CJK runs unpredictably."""
    return re.sub(r"\s+", "", text)


def test_acceptance_record_text_is_extractable_chinese(pdf_text, record_pdf):
    compact = _compact(pdf_text(record_pdf))
    for expected in (
        "老旧小区改造联合验收记录",
        "东高小区",
        "外墙保温、屋面防水及雨污分流综合改造",
        "1号楼：外墙保温层粘结牢固，无空鼓、开裂",
        "不合格",
        "电动车棚充电桩接地需复测",
        "周海涛",
        "2025-06-1810:00",
        "https://wuji.example.cn/v/7Q2M9XK4",
    ):
        assert expected in compact, expected


def test_every_page_has_a_page_x_of_y_footer(pdf_text, record_pdf):
    pages = pdf_text(record_pdf).split("\f")[:-1]
    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页共3页" in _compact(page)


def test_noto_cjk_fonts_are_embedded_as_subsets(run_tool, record_pdf, tmp_path):
    listing = run_tool("pdffonts", record_pdf, tmp_dir=tmp_path)
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert rows, listing
    assert any("Noto-Sans-CJK-SC" in row[0] for row in rows), listing
    assert any("Noto-Serif-CJK-SC" in row[0] for row in rows), listing
    for row in rows:
        emb, sub = row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), row


def test_acceptance_record_is_three_a4_pages_under_600_kb(run_tool, record_pdf, tmp_path):
    info = run_tool("pdfinfo", record_pdf, tmp_dir=tmp_path)
    assert re.search(r"^Pages:\s+3$", info, re.M), info
    assert "(A4)" in info, info
    assert len(record_pdf) < 600_000


def test_render_pdf_gives_any_html_the_page_setup(run_tool, pdf_text, tmp_path):
    pdf = render_pdf('<html lang="zh-CN"><body><p>业主大会公告</p></body></html>')
    info = run_tool("pdfinfo", pdf, tmp_dir=tmp_path)
    text = pdf_text(pdf)
    fonts = run_tool("pdffonts", pdf, tmp_dir=tmp_path)
    assert "(A4)" in info
    assert "业主大会公告" in text and "第1页共1页" in _compact(text)
    assert "Noto-Sans-CJK-SC" in fonts


def test_qr_svg_data_uri_holds_an_svg_image():
    uri = qr_svg_data_uri("https://wuji.example.cn/v/7Q2M9XK4")
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    svg = base64.b64decode(uri[len(prefix):])
    assert svg.lstrip().startswith(b"<svg") and b"<path" in svg


def test_missing_template_value_fails_instead_of_printing_blank():
    context = sample_acceptance_record()
    del context["issue"]
    with pytest.raises(jinja2.UndefinedError):
        render_template_pdf(None, ACCEPTANCE_TEMPLATE, context)


def test_unknown_checklist_result_fails_instead_of_printing_blank():
    context = sample_acceptance_record(items=3)
    context["checklist"][0]["result"] = "ok"
    with pytest.raises(jinja2.UndefinedError):
        render_template_pdf(None, ACCEPTANCE_TEMPLATE, context)


def test_template_works_with_a_caller_supplied_environment(pdf_text):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(STATIC_DIR.parent / "templates")), autoescape=True
    )
    context = sample_acceptance_record(items=2, signoffs=1)
    context["estate"]["name"] = "<b>东高小区</b>"
    pdf = render_template_pdf(env, ACCEPTANCE_TEMPLATE, context)
    assert "<b>东高小区</b>" in pdf_text(pdf)


@pytest.mark.parametrize(
    "url", ["file:///etc/hostname", "http://example.org/logo.png", "ftp://example.org/x"]
)
def test_fetcher_refuses_network_and_files_outside_the_asset_folders(url):
    fetcher = LocalOnlyURLFetcher((STATIC_DIR,))
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_fetcher_serves_data_urls():
    response = LocalOnlyURLFetcher((STATIC_DIR,)).fetch("data:text/plain;base64,5paH")
    assert response.read() == "文".encode()


def test_local_time_shows_naive_utc_in_shanghai_time():
    assert local_time(datetime(2025, 6, 18, 16, 30)) == "2025-06-19 00:30"
    assert local_time(datetime(2025, 6, 18, 16, 30, tzinfo=timezone.utc), "%H:%M") == "00:30"
    assert local_time("2025年6月18日") == "2025年6月18日"
    assert local_time(None) == ""
