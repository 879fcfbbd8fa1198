"""What an uploaded file is, and the checks an upload gets before anything is stored.

Everything here is cheap and runs in the admin function, so a bad upload gets a clear 4xx at once:
empty, too large, a type we do not read, a name that lies about the content, text that is not
UTF-8, an encrypted PDF. What only a full read can tell (a PDF of scanned images with no text)
is the worker's to find, and ends as the document's `failed` status with the reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from typing import Any

# 4 MiB: a file travels base64-encoded in a JSON body (a third bigger), and a Lambda request is at
# most 6 MB. A 200-page text PDF is about 1 MB.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024

FORMATS: dict[str, str] = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".docx": "docx",
}
TEXT_FORMATS = frozenset({"html", "markdown", "text"})
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "text": "text/plain; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# A DOCX's document.xml larger than this is a zip bomb or not worth reading.
MAX_DOCX_XML_BYTES = 64 * 1024 * 1024


class UploadRejected(Exception):
    """The upload cannot be accepted; `status` is the HTTP status, the message says what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def supported() -> str:
    return ", ".join(sorted(FORMATS))


def format_of(filename: str) -> str:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        shown = suffix or "no extension"
        raise UploadRejected(415, f"Unsupported file type ({shown}): upload one of {supported()}.")
    return fmt


def check_upload(filename: str, data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """The file's format, or UploadRejected with the status and what to fix."""
    fmt = format_of(filename)
    if not data:
        raise UploadRejected(400, f"{filename} is empty: there is nothing to learn from an empty file.")
    if len(data) > max_bytes:
        raise UploadRejected(
            413,
            f"{filename} is {len(data) / 1048576:.2f} MB; the largest document accepted is "
            f"{max_bytes / 1048576:.0f} MB. Split it into smaller files (or upload its text).",
        )
    if fmt == "pdf":
        _check_pdf(filename, data)
    elif fmt == "docx":
        _check_docx(filename, data)
    else:
        decode_text(filename, data)
    return fmt


def decode_text(filename: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UploadRejected(422, f"{filename} looks binary, not text: upload it with its real extension.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadRejected(
            422, f"{filename} is not UTF-8 text (byte {error.start} is invalid): save it as UTF-8 and upload again."
        ) from None


def _check_pdf(filename: str, data: bytes) -> None:
    if b"%PDF-" not in data[:1024]:
        raise UploadRejected(422, f"{filename} is not a PDF (it does not start with %PDF-).")
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        locked = pdf_lock(reader)
        pages = 0 if locked else len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise UploadRejected(422, f"{filename} is a damaged PDF that cannot be read ({error}).") from None
    if locked:
        raise UploadRejected(422, f"{filename} {locked}.")
    if pages == 0:
        raise UploadRejected(422, f"{filename} has no pages.")


def pdf_lock(reader: Any) -> str | None:
    """Why a pypdf reader's PDF cannot be read (to follow the file's name), or None when it can: not
    encrypted, or encrypted with an owner password only (printing or copying restricted), which opens
    with the empty user password as in any viewer. Only a user password keeps us out."""
    if not reader.is_encrypted:
        return None
    from pypdf.errors import DependencyError

    try:
        if reader.decrypt(""):  # PasswordType: NOT_DECRYPTED (0) unless the empty password opens it
            return None
    except DependencyError:  # AES needs the cryptography package, which the layer does not carry
        return (
            "is encrypted with AES, which we cannot open (even without a password): save a copy without "
            "protection and upload that"
        )
    return "needs a password to open (it is password-protected): save a copy without protection and upload that"


def _check_docx(filename: str, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError):
        raise UploadRejected(422, f"{filename} is not a Word document (.docx): no word/document.xml inside.") from None
    if info.file_size > MAX_DOCX_XML_BYTES:
        raise UploadRejected(413, f"{filename} unpacks to more than {MAX_DOCX_XML_BYTES // 1048576} MB of XML.")
