"""The prefiltered regex plugins report exactly what detect-secrets' own regex plugins report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import default_settings, get_plugins, get_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from govbot.checks.secrets import DISABLED_FILTERS
from govbot.checks.secrets_plugin import (
    GovbotPrefilteredFormats,
    _combined,
    _regex_plugin_classes,
    register_in_process,
)

# One line per regex plugin (provider formats, keys, basic auth, IPs, JWTs), and lines that only
# look close: every one is scanned by the composite and by each plugin alone.
LINES = [
    'aws_access_key_id = "AKIAZ3MSJV4WWNKWW5FG"',
    'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEQ"',
    'token = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"',
    'hook = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"',
    'stripe.api_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dcTYooMQauvdEDq54NiTphI7jx"',
    "-----BEGIN RSA PRIVATE KEY-----",
    "url = 'https://admin:Sup3rS3cretPw@db.internal.corp/x'",
    "jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl'",
    "server = '93.184.216.34'",
    "twilio = 'SK0123456789abcdef0123456789abcdef'",
    "mailchimp = 'abcdef0123456789abcdef0123456789-us12'",
    "sendgrid = 'SG.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'",
    "gh = 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'",
    "npm = 'npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'",
    "pypi = 'pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0NQACJXsicGVybWlzc2lvbnMiOiAidXNlciIsICJ2ZXJzaW9uIjogMX0AAAYgabcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'",
    "discord = 'MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs'",
    "telegram = '110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'",
    "square = 'sq0csp-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq'",
    "glpat = 'glpat-aBcDeFgHiJkLmNoPqRsT'",
    "openai = 'sk-aBcDeFgHiJkLmNoPqRsTT3BlbkFJaBcDeFgHiJkLmNoPqRsT'",
    "artifactory = 'AKCp5aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ0123'",
    "azure = 'AccountKey=lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ=='",
    "def add(a, b):  # an ordinary line",
    "x = 'AKIA' + suffix  # too short to be a key",
    "",
]


def _alone(line: str) -> set[tuple[str, str]]:
    found = set()
    for cls in _regex_plugin_classes():
        for s in cls().analyze_line(filename="f.py", line=line, line_number=1):
            found.add((s.type, str(s.secret_value)))
    return found


def _composite(plugin: GovbotPrefilteredFormats, line: str) -> set[tuple[str, str]]:
    return {(s.type, str(s.secret_value)) for s in plugin.analyze_line(filename="f.py", line=line, line_number=1)}


def test_the_prefilter_combines_every_regex_plugin() -> None:
    classes = _regex_plugin_classes()
    names = {c.__name__ for c in classes}
    assert {"AWSKeyDetector", "SlackDetector", "PrivateKeyDetector", "BasicAuthDetector", "JwtTokenDetector",
            "IPPublicDetector", "StripeDetector"} <= names
    assert not names & {"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString"}
    assert GovbotPrefilteredFormats().prefilter is not None  # the real patterns combine into one


def test_prefiltered_plugins_report_what_each_plugin_reports_alone() -> None:
    plugin = GovbotPrefilteredFormats()
    hits = 0
    for line in LINES:
        alone = _alone(line)
        assert _composite(plugin, line) == alone, line
        hits += bool(alone)
        assert {v: t for t, v in alone}.keys() <= plugin.types.keys()
    assert hits >= 15  # the samples do exercise the plugins


FRAGMENTS = [*LINES, "AKIA", "xox", "sk_live_", "eyJ", "://", "@", ":", ".", "-", "_", "=", "0123456789",
             "abcdefABCDEF", " ", "'", '"']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_the_prefilter_never_hides_a_line_a_plugin_would_report(line: str) -> None:
    plugin = GovbotPrefilteredFormats()
    assert _composite(plugin, line) == _alone(line)


def test_combined_keeps_each_patterns_flags_and_refuses_others() -> None:
    verbose = re.compile(r"ab  # a comment", re.VERBOSE | re.IGNORECASE)
    combined = _combined([re.compile("xyz"), verbose])
    assert combined is not None and combined.search("..AB..") and combined.search("xyz") and not combined.search("XYZ")
    assert _combined([re.compile("a", re.MULTILINE)]) is None


@pytest.mark.slow
@pytest.mark.parametrize("worker_filters", [True, False])
def test_a_scan_finds_the_same_with_and_without_the_prefilter(tmp_path: Path, worker_filters: bool) -> None:
    """The whole in-process scan, as ``secrets_worker`` runs it (its filters) and with detect-secrets'
    default filters: the same findings, type, line and hash."""
    target = tmp_path / "config.py"
    target.write_text("\n".join(LINES) + "\n")
    dropped = DISABLED_FILTERS if worker_filters else ()
    with default_settings():
        get_settings().disable_filters(*dropped)
        register_in_process(prefilter=False)
        plain = sorted((s.type, s.line_number, s.secret_hash) for s in scan_file(str(target)))
        assert not any(type(p).__name__ == "GovbotPrefilteredFormats" for p in get_plugins())
    with default_settings():
        get_settings().disable_filters(*dropped)
        register_in_process()
        assert any(type(p).__name__ == "GovbotPrefilteredFormats" for p in get_plugins())
        ours = sorted((s.type, s.line_number, s.secret_hash) for s in scan_file(str(target)))
    assert ours == plain and len(ours) >= 15
