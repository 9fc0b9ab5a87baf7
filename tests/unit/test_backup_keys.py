"""The certs folder sealed under a passphrase: opens with it, refuses any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.backup.errors import BackupError, WrongPassphrase
from app.backup.keys import data_key_id, data_key_id_in, open_keys, seal_keys, unpack_keys


def certs(tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "data.key").write_text("ab" * 32 + "\n")
    (folder / "courts" / "粤0305").mkdir(parents=True)
    (folder / "courts" / "粤0305" / "court-signing.key").write_bytes(b"-----BEGIN KEY-----")
    (folder / ".issue.lock").write_text("")
    return folder


def test_keys_round_trip_and_a_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    folder = certs(tmp_path)
    sealed = seal_keys(folder, "a long passphrase")
    assert b"abab" not in sealed and b"BEGIN KEY" not in sealed  # nothing in the clear
    assert b"a long passphrase" not in sealed
    with pytest.raises(WrongPassphrase):
        open_keys(sealed, "a long passphrasf")
    tar = open_keys(sealed, "a long passphrase")
    assert data_key_id_in(tar) == data_key_id(folder) is not None
    unpack_keys(tar, tmp_path / "back")
    assert (tmp_path / "back" / "data.key").read_bytes() == (folder / "data.key").read_bytes()
    assert (tmp_path / "back" / "courts" / "粤0305" / "court-signing.key").exists()
    assert not (tmp_path / "back" / ".issue.lock").exists()


def test_a_changed_header_does_not_open(tmp_path: Path) -> None:
    sealed = seal_keys(certs(tmp_path), "a long passphrase")
    # Weaker scrypt parameters swapped into the header: bound in, so refused.
    tampered = sealed.replace(b'"n": 32768', b'"n": 16384', 1)
    assert tampered != sealed
    with pytest.raises(WrongPassphrase):
        open_keys(tampered, "a long passphrase")


def test_a_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="12"):
        seal_keys(certs(tmp_path), "short")
