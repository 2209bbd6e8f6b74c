"""Working days for deadlines: China's official calendar (weekends, public holidays and
the weekend days made working days), from the chinesecalendar package.

For years the package has no data for yet, Monday-Friday are taken as working days;
a city policy may list extra closed days.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

LOCAL = ZoneInfo("Asia/Shanghai")


def is_working_day(day: date, closed: frozenset[date] = frozenset()) -> bool:
    if day in closed:
        return False
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start_utc: datetime, days: int, closed: frozenset[date] = frozenset()) -> datetime:
    """The end (23:59:59 local time) of the `days`-th working day after the local day of
    `start_utc`, returned as naive UTC like every timestamp in the database."""
    local_day = start_utc.replace(tzinfo=timezone.utc).astimezone(LOCAL).date()
    remaining = days
    while remaining > 0:
        local_day += timedelta(days=1)
        if is_working_day(local_day, closed):
            remaining -= 1
    end_local = datetime.combine(local_day, time(23, 59, 59), tzinfo=LOCAL)
    return end_local.astimezone(timezone.utc).replace(tzinfo=None)


def add_calendar_days(start_utc: datetime, days: int) -> datetime:
    """End of the local day `days` calendar days later (notice periods count calendar days)."""
    local_day = start_utc.replace(tzinfo=timezone.utc).astimezone(LOCAL).date() + timedelta(days=days)
    end_local = datetime.combine(local_day, time(23, 59, 59), tzinfo=LOCAL)
    return end_local.astimezone(timezone.utc).replace(tzinfo=None)
