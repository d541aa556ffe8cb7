"""Shared helpers for the renderers: stable finding order and neutralising untrusted text.

Everything that came from a pull request (messages, paths, evidence, rule ids of user rules,
notices, tool errors) is hostile. These helpers turn such text into something that can sit inside
Markdown, a GitHub comment or a terminal without pinging people, injecting HTML, images or links,
breaking a table, or starting a workflow command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from govbot.core.models import Finding, Severity, Signal, SignalStrength

ZWJ = "\u200d"  # zero-width joiner: breaks "@user" mentions without changing what a reader sees
ZWSP = "\u200b"  # zero-width space: breaks "::" workflow commands and URL autolinks

# C0/C1 controls, DEL, and the bidirectional overrides used by "trojan source" tricks.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_LINEBREAK = re.compile("\r\n|[\r\n\t\u2028\u2029]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|~#<>&$])")
_BACKTICKS = re.compile("`+")

SEVERITY_ORDER: tuple[Severity, ...] = tuple(sorted(Severity, key=lambda s: -s.rank))


def json_order_key(f: Finding) -> tuple[str, int, str, str, str, str]:
    """Order of findings in machine outputs: path, line, rule id (then stable tie-breakers)."""
    return (f.path, -1 if f.line is None else f.line, f.rule_id, f.fingerprint, f.tool, f.message)


def display_order_key(f: Finding) -> tuple[bool, int, str, int, str, str, str]:
    """Order in which a person reads findings: in-diff first, most severe first, then location."""
    return (
        not f.in_diff,
        -f.severity.rank,
        f.path,
        -1 if f.line is None else f.line,
        f.rule_id,
        f.fingerprint,
        f.message,
    )


def location(f: Finding) -> str:
    """``path:line`` for people; the file alone when there is no usable line."""
    return f"{f.path}:{f.line}" if f.line is not None and f.line >= 1 else f.path


STRENGTH_ORDER = {SignalStrength.STRONG: 0, SignalStrength.MEDIUM: 1, SignalStrength.ADVISORY: 2}


def strongest_first(signals: Iterable[Signal]) -> list[Signal]:
    return sorted(signals, key=lambda s: STRENGTH_ORDER[s.strength])


def sorted_for_json(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=json_order_key)


def sorted_for_display(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=display_order_key)


def clean(text: str, *, limit: int | None = None) -> str:
    """One line of plain text: no control characters, no line breaks, optionally shortened."""
    text = _LINEBREAK.sub(" ", text)
    text = _CONTROL.sub("", text)
    text = re.sub(" {2,}", " ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def headline(text: str, *, limit: int = 160) -> str:
    """The first sentence of a message, cleaned: what fits in a table cell."""
    text = clean(text)
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z`(])", text)
    if match and match.start() >= 20:
        text = text[: match.start()]
    return clean(text, limit=limit)


def _defang(text: str) -> str:
    """Break mentions, workflow commands, autolinks and HTML comment delimiters with invisible
    characters. ``<!--``/``-->`` in a file name or message would otherwise reproduce govbot's own
    hidden markers (sticky comment, review block) and let the PR cut the comment (issue 9, class 16)."""
    text = text.replace("<!--", "<!" + ZWSP + "--").replace("-->", "--" + ZWSP + ">")
    text = text.replace("@", "@" + ZWJ)
    text = text.replace("::", ":" + ZWSP + ":")
    text = text.replace("://", ZWSP + "://")
    return re.sub(r"(?i)\bwww\.", lambda m: m.group(0)[:3] + ZWSP + ".", text)


def md(text: str, *, limit: int | None = None) -> str:
    """Untrusted text as inline Markdown: literal, single-line, safe inside a table cell."""
    text = clean(text, limit=limit)
    text = _MD_SPECIAL.sub(lambda m: _md_escape_char(m.group(1)), text)
    return _defang(text)


def _md_escape_char(ch: str) -> str:
    if ch == "<":
        return "&lt;"
    if ch == ">":
        return "&gt;"
    if ch == "&":
        return "&amp;"
    return "\\" + ch


def code(text: str, *, limit: int | None = None, in_table: bool = True) -> str:
    """Untrusted text as an inline code span: shown verbatim, never a mention, link or HTML.

    Inside a GFM table a pipe must still be escaped, even within a code span.
    """
    text = clean(text, limit=limit)
    if not text:
        return "`-`"
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * (longest + 1)
    if in_table:
        text = text.replace("|", "\\|")
    text = text.replace("<!--", "<!" + ZWSP + "--").replace("-->", "--" + ZWSP + ">")
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def short_sha(sha: str) -> str:
    return clean(sha)[:12]


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
