"""Words residents and convention texts use for the same thing: a search for 电动车 finds
articles about 电动自行车 and 电瓶车. Each group lists interchangeable terms; a query word
containing one of them also matches the word with any other of its group in its place.
A deployment may extend the groups (CONVENTION_SYNONYMS in instance/config.py)."""
from __future__ import annotations

from flask import current_app, has_app_context

GROUPS: tuple[tuple[str, ...], ...] = (
    ("电动自行车", "电动车", "电瓶车", "电单车"),
    ("充电", "充电桩", "充电设施"),
    ("飞线充电", "私拉电线", "私拉乱接"),
    ("业主委员会", "业委会"),
    ("业主大会", "业主会议"),
    ("物业服务企业", "物业公司", "物业"),
    ("住宅专项维修资金", "维修资金", "维修基金"),
    ("机动车", "汽车", "私家车"),
    ("停放", "停车", "泊车"),
    ("楼道", "楼梯间", "楼梯"),
    ("生活垃圾", "垃圾"),
    ("高空抛物", "高空坠物", "乱扔"),
    ("公共区域", "公共部位", "公共场所"),
)


def _groups() -> tuple[tuple[str, ...], ...]:
    extra = current_app.config.get("CONVENTION_SYNONYMS", ()) if has_app_context() else ()
    return GROUPS + tuple(tuple(group) for group in extra)


def variants(word: str) -> list[str]:
    """The word and what it reads as with each synonym in place (longest terms first)."""
    found = [word]
    for group in _groups():
        for term in sorted(group, key=len, reverse=True):
            if term in word:
                for other in group:
                    candidate = word.replace(term, other)
                    if candidate not in found:
                        found.append(candidate)
                break
    return found[:12]
