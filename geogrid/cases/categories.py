"""Problem categories: 部件 (component) or 事件 (event) + 2-digit class + 2-digit subclass.

Canonical form ``event:0102`` / ``component:0101``; ``事件:0102``, ``部件:0101`` and upper-case kinds are accepted.
The catalogue below names the classes of DOMAIN.md; any well-formed code is accepted, unnamed ones are just unnamed.
"""

from __future__ import annotations

import re

KINDS = {"event": "event", "事件": "event", "component": "component", "部件": "component"}
KIND_NAMES = {"event": "事件", "component": "部件"}
_CODE = re.compile(r"^\s*([^:：\s]+)\s*[:：]\s*(\d{2})(\d{2})\s*$")


def _numbered(*names: str) -> dict[str, str]:
    return {f"{i:02d}": name for i, name in enumerate(names, start=1)}


CLASSES: dict[str, dict[str, str]] = {
    "component": _numbered("公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其它设施"),
    "event": _numbered("市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "其他事件"),
}
SUBCLASSES: dict[str, str] = {
    "component:0101": "上水井盖",
    "component:0102": "污水井盖",
    "component:0103": "雨水井盖",
    "component:0201": "交通标志牌",
    "component:0202": "路灯",
    "component:0401": "行道树",
    "event:0101": "私搭乱建",
    "event:0102": "暴露垃圾",
    "event:0103": "建筑垃圾渣土",
    "event:0104": "道路保洁",
    "event:0201": "违章张贴小广告",
    "event:0301": "施工扰民",
    "event:0401": "无照经营游商",
    "event:0402": "占道经营",
    "event:0501": "路面塌陷",
    "event:0601": "其他",
}


class CategoryError(ValueError):
    """A category string that is not kind:CCSS."""


def normalize(category: str) -> str:
    """``事件:0102`` → ``event:0102``; raises CategoryError naming the expected form."""
    match = _CODE.match(category or "")
    kind = KINDS.get(match.group(1).lower()) if match else None
    if not match or kind is None:
        raise CategoryError(
            f"category {category!r} is not of the form event:CCSS or component:CCSS "
            "(事件/部件 also accepted; CC class, SS subclass, two digits each)"
        )
    return f"{kind}:{match.group(2)}{match.group(3)}"


def describe(category: str) -> dict:
    """Kind, class and subclass codes and names of a canonical category."""
    kind, code = category.split(":")
    cls = code[:2]
    return {
        "code": category,
        "kind": kind,
        "kind_name": KIND_NAMES[kind],
        "class": cls,
        "class_name": CLASSES[kind].get(cls),
        "subclass": code[2:],
        "name": SUBCLASSES.get(category),
    }


def catalogue() -> list[dict]:
    """Every named subclass, for Open311's services list."""
    return [describe(code) for code in sorted(SUBCLASSES)]
