"""govbot's secrets layer on top of detect-secrets: provider formats (with the CRC32 checksum of
GitHub and npm tokens), connection strings, URL credentials, private keys and keyword
assignments whose value looks like a credential; and the decoys that only look like secrets.

Data lives in ``checks/data/secret_formats.yml``; everything here is pure. detect-secrets runs
it in its own process through ``checks/secrets_plugin.py`` (a plugin and a filter), so a secret
value never reaches govbot's process: govbot only sees detect-secrets' hash of it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import unquote

from ruamel.yaml import YAML

from govbot.core.text import is_test_path

Confidence = Literal["low", "medium", "high"]
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX_ENTROPY = "Hex High Entropy String"
ENTROPY_TYPES = frozenset({"Base64 High Entropy String", HEX_ENTROPY})
KEYWORD_TYPES = frozenset({"Secret Keyword", "Basic Auth Credentials", "Password Assignment"})
_DS_KEYWORD = frozenset({"Secret Keyword"})
_SELF_NAMING_TYPES = frozenset({"Secret Keyword", "Password Assignment"})
# A keyword value that contains the word it is assigned to ("newpassword123", "file-password",
# "key-file-secret") is a test fixture or a default, not a generated credential.
_SELF_NAMING = re.compile(r"(?i)passw(?:or)?d|passwd|secret|token")
MIN_ENTROPY_HEX = 20  # hex characters (80 bits): shorter values are ids, revisions, short hashes
CHECKSUMMED_BUILTINS = frozenset({"GitHub Token", "NPM tokens"})
_URL_PASSWORD = re.compile(r"://[^:/@\s]*:([^@\s]+)@")
_URL_USERINFO = re.compile(r"://([^\s:/@\"'`]*):([^\s@\"'`]*)@([^\s/:?#\"'`]+)")  # (user, password, host)
# GitHub's documented basic-auth form for a token: the token is the user, the password this
# literal. Only the user part can be a secret.
_OAUTH_BASIC = "x-oauth-basic"
_FORMAT_FIELD = re.compile(r"\{\w*\}")
URL_CREDENTIAL_TYPES = frozenset({"Basic Auth Credentials", "URL Credentials", "Database Connection String"})
_CHECKSUMMED = re.compile(r"\b(?:gh[pousr]|npm)_[A-Za-z0-9]{36}\b")


@dataclass(frozen=True)
class Format:
    type: str
    regex: re.Pattern[str]
    confidence: Confidence
    checksum: str | None = None
    shape: str | None = None


@dataclass(frozen=True)
class Match:
    type: str
    value: str
    confidence: Confidence


@dataclass(frozen=True)
class Layer:
    formats: tuple[Format, ...]
    builtin_confidence: dict[str, Confidence]
    example_values: frozenset[str]
    placeholder: re.Pattern[str]
    hash_context: re.Pattern[str]
    data_uri: re.Pattern[str]
    public: re.Pattern[str]
    public_path: re.Pattern[str]
    test_vector_path: re.Pattern[str]
    uuid: re.Pattern[str]
    digest_hex_lengths: frozenset[int]
    secret_keyword: re.Pattern[str]
    reserved_host: re.Pattern[str]


def parse_layer(doc: dict[str, Any]) -> Layer:
    d = doc["decoys"]
    return Layer(
        formats=tuple(Format(f["type"], re.compile(f["regex"]), f["confidence"], f.get("checksum"), f.get("shape"))
                      for f in doc["formats"]),
        builtin_confidence=dict(doc["builtin_confidence"]),
        example_values=frozenset(d["example_values"]),
        placeholder=re.compile(d["placeholder_regex"]),
        hash_context=re.compile(d["hash_context_regex"]),
        data_uri=re.compile(d["data_uri_regex"]),
        public=re.compile(d["public_regex"]),
        public_path=re.compile(d["public_path_regex"]),
        test_vector_path=re.compile(d["test_vector_path_regex"]),
        uuid=re.compile(d["uuid_regex"]),
        digest_hex_lengths=frozenset(d["digest_hex_lengths"]),
        secret_keyword=re.compile(d["secret_keyword_regex"]),
        reserved_host=re.compile(d["reserved_host_regex"]),
    )  # fmt: skip


@cache
def layer() -> Layer:
    text = (resources.files("govbot.checks") / "data" / "secret_formats.yml").read_text(encoding="utf-8")
    return parse_layer(YAML(typ="safe", pure=True).load(text))


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def crc32_base62_valid(token: str) -> bool:
    """GitHub (``ghp_``...) and npm (``npm_``) tokens: 30 random base62 characters after the
    prefix, then the CRC32 of those 30 characters in 6 base62 digits."""
    body = token.split("_", 1)[-1]
    if len(body) != 36:
        return False
    return base62(binascii.crc32(body[:30].encode()), 6) == body[30:]


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(.*)?$")


def credential_shaped(value: str) -> bool:
    """A keyword assignment's value that looks like a credential, not code or prose."""
    if len(value) < 8 or len(set(value)) < 5:
        return False
    if _IDENTIFIER.match(value) and not any(c.isdigit() for c in value):
        return False  # a variable, attribute, call or plain word: `settings.DB_PASSWORD`, `get_pw()`
    if value.lower().startswith(("os.", "env", "self.", "config.", "settings.", "http://", "https://", "/")):
        return False
    classes = sum(any(c in s for c in value) for s in (string.ascii_lowercase, string.ascii_uppercase,
                                                          string.digits, string.punctuation))
    return classes >= 2


