"""A community officer gives the last approval of a joint inspection on a phone, the work is
accepted, and the signed acceptance record downloaded from the page verifies."""
import hashlib
import json
import urllib.request
import uuid

from core.extensions import db
from documents import services as documents
from tests.browser.conftest import login
from tests.conftest import PASSWORD
from tests.acceptance.acceptance_helpers import finished_issue, pass_inspection
from acceptance import record as acceptance_record
from acceptance.models import JointInspection


def _verify_on_server(base: str, pdf: bytes) -> dict:
    """POST the bytes to the server's public verification API (the browser's event loop
    runs in this thread, so the check runs in the server's)."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"record.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base}/api/v1/documents/verify", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_committee_member_approves_and_downloads_the_signed_record(live_server, page, world, app, tmp_path):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection_id = pass_inspection(world, issue_id, skip=("community",))

    login(page, live_server, "community", PASSWORD)
    page.goto(f"{live_server}/issues/{issue_id}")
    page.click("text=检查清单与各方签署")
    assert "各方签署" in page.content()
    page.select_option("select[name=party]", "community_committee")
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=comment]", "工程质量合格，同意验收")
    page.click("#sign button[type=submit]")
    page.wait_for_load_state()
    assert "您的签署意见已记录" in page.content()
    assert page.inner_text("#inspection-state") == "验收通过"

    with page.expect_download() as download_info:
        page.click("#record-download")
    downloaded = (tmp_path / "record.pdf")
    download_info.value.save_as(downloaded)
    data = downloaded.read_bytes()

    with app.app_context():
        record = acceptance_record.record_of(db.session.get(JointInspection, inspection_id))
        assert hashlib.sha256(data).hexdigest() == record.sha256
        assert documents.document_bytes(record) == data
    report = _verify_on_server(live_server, data)
    assert report["valid"] is True and report["issued_here"] is True
    assert [s["field"] for s in report["signatures"]] == ["community", "street"]
    assert all(s["trusted"] and s["covers_document"] for s in report["signatures"])
