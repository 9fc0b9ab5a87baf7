"""What the judge's console says of an agreement that came from an online mediation: the
committee's seal verified against the committees' trust roots, and whether the file is,
byte for byte, the agreement the parties signed and the committee sealed."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import select

from app.keys import Services
from app.ruling.verify import verify_pdf
from app.services.materials import read_material
from app.store.models import Case, MediationAgreement

_COMMON_NAME = re.compile(r"Common Name: ([^,]+)")


async def agreement_seals(svc: Services, case_id: int) -> dict[int, dict[str, Any]]:
    """By material id: each agreement of a case made from a mediation, checked."""
    async with svc.db.transaction() as session:
        case = await session.get(Case, case_id)
        if case is None or case.mediation_id is None:
            return {}
        sealed_sha256 = await session.scalar(
            select(MediationAgreement.pdf_sha256).where(
                MediationAgreement.mediation_id == case.mediation_id
            )
        )
        agreements = [m for m in case.materials if m.category == "agreement"]
        files = [(m, read_material(m, svc.settings.materials_dir, svc.cipher)) for m in agreements]
    loop = asyncio.get_running_loop()
    roots = await loop.run_in_executor(None, svc.agreements.keys.trust_roots)
    checked: dict[int, dict[str, Any]] = {}
    for material, data in files:
        result = await loop.run_in_executor(None, verify_pdf, data, roots)
        signer = result.signatures[-1] if result.signatures else None
        name = _COMMON_NAME.search(signer.signer_subject) if signer else None
        checked[material.id] = {
            "valid": result.ok,
            "committee": name.group(1).strip() if name else None,
            "signed_at": signer.signing_time if signer else None,
            "as_sealed": material.sha256 == sealed_sha256,
            "problems": [p.message for p in result.findings],
        }
    return checked