_CODE_CHARS = re.compile(r"[()\[\]{}]")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")  # user2.api_key: an attribute


def literal_credential(value: str, quoted: bool) -> bool:
    """A keyword assignment's value that is a credential written out, not code: credential-shaped,
    and, when not in quotes, free of brackets and not a dotted name: ``password=password)``,
    ``user2.api_key``, ``token_urlsafe(21)``,
    ``options["password"]``, ``forms.CharField(max_length=50)`` are calls, look-ups and arguments.
    An unquoted value without them (``.env``: ``DB_PASSWORD=Xy7!kq9pLm``) can be a literal."""
    return credential_shaped(value) and (quoted or not (_CODE_CHARS.search(value) or _DOTTED.match(value)))


def _quoted(m: re.Match[str]) -> bool:
    return "q" not in m.re.groupindex or bool(m.group("q"))


def find(line: str) -> list[Match]:
    """Every secret the formats find in one line, most specific format first, one per value."""
    found: list[Match] = []
    spans: list[tuple[int, int]] = []
    for fmt in layer().formats:
        for m in fmt.regex.finditer(line):
            value = m.group("secret")
            start, end = m.span("secret")
            if any(start < e and s < end for s, e in spans):
                continue
            if fmt.checksum == "crc32-base62" and not crc32_base62_valid(value):
                continue
            if fmt.shape == "credential" and not literal_credential(value, quoted=_quoted(m)):
                continue
            spans.append((start, end))
            found.append(Match(fmt.type, value, fmt.confidence))
    return found


def type_of(value: str, line: str) -> str | None:
    return next((m.type for m in find(line) if m.value == value), None)


def decoy_reason(value: str, line: str, path: str, secret_type: str) -> str | None:
    """Why a candidate secret is a decoy (None: report it). Never weakens a verified checksum."""
    reason = _value_decoy(value, line, secret_type)
    if reason or not (secret_type in ENTROPY_TYPES or secret_type in KEYWORD_TYPES):
        return reason
    return _context_decoy(value, line, path, secret_type)


def _value_decoy(value: str, line: str, secret_type: str) -> str | None:
    """Decoys by the value itself, for every kind of finding."""
    lay = layer()
    if any(v in value or (len(value) >= 16 and value in v) for v in lay.example_values):
        return "documented example value"
    if secret_type in CHECKSUMMED_BUILTINS or value.startswith(("gh", "npm_")):
        # detect-secrets' GitHub plugin reports only the prefix ("ghp"): judge the tokens on the line.
        tokens = _CHECKSUMMED.findall(line)
        if tokens and not any(crc32_base62_valid(t) for t in tokens):
            return "token checksum does not verify"
    userinfo = _URL_PASSWORD.search(value)
    if lay.placeholder.search(value) or (userinfo and lay.placeholder.search(userinfo.group(1))):
        return "placeholder"
    if secret_type in URL_CREDENTIAL_TYPES and (reason := _url_credentials_decoy(f"{line} {value}", lay)):
        return reason
    if lay.uuid.match(value):
        return "UUID"
    if lay.public.match(value):
        return "public or publishable key"
    return None


# Words test suites build their passwords from. A value whose letters (leet undone) are only these
# words, plus digits and symbols, was made up for a test; generated credentials never segment so.
_FIXTURE_WORDS = frozenset([
    "pass", "passw", "password", "pwd", "word", "test", "tester", "testing", "admin", "user", "foo", "bar",
    "baz", "qux", "secure", "very", "strong", "new", "old", "real", "different", "wrong", "right", "good",
    "bad", "demo", "dummy", "fake", "sample", "example", "default", "root", "guest", "login", "letmein",
    "qwerty", "abc", "hello", "world", "my", "the", "super", "top", "secret", "changeme", "welcome",
])
_LONGEST_FIXTURE_WORD = max(map(len, _FIXTURE_WORDS))
_LEET = str.maketrans("0134@$57", "oieaasst")
_INNER_LEET = re.compile(r"(?<=[a-z])[0134@$57]+(?=[a-z])")  # only between letters: "admin123" keeps its digits


