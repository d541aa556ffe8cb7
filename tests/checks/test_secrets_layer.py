"""govbot's secrets layer: formats, checksums, decoys and confidence (pure), and the layer
running inside the real detect-secrets (slow)."""

from __future__ import annotations

import binascii
import random
import string
from pathlib import Path

import pytest

from govbot.checks import secrets, secrets_layer
from govbot.checks.registry import default_binary
from govbot.checks.runner import run, tool_env

ALNUM = string.ascii_letters + string.digits


def token(prefix: str, seed: int = 1, valid: bool = True) -> str:
    """A GitHub/npm-format token built at test time (no secret-looking literal in the repo)."""
    rng = random.Random(seed)
    body = "".join(rng.choice(ALNUM) for _ in range(30))
    checksum = secrets_layer.base62(binascii.crc32(body.encode()), 6)
    if not valid:
        checksum = checksum[:-1] + ("A" if checksum[-1] != "A" else "B")
    return prefix + body + checksum


def rand(n: int, alphabet: str = ALNUM, seed: int = 2) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


def test_crc32_base62_checksum() -> None:
    assert secrets_layer.crc32_base62_valid(token("ghp_"))
    assert secrets_layer.crc32_base62_valid(token("npm_", seed=5))
    assert not secrets_layer.crc32_base62_valid(token("ghp_", valid=False))
    assert not secrets_layer.crc32_base62_valid("ghp_" + "x" * 36)
    assert secrets_layer.base62(0, 6) == "000000" and secrets_layer.base62(61, 1) == "z"


@pytest.mark.parametrize(
    ("line", "kind", "confidence"),
    [
        (f'TOKEN = "{token("ghp_")}"', "GitHub Token (checksum verified)", "high"),
        (f"//registry.npmjs.org/:_authToken={token('npm_', 3)}", "npm Token (checksum verified)", "high"),
        (f"key: AIza{rand(35, ALNUM + '-_')}", "Google API Key", "high"),
        (f"ANTHROPIC_API_KEY=sk-ant-api03-{rand(93, ALNUM + '-_')}AA", "Anthropic API Key", "high"),
        (f"HF_TOKEN=hf_{rand(34, string.ascii_letters)}", "Hugging Face Token", "high"),
        (f'url = "postgresql://app:{rand(16)}@db.internal:5432/app"', "Database Connection String", "medium"),
        (f"index-url = https://deploy:{rand(16)}@pypi.example.org/simple", "URL Credentials", "medium"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "Private Key", "high"),
        (f'DB_PASSWORD = "{rand(6)}#{rand(8, seed=3)}"', "Password Assignment", "medium"),
    ],
)
def test_formats_find_secrets_with_confidence(line: str, kind: str, confidence: str) -> None:
    [match] = secrets_layer.find(line)
    assert (match.type, match.confidence) == (kind, confidence)
    assert secrets_layer.confidence_for(kind) == confidence


@pytest.mark.parametrize(
    "line",
    [
        f'TOKEN = "{token("ghp_", valid=False)}"',  # checksum does not verify
        "password = os.environ['DB_PASSWORD']",  # a look-up, not a value
        "password = get_password()",
        'password = "changeme"',
        "secret_key: ${SECRET_KEY}",
        # code, not credentials (a real Django app's views, forms and tests)
        "self.user = authenticate(username=username, password=password)",
        "write_key_match = Q(api_key=api_key)",
        "secret = token_urlsafe(21)",
        '"secret": request.session["totp_secret"],',
        'api_key = request.headers["X-Api-Key"]',
        "api_key = forms.CharField(max_length=50)",
        'password = options["password"]',
        "return self.client.get(self.url + qs, HTTP_X_API_KEY=api_key)",
        "orig_user2_api_key = user2.api_key",
    ],
)
def test_formats_skip_non_secrets(line: str) -> None:
    assert secrets_layer.find(line) == []


@pytest.mark.parametrize("line", [
    "DB_PASSWORD=Xy7!kq9pLm2",  # .env: unquoted, no brackets
    'password = "Xy7(kq9)pLm2"',  # quoted: brackets are part of the value
    "api_key: Zt8#Lm2pQw9x",
])
def test_literal_credentials_with_or_without_quotes_are_found(line: str) -> None:
    assert [m.type for m in secrets_layer.find(line)] == ["Password Assignment"]


