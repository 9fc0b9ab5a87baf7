"""Errors raised by the pure core. Each carries the data a caller needs to explain it."""

from __future__ import annotations

from app.domain.state_words import STEP_DOING, wrong_state


class DomainError(Exception):
    """A rule of the domain refused something. `code` is stable; `message` is for people."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class ValidationError(DomainError):
    code = "validation_failed"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        summary = "; ".join(f"{field}: {text}" for field, text in problems)
        super().__init__(summary, field=problems[0][0] if problems else None)


class TransitionRefused(DomainError):
    """A step that the lifecycle does not allow from the current state."""

    code = "transition_refused"

    def __init__(self, state: str, step: str) -> None:
        self.state = state
        self.step = step
        zh, en = STEP_DOING.get(step, (step, step))
        super().__init__(wrong_state(state, zh, en))


class NotPermitted(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unavailable(DomainError):
    """Another server that must act (the one hosting a room) cannot be reached just now."""

    code = "unavailable"


class StoredFileDamaged(DomainError):
    """A stored file no longer matches what was recorded: damaged or tampered with on disk."""

    code = "stored_file_damaged"


class InsufficientStorage(DomainError):
    """The disk that holds documents or materials is full: nothing was written or recorded."""

    code = "insufficient_storage"

    def __init__(self, folder: str) -> None:
        self.folder = folder  # for the log; people are not shown server paths
        super().__init__(
            "服务器存储空间已满，本次操作未生效（未保存任何文件或记录），请联系管理员。"
            " / The server's storage is full: nothing was saved or recorded; "
            "contact the administrator."
        )


class Unauthenticated(DomainError):
    code = "unauthenticated"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WrongState(DomainError):
    """Something that needs the case in another state than it is (beside the lifecycle table)."""

    code = "wrong_state"


class NoSigningKey(DomainError):
    """The court has no signing key of its own: its documents are refused, never signed with
    another court's key."""

    code = "no_signing_key"

    def __init__(self, court_code: str) -> None:
        self.court_code = court_code
        super().__init__(
            f"本院（{court_code}）尚未配置电子签名证书，不能出具文书。"
            f" / This court ({court_code}) has no signing key configured."
        )


class UnsupportedMediaType(DomainError):
    """A body in another format than the endpoint reads (415)."""

    code = "unsupported_media_type"
