"""A minimal PDF writer (development only: the sample data, tests and the benchmark).

Text pages in Helvetica with WinAnsi encoding (Spanish accents work), headings in a larger size,
paragraphs wrapped at a fixed width; a page may also be a drawing with no text at all (what a
scanned page looks like to a text extractor). Written by hand to the PDF 1.4 structure (objects,
cross-reference table, trailer) so no PDF-writing library is needed anywhere.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

LINE_CHARS = 95
PAGE_TOP = 750
PAGE_BOTTOM = 60

# ("h", text) is a heading, ("p", text) a paragraph; an empty page list is a drawing without text.
Page = Sequence[tuple[str, str]]


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _page_stream(page: Page) -> bytes:
    if not page:
        return b"0.6 g 72 72 468 648 re f 0 g 100 400 m 500 400 l S"
    out = [b"BT", b"72 %d Td" % PAGE_TOP]
    y = PAGE_TOP
    for style, text in page:
        size, leading = (15, 22) if style == "h" else (10, 14)
        lines = [text] if style == "h" else textwrap.wrap(text, LINE_CHARS) or [""]
        for line in lines:
            if y < PAGE_BOTTOM:
                break
            out.append(b"/F1 %d Tf (%s) Tj 0 -%d Td" % (size, _escape(line), leading))
            y -= leading
        out.append(b"0 -6 Td")
        y -= 6
    out.append(b"ET")
    return b"\n".join(out)


def make_pdf(pages: Sequence[Page], *, title: str | None = None) -> bytes:
    objects: list[bytes] = []  # object n is objects[n - 1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # the page tree, filled in once the pages have numbers
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids: list[int] = []
    for page in pages:
        stream = _page_stream(page)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content_number = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % content_number
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = None
    if title:
        objects.append(b"<< /Title (%s) /Producer (mostrador local/pdf_writer) >>" % _escape(title))
        info = len(objects)
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        body += b"%010d 00000 n \n" % offset
    trailer = b"<< /Size %d /Root 1 0 R%s >>" % (len(objects) + 1, b" /Info %d 0 R" % info if info else b"")
    body += b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(body)


def encrypt_pdf(data: bytes, password: str, *, owner_only: bool = False) -> bytes:
    """The same PDF, password-protected (RC4, which pypdf writes without extra packages). `owner_only`:
    only an owner password (restrictions such as printing or copying); it opens without one."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    user_password = "" if owner_only else password
    writer.encrypt(user_password=user_password, owner_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