@pytest.mark.parametrize(
    ("value", "line", "path", "kind", "reason"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "docs/aws.md", "AWS Access Key",
         "documented example value"),
        ("ghp", "export GITHUB_TOKEN=ghp_" + "x" * 36, "README.md", "GitHub Token", "token checksum does not verify"),
        ("<your-api-token>", "token: <your-api-token>", "docs/setup.md", "Secret Keyword", "placeholder"),
        ("postgresql://USER:PASSWORD@HOST:5432", "DATABASE_URL=postgresql://USER:PASSWORD@HOST:5432/db", "a.md",
         "Database Connection String", "placeholder"),
        ("9f1c2a7e-4b1d-4c8e-9a57-2f3e4d5c6b7a", 'ID = "9f1c2a7e-4b1d-4c8e-9a57-2f3e4d5c6b7a"', "t.py",
         "Base64 High Entropy String", "UUID"),
        ("pk_live_" + rand(24), "Stripe('pk_live_...')", "web/app.js", "Stripe Access Key", "public or publishable key"),
        ("sha384-" + rand(64), f'<script integrity="sha384-{rand(64)}">', "base.html", "Base64 High Entropy String",
         "digest or integrity value"),
        (rand(80), f"url(data:image/png;base64,{rand(80)})", "app.css", "Base64 High Entropy String", "data: URI"),
        ("a" * 8 + "0" * 32, 'UPSTREAM = "' + "a" * 8 + "0" * 32 + '"', "pins.py", "Hex High Entropy String",
         "digest-shaped hex without a secret keyword"),
        ("get_secret()", "secret = get_secret()", "app.py", "Secret Keyword", "keyword value is not credential-shaped"),
        # A digest as a JSON or dict value: the key's closing quote sits between it and the colon.
        ("abc132409cb", '{"sha512": "abc132409cb"},', "t.py", "Hex High Entropy String", "digest or integrity value"),
        ("b" * 8 + "1" * 48, 'assert h == "' + "b" * 8 + "1" * 48 + '"', "t.py", "Hex High Entropy String",
         "digest-shaped hex without a secret keyword"),  # SHA-224's length
        ("bar", 'get("http://foo:bar@example.com/path")', "t.py", "Basic Auth Credentials",
         "weak credentials for a host reserved for documentation (example.com, .test, .invalid)"),
        ("postgres://app:pgpass1@db.test/app", "DB = 'postgres://app:pgpass1@db.test/app'", "s.py",
         "Database Connection String", "weak credentials for a host reserved for documentation (example.com, .test, .invalid)"),
        ("x-oauth-basic", 'u = "https://{}:x-oauth-basic@github.com/o/{}.zip"', "t.py", "Basic Auth Credentials",
         "placeholder"),
        # a real application's migrations, exports and tests (CTFd)
        ("eb68f277ab61", 'down_revision = "eb68f277ab61"', "migrations/v.py", "Hex High Entropy String",
         "digest or integrity value"),
        ("my-api-key", '"api_key": "my-api-key",', "t.py", "Password Assignment", "placeholder"),
        ("1ec4a28fe0ff", '    "1ec4a28fe0ff",', "exports.py", "Hex High Entropy String",
         "hex too short to be a key on entropy alone"),
        ("303132333435363738396162636465666768696a6b", '  "303132333435363738396162636465666768696a6b"', "t.py",
         "Hex High Entropy String", "encoded text, not key material"),
        ("InRlc3RAbWFpbGluYXRvci5jb20iLkRHeGVvQS5sQ3NzVTNNMlF1QmZvaE8", 'x == "InRlc3RAbWFpbGluYXRvci5jb20iLkRHeGVvQS5sQ3NzVTNNMlF1QmZvaE8"',
         "t.py", "Base64 High Entropy String", "encoded text, not key material"),
        ("preset_password_123", 'ADMIN_PASSWORD = "preset_password_123"', "t.py", "Password Assignment",
         "fixture value that names itself (password123, key-file-secret)"),
        ("Password Reset Request from {ctf_name}", 'RESET_PASSWORD_SUBJECT = "Password Reset Request from {ctf_name}"',
         "email.py", "Secret Keyword", "placeholder"),
    ],
)
def test_decoys_are_recognised(value: str, line: str, path: str, kind: str, reason: str) -> None:
    assert secrets_layer.decoy_reason(value, line, path, kind) == reason


def test_an_identifier_ending_in_a_digest_word_is_a_digest_context() -> None:
    for line in ('down_revision = "{v}"', 'UPSTREAM_COMMIT = "{v}"', 'file_sha256: "{v}"', 'content_hash=("{v}")'):
        v = rand(48, "0123456789abcdef")
        assert secrets_layer.decoy_reason(v, line.format(v=v), "a.py", "Hex High Entropy String") == \
            "digest or integrity value"


def test_checksummed_and_real_values_are_not_decoys() -> None:
    good = token("ghp_", seed=9)
    assert secrets_layer.decoy_reason("ghp", f"t = '{good}'", "a.py", "GitHub Token") is None
    value = rand(40, ALNUM + "+/")
    assert secrets_layer.decoy_reason(value, f"aws_secret_access_key = {value}", "creds", "Secret Keyword") is None
    # A hex digest next to a secret keyword is still reported.
    hexval = rand(40, "0123456789abcdef")
    assert secrets_layer.decoy_reason(hexval, f'api_secret = "{hexval}"', "a.py", "Hex High Entropy String") is None


