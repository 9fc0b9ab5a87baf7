"""Database tables. The schema is created and changed only by Alembic migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    pass


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Court(Base):
    __tablename__ = "courts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True, unique=True)  # migration 0008
    code: Mapped[str] = mapped_column(String(20), unique=True)


class Committee(Base):
    __tablename__ = "committees"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"))


class Hall(Base):
    __tablename__ = "halls"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    hall: Mapped[Hall] = relationship(lazy="joined")


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(50))
    court_id: Mapped[int | None] = mapped_column(ForeignKey("courts.id"))
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LoginSession(Base):
    __tablename__ = "login_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LoginThrottle(Base):
    """Failed logins per key (a username or a client address), for slowing down guessing."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("court_id", "number_year", "number_serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    judge_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    state: Mapped[str] = mapped_column(String(20), index=True)
    dispute_type: Mapped[str] = mapped_column(String(50))
    agreement_date: Mapped[dt.date] = mapped_column(Date)
    # The online mediation whose sealed agreement this application confirms (migration 0017).
    mediation_id: Mapped[int | None] = mapped_column(ForeignKey("mediation_cases.id"), unique=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    case_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_serial: Mapped[int | None] = mapped_column(Integer)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    decline_ground: Mapped[str | None] = mapped_column(String(40))
    decision: Mapped[str | None] = mapped_column(String(20))  # confirm, reject, withdraw
    decision_ground: Mapped[str | None] = mapped_column(String(40))  # Interp 358, on reject
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    state_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # Two clerks acting on one case at once: the second write fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    parties: Mapped[list[Party]] = relationship(
        order_by="Party.position", cascade="all, delete-orphan", lazy="selectin"
    )
    agents: Mapped[list[AgentRow]] = relationship(
        order_by="AgentRow.position", cascade="all, delete-orphan", lazy="selectin"
    )
    terms: Mapped[list[Term]] = relationship(
        order_by="Term.number", cascade="all, delete-orphan", lazy="selectin"
    )
    materials: Mapped[list[Material]] = relationship(order_by="Material.id", lazy="selectin")


class PartyDetails:
    """A party's details, as a mediation and a confirmation application both hold them (the
    body both are read from is app/domain/bodies/application.py's Person | Organisation)."""

    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    id_type: Mapped[str | None] = mapped_column(String(20))
    # Encrypted with the data key (AES-GCM); never stored or logged in the clear.
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    legal_representative: Mapped[str | None] = mapped_column(String(50))


class Party(PartyDetails, Base):
    __tablename__ = "parties"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)


