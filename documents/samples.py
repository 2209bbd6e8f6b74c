"""Realistic sample document contexts, for template previews, benchmarks and tests."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

_CHECK_AREAS = (
    "1号楼", "2号楼", "3号楼", "4号楼", "5号楼", "6号楼",
    "北区道路", "南区道路", "中心广场", "电动车棚",
)
_CHECK_ASPECTS = (
    ("外墙保温层粘结牢固，无空鼓、开裂", "抽查 6 处，粘结良好"),
    ("屋面防水层完整，雨后无渗漏", "闭水试验 48 小时无渗漏"),
    ("单元门禁安装到位，刷卡、对讲功能正常", ""),
    ("楼道照明改为声控节能灯，亮度符合要求", ""),
    ("雨污分流管道接驳正确，检查井盖板齐全", "井盖 2 处松动，已现场整改"),
    ("消防通道标识清晰，通道无占用", ""),
)
_SIGNERS = (
    ("张建国", "社区党委书记", "和平社区党委"),
    ("李秀英", "居委会主任", "和平社区居民委员会"),
    ("王志强", "业主委员会主任", "东高小区业主委员会"),
    ("刘芳", "网格党支部书记", "第三网格党支部"),
    ("陈明", "楼长", "5号楼"),
    ("赵磊", "项目经理", "淄博城建工程有限公司"),
    ("孙丽", "监理工程师", "鲁中工程监理有限公司"),
    ("周海涛", "街道城建办主任", "公园街道办事处"),
)


def sample_checklist(count: int = 60) -> list[dict[str, Any]]:
    """``count`` checklist items cycling through buildings and aspects; every 17th fails."""
    items = []
    for index in range(count):
        area = _CHECK_AREAS[index % len(_CHECK_AREAS)]
        aspect, notes = _CHECK_ASPECTS[index % len(_CHECK_ASPECTS)]
        result = "fail" if index % 17 == 16 else ("na" if index % 23 == 22 else "pass")
        if result == "fail":
            notes = "未达标，限期 15 日内整改后复验"
        items.append({"item": f"{area}：{aspect}", "result": result, "notes": notes})
    return items


def sample_signoffs(count: int = 8, start: datetime | None = None) -> list[dict[str, Any]]:
    """``count`` sign-offs (up to 8) at ten-minute intervals from ``start`` (naive UTC)."""
    first = start or datetime(2025, 6, 18, 2, 0)
    signoffs = []
    for index, (name, role, organization) in enumerate(_SIGNERS[:count]):
        signoffs.append({
            "name": name,
            "role": role,
            "organization": organization,
            "decision": "reject" if index == 6 else "approve",
            "comment": "电动车棚充电桩接地需复测" if index == 6 else "",
            "time": first + timedelta(minutes=10 * index),
        })
    return signoffs


def sample_acceptance_record(items: int = 60, signoffs: int = 8) -> dict[str, Any]:
    """A joint acceptance record of the kind an estate renovation produces."""
    return {
        "title": "老旧小区改造联合验收记录",
        "subtitle": "东高小区 2025 年度综合改造工程",
        "document_number": "ZB-ZD-2025-0137-YS",
        "estate": {
            "name": "东高小区",
            "address": "山东省淄博市张店区公园街道华光路 88 号",
            "community": "和平社区",
        },
        "issue": {
            "reference": "ZB-ZD-2025-0137",
            "title": "外墙保温、屋面防水及雨污分流综合改造",
            "description": "涉及 6 栋住宅楼、道路及公共设施，经业主大会表决通过后实施。",
            "contractor": "淄博城建工程有限公司",
        },
        "accepted_on": datetime(2025, 6, 18, 2, 0),
        "checklist": sample_checklist(items),
        "conclusion": (
            "经五级联动联合验收，本工程主体改造内容符合设计及合同要求，"
            "不合格项已明确整改责任人和期限，整改完成并复验合格后办理移交。"
        ),
        "signoffs": sample_signoffs(signoffs),
        "verify_url": "https://wuji.example.cn/v/7Q2M9XK4",
    }
