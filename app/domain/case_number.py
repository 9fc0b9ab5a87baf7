"""Case numbers (案号): （2026）粤0311民特123号. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

SPECIAL_PROCEDURE = "民特"
_PATTERN = re.compile(r"^（(\d{4})）(\S+?\d{4})(民特)(\d+)号$")


@dataclass(frozen=True)
class CaseNumber:
    year: int
    court_code: str
    serial: int
    type_code: str = SPECIAL_PROCEDURE

    def __post_init__(self) -> None:
        if self.serial < 1:
            raise ValueError("serial numbers start at 1")

    def __str__(self) -> str:
        return f"（{self.year}）{self.court_code}{self.type_code}{self.serial}号"

    @classmethod
    def parse(cls, text: str) -> CaseNumber:
        match = _PATTERN.match(text.strip())
        if match is None:
            raise ValueError(f"not a case number: {text!r}")
        year, court, type_code, serial = match.groups()
        return cls(int(year), court, int(serial), type_code)
