"""Which password protection an attached file carries (SPEC 10.1 ``password_zip_attached``).

Read from the files' own structures, cheaply and without decrypting anything:

    zip     a ZIP with at least one encrypted member: general-purpose bit 0 in the central
            directory (ZipCrypto and WinZip AES alike, APPNOTE 4.4.4)
    office  an Office document with "password to open": OOXML (docx/xlsx/pptx) encrypted
            into an OLE2 compound file holding ``EncryptionInfo`` and ``EncryptedPackage``
            streams (MS-OFFCRYPTO 2.3.4); legacy binary files through ``extract``'s check
    pdf     a PDF with an ``/Encrypt`` dictionary whose user password is not empty (a PDF
            that opens without a password is only permission-restricted, not PPAP)

Never raises: a damaged file is "not protected" (``extract`` reports damage separately).
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_ENCRYPT = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")


def protection(filename: str, data: bytes) -> str | None:
    """``"zip"``, ``"office"`` or ``"pdf"`` when the file needs a password; else None."""
    try:
        if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06" or \
                filename.lower().endswith(".zip"):
            return "zip" if _zip_encrypted(data) else None
        if data[:8] == _OLE_MAGIC:
            return "office" if _ole_encrypted(data) else None
        head = data[:1024]
        if b"%PDF-" in head:
            return "pdf" if _pdf_needs_password(data) else None
    except Exception:   # a damaged file: not ours to report here
        return None
    return None


def _zip_encrypted(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(i.flag_bits & 1 for i in zf.infolist() if not i.is_dir())


def _ole_encrypted(data: bytes) -> bool:
    """Read from the compound file's directory (``extract.ole_encrypted``), never from
    bytes that merely spell the stream names."""
    from service.policy.extract import ole_encrypted

    return bool(ole_encrypted(data))


def _pdf_needs_password(data: bytes) -> bool:
    if not _PDF_ENCRYPT.search(data):
        return False
    from pypdf import PdfReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(data))
        if not reader.is_encrypted:
            return False
        try:
            return not reader.decrypt("")
        except Exception:   # an unsupported cipher: it is encrypted all the same
            return True
