"""The working calendar's default data, from the maintained ``chinesecalendar`` package.

The package transcribes the State Council's yearly holiday notice (国务院办公厅关于…部分节假日安排的通知): public
holidays and the weekend make-up workdays (调休上班), one release per year. A year the package does not know has no
calendar data here: ``WorkCalendar`` refuses to count working time in it rather than guess (import the year's notice
with ``geogrid calendar import FILE``, or upgrade the package and run ``geogrid calendar seed``).
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import PackageNotFoundError, version

PACKAGE = "chinesecalendar"
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def package_name() -> str:
    """``chinesecalendar X.Y.Z``: the source recorded for every year seeded from the package."""
    try:
        return f"{PACKAGE} {version(PACKAGE)}"
    except PackageNotFoundError:
        return PACKAGE


def package_days(years: set[int] | None = None) -> list[tuple[date, bool, str]]:
    """Every exception to the Monday–Friday week the package knows: (day, workday, name), holidays then workdays."""
    from chinese_calendar import constants

    def keep(day: date) -> bool:
        return years is None or day.year in years

    def named(name) -> str:
        return CHINESE_NAMES.get(str(name), str(name))

    off = [(day, False, named(name)) for day, name in sorted(constants.holidays.items()) if keep(day)]
    on = [(day, True, f"{named(name)}调休上班") for day, name in sorted(constants.workdays.items()) if keep(day)]
    return off + on


def package_years() -> list[int]:
    """The years the package covers."""
    return sorted({day.year for day, _, _ in package_days()})
