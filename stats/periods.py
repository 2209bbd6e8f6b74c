"""Periods of the dashboard and the ledgers: this month, quarter, year, or custom days.

A period is a range of local (Asia/Shanghai) days, first and last included; the
database compares UTC times with the UTC start of the first day and of the day after
the last, as the worklist's from/to filters do (issues/views.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.errors import DomainError
from rules.calendar import LOCAL

KINDS = {
    "month": _l("This month"),
    "quarter": _l("This quarter"),
    "year": _l("This year"),
    "custom": _l("Custom"),
}
MAX_DAYS = 3660


class BadPeriod(DomainError):
    """An unknown period or malformed days: 400 with the reason."""

    status = 400
    code = "bad_period"


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # local day, included
    last: date  # local day, included

    @property
    def start(self) -> datetime:
        return local_midnight_utc(self.first)

    @property
    def end(self) -> datetime:
        return local_midnight_utc(self.last + timedelta(days=1))

    def args(self) -> dict[str, str]:
        """The worklist's from/to arguments for exactly this period."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    def query(self) -> dict[str, str]:
        """The dashboard's own arguments for this period."""
        if self.kind == "custom":
            return {"period": "custom", **self.args()}
        return {"period": self.kind}


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(timezone.utc).replace(tzinfo=None)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).replace(tzinfo=timezone.utc).astimezone(LOCAL).date()


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _day(raw: str | None, message) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        raise BadPeriod(str(message)) from None


def parse(kind: str | None, first: str | None = None, last: str | None = None,
          now: datetime | None = None) -> Period:
    """The period named by the request's arguments; BadPeriod (400) for anything else."""
    kind = kind or "month"
    today = local_today(now)
    if kind == "month":
        return Period(kind, today.replace(day=1), _month_end(today))
    if kind == "quarter":
        start_month = (today.month - 1) // 3 * 3 + 1
        first_day = date(today.year, start_month, 1)
        return Period(kind, first_day, _month_end(date(today.year, start_month + 2, 1)))
    if kind == "year":
        return Period(kind, date(today.year, 1, 1), date(today.year, 12, 31))
    if kind == "custom":
        begin = _day(first, _l("Give the first day of the period as YYYY-MM-DD."))
        until = _day(last, _l("Give the last day of the period as YYYY-MM-DD."))
        if until < begin:
            raise BadPeriod(_("The last day of the period comes before its first day."))
        if (until - begin).days > MAX_DAYS:
            raise BadPeriod(_("A period can be at most ten years long."))
        return Period(kind, begin, until)
    raise BadPeriod(_("Unknown period “%(period)s”: choose this month, this quarter, this year or custom days.",
                      period=kind[:40]))


def months_ending(day: date, count: int = 12) -> list[date]:
    """The first days of the `count` months ending with the month of `day`, oldest first."""
    year, month = day.year, day.month
    result = []
    for _i in range(count):
        result.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return result[::-1]
