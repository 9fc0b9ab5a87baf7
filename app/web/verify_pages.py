"""The public verification pages (a ruling's, a service voucher's) and the clerk's rulings list.

One address shape for both, /verify/{token}: the token in a QR code says which document it
is, and the log filter that hides tokens (app/logs.py) covers both without knowing of either.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.domain.clock import court_time
from app.domain.errors import DomainError, ValidationError
from app.domain.people import mask_name
from app.keys import services
from app.ruling.chinese import beijing_datetime
from app.ruling.verify import FINDING_LABEL, Finding, VerificationResult
from app.services import rulings
from app.services.cases import names_for
from app.web.body import read_form
from app.web.i18n import language, pick, split_bilingual
from app.web.middleware import require_caller
from app.web.pages import render
from app.web.rulings_api import parse_search

MAX_VERIFY_BYTES = 10 * 1024 * 1024


async def _lookup(request: web.Request) -> tuple[dict[str, object], str]:
    """The document the token names, as the page shows it, and the hash it was issued with."""
    svc = services(request)
    token = request.match_info["token"]
    async with svc.db.transaction() as session:
        voucher = await rulings.find_voucher_by_token(session, token)
        if voucher is not None:
            case, ruling, receipt = voucher
            names = await names_for(session, case)
            return {
                "kind": "voucher",
                "court": names.court,
                "case_number": case.case_number,
                "document": "民事裁定书",
                "document_sha256": ruling.sha256,
                "recipient": mask_name(receipt.recipient_name),
                "acknowledged": beijing_datetime(receipt.acknowledged_at),
                "method": receipt.method,
                "place": receipt.device,
                "sha256": receipt.voucher_sha256,
            }, receipt.voucher_sha256
        case, ruling = await rulings.find_by_token(session, token)
        names = await names_for(session, case)
    return {
        "kind": "ruling",
        "court": names.court,
        "case_number": case.case_number,
        "issued": court_time(ruling.issued_at).strftime("%Y-%m-%d"),
        "outcome": ruling.outcome,
        "parties": [mask_name(p.name) for p in case.parties],
        "sha256": ruling.sha256,
        "level": ruling.signature_level,
    }, ruling.sha256


def verdict(result: VerificationResult, lang: str) -> dict[str, Any]:
    """What the page says of an uploaded file: each kind of finding under its own headline."""
    found = []
    for kind in Finding:
        messages = [
            split_bilingual(p.message, lang)
            for p in result.findings
            if p.finding is kind and p.code != "sha256_mismatch"  # the hash line says it
        ]
        if messages or (kind is Finding.CONTENT_ALTERED and result.matches_expected is False):
            label = split_bilingual(FINDING_LABEL[kind], lang)
            found.append({"kind": kind.value, "label": label, "messages": messages})
    return {
        "ok": result.ok,
        "identical": result.matches_expected,
        "signature_valid": bool(result.signatures) and all(s.ok for s in result.signatures),
        "findings": found,
        "sha256": result.sha256,
        "signer": result.signatures[0].signer_subject if result.signatures else None,
    }


async def verify_page(request: web.Request) -> web.Response:
    summary, _ = await _lookup(request)
    return render(request, "verify.html", {"doc": summary, "result": None, "error": None})


async def verify_upload(request: web.Request) -> web.Response:
    summary, expected = await _lookup(request)
    svc = services(request)
    lang = language(request)
    if request.content_length is not None and request.content_length > MAX_VERIFY_BYTES:
        raise DomainError("文件过大。 / The file is too large.", code="too_large")
    form = await read_form(request)
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        error = split_bilingual("请选择要核验的 PDF 文件。 / Choose the PDF to check.", lang)
        return render(
            request, "verify.html", {"doc": summary, "result": None, "error": error}, status=422
        )
    data = upload.file.read(MAX_VERIFY_BYTES + 1)
    if len(data) > MAX_VERIFY_BYTES:
        raise ValidationError([("file", "文件过大。 / The file is too large.")])
    result = await svc.desk.verify(data, expected)
    context = {"doc": summary, "result": verdict(result, lang), "error": None}
    return render(request, "verify.html", context)


async def rulings_page(request: web.Request) -> web.Response:
    who = require_caller(request)
    svc = services(request)
    criteria = parse_search(request.query)
    async with svc.db.transaction() as session:
        rows = (await session.execute(rulings.search_query(who.actor, criteria))).all()
        transcripts = await rulings.transcripts_of(session, [c.id for c, _ in rows])
    return render(
        request,
        "rulings.html",
        {
            "rows": rows,
            "transcripts": transcripts,
            "q": request.query,
            "title": pick(language(request), "裁定文书", "Rulings"),
        },
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/verify/{token}", verify_page),
        web.post("/verify/{token}", verify_upload),
        web.get("/rulings", rulings_page),
    ]
