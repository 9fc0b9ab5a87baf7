"""The documents' sentences, variant by variant: the template text for the whole matrix
(each decision, each Interp 358 ground with and without the judge's reasons, the voucher),
and the signed PDFs read back with pdftotext once per document kind."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from ruling_support import (
    CASE,
    COURT,
    LI,
    ZHANG,
    pdf_text,
    rejection,
    ruling,
    save,
    squash,
    voucher,
)

from app.domain.grounds import REJECT_TEXT, RejectGround
from app.ruling.blocks import Document
from app.ruling.errors import TemplateError
from app.ruling.model import RejectionGround
from app.ruling.render import RulingRenderer
from app.ruling.sign import PdfSigner
from app.ruling.templates import TemplateSet
from app.ruling.wording import Provision, basis, sentence
from app.services.sessions import TranscriptParty, TranscriptReviewItem

CPL = "《中华人民共和国民事诉讼法》"
INTERP = "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》"
NUMERAL = "一二三四五六"
PARTIES = "申请人张三与申请人李四"


@pytest.fixture(scope="module")
def templates() -> TemplateSet:
    return TemplateSet()


def paras(doc: Document) -> list[str]:
    return [b.text for b in doc.blocks if b.kind in ("para", "plain")]


# -- the judge's free text as a sentence ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("无法确定当事人的权利义务", "无法确定当事人的权利义务。"),
        ("无法确定当事人的权利义务。", "无法确定当事人的权利义务。"),
        ("  无法确定当事人的权利义务。 ", "无法确定当事人的权利义务。"),
        ("无法确定当事人的权利义务，", "无法确定当事人的权利义务。"),
        ("无法确定当事人的权利义务；", "无法确定当事人的权利义务。"),
        ("无法确定当事人的权利义务.", "无法确定当事人的权利义务。"),
        ("当事人是否自愿？", "当事人是否自愿？"),
        ("李四称：“我是被迫签字的。”", "李四称：“我是被迫签字的。”"),
        ("见证据一（录音）", "见证据一（录音）。"),
        ("协议未写明金额……", "协议未写明金额……"),
        ("", ""),
        (None, ""),
        ("   ", ""),
    ],
)
def test_sentence_ends_once(text: str | None, expected: str) -> None:
    assert sentence(text) == expected


# -- one description of the citations per decision -----------------------------------------


def test_basis_per_outcome() -> None:
    assert basis("confirmed") == (Provision("cpl", 205), Provision("cpl", 206))
    assert basis("rejected", 5) == (Provision("cpl", 206), Provision("interp", 358, 5))
    assert basis("withdrawn") == (Provision("interp", 357),)
    with pytest.raises(ValueError, match="Interp 358 item"):
        basis("rejected", None)


# -- rulings: the whole matrix --------------------------------------------------------------


def test_confirmation_sentences(templates: TemplateSet) -> None:
    text = paras(templates.ruling(ruling(applicants=(ZHANG, LI))))
    assert f"本院经审查认为，{PARTIES}达成的调解协议，符合司法确认调解协议的法定条件。" in text
    assert f"依照{CPL}第二百零五条、第二百零六条规定，裁定如下：" in text
    effect = "于2026年11月18日经光明街道人民调解委员会主持调解达成的调解协议有效。"
    assert f"一、{PARTIES}{effect}" in text


def test_withdrawal_sentences(templates: TemplateSet) -> None:
    text = paras(templates.ruling(ruling(outcome="withdrawn", applicants=(ZHANG, LI))))
    assert (
        "本院经审查认为，申请人撤回申请系其真实意思表示，不违反法律规定，应予准许。"
        f"依照{INTERP}第三百五十七条规定，裁定如下：" in text
    )
    assert "准许申请人张三、申请人李四撤回司法确认申请。" in text
    assert not any("第二百零六条" in p or "第三百五十八条" in p for p in text)


def _finding(item: int, reasons: str) -> str:
    """The expected reasoning paragraph of a rejection, written out by hand per ground."""
    text = REJECT_TEXT[list(RejectGround)[item - 1]]
    if item == 6:
        ground = f"该调解协议存在{INTERP}第三百五十八条第六项规定的其他不能进行司法确认的情形"
    else:
        ground = f"该调解协议{text}，属于{INTERP}第三百五十八条第{NUMERAL[item - 1]}项规定的情形"
    return f"本院经审查认为，{reasons}{ground}，不应予以确认。"


REASONS = [  # as the judge typed them, as the ruling prints them
    (None, ""),
    ("协议未写明金额，无法确定当事人的权利义务", "协议未写明金额，无法确定当事人的权利义务。"),
    ("协议第二条未写明付款金额。", "协议第二条未写明付款金额。"),
    ("协议第二条未写明付款金额，", "协议第二条未写明付款金额。"),
]


@pytest.mark.parametrize("item", range(1, 7))
@pytest.mark.parametrize(("reasons", "printed"), REASONS)
def test_rejection_sentences(
    templates: TemplateSet, item: int, reasons: str | None, printed: str
) -> None:
    data = rejection(rejection_ground=RejectionGround.statutory(item), rejection_reasons=reasons)
    text = paras(templates.ruling(data))
    assert _finding(item, printed) in text
    n = NUMERAL[item - 1]
    assert f"依照{CPL}第二百零六条，{INTERP}第三百五十八条第{n}项规定，裁定如下：" in text
    assert "驳回申请人张三、申请人李四的司法确认申请。" in text
    joined = "".join(text)
    assert "。。" not in joined and "，。" not in joined and "情形”情形" not in joined
    assert "情形情形" not in joined and "第二百零五条" not in joined


def test_the_measured_run_on_is_gone(templates: TemplateSet) -> None:
    """The issue's text: the reasons ran into the template's sentence without a stop."""
    data = rejection(
        rejection_ground=RejectionGround.statutory(5),
        rejection_reasons="协议未约定履行期限，无法确定当事人的权利义务",
    )
    joined = "".join(paras(templates.ruling(data)))
    assert "无法确定当事人的权利义务该调解协议" not in joined
    assert "无法确定当事人的权利义务。该调解协议内容不明确，属于" in joined


# -- the transcript announces what the ruling cites ----------------------------------------

AT = dt.datetime(2026, 11, 27, 1, 30, tzinfo=dt.UTC)


def transcript_context(
    decision: str | None, ground: RejectGround | None = None, reasons: str = ""
) -> dict[str, Any]:
    party = TranscriptParty(
        name="张三",
        identity_method="身份证比对",
        identity_result="通过",
        identity_reference="",
        identity_note="",
        identity_at=AT,
        warning_at=AT,
        consented_at=AT,
        agreed_freely=True,
        understands=True,
        answer_note="",
    )
    return {
        "court_name": COURT, "case_number": CASE, "session_number": 1, "started_at": AT,
        "ended_at": AT if decision else None, "made_at": AT, "place": "光明社区在线司法确认室一",
        "judge_name": "陈明", "clerk_name": "林静", "mediator_name": "王调解",
        "committee_name": "光明街道人民调解委员会", "dispute_type": "人身损害赔偿纠纷",
        "agreement_date": dt.date(2026, 11, 18),
        "parties": [party, party.__class__(**{**party.__dict__, "name": "李四"})],
        "review": [TranscriptReviewItem(i, REJECT_TEXT[g], True, g is ground, "")
                   for i, g in enumerate(RejectGround, 1)],
        "decision": decision, "decided_at": AT if decision else None,
        "ground_text": REJECT_TEXT[ground] if ground else "", "reasons": reasons,
    }  # fmt: skip


def _ruling_basis_paragraph(templates: TemplateSet, **changes: Any) -> str:
    para = next(p for p in paras(templates.ruling(ruling(**changes))) if "规定，裁定如下" in p)
    return para[para.index("依照") : para.index("规定，裁定如下")]


def _announcement(templates: TemplateSet, context: dict[str, Any]) -> str:
    return next(p for p in paras(templates.transcript(context)) if p.startswith("审判员宣布"))


def test_transcript_confirmation_cites_what_the_ruling_cites(templates: TemplateSet) -> None:
    said = _announcement(templates, transcript_context("confirm"))
    cited = _ruling_basis_paragraph(templates)
    assert said == (
        "审判员宣布：本院经审查认为，申请人达成的调解协议符合司法确认调解协议的法定条件。"
        f"{cited}规定，裁定该调解协议有效。"
    )
    assert cited == f"依照{CPL}第二百零五条、第二百零六条"


@pytest.mark.parametrize("ground", list(RejectGround))
def test_transcript_rejection_cites_what_the_ruling_cites(
    templates: TemplateSet, ground: RejectGround
) -> None:
    item = list(RejectGround).index(ground) + 1
    reasons = "经询问，申请人李四陈述受到胁迫"
    said = _announcement(templates, transcript_context("reject", ground, reasons))
    ground_model = RejectionGround(item, REJECT_TEXT[ground])
    cited = _ruling_basis_paragraph(
        templates, outcome="rejected", applicants=(ZHANG, LI), rejection_ground=ground_model
    )
    assert cited == f"依照{CPL}第二百零六条，{INTERP}第三百五十八条第{NUMERAL[item - 1]}项"
    finding = _finding(item, reasons + "。")
    assert said == f"审判员宣布：{finding}{cited}规定，裁定驳回申请人的司法确认申请。"


def test_transcript_withdrawal_cites_what_the_ruling_cites(templates: TemplateSet) -> None:
    said = _announcement(templates, transcript_context("withdraw"))
    cited = _ruling_basis_paragraph(templates, outcome="withdrawn")
    assert cited == f"依照{INTERP}第三百五十七条"
    assert said == (
        "审判员宣布：申请人撤回司法确认申请系其真实意思表示，不违反法律规定。"
        f"{cited}规定，裁定准许申请人撤回司法确认申请。"
    )


def test_transcript_without_a_decision(templates: TemplateSet) -> None:
    text = paras(templates.transcript(transcript_context(None)))
    assert "尚未作出裁定。" in text and not any(p.startswith("审判员宣布") for p in text)


def test_transcript_rejection_with_an_unknown_ground_is_refused(templates: TemplateSet) -> None:
    context = {**transcript_context("reject", RejectGround.UNCLEAR), "ground_text": "别的什么"}
    with pytest.raises(TemplateError, match="no known ground"):
        templates.transcript(context)


# -- the voucher ----------------------------------------------------------------------------


def test_voucher_sentences(templates: TemplateSet) -> None:
    doc = templates.voucher(
        voucher("ab" * 32, verification_url="https://sifa.example.cn/verify/V1")
    )
    fields = dict(b.parts() for b in doc.blocks if b.kind == "field")
    assert fields["送达地点"] == "光明社区在线司法确认室一"
    assert paras(doc)[0] == (
        "受送达人于2026年11月27日10时04分30秒（北京时间）表示同意电子送达。"
        "依照《人民法院在线诉讼规则》第二十九条至第三十二条，上述文书已于签收时间送达。"
    )
    qr = doc.first("qr")
    assert qr is not None
    assert qr.parts() == ("扫描二维码核验送达凭证", "https://sifa.example.cn/verify/V1")
    own = templates.voucher(voucher("ab" * 32, own_device=True, place="受送达人本人设备"))
    own_fields = dict(b.parts() for b in own.blocks if b.kind == "field")
    assert own_fields["接收设备"] == "受送达人本人设备"
    assert paras(own)[0].startswith("受送达人于2026年11月27日10时04分30秒（北京时间）表示同意")


def test_a_voucher_states_consent_only_where_it_was_recorded(templates: TemplateSet) -> None:
    """No consent on record (在线诉讼规则 art 29): the voucher does not claim one."""
    doc = templates.voucher(voucher("ab" * 32, consented_at=None))
    assert not any("同意电子送达" in p for p in paras(doc))
    assert paras(doc)[0].startswith("依照《人民法院在线诉讼规则》第二十九条至第三十二条")


def test_the_paper_receipt_form(templates: TemplateSet) -> None:
    """送达回证: the facts on record, and blanks for the party's hand."""
    declined = dt.datetime(2026, 11, 27, 2, 4, 30, tzinfo=dt.UTC)
    doc = templates.paper_receipt(
        {
            "court_name": COURT,
            "case_number": CASE,
            "document_title": "民事裁定书",
            "document_sha256": "ab" * 32,
            "recipient_name": "李四",
            "place": "光明社区在线司法确认室一",
            "served_by": "书记员林静",
            "declined_at": declined,
            "made_at": declined,
        }
    )
    fields = dict(b.parts() for b in doc.blocks if b.kind == "field")
    assert fields["受送达人"] == "李四" and fields["送达方式"] == "直接送达（纸质）"
    assert set(fields["受送达人签名"]) == {"_"} and "年" in fields["签收日期"]
    assert paras(doc)[0].startswith(
        "受送达人于2026年11月27日10时04分30秒（北京时间）表示不同意电子送达"
    )


