"""Decide whether a file is worth deflating: already-compressed data is stored as is.

Deflating a JPEG or an XLSX costs time and saves nothing, so those entries are STORED.
The decision looks at the content first (magic numbers), then the name's extension and
the declared MIME type, and finally compresses a small sample: data that does not shrink
(random bytes, encrypted files, unknown compressed formats) is stored too.
"""

from __future__ import annotations

import zlib

SAMPLE = 64 * 1024
# A sample must shrink by at least this fraction to be worth deflating.
MIN_SAVING = 0.03

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# (offset, magic) pairs of compressed containers and codecs.
_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"\xff\xd8\xff"),              # JPEG
    (0, b"\x89PNG\r\n\x1a\n"),         # PNG
    (0, b"GIF87a"), (0, b"GIF89a"),    # GIF
    (0, b"PK\x03\x04"), (0, b"PK\x05\x06"), (0, b"PK\x07\x08"),  # ZIP, Office XML, ODF, JAR
    (0, b"%PDF-"),                     # PDF
    (0, b"ID3"),                       # MP3 with ID3 tag
    (4, b"ftyp"),                      # MP4, MOV, M4A, HEIC, AVIF, 3GP
    (0, b"7z\xbc\xaf\x27\x1c"),        # 7z
    (0, b"\x1f\x8b"),                  # gzip
    (0, b"BZh"),                       # bzip2
    (0, b"\xfd7zXZ\x00"),              # xz
    (0, b"\x5d\x00\x00"),              # lzma alone
    (0, b"\x28\xb5\x2f\xfd"),          # zstd
    (0, b"LZIP"),                      # lzip
    (0, b"Rar!\x1a\x07"),              # RAR
    (0, b"MSCF"),                      # CAB
    (0, b"OggS"),                      # Ogg, Opus
    (0, b"fLaC"),                      # FLAC
    (0, b"\x1a\x45\xdf\xa3"),          # Matroska, WebM
    (0, b"\x00\x00\x00\x0cjP  "),      # JPEG 2000
)

_COMPRESSED_EXTENSIONS = _words("""
    jpg jpeg jpe jfif png gif webp heic heif avif jp2 jxl
    zip zipx docx docm xlsx xlsm xlsb pptx pptm odt ods odp odg epub jar apk ipa
    pdf mp3 m4a aac ogg oga opus flac wma mp4 m4v mov qt avi mkv webm wmv flv 3gp 3g2
    7z gz tgz bz2 tbz2 xz txz lz lzma zst rar cab dmg
""")

_COMPRESSED_TYPES = _words("""
    application/zip application/x-zip-compressed application/pdf application/gzip
    application/x-gzip application/x-7z-compressed application/x-bzip2 application/x-xz
    application/vnd.rar application/x-rar-compressed application/zstd application/epub+zip
    application/vnd.openxmlformats-officedocument.wordprocessingml.document
    application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    application/vnd.openxmlformats-officedocument.presentationml.presentation
    application/vnd.oasis.opendocument.text application/vnd.oasis.opendocument.spreadsheet
    application/vnd.oasis.opendocument.presentation
""")

_COMPRESSED_MAJOR = ("image/", "audio/", "video/")
# Uncompressed members of those families still deflate well.
_UNCOMPRESSED_TYPES = _words("""
    image/bmp image/x-ms-bmp image/tiff image/svg+xml image/x-icon image/vnd.microsoft.icon
    audio/wav audio/x-wav audio/wave audio/vnd.wave audio/aiff audio/x-aiff
""")


def magic_compressed(head: bytes) -> bool:
    """True when ``head`` starts like a known compressed format."""
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI "):
        return True
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return True  # MPEG audio frame sync (MP3 without a tag, AAC ADTS)
    return any(head[off:off + len(m)] == m for off, m in _MAGIC)


def extension(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base.strip(".") else ""


def declared_compressed(name: str, content_type: str) -> bool:
    """True when the name or the MIME type says the file is already compressed."""
    if extension(name) in _COMPRESSED_EXTENSIONS:
        return True
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype in _UNCOMPRESSED_TYPES:
        return False
    return ctype in _COMPRESSED_TYPES or ctype.startswith(_COMPRESSED_MAJOR)


def incompressible(sample: bytes) -> bool:
    """True when a quick deflate of the sample saves less than ``MIN_SAVING``."""
    if len(sample) < 512:
        return False
    return len(zlib.compress(sample[:SAMPLE], 1)) > len(sample[:SAMPLE]) * (1 - MIN_SAVING)


def should_store(name: str, content_type: str, head: bytes) -> bool:
    """Store (do not deflate) already-compressed or incompressible data."""
    return (magic_compressed(head) or declared_compressed(name, content_type)
            or incompressible(head))
