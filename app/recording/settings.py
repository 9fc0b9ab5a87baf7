"""What recording runs and segments are called, and the recorder's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.recording import recovery
from app.recording.writer import EncoderSettings

RECORDING = "recording"
STOPPED = "stopped"
FAILED = recovery.FAILED
RECOVERED = recovery.RECOVERED
PLAYABLE = recovery.PLAYABLE
ACTOR = "recorder"
# A run's end_reason when its server stopped and another takes the room over and records on.
HANDOVER = "handover"
READ_ONLY = 0o444


@dataclass(frozen=True)
class RecordingConfig:
    directory: Path
    retention_days: int = 3650
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    # Case bundles carry recordings up to this size each; larger ones are listed by hash.
    bundle_media_limit_bytes: int = 32 * 1024 * 1024
    # Runs are stamped with the server that records them: after a crash each server settles
    # only its own, never a live run of another server on the same database.
    node: str = "local"

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        if self.bundle_media_limit_bytes < 0:
            raise ValueError("bundle_media_limit_bytes cannot be negative")


def recording_config(directory: Path, retention_days: int, node: str) -> RecordingConfig:
    """From the settings SIFA_RECORDINGS_DIR, SIFA_RECORDINGS_RETENTION_DAYS, SIFA_NODE_NAME."""
    return RecordingConfig(directory=Path(directory), retention_days=retention_days, node=node)
