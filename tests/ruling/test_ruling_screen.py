"""The screen copy of a ruling (pure): the template's blocks in order, ID numbers masked."""

from __future__ import annotations

import json

from ruling_support import COMPANY, LI, ZHANG, ruling

from app.ruling.blocks import parse_blocks
from app.ruling.screen import hidden_numbers, screen_blocks, screen_text
from app.ruling.templates import TemplateSet


def test_every_natural_persons_number_is_hidden_and_organisations_are_not_people() -> None:
    data = ruling(applicants=(ZHANG, LI, COMPANY))
    assert hidden_numbers(data) == ("440311198503021234", "44030619900715262X")


def test_the_screen_copy_masks_the_numbers_and_keeps_every_other_word() -> None:
    data = ruling(applicants=(ZHANG, LI, COMPANY))
    document = TemplateSet().ruling(data)
    copy = json.loads(screen_text(document, data))
    raw = json.dumps(copy, ensure_ascii=False)
    assert "440311198503021234" not in raw and "44030619900715262X" not in raw
    assert "4403**********1234" in raw and "4403**********262X" in raw
    assert COMPANY.credit_code in raw  # a company's code is public, not personal data
    # The same blocks as the paper, in the same order, but for paper's own furniture.
    drawn = [b for b in document.blocks if b.kind != "gap"]
    assert [b["kind"] for b in copy] == [b.kind for b in drawn]
    for block, shown in zip(drawn, copy, strict=True):
        if "text" in shown:
            original = block.text
            masked = shown["text"]
        else:
            original = "|".join(block.parts())
            masked = f"{shown['left']}|{shown['right']}"
        assert masked == original.replace("440311198503021234", "4403**********1234").replace(
            "44030619900715262X", "4403**********262X"
        )


def test_two_part_blocks_come_apart_and_footers_and_gaps_stay_on_paper() -> None:
    document = parse_blocks(
        "@title 民事裁定书\n@gap\n@sign 审判员|王五\n@qr 扫码核验|https://x.cn/v/1\n"
        "@para 张三，公民身份号码440311198503021234。\n@footer 第 {page} 页\n",
        "t",
    )
    assert screen_blocks(document, ["440311198503021234", ""]) == [
        {"kind": "title", "text": "民事裁定书"},
        {"kind": "sign", "left": "审判员", "right": "王五"},
        {"kind": "qr", "left": "扫码核验", "right": "https://x.cn/v/1"},
        {"kind": "para", "text": "张三，公民身份号码4403**********1234。"},
    ]
