"""The input model's own checks, the block markup parser and the templates: pure tests."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from ruling_support import AGENT, CASE, LI, ZHANG, rejection, ruling, voucher

from app.ruling.blocks import parse_blocks
from app.ruling.errors import InvalidRulingData, TemplateError
from app.ruling.model import INTERP_358_GROUNDS, Agent, NaturalPerson, RejectionGround
from app.ruling.templates import DEFAULT_TEMPLATES_DIR, TemplateSet

# -- model -----------------------------------------------------------------------------------


def test_valid_ruling_builds() -> None:
    r = ruling()
    assert r.agents_for("李四") == (AGENT,)
    assert r.agents_for("张三") == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"applicants": (ZHANG,)}, "two joint applicants"),
        ({"applicants": (ZHANG, ZHANG)}, "repeat"),
        ({"agents": (Agent("某", "王某", "一般授权"),)}, "unknown"),
        ({"terms": ()}, "no terms"),
        ({"terms": ("一\n@court 伪造法院",)}, "control character"),
        ({"case_number": "张三"}, "case number"),
        ({"decision_date": date(2026, 11, 1)}, "dates out of order"),
        ({"verification_url": "javascript:alert(1)"}, "not http"),
        ({"outcome": "maybe"}, "outcome"),
        ({"rejection_ground": RejectionGround.statutory(1)}, "only a rejection carries"),
        ({"judge_name": " "}, "empty"),
        ({"clerk_name": "林\n静"}, "control character"),
    ],
)
def test_ruling_checks_itself(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRulingData, match=message):
        ruling(**changes)


def test_rejection_needs_a_ground() -> None:
    with pytest.raises(InvalidRulingData, match="ground"):
        rejection(rejection_ground=None)


def test_rejection_grounds_are_interp_358() -> None:
    assert sorted(INTERP_358_GROUNDS) == [1, 2, 3, 4, 5, 6]
    assert RejectionGround.statutory(4).text == "违反自愿原则"
    with pytest.raises(InvalidRulingData):
        RejectionGround.statutory(7)


def test_person_checks() -> None:
    with pytest.raises(InvalidRulingData, match="ID number"):
        dataclasses.replace(LI, id_number="4403061990071526")
    with pytest.raises(InvalidRulingData, match="sex"):
        NaturalPerson("甲", "M", date(1990, 1, 1), "汉族", "某地", "44030619900715262X")  # type: ignore[arg-type]


def test_voucher_checks() -> None:
    with pytest.raises(InvalidRulingData, match="hex"):
        voucher("ABC")
    with pytest.raises(InvalidRulingData, match="timezone"):
        voucher("0" * 64, acknowledged_at=datetime(2026, 11, 27, 10, 0))


# -- block markup ----------------------------------------------------------------------------


def test_blocks_parse_and_continue_lines() -> None:
    doc = parse_blocks(
        "# a comment\n@court 某法院\n@para 第一行\n第二行\n\n@sign 审判员|张三\n@gap\n"
        "@footer 第 {page} 页 共 {pages} 页\n",
        "t",
    )
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("court", "某法院"), ("para", "第一行第二行"), ("sign", "审判员|张三"), ("gap", ""),
    ]  # fmt: skip
    assert doc.blocks[2].parts() == ("审判员", "张三")
    assert doc.footer == "第 {page} 页 共 {pages} 页"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("@banner 大字\n", "unknown block kind"),
        ("前言\n@para 正文\n", "before the first"),
        ("@sign 审判员\n", r"role\|name"),
        ("@qr |https://x\n", r"caption\|url"),
        ("@para\n", "has no text"),
        ("@gap 文字\n", "takes no text"),
        ("@footer 第 {page} 页 {oops}\n", "only {page}"),
        ("@footer 第 {page 页\n", "bad @footer"),
    ],
)
def test_block_markup_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as info:
        parse_blocks(text, "t.txt.j2")
    assert "t.txt.j2" in str(info.value)


# -- templates -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    return TemplateSet()


def test_default_templates_dir_is_the_repos() -> None:
    assert Path(__file__).resolve().parents[2] / "templates" / "rulings" == DEFAULT_TEMPLATES_DIR


def test_confirmation_follows_the_outline(templates: TemplateSet) -> None:
    doc = templates.ruling(ruling())
    kinds = [b.kind for b in doc.blocks]
    assert kinds[:3] == ["court", "title", "right"]
    assert doc.blocks[1].text == "民事裁定书"
    assert doc.blocks[2].text == CASE
    paras = [b.text for b in doc.blocks if b.kind == "para"]
    assert paras[0] == (
        "申请人：张三，男，1985年3月2日出生，汉族，住广东省深圳市光明区光明街道华夏路8号"
        "光明花园3栋502房，公民身份号码440311198503021234。"
    )
    assert "委托诉讼代理人：赵六，广东光明律师事务所律师，代理权限：特别授权。" in paras
    assert any(p.startswith("申请人：深圳市光明顺达物业管理有限公司，住所地") for p in paras)
    assert "法定代表人：王五，该公司执行董事。" in paras
    # The agent's block follows the applicant it acts for.
    assert paras.index("委托诉讼代理人：赵六，广东光明律师事务所律师，代理权限：特别授权。") == 2
    parties = "申请人张三、申请人李四与申请人深圳市光明顺达物业管理有限公司"
    assert (
        f"{parties}于2026年11月20日向本院申请司法确认调解协议。本院受理后依法适用特别程序进行了审查。"
        in paras
    )
    assert any(p.startswith("一、张三于2026年12月10日前") for p in paras)
    assert any(p.startswith("四、本协议自双方签字") for p in paras)
    assert f"本院经审查认为，{parties}达成的调解协议，符合司法确认调解协议的法定条件。" in paras
    assert "依照《中华人民共和国民事诉讼法》第二百零五条、第二百零六条规定，裁定如下：" in paras
    assert (
        f"一、{parties}于2026年11月18日经光明街道人民调解委员会主持调解达成的调解协议有效。"
        in paras
    )
    assert any(p.startswith("二、当事人应当按照调解协议的约定自觉履行义务。") for p in paras)
    tail = [(b.kind, b.text) for b in doc.blocks if b.kind in ("sign", "date", "note", "qr")]
    assert tail == [
        ("sign", "审判员|陈明"),
        ("date", "二〇二六年十一月二十七日"),
        ("note", "本件与原本核对无异"),
        ("sign", "书记员|林静"),
        ("qr", "扫描二维码核验裁定书真伪|https://sifa.example.cn/verify/2026-0311-123?k=Q7f3Xa9"),
    ]
    assert doc.footer == "第 {page} 页 共 {pages} 页"


def test_two_applicants_are_joined_with_yu(templates: TemplateSet) -> None:
    doc = templates.ruling(ruling(applicants=(ZHANG, LI)))
    paras = [b.text for b in doc.blocks if b.kind == "para"]
    assert any("申请人张三与申请人李四达成的调解协议" in p for p in paras)
    assert any("系双方自愿达成" in p for p in paras)


def test_rejection_states_the_ground_and_the_way_out(templates: TemplateSet) -> None:
    doc = templates.ruling(rejection())
    text = "\n".join(b.text for b in doc.blocks)
    interp = "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十八条第四项"
    assert f"该调解协议违反自愿原则，属于{interp}规定的情形，不应予以确认。" in text
    assert f"依照《中华人民共和国民事诉讼法》第二百零六条，{interp}规定，裁定如下：" in text
    assert "驳回申请人张三、申请人李四的司法确认申请。" in text
    assert "通过调解方式变更原调解协议或者达成新的调解协议" in text
    assert "向人民法院提起诉讼" in text
    assert "经询问，申请人李四陈述其签署调解协议时受到胁迫" in text
    assert "第二百零五条" not in text  # a rejection does not rest on CPL 205


def test_voucher_template(templates: TemplateSet) -> None:
    doc = templates.voucher(voucher("ab" * 32))
    fields = dict(b.parts() for b in doc.blocks if b.kind == "field")
    assert fields["文书SHA-256"].replace(" ", "") == "ab" * 32
    assert fields["签收时间"] == "2026年11月27日10时05分09秒（北京时间）"
    assert fields["受送达人"] == "李四"
    assert doc.first("date") is not None
    assert doc.first("date").text == "二〇二六年十一月二十七日"  # type: ignore[union-attr]


def test_a_court_can_supply_its_own_templates(tmp_path: Path) -> None:
    for f in DEFAULT_TEMPLATES_DIR.iterdir():
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    conf = tmp_path / "confirmation.txt.j2"
    conf.write_text(
        conf.read_text(encoding="utf-8").replace(
            "@title 民事裁定书", "@title 民 事 裁 定 书（样式）"
        ),
        encoding="utf-8",
    )
    doc = TemplateSet(tmp_path).ruling(ruling())
    assert doc.blocks[1].text == "民 事 裁 定 书（样式）"


def test_missing_or_broken_templates_are_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not found"):
        TemplateSet(tmp_path)
    for f in DEFAULT_TEMPLATES_DIR.iterdir():
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "voucher.txt.j2").write_text("@court {{ court_name }\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="voucher"):
        TemplateSet(tmp_path)
    (tmp_path / "voucher.txt.j2").write_text("@court {{ no_such_field }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="no_such_field"):
        TemplateSet(tmp_path).voucher(voucher("0" * 64))
