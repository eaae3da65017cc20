"""Photos: accepted only when their first bytes say JPEG or PNG, bounded in size, stored by content hash.

Naming files by SHA-256 makes storage idempotent: a retried upload rewrites the same file instead of adding one,
and a file written by a transaction that later failed is harmless (it is simply unreferenced).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geogrid.cases.settings import CaseSettings

SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", "png"))


class PhotoError(ValueError):
    """A photo we refuse; ``too_large`` distinguishes HTTP 413 from 422."""

    def __init__(self, field: str, reason: str, too_large: bool = False) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.too_large = field, reason, too_large


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str
    ext: str
    sha256: str

    @property
    def relative_path(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256}.{self.ext}"


def validate(data: bytes, field: str, settings: CaseSettings | None = None) -> Photo:
    """Check size and magic bytes (never the client's declared content type)."""
    settings = settings or CaseSettings.from_env()
    if len(data) > settings.max_photo_bytes:
        raise PhotoError(field, f"larger than {settings.max_photo_bytes} bytes", too_large=True)
    if not data:
        raise PhotoError(field, "empty file")
    for magic, content_type, ext in SIGNATURES:
        if data.startswith(magic):
            return Photo(data, content_type, ext, hashlib.sha256(data).hexdigest())
    raise PhotoError(field, "not a JPEG or PNG image (checked by its first bytes)")


def store(photo: Photo, settings: CaseSettings | None = None) -> str:
    """Write the photo under the media directory (atomically) and return its relative path."""
    settings = settings or CaseSettings.from_env()
    target = settings.media_dir / photo.relative_path
    if target.is_file() and target.stat().st_size == len(photo.data):
        return photo.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(photo.data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return photo.relative_path


def path_of(relative: str, settings: CaseSettings | None = None) -> Path:
    settings = settings or CaseSettings.from_env()
    return settings.media_dir / relative
