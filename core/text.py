"""Bytes to text for scanners, whatever the bytes claim to be.

A NUL byte or a UTF-16 encoding used to make a file "binary" and skip it (issue 9, class 4). A
secret scanner must see every file as text: this decodes by BOM, recognises BOM-less UTF-16 by its
NUL pattern, and otherwise reads UTF-8 with undecodable bytes and NULs replaced, so one bad byte
never hides the rest of the file.
"""

from __future__ import annotations

import codecs

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """(codec, bytes of BOM to skip) for ``data``; BOM-less UTF-16 is told by where its NULs are."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    sample = data[:4096]
    if len(sample) >= 4:
        even, odd = sample[0::2], sample[1::2]
        nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
        if nul_odd > 0.4 and nul_even < 0.1:
            return "utf-16-le", 0
        if nul_even > 0.4 and nul_odd < 0.1:
            return "utf-16-be", 0
    return "utf-8", 0


def as_text(data: bytes) -> str:
    """The text in ``data``: never raises, never drops a readable run of characters."""
    codec, skip = sniff_encoding(data)
    return data[skip:].decode(codec, "replace").replace("\x00", " ")


def looks_binary(data: bytes) -> bool:
    """What git and most tools call binary: a NUL byte in the first 8 KB (a UTF-16 text is)."""
    return b"\x00" in data[:8000]
