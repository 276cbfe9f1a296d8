"""What a file is and what it may be called: type by content, safe display names, download headers.

Type: decided by the bytes alone (magic numbers, and for ZIP containers the parts they hold);
the claimed Content-Type and the file name's extension never decide. Allowed: PDF, PNG, JPEG,
Word and Excel (OOXML: a ZIP with `[Content_Types].xml` and `word/` or `xl/` parts) and OFD
(GB/T 33190 版式文档, a ZIP with `OFD.xml`: how Chinese government documents are often
issued). Anything else, a bare ZIP included (it could hold anything), is refused.

Names (a design choice: a strange name is cleaned, never refused — it is only shown): the
last path segment after `/` or `\\`, NFC, no control or format characters (NUL, CR/LF, the
bidi overrides that disguise `exe.pdf`), no leading dots, at most 200 characters, and the
extension of the sniffed type added when the name does not end in one of its extensions.
"""

from __future__ import annotations

import unicodedata
import urllib.parse
import zipfile
from typing import BinaryIO

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFD = "application/ofd"
EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg"), DOCX: (".docx",), XLSX: (".xlsx",),
              OFD: (".ofd",)}
ALLOWED_TYPES = tuple(EXTENSIONS)
MAX_ZIP_ENTRIES = 10_000
MAX_NAME = 200


class NotAllowedType(Exception):
    """The bytes are none of the allowed types."""


def _zip_type(stream: BinaryIO) -> str | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return None
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError):
        return None
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    return None


def sniff(stream: BinaryIO) -> str:
    """The media type of the bytes in `stream` (seekable, at its start); NotAllowedType otherwise."""
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04") and (found := _zip_type(stream)):
        return found
    raise NotAllowedType()


def _printable(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))


def client_name(raw: str | None) -> str:
    """The name as sent, for the audit trail: control characters shown as U+FFFD, 255 at most."""
    return "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cs") else c for c in (raw or ""))[:255]


def display_name(raw: str | None, media_type: str) -> str:
    """A safe name to show and to send on download (see the module docstring)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(_printable(name).split())
    name = name.lstrip(". ").rstrip(" ")
    extensions = EXTENSIONS[media_type]
    if len(name) > MAX_NAME:
        _, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and len(ext) <= 10 else ""
        name = name[:MAX_NAME - len(keep)] + keep
    if not name:
        name = "attachment"
    if not name.lower().endswith(extensions):
        name += extensions[0]
    return name


def content_disposition(name: str) -> str:
    """RFC 6266 with an RFC 5987 `filename*` (UTF-8, so 整改报告.pdf survives) and an ASCII fallback."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%;' else "_" for c in name)
    encoded = urllib.parse.quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
