"""Problem categories (部件 components, 事件 events) as ``kind:code`` strings.

The canonical form is ``component:CCSS`` or ``event:CCSS``: an English kind, a colon and the 2-digit class plus
2-digit subclass code (``event:0102`` = 市容环境 / 暴露垃圾). ``部件:0101`` and ``事件:0102`` are accepted and
normalised, as are a full-width colon and class-only codes (``event:01``) for rules that cover a whole class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KIND_ALIASES = {
    "component": "component",
    "components": "component",
    "部件": "component",
    "event": "event",
    "events": "event",
    "事件": "event",
}
KIND_PRINCIPLE = {"component": "部件先属主后属地", "event": "事件先属地后属主"}
_CODE = re.compile(r"^[0-9]{2}([0-9]{2})?$")


class CategoryError(ValueError):
    """A category string that is not ``kind:code``; the message says which part is wrong."""


@dataclass(frozen=True)
class Category:
    """A parsed category; ``code`` has 2 (class) or 4 (class + subclass) digits."""

    kind: str
    code: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}"

    def prefixes(self) -> list[str]:
        """Codes to look up, most specific first: ``0102`` then its class ``01``."""
        return [self.code, self.code[:2]] if len(self.code) == 4 else [self.code]


def parse_kind(text: str) -> str:
    """``部件``/``component`` → ``component``; ``事件``/``event`` → ``event``."""
    kind = KIND_ALIASES.get(str(text).strip().lower())
    if kind is None:
        raise CategoryError(f"unknown kind {text!r}: use component (部件) or event (事件)")
    return kind


def parse_code(text: str) -> str:
    """A 2-digit class or 4-digit class+subclass code."""
    code = str(text).strip()
    if not _CODE.match(code):
        raise CategoryError(f"code {text!r} must be 2 digits (class) or 4 digits (class + subclass)")
    return code


def parse_category(text: str) -> Category:
    """Parse ``event:0102``, ``事件:0102``, ``部件：0101`` (full-width colon) into a Category."""
    if not isinstance(text, str) or not text.strip():
        raise CategoryError("category is empty: write kind:code, e.g. event:0102 or 部件:0101")
    parts = text.strip().replace("：", ":").split(":")
    if len(parts) != 2:
        raise CategoryError(f"category {text!r} must be kind:code, e.g. event:0102 or 部件:0101")
    return Category(parse_kind(parts[0]), parse_code(parts[1]))
