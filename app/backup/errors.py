"""What stops a backup or a restore. Messages are for the operator: Chinese, then English."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that did not happen; `message` says why, `exit_code` for the shell."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BackupDamaged(BackupError):
    """The backup does not match its manifest: restoring it would restore something else."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {what}: {path}" for path, what in problems)
        super().__init__(
            "备份已损坏，未作任何更改。 / The backup is damaged; nothing was changed.\n" + lines
        )


class WrongPassphrase(BackupError):
    def __init__(self) -> None:
        super().__init__(
            "密钥口令错误，无法解开备份中的密钥；未作任何更改。"
            " / Wrong passphrase: the keys in the backup do not open; nothing was changed."
        )


class DestinationFull(BackupError):
    def __init__(self, where: str) -> None:
        super().__init__(
            f"备份目标磁盘已满（{where}），未完成的备份已删除。"
            f" / The backup destination is full ({where}); the unfinished backup was removed."
        )