@pytest.mark.parametrize("line", [
    'U = "https://deploy:{pw}@git.internal.io/repo"',  # a real host
    'U = "https://deploy:{pw}@example.com.attacker.io/repo"',  # only looks reserved
    'U = "https://a:b@example.com/ https://deploy:{pw}@git.internal.io/"',  # one of two is real
    'U = "https://deploy:{pw}@example.company.io/"',
    'U = "redis://:{pw}@cache.example.net:6379/0"',  # reserved host, but a strong password
])
def test_url_credentials_for_real_hosts_are_reported(line: str) -> None:
    pw = rand(16)
    text = line.format(pw=pw)
    for kind in ("URL Credentials", "Basic Auth Credentials", "Database Connection String"):
        assert secrets_layer.decoy_reason(pw, text, "tests/t.py", kind) is None


@pytest.mark.parametrize(("value", "line", "kind"), [
    ("a1b2c3d4e5f6a7b8", 'api_secret = "a1b2c3d4e5f6a7b8"', "Hex High Entropy String"),  # short, but a keyword
    ("dXNlcjpzM2NyM3RwYXNzd29yZA==", "Authorization: Basic dXNlcjpzM2NyM3RwYXNzd29yZA==", "Base64 High Entropy String"),
    (rand(48, "0123456789abcdef"), "x = '{v}'", "Hex High Entropy String"),  # random bytes are not text
    ("Zt8Lm2pQw9xK4vB7nR1s", 'password = "Zt8Lm2pQw9xK4vB7nR1s"', "Password Assignment"),
])
def test_keyed_encoded_and_random_values_are_still_reported(value: str, line: str, kind: str) -> None:
    assert secrets_layer.decoy_reason(value, line.replace("{v}", value), "app/config.py", kind) is None


def test_a_real_token_as_the_user_of_x_oauth_basic_is_reported() -> None:
    real = rand(40, "0123456789abcdef")
    line = f'u = "https://{real}:x-oauth-basic@github.com/o/r"'
    assert secrets_layer.decoy_reason("x-oauth-basic", line, "a.py", "Basic Auth Credentials") is None


def test_confidence_of_detect_secrets_types() -> None:
    assert secrets_layer.confidence_for("AWS Access Key") == "high"
    assert secrets_layer.confidence_for("Secret Keyword") == "medium"
    assert secrets_layer.confidence_for("Base64 High Entropy String") == "low"
    assert secrets_layer.confidence_for("something new") == "low"


@pytest.mark.slow
def test_layer_runs_inside_real_detect_secrets(tmp_path: Path) -> None:
    good, bad = token("ghp_", seed=11), token("ghp_", seed=12, valid=False)
    hf = "hf_" + rand(34, string.ascii_letters, seed=13)
    (tmp_path / "settings.py").write_text(f'GH = "{good}"\nHF_TOKEN = "{hf}"\nOLD = "{bad}"\n')
    (tmp_path / "docs.md").write_text("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n")
    argv = secrets.build_argv(default_binary("python"), ["./settings.py", "./docs.md"])
    result = run(argv, cwd=tmp_path, timeout_s=120, env=tool_env())
    assert result.returncode == 0, result.stderr_tail()
    out = secrets.parse(result.stdout)
    assert sorted((f.path, f.line, f.confidence) for f in out.findings) == [
        ("settings.py", 1, "high"), ("settings.py", 2, "high")]
    dumped = "".join(f.model_dump_json() for f in out.findings)
    assert good not in dumped and hf not in dumped


@pytest.mark.slow
def test_layer_registers_for_an_in_process_scan(tmp_path: Path) -> None:
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    from govbot.checks.secrets_plugin import register_in_process

    good = token("npm_", seed=21)
    target = tmp_path / "a.env"
    target.write_text(f"NPM_TOKEN={good}\nDOC_KEY=AKIAIOSFODNN7EXAMPLE\n")
    with default_settings():
        register_in_process()
        found = list(scan_file(str(target)))
    assert [(s.type, s.line_number) for s in found] == [("npm Token (checksum verified)", 1)]


@pytest.mark.parametrize(("value", "fixture"), [
    ("Str0ngP@ss!", True), ("testpassw0rd!", True), ("admin123!", True), ("verysecure123!", True),
    ("newRealP4ss!", True),
    ("Zt8Lm2pQw9xK4vB7nR1s", False), ("kq9!Xy7pLm2", False), ("correcthorse", False), ("a1b2c3d4e5f6", False),
])
def test_made_up_test_passwords_are_told_from_generated_ones(value: str, fixture: bool) -> None:
    assert secrets_layer.fixture_password(value) is fixture


def test_a_made_up_password_is_a_decoy_only_in_test_code() -> None:
    line = 'UserFactory(email="a@example.com", password="Str0ngP@ss!")'
    reason = secrets_layer.decoy_reason("Str0ngP@ss!", line, "src/tests/test_auth.py", "Password Assignment")
    assert reason == "made-up password in test code (Str0ngP@ss!, testpass123)"
    # the same default in application code is a real default credential
    assert secrets_layer.decoy_reason("Str0ngP@ss!", line, "app/settings.py", "Password Assignment") is None
    # a generated value in test code is still reported
    assert secrets_layer.decoy_reason("Zt8Lm2pQw9xK4vB7nR1s", 'password = "Zt8Lm2pQw9xK4vB7nR1s"',
                                      "tests/test_x.py", "Password Assignment") is None
