from __future__ import annotations

from govbot.core.text import as_text, looks_binary, sniff_encoding


def test_every_encoding_reads_back_as_text() -> None:
    line = "KEY=AKIAIOSFODNN7EXAMPLE\n"
    for data in (line.encode("utf-16"), line.encode("utf-16-le"), line.encode("utf-16-be"),
                 line.encode("utf-32"), b"\xef\xbb\xbf" + line.encode(), line.encode()):
        assert as_text(data) == line, data[:8]
    assert "AKIAIOSFODNN7EXAMPLE" in as_text(b"\x00\xff\xfe junk " + line.encode())
    assert sniff_encoding(b"plain ascii text") == ("utf-8", 0)
    assert looks_binary(line.encode("utf-16-le")) and not looks_binary(line.encode())
