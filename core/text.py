"""Bytes to text for scanners, whatever the bytes claim to be.

A NUL byte or a UTF-16 encoding used to make a file "binary" and skip it (issue 9, class 4). A
secret scanner must see every file as text: this decodes by BOM, recognises BOM-less UTF-16 by its
NUL pattern, and otherwise reads UTF-8 with undecodable bytes and NULs replaced, so one bad byte
never hides the rest of the file.
"""

from __future__ import annotations

import codecs
import re

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


PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")
_SOURCE_SUFFIXES = (
    *PYTHON_SUFFIXES,
    ".ipynb", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".java", ".kt", ".rb", ".php", ".rs",
    ".c", ".h", ".cc", ".cpp", ".cs", ".swift", ".scala", ".sh", ".bash", ".yml", ".yaml", ".tf", ".json",
)
_SHEBANG_PY = re.compile(rb"\A#![^\n]*\bpython[0-9.]*\b")
_SHEBANG = re.compile(rb"\A#!")
# PEP 263: a coding declaration in the first two lines.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_PLAIN_CODECS = {"utf-8", "utf8", "utf_8", "ascii", "us-ascii", "latin-1", "latin1", "iso-8859-1", "iso8859-1",
                 "utf-8-sig"}


def python_by_content(path: str, data: bytes) -> str | None:
    """How ``path`` is Python although its name does not say so: "shebang" or "notebook"; None
    for a ``.py`` file or for something that is not Python."""
    if path.endswith(PYTHON_SUFFIXES):
        return None
    if path.endswith(".ipynb"):
        return "notebook"
    if _SHEBANG_PY.match(data):
        return "shebang"
    return None


def coding_cookie(data: bytes) -> str | None:
    """The source encoding a Python file declares (PEP 263), lower-cased, if it is one scanners
    would read differently from Python (anything but UTF-8/ASCII/Latin-1)."""
    head = b"\n".join(data.splitlines()[:2])
    m = _COOKIE.search(head)
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace").lower()
    return None if name in _PLAIN_CODECS else name


def looks_like_source(path: str, data: bytes) -> bool:
    """A file SAST should see: a source suffix, or a script (shebang)."""
    return path.endswith(_SOURCE_SUFFIXES) or bool(_SHEBANG.match(data))


# tests/ and testing/ folders, test_*.py, *_test(s).py, conftest.py, and a module named test.py or
# tests.py (Django's per-app convention: `polls/tests.py`).
_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_tests?\.py$|(^|/)(conftest|tests?)\.py$")


def is_test_path(path: str) -> bool:
    """Whether ``path`` is test code by its name (severity calibration, fixture decoys)."""
    return bool(_TEST_PATH.search(path))