class AgentRow(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    represents_position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone: Mapped[str] = mapped_column(String(20))
    authority: Mapped[str] = mapped_column(String(200))


class Term(Base):
    __tablename__ = "terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class Material(Base):
    __tablename__ = "materials"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class CaseNumberCounter(Base):
    """The last serial given per court and year; bumped in the accepting transaction."""

    __tablename__ = "case_number_counters"
    court_id: Mapped[int] = mapped_column(ForeignKey("courts.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """Append-only and hash-chained: each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the newest audit link. Appenders lock it, which orders the chain across nodes."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    # The seal's seq once the chain is keyed (migration 0012); appenders read it, verify does not.
    sealed_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Ruling(Base):
    """The issued, signed ruling of a case: one per case, never replaced."""

    __tablename__ = "rulings"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))
    storage_name: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    signer_cert_sha256: Mapped[str] = mapped_column(String(64))
    signature_level: Mapped[str] = mapped_column(String(10))
    verify_token: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    issued_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # The text as shared screens show it, ID numbers masked (app/ruling/screen.py), written
    # with the record; None for rulings issued before screen copies existed.
    screen_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class Transcript(Base):
    """The session's signed transcript (笔录), archived with the ruling in the same transaction:
    one per case, never replaced. A case withdrawn before any session has none."""

    __tablename__ = "transcripts"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    ruling_id: Mapped[int] = mapped_column(ForeignKey("rulings.id"), unique=True)
    session_no: Mapped[int] = mapped_column(Integer)
    storage_name: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    signer_cert_sha256: Mapped[str] = mapped_column(String(64))
    signature_level: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ServiceReceipt(Base):
    """A party's acknowledgement of receipt, and the signed voucher (电子送达凭证) proving it."""

    __tablename__ = "service_receipts"
    __table_args__ = (UniqueConstraint("case_id", "party_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_position: Mapped[int] = mapped_column(Integer)
    recipient_name: Mapped[str] = mapped_column(String(100))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    device: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(200))
    voucher_storage_name: Mapped[str] = mapped_column(String(200), unique=True)
    voucher_sha256: Mapped[str] = mapped_column(String(64))
    # The voucher's own public page (/verify/{token}, its QR code); None for vouchers signed
    # before vouchers had one (their QR code carries the ruling's token).
    verify_token: Mapped[str | None] = mapped_column(
        String(64), unique=True, index=True, nullable=True
    )


class PaperReceipt(Base):
    """A party who declined electronic service signed a paper 送达回证 for the ruling; the
    clerk records it here. Append-only; one service per party, whichever the path."""

    __tablename__ = "paper_receipts"
    __table_args__ = (UniqueConstraint("case_id", "party_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_position: Mapped[int] = mapped_column(Integer)
    recipient_name: Mapped[str] = mapped_column(String(100))
    signed_on: Mapped[dt.date] = mapped_column(Date)  # the date the party wrote on the form
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))  # the clerk's account
    note: Mapped[str] = mapped_column(String(500), default="")


class SessionEventRow(Base):
    """One step of a live session (identity check, consent, answers, review …): append-only.

    The session's state is derived from these rows (app.domain.session.derive), never stored,
    so a page that reloads sees the same step and records. `payload` is JSON text.
    """

    __tablename__ = "session_events"
    __table_args__ = (UniqueConstraint("case_id", "session_no", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    session_no: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    party_position: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(80))


class PartyCode(Base):
    """A one-time code that lets one party join from their own device. Only its hash is kept."""

    __tablename__ = "party_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_position: Mapped[int] = mapped_column(Integer)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


# --- hearing recordings (migration 0004) ------------------------------------------------------


class RecordingRun(Base):
    """One stretch of the server's recorder in a case's room: from start (or restart) until
    the session ends, it is stopped, or it fails. A new run after a failure leaves the time
    between them as a gap on the timeline."""

    __tablename__ = "recording_runs"
    # One live run per case, whichever server records it (migration 0009).
    __table_args__ = (
        Index(
            "one_live_recording_per_case",
            "case_id",
            unique=True,
            postgresql_where=text("state = 'recording'"),
            sqlite_where=text("state = 'recording'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # A room key, not only a case's id (signaling/room_keys.py; migration 0019).
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(20))  # recording, stopped, failed
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    started_by: Mapped[str] = mapped_column(String(80))
    end_reason: Mapped[str | None] = mapped_column(String(40))
    failure: Mapped[str | None] = mapped_column(Text)
    # The server that records it (SIFA_NODE_NAME); None for runs from before servers were named.
    node: Mapped[str | None] = mapped_column(String(100))


class RecordingSegment(Base):
    """One participant's media from one connection: one file, hashed and read-only once closed.

    started_at is the UTC instant of the file's first frame: file time t is started_at + t."""

    __tablename__ = "recording_segments"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("recording_runs.id"), index=True)
    # A room key, not only a case's id (signaling/room_keys.py; migration 0019).
    case_id: Mapped[int] = mapped_column(Integer, index=True)
    participant_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer)
    storage_name: Mapped[str] = mapped_column(String(300), unique=True)
    # recording, closed, recovered (sealed after a crash), failed, empty, purged
    state: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    has_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    has_video: Mapped[bool] = mapped_column(Boolean, default=False)
    video_frames: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class MediationCase(Base):
    """A dispute before the people's mediation committee (app/domain/mediation.py)."""

    __tablename__ = "mediation_cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # A party who filed on the public page, by the phone a one-time code proved (migration 0015).
    filed_by_phone: Mapped[str | None] = mapped_column(String(20))
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    dispute_type: Mapped[str] = mapped_column(String(50))
    facts: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    end_note: Mapped[str | None] = mapped_column(Text)
    # A failed mediation's sealed 人民调解终止书 (art 26; migration 0017).
    termination_pdf: Mapped[str | None] = mapped_column(String(300))
    termination_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    parties: Mapped[list[MediationParty]] = relationship(
        order_by="MediationParty.position", cascade="all, delete-orphan", lazy="selectin"
    )


class MediationParty(PartyDetails, Base):
    __tablename__ = "mediation_parties"
    id: Mapped[int] = mapped_column(primary_key=True)
    mediation_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), index=True)


class MediationAgreement(Base):
    """Where a mediation's agreement stands (app/domain/mediation_agreement.py): its current
    draft version, the frozen text's digest, and once sealed the signed PDF (migration 0016)."""

    __tablename__ = "mediation_agreements"
    id: Mapped[int] = mapped_column(primary_key=True)
    mediation_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    draft_version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    sealed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # The session's 调解笔录, sealed with the agreement (migration 0020).
    transcript_pdf: Mapped[str | None] = mapped_column(String(300))
    transcript_sha256: Mapped[str | None] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012


class AgreementDraftRow(Base):
    """Every version of the draft as the mediator saved it: append-only, so the text any
    signature was made on can always be shown."""

    __tablename__ = "agreement_drafts"
    __table_args__ = (UniqueConstraint("mediation_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mediation_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the draft as JSON (app/domain/bodies)
    saved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    saved_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class AgreementSignatureRow(Base):
    """A handwritten signature on one frozen text, with how the signer was known and where
    they signed. Append-only: a signature voided by a later change stays on record."""

    __tablename__ = "agreement_signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    mediation_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), index=True)
    draft_version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    party_position: Mapped[int | None] = mapped_column(Integer)  # None: the mediator
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    signer_name: Mapped[str] = mapped_column(String(100))
    image: Mapped[bytes] = mapped_column(LargeBinary)  # PNG of the handwriting
    image_sha256: Mapped[str] = mapped_column(String(64))
    proof: Mapped[str] = mapped_column(String(200))  # how the signer was known (masked)
    device: Mapped[str] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    applies_for_confirmation: Mapped[bool | None] = mapped_column(Boolean)  # art 33 consent
    signed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class MediationCheckRow(Base):
    """One check of one party in a mediation session (app/domain/mediation_checks.py), made
    once and kept for good (migration 0018)."""

    __tablename__ = "mediation_checks"
    __table_args__ = (UniqueConstraint("mediation_id", "party_position", "check"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mediation_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), index=True)
    party_position: Mapped[int] = mapped_column(Integer)
    check: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(100))  # the mediator's account, or the party's pass
    device: Mapped[str] = mapped_column(String(200))
    client_address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class OneTimeCode(Base):
    """A code sent by SMS (app/domain/one_time_code.py): only its keyed hash is kept."""

    __tablename__ = "one_time_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class SmsOutbox(Base):
    """Texts waiting for the installation's SMS gateway, which sends and then deletes them."""

    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
