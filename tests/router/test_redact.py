from __future__ import annotations

from govbot.router.redact import REDACTED_LINE, WITHHELD_FILE, Redaction, Redactor

PATCH = """\
--- a/app/x.py
+++ b/app/x.py
@@ -1,2 +1,4 @@
 import os
-OLD = "AKIAIOSFODNN7EXAMPLE"
+TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
+PLAIN = "looks-harmless"
+x = 1
"""


def test_patch_redaction_keeps_structure_and_removes_values() -> None:
    counts = Redaction()
    out = Redactor.default().patch("app/x.py", PATCH, [3], counts)
    assert "AKIAIOSFODNN7EXAMPLE" not in out and "ghp_0123456789" not in out
    assert "looks-harmless" not in out and f"+{REDACTED_LINE}" in out
    assert "+x = 1" in out and "@@ -1,2 +1,4 @@" in out
    assert counts.total >= 3


def test_file_flagged_without_a_line_is_withheld() -> None:
    out = Redactor.default().patch("app/x.py", PATCH, [None], Redaction())
    assert WITHHELD_FILE in out and "looks-harmless" not in out and "+++ b/app/x.py" in out


def test_free_text_and_pem_blocks() -> None:
    text = "password: hunter2-secret\nok line\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1\n-----END EC PRIVATE KEY-----\nafter\n"
    counts = Redaction()
    out = Redactor.default().text(text, counts)
    assert "hunter2-secret" not in out and "MHcCAQEEIIrYSSNQFaA2Hwf1" not in out
    assert "ok line" in out and out.endswith("after\n")
    assert Redactor.default().text("talk about tokens and passwords", Redaction()) == "talk about tokens and passwords"
