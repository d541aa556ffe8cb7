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


KEY_BODY = ("MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
            "aNhR8cF9VnsKQ5OCy8VQ2v6s1bD0a3dP0Yp2w1kq9oXz3cVbNmQwErTyUiOpAsDf")


def test_flagged_begin_line_does_not_switch_off_the_key_block() -> None:
    """Issue 9, class 1: the scanner flags the BEGIN line; the body lines must still go."""
    patch = ("--- /dev/null\n+++ b/deploy/id_rsa\n@@ -0,0 +1,4 @@\n+-----BEGIN RSA PRIVATE KEY-----\n"
             + "".join(f"+{b}\n" for b in KEY_BODY) + "+-----END RSA PRIVATE KEY-----\n")
    out = Redactor.default().patch("deploy/id_rsa", patch, [1], Redaction())
    assert not any(b in out for b in KEY_BODY)
    assert out.count(REDACTED_LINE) == 4


def test_putty_and_ssh2_keys_are_blocks() -> None:
    ppk = ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 1\n"
           "AAAAC3NzaC1lZDI1NTE5AAAAIMfakepublicfakepublicfakepublicfake\nPrivate-Lines: 1\n"
           f"{KEY_BODY[0]}\nPrivate-MAC: 0d1c2b3a49586776a5b4c3d2e1f00f1e2d3c4b5a\nafter\n")
    ssh2 = f"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: \"k\"\n{KEY_BODY[1]}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\nafter\n"
    for text, secret in ((ppk, KEY_BODY[0]), (ppk, "0d1c2b3a49586776"), (ssh2, KEY_BODY[1])):
        out = Redactor.default().text(text, Redaction())
        assert secret not in out and out.endswith("after\n")


def test_hunk_starting_inside_a_key_is_redacted_back_to_its_start() -> None:
    patch = ("--- a/k.pem\n+++ b/k.pem\n@@ -10,3 +10,3 @@\n " + KEY_BODY[0] + "\n-" + KEY_BODY[1] + "\n+"
             + KEY_BODY[1][::-1] + "\n -----END PRIVATE KEY-----\n")
    out = Redactor.default().patch("k.pem", patch, [], Redaction())
    assert KEY_BODY[0] not in out and KEY_BODY[1] not in out and KEY_BODY[1][::-1] not in out


def test_secret_in_a_file_name_is_redacted() -> None:
    """Issue 9, class 3: a file name is text that leaves the machine."""
    name = "config/ghp_0123456789abcdefghijABCDEFGHIJ012345.env"
    assert "ghp_0123456789" not in Redactor.default().path(name, Redaction())
    assert Redactor.default().path("src/app.py", Redaction()) == "src/app.py"
