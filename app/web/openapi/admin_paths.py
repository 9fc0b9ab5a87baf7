"""The accounts console (app/web/admin_api.py) and the own-password change in the OpenAPI
document."""

from __future__ import annotations

from typing import Any

from app.domain.bodies import admin as bodies
from app.web.openapi.common import obj, op, path_ids
from app.web.openapi.responses import ACCOUNT, ROLE


def admin_paths() -> dict[str, Any]:
    admin = "admin"
    account_id = path_ids("account_id")
    listing = op(
        "Every account with what it is bound to, and the courts, committees and rooms an "
        "account can be bound to; filter with ?role=",
        admin,
        ok=obj(
            accounts={"type": "array", "items": ACCOUNT},
            bindings=obj(
                courts={
                    "type": "array",
                    "items": obj(code={"type": "string"}, name={"type": "string"}),
                },
                committees={"type": "array", "items": {"type": "string"}},
                rooms={
                    "type": "array",
                    "items": obj(name={"type": "string"}, hall={"type": "string"}),
                },
            ),
        ),
    )
    listing["parameters"] = [{"name": "role", "in": "query", "schema": ROLE}]
    return {
        "/api/admin/accounts": {
            "get": listing,
            "post": op(
                "Add an account (audited account.created). Judges and clerks need a court "
                "code, mediators a committee name, kiosks a room name; a wrong or missing one "
                "is 422, a user name in use 409 username_taken",
                admin,
                bodies.NewAccount,
                ACCOUNT,
                "201",
            ),
        },
        "/api/admin/accounts/{account_id}/active": {
            "post": op(
                "Deactivate (every session of the account ends at once; audited "
                "account.deactivated) or reactivate (account.reactivated). Administrators "
                "cannot deactivate themselves (403 own_account)",
                admin,
                bodies.SetActive,
                ACCOUNT,
            ),
            "parameters": account_id,
        },
        "/api/admin/accounts/{account_id}/logout": {
            "post": op(
                "End every login session of the account, changing nothing else (audited "
                "account.logged_out): how a room's kiosk, which offers no log-out on its public "
                "screen, is logged out. Not one's own (403 own_account)",
                admin,
                None,
                ACCOUNT,
            ),
            "parameters": account_id,
        },
        "/api/admin/accounts/{account_id}/password": {
            "post": op(
                "Reset a password (audited account.password_reset); the account's sessions "
                "end. Not one's own (403 own_account: use /api/account/password)",
                admin,
                bodies.ResetPassword,
                ACCOUNT,
            ),
            "parameters": account_id,
        },
        "/api/account/password": {
            "post": op(
                "Change one's own password with the current one. A wrong one is 422, audited "
                "(account.password_change_failed) and counted like a failed login (429 "
                "too_many_attempts after three); the account's other sessions end, this one "
                "stays (audited account.password_changed)",
                "every logged-in account but kiosks (their password is reset by the admin)",
                bodies.OwnPassword,
                obj(ok={"const": True}, sessions_ended={"type": "integer"}),
            )
        },
    }
