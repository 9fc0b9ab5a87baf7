"""The committees' desk: the mediation agreement's text, its digest, its screen copy, and the
sealed PDF, drawn with every signature and PAdES-signed with the committee's own key."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.errors import NotPermitted, StoredFileDamaged
from app.files import read_verified, write_atomically
from app.ruling.blocks import Document
from app.ruling.committee_keys import SEAL_FIELD, Committee, CommitteeKeys
from app.ruling.model import NaturalPerson
from app.ruling.render import RulingRenderer
from app.ruling.screen import screen_blocks

AGREEMENTS_FOLDER = "agreements"


@dataclass(frozen=True)
class StoredAgreement:
    path: str  # under the documents folder
    sha256: str


def canonical_text(document: Document) -> str:
    """The text a digest is taken over: every block's kind and words, one per line, so a change
    of a single character or of where a paragraph breaks changes the digest."""
    lines = [f"{b.kind}\t{b.text}" for b in document.blocks]
    if document.footer is not None:
        lines.append(f"footer\t{document.footer}")
    return "\n".join(lines) + "\n"


def _hidden(context: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(p.id_number for p in context["parties"] if isinstance(p, NaturalPerson))


class AgreementDesk:
    """Keys are opened on the first seal: a court that runs no mediation starts without any
    committee key configured."""

    def __init__(
        self, renderer: RulingRenderer, open_keys: Callable[[], CommitteeKeys], folder: Path
    ) -> None:
        self.renderer, self.folder = renderer, folder
        self._open_keys = open_keys
        self._keys: CommitteeKeys | None = None
        self._lock = threading.Lock()

    @property
    def keys(self) -> CommitteeKeys:
        with self._lock:
            if self._keys is None:
                self._keys = self._open_keys()
            return self._keys

    def document(self, context: Mapping[str, Any]) -> Document:
        return self.renderer.templates.agreement(context)

    def digest(self, context: Mapping[str, Any]) -> str:
        """The SHA-256 of the text for signing (the context not sealed)."""
        text = canonical_text(self.document({**context, "sealed": False}))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def screen_blocks(self, context: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The draft as every participant's screen shows it: ID numbers masked."""
        return screen_blocks(self.document({**context, "sealed": False}), _hidden(context))

    def _sealed_pdf(
        self, doc: Document, title: str, images: Mapping[str, bytes], committee: Committee
    ) -> bytes:
        signer = self.keys.signer(committee)  # refused (NoSigningKey) before anything is drawn
        subject = doc.first("title")
        name = subject.text if subject else title
        pdf = self.renderer.render_document(
            doc, title=f"{name}{title}", issuer=committee.name, subject=name, images=images
        )
        return signer.sign(pdf, reason=name, location=committee.name, field_name=SEAL_FIELD)

    async def seal(
        self,
        context: Mapping[str, Any],
        images: Mapping[str, bytes],
        committee_id: int,
        mediation_id: int,
    ) -> StoredAgreement:
        """The agreement with every signature, sealed."""
        doc = self.document({**context, "sealed": True})
        return await self._store(doc, context, images, committee_id, f"{mediation_id}")

    async def seal_transcript(
        self,
        context: Mapping[str, Any],
        images: Mapping[str, bytes],
        committee_id: int,
        mediation_id: int,
    ) -> StoredAgreement:
        """调解笔录, signed by the mediator's hand and sealed."""
        doc = self.renderer.templates.mediation_transcript(context)
        return await self._store(doc, context, images, committee_id, f"{mediation_id}-transcript")

    async def seal_termination(
        self, context: Mapping[str, Any], committee_id: int, mediation_id: int
    ) -> StoredAgreement:
        """人民调解终止书 (art 26), sealed."""
        doc = self.renderer.templates.termination(context)
        return await self._store(doc, context, {}, committee_id, f"{mediation_id}-termination")

    async def _store(
        self,
        doc: Document,
        context: Mapping[str, Any],
        images: Mapping[str, bytes],
        committee_id: int,
        stem: str,
    ) -> StoredAgreement:
        """Render, sign and write under a name never used before (an issued document is never
        overwritten); rendering and signing run off the event loop."""
        try:
            committee = Committee(committee_id, str(context["committee_name"]))
        except ValueError:
            # A certificate names at most 64 characters (X.509); the committee table allows more.
            raise NotPermitted(
                "调解委员会名称过长，无法签发电子印章证书，请管理员缩短名称。"
                " / The committee's name is too long for a sealing certificate: an "
                "administrator must shorten it.",
                code="no_signing_key",
            ) from None
        loop = asyncio.get_running_loop()
        make = functools.partial(
            self._sealed_pdf, doc, str(context["reference"]), images, committee
        )
        pdf = await loop.run_in_executor(None, make)
        sha256 = hashlib.sha256(pdf).hexdigest()
        relative = f"{AGREEMENTS_FOLDER}/{stem}-{sha256[:16]}.pdf"
        write_atomically(self.folder / relative, pdf, mode=0o640, exclusive=True)
        return StoredAgreement(relative, sha256)

    def read(self, relative: str, sha256: str) -> bytes:
        data = read_verified(self.folder / relative, sha256)
        if data is None:
            raise StoredFileDamaged(
                "调解协议文件缺失或已被改动，请联系管理员。"
                " / The sealed agreement's file is missing or altered: call the administrator."
            )
        return data
