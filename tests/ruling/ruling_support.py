"""Helpers for the ruling tests: sample data and the independent command-line checkers.

A module of its own rather than imports from tests/conftest.py: with pytest's default
"prepend" import mode every conftest.py is imported as the top-level module `conftest`,
so `from conftest import require` would depend on which conftest was loaded last.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from app.ruling.model import (
    Agent,
    NaturalPerson,
    Organisation,
    RejectionGround,
    RulingData,
    VoucherData,
)

from realdeps import require_tool

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"  # git-ignored: PDFs and PNGs to look at


def run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    tool = require_tool(str(args[0]))
    return subprocess.run(
        [tool, *map(str, args[1:])], capture_output=True, text=True, timeout=60, check=check
    )


COURT = "深圳市光明区人民法院"
CASE = "（2026）粤0311民特123号"
URL = "https://sifa.example.cn/verify/2026-0311-123?k=Q7f3Xa9"

ZHANG = NaturalPerson(
    "张三", "男", date(1985, 3, 2), "汉族",
    "广东省深圳市光明区光明街道华夏路8号光明花园3栋502房", "440311198503021234",
)  # fmt: skip
LI = NaturalPerson(
    "李四", "女", date(1990, 7, 15), "汉族",
    "广东省深圳市宝安区新安街道创业二路18号", "44030619900715262X",
)  # fmt: skip
COMPANY = Organisation(
    "深圳市光明顺达物业管理有限公司", "广东省深圳市光明区凤凰街道光侨路1号",
    "王五", "91440300MA5F8G3C2X", "该公司执行董事",
)  # fmt: skip
AGENT = Agent("赵六", "李四", "特别授权", "广东光明律师事务所律师")

TERMS = (
    "张三于2026年12月10日前一次性向李四支付医疗费、误工费、护理费、交通费等各项损失共计"
    "人民币35,000元（大写：叁万伍仟元整），款项通过银行转账方式支付至李四指定账户。",
    "李四收到上述款项后，不再就2026年10月3日在光明区华夏路发生的人身损害事件向张三主张"
    "任何权利；双方就本纠纷再无其他争议。",
    "深圳市光明顺达物业管理有限公司作为事发场所管理人，自愿补偿李四人民币5,000元，"
    "于2026年12月10日前支付。",
    "本协议自双方签字、人民调解员签名并加盖人民调解委员会印章之日起生效。",
)


def ruling(**changes: object) -> RulingData:
    values: dict[str, object] = dict(
        court_name=COURT,
        case_number=CASE,
        outcome="confirmed",
        applicants=(ZHANG, LI, COMPANY),
        agents=(AGENT,),
        committee_name="光明街道人民调解委员会",
        application_date=date(2026, 11, 20),
        agreement_date=date(2026, 11, 18),
        terms=TERMS,
        judge_name="陈明",
        clerk_name="林静",
        decision_date=date(2026, 11, 27),
        verification_url=URL,
    )
    values.update(changes)
    return RulingData(**values)  # type: ignore[arg-type]


def rejection(**changes: object) -> RulingData:
    base: dict[str, object] = dict(
        outcome="rejected",
        applicants=(ZHANG, LI),
        rejection_ground=RejectionGround.statutory(4),
        rejection_reasons="经询问，申请人李四陈述其签署调解协议时受到胁迫，并提交了相应证据。",
    )
    base.update(changes)
    return ruling(**base)


def voucher(document_sha256: str, **changes: object) -> VoucherData:
    values: dict[str, object] = dict(
        court_name=COURT,
        case_number=CASE,
        document_title="民事裁定书",
        document_sha256=document_sha256,
        recipient_name="李四",
        method="在线司法确认室当场电子送达，受送达人于终端确认签收",
        place="光明社区在线司法确认室一",
        acknowledged_at=datetime(2026, 11, 27, 10, 5, 9, tzinfo=timezone(timedelta(hours=8))),
        served_by="书记员林静",
        verification_url=URL + "&v=1",
        consented_at=datetime(2026, 11, 27, 10, 4, 30, tzinfo=timezone(timedelta(hours=8))),
    )
    values.update(changes)
    return VoucherData(**values)  # type: ignore[arg-type]


def pdf_text(pdf: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", pdf, "-").stdout


def squash(text: str) -> str:
    """Text without whitespace: pdftotext breaks lines where the PDF does, and may space out
    justified characters."""
    return "".join(text.split())


def save(name: str, data: bytes) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(data)
    return path