# -- the signed PDFs, read back with pdftotext: one per document kind ----------------------


def _flat(pdf: bytes, name: str) -> str:
    return squash(re.sub(r"第 \d+ 页 共 \d+ 页", "", pdf_text(save(name, pdf))))


def test_rejection_pdf_reads_as_whole_sentences(
    renderer: RulingRenderer, signer: PdfSigner
) -> None:
    data = rejection(
        rejection_ground=RejectionGround.statutory(6),
        rejection_reasons="协议约定以案外人房产抵债，涉及案外人权益，",
    )
    signed = signer.sign(renderer.render_ruling(data), reason="民事裁定书", location=COURT)
    flat = _flat(signed, "wording-rejection.pdf")
    assert (
        "本院经审查认为，协议约定以案外人房产抵债，涉及案外人权益。该调解协议存在"
        f"{INTERP}第三百五十八条第六项规定的其他不能进行司法确认的情形，不应予以确认。"
        f"依照{CPL}第二百零六条，{INTERP}第三百五十八条第六项规定，裁定如下：" in flat
    )


def test_transcript_pdf_announces_the_rulings_citation(renderer: RulingRenderer) -> None:
    context = transcript_context("reject", RejectGround.NOT_VOLUNTARY, "李四称系受胁迫签字")
    flat = _flat(renderer.render_transcript(context), "wording-transcript.pdf")
    assert (
        "审判员宣布：本院经审查认为，李四称系受胁迫签字。该调解协议违反自愿原则，属于"
        f"{INTERP}第三百五十八条第四项规定的情形，不应予以确认。依照{CPL}第二百零六条，"
        f"{INTERP}第三百五十八条第四项规定，裁定驳回申请人的司法确认申请。" in flat
    )


def test_voucher_pdf_names_the_room_not_the_device(renderer: RulingRenderer) -> None:
    data = voucher(hashlib.sha256(b"ruling").hexdigest())
    flat = _flat(renderer.render_voucher(data), "wording-voucher.pdf")
    assert "送达地点光明社区在线司法确认室一" in flat and "终端kiosk" not in flat
    assert "（北京时间）表示同意电子送达。依照《人民法院在线诉讼规则》" in flat
    assert "依照《人民法院在线诉讼规则》第二十九条至第三十二条" in flat
    assert "扫描二维码核验送达凭证" in flat
