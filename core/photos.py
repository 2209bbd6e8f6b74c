"""Photos uploaded as evidence (issues, joint inspections): the one validation.

A photo is accepted only if it is a JPEG, PNG or WebP picture that Pillow decodes in
full and whose format matches what the browser declared: a picture's signature followed
by something else (HTML, a WAVE file in a RIFF container) is refused.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from core.errors import ValidationError

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}  # content type -> Pillow format
MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding


@dataclass
class Photo:
    filename: str
    content_type: str
    data: bytes


def from_files(files) -> list[Photo]:
    """The photos of a form's file field (werkzeug FileStorage objects); empty fields skipped."""
    return [Photo(filename=f.filename or "photo", content_type=f.mimetype or "", data=f.read())
            for f in (files or []) if f and f.filename]


def _decodes_as(data: bytes, expected: str) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected or image.width * image.height > MAX_PIXELS:
                return False
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # verify() does not decode the pixels: load() does
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def validate(photos: list[Photo], *, already: int = 0) -> None:
    """Refuse too many photos (counting `already` stored ones), files too large, and files
    that are not whole pictures of a declared, allowed type."""
    if already + len(photos) > MAX_PHOTOS:
        raise ValidationError(_("At most %(n)d photos.", n=MAX_PHOTOS), fields={"photos": _("Too many photos.")})
    for photo in photos:
        if len(photo.data) > MAX_PHOTO_BYTES:
            raise ValidationError(
                _("%(name)s is larger than 5 MB.", name=photo.filename), fields={"photos": _("File too large.")}
            )
        expected = PHOTO_TYPES.get(photo.content_type)
        if expected is None or not _decodes_as(photo.data, expected):
            raise ValidationError(
                _("%(name)s is not a JPEG, PNG or WebP picture.", name=photo.filename),
                fields={"photos": _("Unsupported file.")},
            )
