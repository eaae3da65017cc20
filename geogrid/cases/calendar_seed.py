"""The working calendar's default data, from the maintained ``chinesecalendar`` package.

The package transcribes the State Council's yearly holiday notice (国务院办公厅关于…部分节假日安排的通知): public
holidays and the weekend make-up workdays (调休上班), one release per year. A year the package does not know has no
calendar data here: ``WorkCalendar`` refuses to count working time in it rather than guess (import the year's notice
with ``geogrid calendar import FILE``, or upgrade the package and run ``geogrid calendar seed``).

Until then, this year and the next get a *provisional* calendar (``provisional_days``): the statutory holidays of
《全国年节及纪念日放假办法》 (2024 revision: 元旦 1 day, 春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3) with their
weekend substitutes, computed by the ``holidays`` package from the lunar calendar. It has no 调休 make-up workdays,
which only the notice fixes, so a provisional deadline can be a day or two off; it is recorded as provisional and
replaced, deadlines of open cases recomputed, when the notice is imported. Refusing to count instead would stop every
dispatch whose deadline crosses New Year from late December on.
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import PackageNotFoundError, version

PACKAGE = "chinesecalendar"
PROVISIONAL = "provisional"  # prefix of the source of a year computed by rule, before its notice is imported
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
RULE_NAMES = {  # the ``holidays`` package's English names, observed and substituted days included
    "New Year's Day": "元旦",
    "Chinese New Year's Eve": "春节",
    "Chinese New Year (Spring Festival)": "春节",
    "Tomb-Sweeping Day": "清明节",
    "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-Autumn Festival": "中秋节",
    "National Day": "国庆节",
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


def provisional_source() -> str:
    """The source recorded for a year computed by rule: says it is provisional and which release computed it."""
    try:
        release = f"holidays {version('holidays')}"
    except PackageNotFoundError:
        release = "holidays"
    return f"{PROVISIONAL}: statutory holidays by rule ({release}), no 调休 until the notice is imported"


def provisional_days(years: set[int]) -> list[tuple[date, bool, str]]:
    """Statutory holidays of ``years`` by rule (lunar dates computed), with weekend substitutes; no make-up workdays."""
    import holidays

    rule = holidays.China(years=sorted(years), categories=("public",))
    days = []
    for day, name in sorted(rule.items()):
        base = str(name).removesuffix(" (observed)")  # a holiday on a weekend moved to a weekday keeps its name
        label = "补休" if base.startswith("Day off") else "、".join(RULE_NAMES.get(n, n) for n in base.split("; "))
        days.append((day, False, f"{label}（暂定）"))
    return days
