"""The application factory: wires settings, storage, keys, pages, routes and middleware."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from app import audit_key
from app.config import Settings
from app.keyring import FieldCipher, app_secret
from app.keys import PAGES, SERVICES, Clock, Services
from app.logs import CaseTaggingAuthority
from app.metrics.web import http_metrics, setup_metrics
from app.recording.ice import offer_host_addresses
from app.recording.routing import RECORDING_CONTROL, RecordingControl
from app.recording.run import WriterFactory
from app.recording.service import setup_recording
from app.recording.settings import recording_config
from app.ruling.agreement_desk import AgreementDesk
from app.ruling.committee_keys import CommitteeKeys
from app.ruling.desk import DeskConfig, RulingDesk
from app.ruling.sign import SignOptions
from app.store.db import Database
from app.store.migrate import is_current
from app.web import (
    admin,
    admin_api,
    agreement_api,
    agreement_pages,
    api,
    desk_pages,
    headers,
    health,
    live_api,
    mediation_api,
    mediation_pages,
    mediation_recording,
    mediation_room_api,
    middleware,
    openapi,
    org_admin,
    org_admin_api,
    pages,
    recording_api,
    rulings_api,
    service_api,
    session_api,
    session_pages,
    transcript_review_api,
    url_text,
    verify_pages,
)
from app.web.signaling_setup import attach_signaling
from signaling.server import SERVER_KEY

STATIC = Path(__file__).with_name("static")
REQUEST_SLACK = 1024 * 1024  # multipart framing around the largest allowed file


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    settings: Settings, *, clock: Clock = utc_now, recording_writers: WriterFactory | None = None
) -> web.Application:
    """`recording_writers` replaces the hearing recorder's file writers (tests inject faults)."""
    app = web.Application(
        middlewares=[
            headers.security_headers,
            middleware.request_context,
            http_metrics,
            middleware.errors,
            url_text.safe_url_text,
            middleware.identify,
            middleware.protect,
        ],
        client_max_size=settings.max_upload_bytes + REQUEST_SLACK,
    )
    settings.certs_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    audit_key.attach(db.engine, audit_key.ensure(settings.certs_dir))
    desk = RulingDesk(desk_config(settings))
    app[SERVICES] = Services(
        settings=settings,
        db=db,
        cipher=FieldCipher.from_certs(settings.certs_dir),
        secret=app_secret(settings.certs_dir, settings.secret_key),
        clock=clock,
        desk=desk,
        agreements=AgreementDesk(
            desk.renderer, functools.partial(committee_keys, settings), settings.rulings_dir
        ),
    )
    app[PAGES] = pages.environment()
    attach_signaling(app, app[SERVICES])
    offer_host_addresses(settings.recorder_addresses)
    recordings = setup_recording(
        app,
        recording_config(
            settings.recordings_dir, settings.recordings_retention_days, settings.node_name
        ),
        writer_factory=recording_writers,
    )
    app[RECORDING_CONTROL] = RecordingControl(recordings, app[SERVER_KEY].cluster)
    setup_metrics(app)
    app[SERVER_KEY].authority = CaseTaggingAuthority(app[SERVER_KEY].authority)
    app.cleanup_ctx.append(_database(db))
    app.router.add_routes(api.routes())
    app.router.add_routes(health.routes())
    app.router.add_routes(live_api.routes())
    app.router.add_routes(rulings_api.routes())
    app.router.add_routes(session_api.routes())
    app.router.add_routes(service_api.routes())
    app.router.add_routes(transcript_review_api.routes())
    app.router.add_routes(recording_api.routes())
    app.router.add_routes(admin_api.routes())
    app.router.add_routes(org_admin_api.routes())
    app.router.add_routes(mediation_api.routes())
    app.router.add_routes(agreement_api.routes())
    app.router.add_routes(mediation_room_api.routes())
    app.router.add_routes(mediation_recording.routes())
    app.router.add_routes(agreement_pages.routes())
    app.router.add_routes(mediation_pages.routes())
    app.router.add_routes(verify_pages.routes())
    app.router.add_routes(openapi.routes())
    app.router.add_routes(pages.routes())
    app.router.add_routes(session_pages.routes())
    app.router.add_routes(desk_pages.routes())
    app.router.add_routes(admin.routes())
    app.router.add_routes(org_admin.routes())
    app.router.add_static("/static/", STATIC, name="static")
    return app


def committee_keys(settings: Settings) -> CommitteeKeys:
    options = SignOptions(timestamp_url=settings.tsa_url)
    return CommitteeKeys(
        settings.certs_dir,
        options,
        p12_dir=settings.committee_p12_dir,
        p12_password=settings.committee_p12_password,
    )


def desk_config(settings: Settings) -> DeskConfig:
    return DeskConfig(
        certs_dir=settings.certs_dir,
        court_name=settings.court_name,
        court_code=settings.court_code,
        font_path=settings.font_path,
        font_index=settings.font_index,
        seal_image=settings.seal_image,
        tsa_url=settings.tsa_url,
        signing_p12=settings.signing_p12,
        signing_p12_dir=settings.signing_p12_dir,
        signing_p12_password=settings.signing_p12_password,
    )


def _database(db: Database):  # type: ignore[no-untyped-def]
    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        if not await is_current(db.engine):
            await db.close()
            raise RuntimeError("the database schema is not current: run `sifa init` first")
        yield
        await db.close()

    return lifecycle
