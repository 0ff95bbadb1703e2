"""The backup file: a gzip'd tar whose members are read as a stream, in order (manifest.json,
public.json, then schema/<table>.copy), and the errors an operator sees."""

import io
import json
import tarfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

FORMAT = "reactdjango-hub-tenant-backup"
FORMAT_VERSION = 1
CHUNK = 1 << 16


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line an operator can act on."""


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def members(path: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    try:
        tar = tarfile.open(path, "r|gz")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file.") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is not a tenant backup ({one_line(exc)}).") from None
    with tar:
        try:
            for member in tar:
                if not member.isfile():
                    raise BackupError(f"{path} is not a tenant backup (unexpected entry {member.name}).")
                yield member, tar.extractfile(member)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"{path} is damaged ({one_line(exc)}).") from None


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_json(path: Path, member: tarfile.TarInfo, stream: IO[bytes], expected: str):
    if member.name != expected:
        raise BackupError(f"{path} is not a tenant backup ({expected} missing).")
    try:
        data = stream.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is damaged ({one_line(exc)} in {expected}).") from None
    try:
        return json.loads(data)
    except ValueError:
        raise BackupError(f"{path} is not a tenant backup ({expected} is not JSON).") from None


def backup_manifest(path: Path) -> dict:
    """The manifest of a backup file (BackupError when the file is not one)."""
    for member, stream in members(Path(path)):
        return check_manifest(Path(path), read_json(Path(path), member, stream, "manifest.json"))
    raise BackupError(f"{path} is not a tenant backup (it is empty).")


def check_manifest(path: Path, manifest) -> dict:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a ReactDjango-Hub tenant backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {manifest.get('format_version')}; "
            f"this hub reads version {FORMAT_VERSION}."
        )
    for key in ("slug", "schema", "base_hostname", "migrations", "tables"):
        if key not in manifest:
            raise BackupError(f"{path} is not a tenant backup (the manifest lacks {key}).")
    return manifest
