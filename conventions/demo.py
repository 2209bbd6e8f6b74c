"""Demo conventions (loaded by `flask demo load` after the org tree): the residents'
convention of 翠湖小区 in force, walked through every step with a resident's comment,
and its e-bike shed convention open for comments."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conventions import services, vote
from conventions.lifecycle import today
from conventions.models import Convention, ConventionVersion
from core.extensions import db
from orgs.demo import RESIDENT_USERNAME
from orgs.models import Estate, Person

ESTATE_CODE = "FSL-E1"


def _person(username: str) -> Person:
    return db.session.scalar(select(Person).where(Person.username == username))


def _fire(username: str, version: ConventionVersion, trigger: str, **data) -> None:
    services.fire_version(_person(username), version.id, trigger, version.version, **data)


def _residents_convention(estate: Estate) -> ConventionVersion:
    community, resident = _person("community"), _person(RESIDENT_USERNAME)
    version = services.create_convention(community, kind="residents_convention", scope_kind="estate",
                                         scope_id=estate.id)
    _fire("community", version, "submit_for_consultation")
    comment = services.add_comment(resident, version.id, 12, "建议车棚建成前给大家留出过渡期，并在楼下张贴充电安全提示。")
    services.answer_comment(community, comment.id, "已采纳：车棚建成前由物业每周巡查楼道，并在各单元张贴充电安全提示。")
    _fire("community", version, "close_consultation")
    _fire("street", version, "approve_review")
    entitled, _area = vote.roster_electorate(version.convention, vote.rule_for(version.convention))
    present = entitled * 3 // 4
    _fire("community", version, "record_vote", entitled_heads=str(entitled), agree_heads=str(present - 3),
          disagree_heads="2", abstain_heads="1", vote_date=(today() - timedelta(days=20)).isoformat(),
          vote_reference="翠湖社区居民会议记录〔2026〕第2号")
    _fire("street", version, "file", filing_number="浮街备〔2026〕3号",
          filing_date=(today() - timedelta(days=10)).isoformat())
    _fire("community", version, "publish", effective_date=(today() - timedelta(days=7)).isoformat())
    return version


def _ebike_convention(estate: Estate) -> ConventionVersion:
    version = services.create_convention(_person("community"), kind="ebike_shed", scope_kind="estate",
                                         scope_id=estate.id)
    _fire("community", version, "submit_for_consultation")
    services.add_comment(_person(RESIDENT_USERNAME), version.id, 3,
                         "车棚能否建在3号楼北侧空地？离住户窗户远一些，也方便进出。")
    return version


def load() -> str | None:
    if db.session.scalar(select(Convention.id).limit(1)) is not None:
        return None
    estate = db.session.scalar(select(Estate).where(Estate.code == ESTATE_CODE))
    if estate is None:
        return None
    _residents_convention(estate)
    _ebike_convention(estate)
    return "2 conventions"
