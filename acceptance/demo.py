"""Demo data for joint acceptance (loaded by `flask demo load` after the issues).

Creates the deployment's local CA and signing keys for the demo street and community
committees, and walks one resident's demand through construction, a failed first
inspection, rectification, a re-inspection and every party's approval, so that the
demo shows an accepted issue with its signed acceptance record (the record is signed
within the demo's own transaction: the demo loads alone, with nothing else waiting).
"""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from documents import services as documents
from orgs import roles as R
from orgs import services as org_services
from orgs.demo import DEMO_PASSWORD, RESIDENT_USERNAME, STREET_CODE
from orgs.models import Household, OrgNode, Person
from acceptance import services as acceptance
from procedures import demo as procedure_demo
from workflow import engine
from acceptance.models import JointInspection
from acceptance.record import issue_record
from issues.models import RenovationIssue
from issues.renovation import WORKFLOW
from issues.services import raise_issue

REPRESENTATIVE = "rep"
SIGNING_COMMITTEES = (STREET_CODE, "FSL-C1", "FSL-C2", "FSL-C3")
# (account, party) in the order they sign; the last approval accepts the work.
SIGNERS = [("community", "community_committee"), ("street", "street_committee"),
           ("supervisor", "supervision_company"), ("builder", "construction_company"),
           ("property", "property_company"), (RESIDENT_USERNAME, "resident_representative"),
           (REPRESENTATIVE, "resident_representative")]


def _person(username: str) -> Person:
    return db.session.scalar(select(Person).where(Person.username == username))


def _keys() -> bool:
    """The local CA and the committees' keys; True when anything was created."""
    created = documents.local_ca() is None
    if created:
        documents.init_local_ca()
    for code in SIGNING_COMMITTEES:
        org = db.session.scalar(select(OrgNode).where(OrgNode.code == code))
        if org is not None and documents.active_credential(org) is None:
            documents.issue_credential(org)
            created = True
    return created


def _representative(estate_id: int) -> Person:
    """A second resident representative: a resident of another household of the estate."""
    resident = _person(RESIDENT_USERNAME)
    household = db.session.scalar(
        select(Household).where(Household.estate_id == estate_id, Household.id.not_in(resident.household_ids),
                                Household.unsold.is_(False)).order_by(Household.id).limit(1)
    )
    person = org_services.add_person("张师傅（居民代表）", username=REPRESENTATIVE, password=DEMO_PASSWORD)
    org_services.link_household(person, household, "resident")
    org_services.grant_role(person, household.unit.building.org or household.estate.org, R.RESIDENT)
    db.session.flush()
    return person


def _fire(issue: RenovationIssue, username: str, trigger: str, **data) -> None:
    engine.fire(RenovationIssue, issue.id, trigger, _person(username), None, **data)


def _to_construction(issue: RenovationIssue) -> None:
    """Up the levels, into the plan, past a notice, through construction."""
    for username in ("member", "group", "grid"):
        if WORKFLOW.allowed(issue, _person(username), "escalate"):
            _fire(issue, username, "escalate")
    _fire(issue, "community", "include_in_plan")
    _fire(issue, "community", "start_consultation")
    _fire(issue, "community", "skip_vote", reason="属于基础类改造，不涉及业主共同决定事项。")
    procedure_demo.notice_period_passed(issue.id)
    _fire(issue, "community", "start_construction")
    _fire(issue, "builder", "report_progress", progress="80", reason="扶手安装完成，正在补刷楼道墙面。")
    _fire(issue, "builder", "finish_construction")


def _inspect(inspection: JointInspection, failing: set[int], notes: str) -> None:
    supervisor = _person("supervisor")
    for check in inspection.checks():
        result = "fail" if check.item.position in failing else "pass"
        acceptance.record_item(supervisor, inspection.id, None, item_id=check.item_id, result=result,
                               notes=notes if result == "fail" else "")
    acceptance.submit_findings(supervisor, inspection.id, None)


def load() -> str | None:
    keys = _keys()
    if db.session.scalar(select(JointInspection.id).limit(1)) is not None:
        return "signing keys" if keys else None
    resident = _person(RESIDENT_USERNAME)
    household = db.session.get(Household, sorted(resident.household_ids)[0])
    issue = raise_issue(resident, title="楼道照明及扶手改造", description="单元楼道灯经常不亮，扶手松动，老人上下楼不安全。",
                        category="basic", subcategory="stairs", place_kind="household", place_id=household.id)
    representative = _representative(household.estate_id)
    _to_construction(issue)
    inspection = acceptance.covering_inspection(issue)
    handrails = next(item.position for item in inspection.items if item.code == "stairs.handrails")
    _inspect(inspection, {handrails}, "3单元二层扶手松动，需重新固定")
    _fire(issue, "builder", "request_reinspection")
    _inspect(inspection, set(), "")
    for username, party in SIGNERS:
        signer = representative if username == REPRESENTATIVE else _person(username)
        acceptance.sign(signer, inspection.id, None, party=party, decision="approve", comment="同意验收")
    issue_record(inspection.id)
    return "1 accepted issue with a signed acceptance record"
