"""Demo data for 翠湖小区 after acceptance: a weekly patrol route walked once by the grid worker
(one problem found, now an issue), the handover to 安居物业 under way, a repair under warranty
sent to the builder, and a proposed use of the maintenance fund. Idempotent."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from datetime import date, timedelta

from core.db import write_transaction
from core.extensions import db
from procedures import voting
from orgs.models import Estate, Person
from aftercare import services
from aftercare.models import FUND_TARGET, FundUse, PatrolPlan

ESTATE_CODE = "FSL-E1"
POINTS = (
    ("北门及门岗", "门禁、道闸是否正常，消防通道是否畅通", None),
    ("1号楼楼道", "楼道灯、扶手、消防器材", 0),
    ("电动车棚", "充电桩、线路、灭火器", None),
    ("2号楼外墙", "外墙保温有无空鼓、脱落", 1),
)


def load() -> str | None:
    estate = db.session.scalar(select(Estate).where(Estate.code == ESTATE_CODE))
    if estate is None or db.session.scalar(select(PatrolPlan.id).where(PatrolPlan.estate_id == estate.id)):
        return None
    people = {p.username: p for p in db.session.scalars(select(Person).where(Person.username.isnot(None)))}
    if not {"community", "grid", "property"} <= set(people):
        return None
    community, grid = people["community"], people["grid"]
    buildings = sorted(estate.buildings, key=lambda b: b.sort_key)
    plan = services.create_patrol_plan(community, estate.id, title="翠湖小区每周安全巡检")
    for label, what, building in POINTS:
        services.add_patrol_point(community, plan.id, label=label, what_to_check=what,
                                  building_id=buildings[building].id if building is not None else None)
    patrol = services.start_round(grid, plan.id)
    for index, point in enumerate(services.get_record(PatrolPlan, community, plan.id).points):
        if index == 2:
            services.check_point(grid, patrol.id, point.id, result="finding", note="充电桩3号插座松动，有打火痕迹",
                                 category="improvement", subcategory="ev_charging")
        else:
            services.check_point(grid, patrol.id, point.id, result="ok")
    services.finish_round(grid, patrol.id, None)
    handover = services.open_handover(community, estate.id, property_company="安居物业")
    for item in handover.items[:4]:
        services.mark_handed_over(community, handover.id, item.id, note="现场核对无误")
    services.request_repair(community, estate.id, title="3号楼屋面防水渗漏", building_id=buildings[0].id,
                            description="顶层602室雨后天花板渗水，属屋面防水保修期内。")
    services.propose_fund_use(community, estate.id, title="1号楼电梯更换曳引钢丝绳", amount=Decimal("48600.00"),
                              purpose="电梯年检发现钢丝绳磨损超标，拟使用专项维修资金更换。")
    _fund_use_decided_and_spent(community, grid, estate, buildings[0])
    return "after acceptance: patrols, handover, warranty, fund"


def _fund_use_decided_and_spent(community, grid, estate, building) -> None:
    """A use of the fund the owners of building 1 approved on paper ballots entered door to door;
    its notice period has run and the first payment is in the ledger."""
    fund_use = services.propose_fund_use(community, estate.id, title="1号楼屋面防水层翻新", amount=Decimal("36800.00"),
                                         purpose="屋面防水层老化渗漏，保修期已过，拟使用专项维修资金翻新。")
    vote = voting.open_vote(community, FUND_TARGET, fund_use.id,
                            voting.VoteOptions(scope_kind="building", scope_id=building.id), None)
    seen: set[str] = set()
    entries = []
    for row in voting.paper_households(grid, vote):
        if row.voter_key not in seen:
            seen.add(row.voter_key)
            entries.append(voting.PaperBallot(row.household_id, "agree", f"演示纸质表决票 {row.household_id}"))
    if entries:
        voting.enter_paper_ballots(grid, vote.id, entries)
    voting.close_vote(community, vote.id, None)
    notice = services.fund_notice(db.session.get(FundUse, fund_use.id))
    if notice is None:
        return
    with write_transaction():
        shift = notice.ends_at - notice.published_at + timedelta(days=1)
        notice.published_at -= shift
        notice.ends_at -= shift
    services.record_spending(community, fund_use.id, amount=Decimal("18400.00"), payee="城建施工（防水工程预付款）",
                             spent_on=date.today(), note="合同价款的50%")