def fixture_password(value: str) -> bool:
    """Letters made only of ``_FIXTURE_WORDS`` (``Str0ngP@ss!`` is strong+pass, ``admin123!`` admin)."""
    unleet = _INNER_LEET.sub(lambda m: m.group(0).translate(_LEET), value.lower())
    letters = re.sub(r"[^a-z]+", " ", unleet).split()
    return bool(letters) and all(_segments(chunk) for chunk in letters)


def _segments(text: str) -> bool:
    """Whether ``text`` splits into fixture words (small dynamic programme over prefixes)."""
    ok = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        shortest_start = max(0, end - _LONGEST_FIXTURE_WORD)
        ok[end] = any(ok[start] and text[start:end] in _FIXTURE_WORDS for start in range(shortest_start, end))
    return ok[-1]


def encoded_text(value: str) -> bool:
    """A hex or base64 value whose bytes are mostly printable text (``303132...`` is "012...",
    ``InRlc3Q...`` is '"test...'): encoded words, not random key material, of which ~37% of
    bytes are printable."""
    raw: bytes | None = None
    if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", value):
        raw = bytes.fromhex(value)
    elif re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", value):
        with contextlib.suppress(binascii.Error, ValueError):
            raw = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    if raw is None or len(raw) < 8:
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return printable >= 0.9 * len(raw)


def _url_credentials_decoy(text: str, lay: Layer) -> str | None:
    """Decoys among the URLs with credentials in ``text``: GitHub's token form with a placeholder
    for the token, or every URL at a host reserved for documentation with a password that is not
    credential-shaped (``foo:bar@example.com``; a strong password stays reported even there: a
    real one pasted with its host swapped for example.com is still a leak)."""
    userinfo = _URL_USERINFO.findall(text)
    user = next((u for u, pw, _ in userinfo if pw == _OAUTH_BASIC), None)
    if user is not None and (not user or _FORMAT_FIELD.fullmatch(user) or lay.placeholder.search(user)):
        return "placeholder"
    if userinfo and all(lay.reserved_host.search(host) and not credential_shaped(unquote(pw))
                        for _, pw, host in userinfo):
        return "weak credentials for a host reserved for documentation (example.com, .test, .invalid)"
    return None


def _context_decoy(value: str, line: str, path: str, secret_type: str) -> str | None:
    """Decoys by context, only for the generic kinds (entropy, keyword)."""
    lay = layer()
    if lay.data_uri.search(line):
        return "data: URI"
    if lay.hash_context.search(line):
        return "digest or integrity value"
    if lay.public_path.search(path) or lay.test_vector_path.search(path):
        return "public key or test-vector file"
    if secret_type in ENTROPY_TYPES:
        return _entropy_decoy(value, line, secret_type, lay)
    if secret_type in _DS_KEYWORD and not credential_shaped(value.strip("'\"")):
        return "keyword value is not credential-shaped"
    if secret_type in _SELF_NAMING_TYPES:
        if _SELF_NAMING.search(value):
            return "fixture value that names itself (password123, key-file-secret)"
        if is_test_path(path) and fixture_password(value):
            return "made-up password in test code (Str0ngP@ss!, testpass123)"
    return None


def _entropy_decoy(value: str, line: str, secret_type: str, lay: Layer) -> str | None:
    """Decoys among entropy-only findings. Without a secret keyword on the line only: an
    `Authorization: Basic dXNlcjpw...` header is base64 text, and a credential."""
    if lay.secret_keyword.search(line) is None:
        if secret_type == HEX_ENTROPY and len(value) < MIN_ENTROPY_HEX:
            return "hex too short to be a key on entropy alone"
        if encoded_text(value):
            return "encoded text, not key material"
        if re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) in lay.digest_hex_lengths:
            return "digest-shaped hex without a secret keyword"
    if line.strip() == value:
        return "bare encoded line (a key block is reported at its BEGIN line)"
    return None


def confidence_for(secret_type: str) -> Confidence:
    """high: provider format with a verified checksum or an unambiguous prefix; medium: keyword
    and value shape (or a weaker prefix); low: entropy only."""
    lay = layer()
    for fmt in lay.formats:
        if fmt.type == secret_type:
            return fmt.confidence
    return lay.builtin_confidence.get(secret_type, "low")
