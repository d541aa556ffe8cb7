"""AI-authorship detection: which coding agents left markers on a change, with the evidence.

``detect`` is pure: it reads commits, PR metadata and the list of changed files from a
``ChangeSet`` and returns an ``Authorship``. The markers it knows are data
(``checks/data/agents.yml``, extended by the policy's ``authorship.extra_agents``).

Principles:

- A marker only ever ADDS scrutiny. Finding none gives ``no_marker`` (unknown), never "human";
  a PR's "no AI used" declaration gives ``declared_none`` only when no marker contradicts it.
- Everything read here is hostile text. Inputs are capped (message size, commits, total lines,
  signals); matching is plain string operations plus two fixed regexes without repetition
  inside alternatives (a trailer-key cleaner, a footer pre-check), so the work is linear in
  the input and cannot hang. Policy patterns are plain strings, never regexes.
- Each line is matched as given and, if that finds nothing, normalised (NFKC, zero-width and
  bidi characters removed, odd dashes and look-alike letters mapped). ASCII is unchanged by
  normalisation and the raw line always goes first, so normalisation can only add signals.
- Evidence is short plain text: at most the one matched line, cut to 200 characters.

Signal ids (stable; the policy matches them as ``match.signal`` and rule ids
``authorship:<id>``): ``trailer``, ``footer``, ``agent_identity``, ``bot_account``,
``agent_branch``, ``pr_marker``, ``declared_ai``, ``declared_none``, ``instruction_file``,
``content_heuristic``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from types import MappingProxyType
from typing import Literal

from pydantic import Field
from ruamel.yaml import YAML

from govbot.core.models import (
    AIVerdict,
    Authorship,
    ChangedFile,
    ChangeSet,
    Commit,
    Frozen,
    PullRequestMeta,
    Signal,
    SignalStrength,
)
from govbot.policy.authorship_config import AgentSpec, AuthorshipConfig

MAX_MESSAGE_CHARS = 100_000
MAX_BODY_CHARS = 100_000
MAX_COMMITS = 5_000
MAX_LINE_CHARS = 1_000  # longer lines are never trailers or footers
MAX_KEY_CHARS = 40
MAX_TOTAL_LINES = 200_000  # lines of commit messages read per change (PR body first)
MAX_MEMO = 50_000
HEURISTIC_CHARS = 4_000
MAX_SIGNALS_PER_KIND = 20  # per (signal id, agent); the rest are counted
MAX_SIGNALS = 200
EVIDENCE_CHARS = 200

SIGNAL_IDS = (
    "trailer",
    "footer",
    "agent_identity",
    "bot_account",
    "agent_branch",
    "pr_marker",
    "declared_ai",
    "declared_none",
    "instruction_file",
    "content_heuristic",
)
# Signals that make a change AI-generated. instruction_file, declared_none and advisory
# content heuristics never do.
AI_SIGNAL_IDS = frozenset(
    {"trailer", "footer", "agent_identity", "bot_account", "agent_branch", "pr_marker", "declared_ai"}
)
_WEIGHT = MappingProxyType({SignalStrength.STRONG: 0.9, SignalStrength.MEDIUM: 0.6, SignalStrength.ADVISORY: 0.2})
_ADVISORY_CAP = 0.4
_NEGATIVE_VALUES = frozenset({"no", "none", "false", "n/a", "na", "0", "nothing", "-"})
_POSITIVE_VALUES = frozenset({"yes", "true", "y", "1", "partial", "partially", "some"})
_FILLER_WORDS = frozenset({"the", "help", "of", "a", "an", "assistance", "from", "using", "via", "ai", "by"})

_NO_MARKER_SUMMARY = Authorship().summary


# ----------------------------------------------------------------------------- text hygiene


def _translation() -> MappingProxyType[int, str | None]:
    table: dict[int, str | None] = {}
    invisible = [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF]
    invisible += [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]
    invisible += [*range(0xFE00, 0xFE10)]
    # Also default-ignorable (issue 9, class 11): Mongolian free variation selectors, the tag
    # block (U+E0000..E007F), VS17..VS256, halfwidth Hangul filler, musical formatting.
    invisible += [*range(0x180B, 0x1810), *range(0xE0000, 0xE0080), *range(0xE0100, 0xE01F0), 0xFFA0]
    invisible += [*range(0x1D173, 0x1D17B), *range(0x1BCA0, 0x1BCA4)]
    table.update(dict.fromkeys(invisible))
    dashes = [*range(0x2010, 0x2016), 0x2043, 0x2212, 0x02D7, 0xFE58, 0xFE63, 0xFF0D, 0x2E3A, 0x2E3B]
    table.update(dict.fromkeys(dashes, "-"))
    # Letters that look Latin (Cyrillic, Greek): enough to see through "Со-authored-by".
    lookalikes = "аaеeоoрpсcуyхxіiјjѕsԁdɡgАAВBСCЕEНHІIЈJКKМMОOРPЅSТTХXУYΑAΒBΕEΗHΙIΚKΜMΝNΟOΡPΤTΧXΥYΖZοoνvαa"
    table.update({ord(lookalikes[i]): lookalikes[i + 1] for i in range(0, len(lookalikes), 2)})
    return MappingProxyType(table)


_TRANSLATION = _translation()


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, dashes and look-alike letters mapped to ASCII. Any
    format character (Unicode category Cf) the table does not list is removed as well."""
    out = unicodedata.normalize("NFKC", text).translate(_TRANSLATION)
    return out if out.isascii() else "".join(c for c in out if unicodedata.category(c) != "Cf")


def _variants(text: str) -> tuple[str, ...]:
    if text.isascii():
        return (text,)
    norm = normalise(text)
    return (text,) if norm == text else (text, norm)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _clean(text: str) -> str:
    """Plain, single-line, bounded: control and format characters become spaces."""
    out = "".join(_clean_char(c) for c in text[:600])
    out = " ".join(out.split())
    return out if len(out) <= EVIDENCE_CHARS else out[: EVIDENCE_CHARS - 1] + "…"


def _clean_char(c: str) -> str:
    cat = unicodedata.category(c)
    return "" if cat == "Cf" else " " if cat in ("Cc", "Zl", "Zp") else c


def _short(sha: str) -> str:
    return _clean(sha)[:12]


def _lines(text: str) -> Iterator[str]:
    """Lines split on \\n only (hostile separators cannot add lines), each capped."""
    for line in text.split("\n"):
        yield line[:MAX_LINE_CHARS]


def _line_around(text: str, index: int, width: int = 160) -> str:
    start = text.rfind("\n", max(0, index - width), index) + 1 or max(0, index - width)
    end = text.find("\n", index, index + width)
    return text[start : end if end != -1 else index + width]


# ----------------------------------------------------------------------------- the table


class _TrailerKeys(Frozen):
    identity: list[str]
    ai: list[str]
    declaration: list[str]


class _TableFile(Frozen):
    """The schema of checks/data/agents.yml."""

    version: Literal[1]
    trailer_keys: _TrailerKeys
    footer_leads: list[str] = Field(min_length=1)
    instruction_files: list[str] = Field(default_factory=list)
    agents: list[AgentSpec] = Field(min_length=1)


_NOT_WORD = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    """A trailer key without case or punctuation: 'Co-Authored By' -> 'coauthoredby'."""
    return _NOT_WORD.sub("", text.casefold())


@dataclass(frozen=True)
class AgentTable:
    """The built-in table merged with a policy's additions, indexed for matching."""

    agents: tuple[AgentSpec, ...]
    identity_keys: frozenset[str]
    ai_keys: frozenset[str]
    declaration_keys: frozenset[str]
    footer_leads: tuple[str, ...]
    instruction_files: tuple[tuple[str, str | None], ...]  # (pattern, agent)
    display: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.agents)


@functools.cache
def builtin_table() -> AgentTable:
    """govbot's packaged agent table (read once; the file ships with the package)."""
    text = resources.files("govbot.checks").joinpath("data/agents.yml").read_text(encoding="utf-8")
    return table_from_yaml(text)


def table_from_yaml(text: str) -> AgentTable:
    data = _TableFile.model_validate(YAML(typ="safe").load(text))
    files: list[tuple[str, str | None]] = [(p, None) for p in data.instruction_files]
    files += [(p, a.name) for a in data.agents for p in a.instruction_files]
    return AgentTable(
        agents=tuple(data.agents),
        identity_keys=frozenset(_key(k) for k in data.trailer_keys.identity),
        ai_keys=frozenset(_key(k) for k in data.trailer_keys.ai),
        declaration_keys=frozenset(_key(k) for k in data.trailer_keys.declaration),
        footer_leads=tuple(_fold(x) for x in data.footer_leads),
        instruction_files=tuple(files),
        display=MappingProxyType({a.name: a.display or a.name for a in data.agents}),
    )


def merged_table(base: AgentTable, config: AuthorshipConfig) -> AgentTable:
    """``base`` plus the policy's extra agents (a known name extends that row) and files."""
    agents = {a.name: a for a in base.agents}
    for extra in config.extra_agents:
        old = agents.get(extra.name)
        agents[extra.name] = _extend(old, extra) if old else extra
    files = list(base.instruction_files)
    files += [(p, e.name) for e in config.extra_agents for p in e.instruction_files]
    files += [(p, None) for p in config.extra_instruction_files]
    display = dict(base.display)
    display.update({e.name: e.display for e in config.extra_agents if e.display})
    return AgentTable(
        agents=tuple(agents.values()),
        identity_keys=base.identity_keys,
        ai_keys=base.ai_keys,
        declaration_keys=base.declaration_keys,
        footer_leads=base.footer_leads,
        instruction_files=tuple(dict.fromkeys(files)),
        display=MappingProxyType(display),
    )


def _extend(old: AgentSpec, extra: AgentSpec) -> AgentSpec:
    update: dict[str, object] = {}
    for name in AgentSpec.model_fields:
        value = getattr(old, name)
        if isinstance(value, list):
            update[name] = list(dict.fromkeys([*value, *getattr(extra, name)]))
    return old.model_copy(update=update)


@dataclass(frozen=True)
class _Index:
    """Lookup structures over an AgentTable (built per call; a few hundred strings)."""

    names: MappingProxyType[str, str]
    emails: MappingProxyType[str, str]
    ids: MappingProxyType[int, str]
    logins: MappingProxyType[str, str]
    # Grouped for speed: prefixes by their first 2 characters, suffixes by their last 2, e-mail
    # suffixes by domain. Every lookup is then a dict hit plus a handful of comparisons.
    name_prefixes: MappingProxyType[str, tuple[tuple[str, str], ...]]
    name_suffixes: MappingProxyType[str, tuple[tuple[str, str], ...]]
    email_suffixes: MappingProxyType[str, tuple[tuple[str, str], ...]]
    branch_prefixes: tuple[tuple[str, str], ...]
    footer_words: tuple[tuple[tuple[str, ...], str], ...]  # longest first
    body_markers: tuple[tuple[str, str], ...]
    footer_hint: re.Pattern[str]  # literal first words of the footer leads, for a cheap pre-check


def _grouped(
    pairs: Iterable[tuple[str, str]], key: Callable[[str], str]
) -> MappingProxyType[str, tuple[tuple[str, str], ...]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for pattern, agent in pairs:
        groups.setdefault(key(pattern), []).append((pattern, agent))
    return MappingProxyType({k: tuple(v) for k, v in groups.items()})


def _index(table: AgentTable) -> _Index:
    def pairs(attr: str) -> tuple[tuple[str, str], ...]:
        return tuple((v, a.name) for a in table.agents for v in getattr(a, attr))

    def first_wins(items: Iterable[tuple[object, str]]) -> dict[object, str]:
        out: dict[object, str] = {}
        for k, v in items:
            out.setdefault(k, v)
        return out

    words = sorted(
        {(tuple(_words(w)), a.name) for a in table.agents for w in a.footer_words if _words(w)},
        key=lambda p: (-len(p[0]), p[0], p[1]),
    )
    return _Index(
        names=MappingProxyType({str(k): v for k, v in first_wins(pairs("names")).items()}),
        emails=MappingProxyType({str(k): v for k, v in first_wins(pairs("emails")).items()}),
        ids=MappingProxyType({i: a.name for a in reversed(table.agents) for i in a.account_ids}),
        logins=MappingProxyType({lg.casefold(): a.name for a in reversed(table.agents) for lg in a.logins}),
        name_prefixes=_grouped(pairs("name_prefixes"), lambda p: p[:2]),
        name_suffixes=_grouped(pairs("name_suffixes"), lambda p: p[-2:]),
        email_suffixes=_grouped(pairs("email_suffixes"), lambda p: p.rpartition("@")[2]),
        branch_prefixes=tuple((p.casefold(), a.name) for a in table.agents for p in a.branch_prefixes),
        footer_words=tuple(words),
        body_markers=pairs("body_markers"),
        footer_hint=re.compile(
            "|".join(sorted({re.escape(lead.split()[0]) for lead in table.footer_leads if lead.strip()})),
            re.IGNORECASE,
        ),
    )


# ----------------------------------------------------------------------------- matching


def _words(text: str) -> list[str]:
    """Lower-case words; '-' and '.' stay inside a word (gpt-4o), anything else separates."""
    out: list[str] = []
    cur: list[str] = []
    for c in text.casefold():
        if c.isalnum() or (cur and c in "-."):
            cur.append(c)
        elif cur:
            out.append("".join(cur).rstrip("-."))
            cur = []
    if cur:
        out.append("".join(cur).rstrip("-."))
    return out


def _github_noreply_id(email: str) -> int | None:
    local, _, domain = email.partition("@")
    if domain != "users.noreply.github.com" or "+" not in local:
        return None
    digits = local.split("+", 1)[0]
    return int(digits) if digits.isdigit() and len(digits) <= 12 else None


@dataclass(frozen=True)
class _IdentityMatch:
    agent: str
    how: Literal["email", "id", "name"]


def match_identity(index: _Index, name: str, email: str) -> _IdentityMatch | None:
    """The agent behind a ``name <email>`` identity, if the table knows it."""
    email = email.strip().strip("<>").casefold()
    if email:
        agent = index.emails.get(email)
        if agent is None:
            candidates = index.email_suffixes.get(email.rpartition("@")[2], ())
            agent = next((a for s, a in candidates if email.endswith(s)), None)
        if agent is not None:
            return _IdentityMatch(agent, "email")
        uid = _github_noreply_id(email)
        if uid is not None and uid in index.ids:
            return _IdentityMatch(index.ids[uid], "id")
    folded = _fold(name.strip().strip("\"'"))
    if not folded:
        return None
    agent = index.names.get(folded)
    if agent is not None and "[bot]" not in folded and not _impersonal(email):
        agent = None  # a bare name ("Claude", "Jules") next to a personal address is a person
    if agent is None:
        prefixes = index.name_prefixes.get(folded[:2], ())
        agent = next((a for p, a in prefixes if folded.startswith(p)), None)
    if agent is None:
        suffixes = index.name_suffixes.get(folded[-2:], ())
        agent = next((a for s, a in suffixes if folded.endswith(s)), None)
    return _IdentityMatch(agent, "name") if agent else None


def _impersonal(email: str) -> bool:
    """No address, or one no person reads (noreply, bots, placeholder hosts)."""
    local, at, domain = email.partition("@")
    if not at or not local:
        return True
    markers = ("noreply", "no-reply", "[bot]", "agent", "localhost")
    return any(m in local or m in domain for m in markers) or "." not in domain


def _split_identity(value: str) -> tuple[str, str]:
    lt = value.rfind("<")
    if lt != -1:
        gt = value.find(">", lt)
        return value[:lt], value[lt + 1 : gt if gt != -1 else len(value)]
    value = value.strip()
    if "@" in value and " " not in value:
        return "", value
    return value, ""


def _match_words(index: _Index, text: str) -> str | None:
    """The agent whose footer words START ``text`` (after filler words such as 'the help of')."""
    words = _words(text)[:12]
    while words and words[0] in _FILLER_WORDS:
        words = words[1:]
    for seq, agent in index.footer_words:
        if tuple(words[: len(seq)]) == seq:
            return agent
    return None


# ----------------------------------------------------------------------------- collection


@dataclass
class _Collector:
    """Accumulates signals with caps; the only mutable object, local to one detect() call."""

    signals: list[Signal] = field(default_factory=list)
    seen: set[_Hit] = field(default_factory=set)
    per_kind: dict[tuple[str, str | None], int] = field(default_factory=dict)
    commits_per_kind: dict[tuple[str, str | None], set[str]] = field(default_factory=dict)
    omitted: int = 0

    def add(self, hit: _Hit) -> None:
        kind = (hit.id, hit.agent)
        if hit.commit:
            self.commits_per_kind.setdefault(kind, set()).add(hit.commit)
        count = self.per_kind.get(kind, 0)
        if count >= MAX_SIGNALS_PER_KIND or len(self.signals) >= MAX_SIGNALS:
            self.per_kind[kind] = count + 1
            self.omitted += 1
            return
        if hit in self.seen:
            return
        self.seen.add(hit)
        self.per_kind[kind] = count + 1
        self.signals.append(
            Signal(
                id=hit.id,
                strength=hit.strength,
                agent=hit.agent,
                evidence=_clean(hit.evidence),
                commit=hit.commit,
                path=hit.path,
            )
        )


@dataclass(frozen=True, slots=True)
class _Hit:
    """A signal before it is kept: evidence still raw (cleaned only if the signal is kept)."""

    id: str
    strength: SignalStrength
    evidence: str
    agent: str | None = None
    commit: str | None = None
    path: str | None = None


def _sig(
    sid: str,
    strength: SignalStrength,
    evidence: str,
    *,
    agent: str | None = None,
    commit: str | None = None,
    path: str | None = None,
) -> _Hit:
    return _Hit(sid, strength, evidence, agent, commit, path)


@dataclass
class _Scanner:
    """Reads commit messages and PR bodies line by line, within a budget, with a memo of lines.

    Local to one detect() call. Results per distinct line are memoised (squashes and long
    histories repeat the same trailers); the total number of lines read is capped so thousands of
    100 KB messages cannot make detection slow. Stopping early only loses markers, and a
    marker only ever adds scrutiny, so a hostile history gains nothing from the cap.
    """

    table: AgentTable
    index: _Index
    lines_left: int = MAX_TOTAL_LINES
    unread: int = 0
    memo: dict[tuple[str, bool], tuple[_Hit, ...]] = field(default_factory=dict)

    def message(self, text: str, commit: str | None) -> Iterator[_Hit]:
        """Trailers, footers and agent markers in one commit message (or PR body, commit=None).

        Each line is read as given and, only if that found nothing, normalised.
        """
        if self.lines_left <= 0:
            self.unread += 1
            return
        raw_lines = text.split("\n", self.lines_left)[: self.lines_left]
        self.lines_left -= len(raw_lines)
        text = "\n".join(raw_lines)
        where = f"commit {_short(commit)}" if commit else "PR body"
        norm_text = text if text.isascii() else normalise(text)  # ASCII is left unchanged by normalise()
        norm_lines = norm_text.split("\n") if norm_text != text else None
        if norm_lines is not None and len(norm_lines) != len(raw_lines):
            raw_lines, norm_lines = raw_lines + norm_lines, None  # cannot pair lines: read both
        for i, raw in enumerate(raw_lines):
            line = raw[:MAX_LINE_CHARS].strip()
            if not line:
                continue
            found = self._line(line, commit is not None)
            if not found and norm_lines is not None:
                norm = norm_lines[i][:MAX_LINE_CHARS].strip()
                if norm != line:
                    found = self._line(norm, commit is not None)
            for hit in found:
                yield replace(hit, evidence=f"{where}: {hit.evidence}", commit=commit)
        yield from self._markers(text, norm_text, commit, where)

    def _markers(self, text: str, norm_text: str, commit: str | None, where: str) -> Iterator[_Hit]:
        sid = "footer" if commit else "pr_marker"
        variants = tuple(dict.fromkeys((text, norm_text)))
        folded = [v.casefold() for v in variants]
        for marker, agent in self.index.body_markers:
            for variant, low in zip(variants, folded, strict=True):
                at = low.find(marker)
                if at != -1:
                    line = _line_around(variant, at).strip()
                    yield _sig(sid, SignalStrength.STRONG, f"{where}: {line}", agent=agent, commit=commit)
                    break

    def _line(self, line: str, in_commit: bool) -> tuple[_Hit, ...]:
        """Signals of one line, evidence = the line, commit unset (the caller fills both in)."""
        key = (line, in_commit)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        found: list[_Hit] = []
        if ":" in line[: MAX_KEY_CHARS + 1]:
            found.extend(_trailer_signal(self.table, self.index, line, in_commit))
        if len(line) <= 300 and self.index.footer_hint.search(line):
            found.extend(_footer_signal(self.table, self.index, line, in_commit))
        result = tuple(found)
        if len(self.memo) < MAX_MEMO:
            self.memo[key] = result
        return result


def _trailer_signal(table: AgentTable, index: _Index, line: str, in_commit: bool) -> Iterator[_Hit]:
    colon = line.find(":", 0, MAX_KEY_CHARS + 1)
    if colon <= 0:
        return
    key = _key(line[:colon])
    value = line[colon + 1 :].strip()
    if not key or not value:
        return
    sid = "trailer" if in_commit else "pr_marker"
    if key in table.identity_keys:
        found = match_identity(index, *_split_identity(value))
        if found:
            strength = SignalStrength.MEDIUM if found.how == "name" else SignalStrength.STRONG
            yield _sig(sid, strength, line, agent=found.agent)
    elif key in table.ai_keys:
        if _fold(value) in _NEGATIVE_VALUES:
            return
        found = match_identity(index, *_split_identity(value.split(":", 1)[0]))
        agent = found.agent if found else _match_words(index, value)
        yield _sig(sid, SignalStrength.STRONG if agent else SignalStrength.MEDIUM, line, agent=agent)
    elif key in table.declaration_keys:
        words = _words(value)
        first = words[0] if words else ""
        if first in _NEGATIVE_VALUES:
            yield _sig("declared_none", SignalStrength.ADVISORY, line)
        elif first in _POSITIVE_VALUES or _match_words(index, value):
            yield _sig(sid, SignalStrength.STRONG, line, agent=_match_words(index, value))


def _footer_signal(table: AgentTable, index: _Index, line: str, in_commit: bool) -> Iterator[_Hit]:
    start = 0
    while start < len(line) and not line[start].isalnum():
        start += 1
    text = _fold(line[start:])
    for lead in table.footer_leads:
        if text.startswith(lead + " "):
            agent = _match_words(index, text[len(lead) :])
            if agent:
                yield _sig("footer" if in_commit else "pr_marker", SignalStrength.STRONG, line, agent=agent)
            return


def _identity_signals(index: _Index, commit: Commit) -> Iterator[_Hit]:
    """Who wrote and committed the commit: GitHub account (trusted) or git identity (a claim)."""
    for role in ("author", "committer"):
        login: str | None = getattr(commit, f"{role}_login")
        uid: int | None = getattr(commit, f"{role}_id")
        kind: str | None = getattr(commit, f"{role}_type")
        account = _account(index, login, uid, kind)
        if account:
            yield _sig(
                "bot_account",
                SignalStrength.STRONG,
                f"commit {_short(commit.sha)}: {role} is GitHub account {account[1]}",
                agent=account[0],
                commit=commit.sha,
            )
            continue
        name: str = getattr(commit, f"{role}_name")
        email: str = getattr(commit, f"{role}_email")
        name, email = name[:300], email[:300]
        for n, e in dict.fromkeys(((name, email), (normalise(name), normalise(email)))):
            found = match_identity(index, n, e)
            if found:
                strength = SignalStrength.MEDIUM if found.how == "name" else SignalStrength.STRONG
                yield _sig(
                    "agent_identity",
                    strength,
                    f"commit {_short(commit.sha)}: {role} {name[:80]} <{email[:80]}>",
                    agent=found.agent,
                    commit=commit.sha,
                )
                break


def _account(index: _Index, login: str | None, uid: int | None, kind: str | None) -> tuple[str, str] | None:
    """(agent, description) for a GitHub account known by numeric id, or by login if it is a Bot."""
    if uid is not None and uid in index.ids:
        return index.ids[uid], f"{_clean(login or '?')} (id {uid}, {_clean(kind or 'unknown type')})"
    if login and kind == "Bot":
        agent = index.logins.get(login.casefold())
        if agent:
            return agent, f"{_clean(login)} (type Bot)"
    return None


def _branch_signal(index: _Index, branch: str | None) -> Iterator[_Hit]:
    if not branch:
        return
    name = branch[:300].removeprefix("refs/heads/")
    for variant in _variants(name):
        folded = variant.casefold()
        for prefix, agent in index.branch_prefixes:
            if folded.startswith(prefix):
                yield _sig("agent_branch", SignalStrength.MEDIUM, f"branch {name}", agent=agent)
                return


def _pr_signals(scanner: _Scanner, pr: PullRequestMeta, config: AuthorshipConfig) -> Iterator[_Hit]:
    account = _account(scanner.index, pr.author_login, pr.author_id, pr.author_type)
    if account:
        yield _sig("bot_account", SignalStrength.STRONG, f"PR opened by GitHub account {account[1]}", agent=account[0])
    body = pr.body[:MAX_BODY_CHARS]
    yield from scanner.message(body, None)
    yield from _declarations(scanner.index, body, config)


def _declarations(index: _Index, body: str, config: AuthorshipConfig) -> Iterator[_Hit]:
    """Checked boxes of the PR template: '- [x] This PR contains AI-generated code'.

    Each line is read as given and, only if that found nothing, normalised.
    """
    for line in _lines(body):
        for variant in _variants(line):
            hit = _declaration(index, variant, config)
            if hit is not None:
                yield hit
                break


def _declaration(index: _Index, line: str, config: AuthorshipConfig) -> _Hit | None:
    text = _checked_box(line)
    if text is None:
        return None
    folded = _fold(text)
    evidence = f"PR body: checked '{text.strip()}'"
    if any(p in folded for p in config.declaration.no_ai):
        return _sig("declared_none", SignalStrength.ADVISORY, evidence)
    if any(p in folded for p in config.declaration.ai_assisted):
        return _sig("declared_ai", SignalStrength.STRONG, evidence, agent=_named_agent(index, text))
    return None


def _checked_box(line: str) -> str | None:
    s = line.lstrip(" \t>")
    if s[:1] not in ("-", "*", "+"):
        return None
    s = s[1:].lstrip(" \t")
    if len(s) < 3 or s[0] != "[" or s[2] != "]" or s[1] not in "xX✓✔":
        return None
    return s[3:]


def _named_agent(index: _Index, text: str) -> str | None:
    words = _words(text)
    for i in range(len(words)):
        agent = _match_words(index, " ".join(words[i:]))
        if agent:
            return agent
    return None


def instruction_file_pattern_matches(pattern: str, path: str) -> bool:
    """A name without '/' matches in any directory; 'dir/' matches a folder at any depth;
    other paths match the end of the path. Case-insensitive."""
    p = pattern.casefold().lstrip("/")
    full = "/" + path.casefold().lstrip("/")
    if "/" not in p:
        return full.rsplit("/", 1)[-1] == p
    if p.endswith("/"):
        return ("/" + p) in full
    return full.endswith("/" + p)


# ``@path`` imports in agent memory files (Claude Code's CLAUDE.md; followed at most 5 deep there).
# Only tokens that look like a path (a "/" or a ".") count, so "@alice" is not an import.
_IMPORT = re.compile(r"(?<![\w`@/])@((?:~/|\.{1,2}/|/)?[\w.\-]+(?:/[\w.\-]+)*)")
MAX_IMPORT_DEPTH = 5
MAX_LINKED_READS = 64
SYMLINK_MODE = "120000"


def _resolve(source: str, target: str) -> str | None:
    """``target`` as written in ``source`` (a link or an import), as a repository path; None if
    it leaves the repository or points at the user's home."""
    if target.startswith(("/", "~")) or "\x00" in target:
        return None
    parts: list[str] = []
    for part in [*source.split("/")[:-1], *target.split("/")]:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


def imports_in(text: str) -> list[str]:
    """The ``@path`` imports of an instruction file, outside code fences and code spans."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        prose = re.sub(r"`[^`]*`", "", line)
        out += [m.group(1) for m in _IMPORT.finditer(prose) if "/" in m.group(1) or "." in m.group(1)]
    return out


def instruction_links(
    entries: Sequence[tuple[str, str]], read: Callable[[str], bytes | None], table: AgentTable | None = None,
) -> tuple[tuple[str, str], ...]:
    """Files that steer an agent without being named like an instruction file: the target of an
    instruction-named symlink (``CLAUDE.md -> docs/agent.md``), and what an instruction file
    imports with ``@path``, recursively. ``entries`` are the head tree's ``(path, mode)``;
    ``read`` returns a path's head bytes (a symlink's: its target). Pure over its inputs; at most
    ``MAX_LINKED_READS`` reads."""
    table = table or builtin_table()
    modes = dict(entries)
    named = sorted(p for p in modes
                   if any(instruction_file_pattern_matches(pat, p) for pat, _ in table.instruction_files))
    found: dict[str, str] = {}
    queue = [(p, p, 0) for p in named]  # (path, the instruction file it came from, import depth)
    reads = 0
    while queue and reads < MAX_LINKED_READS:
        path, origin, depth = queue.pop(0)
        data = read(path)
        reads += 1
        if data is None:
            continue
        text = data.decode("utf-8", "replace")
        if modes.get(path) == SYMLINK_MODE:
            target = _resolve(path, text.strip())
            if target and target not in found and target != path and target in modes:
                found[target] = f"target of the symlink {path}"
                queue.append((target, origin, depth))
            continue
        if depth >= MAX_IMPORT_DEPTH:
            continue
        for ref in imports_in(text[:200_000]):
            target = _resolve(path, ref)
            if target and target not in found and target not in named and target in modes:
                found[target] = f"imported by {origin} (@{ref})"
                queue.append((target, origin, depth + 1))
    return tuple(sorted(found.items()))


def _instruction_signals(table: AgentTable, files: Sequence[ChangedFile],
                         links: Sequence[tuple[str, str]] = ()) -> Iterator[_Hit]:
    linked = dict(links)
    for f in files:
        if f.path in linked:
            evidence = f"{f.status.value} {f.path} ({linked[f.path]}: instructions for coding agents)"
            yield _sig("instruction_file", SignalStrength.MEDIUM, evidence, agent=None, path=f.path)
            continue
        paths = [f.path] + ([f.old_path] if f.old_path and f.old_path != f.path else [])
        for path in paths:
            for variant in _variants(path[:1000]):
                hit = next(
                    ((p, a) for p, a in table.instruction_files if instruction_file_pattern_matches(p, variant)), None
                )
                if hit:
                    label = table.display.get(hit[1], hit[1]) if hit[1] else "coding agents"
                    evidence = f"{f.status.value} {path} (instructions for {label})"
                    yield _sig("instruction_file", SignalStrength.MEDIUM, evidence, agent=hit[1], path=f.path)
                    break


# ----------------------------------------------------------------------------- advisory


def _heuristic_signals(change: ChangeSet, commits: Sequence[Commit]) -> Iterator[_Hit]:
    """Advisory content heuristics: style typical of agent output. Never decide alone.

    They read only the start of each text (HEURISTIC_CHARS), so their cost stays small.
    """
    if change.pr is not None:
        body = change.pr.body[:HEURISTIC_CHARS]
        headings = {_fold(line.strip("# \t")) for line in body.split("\n") if line.startswith("#")}
        if "summary" in headings and headings & {"test plan", "testing"}:
            yield _sig(
                "content_heuristic",
                SignalStrength.ADVISORY,
                "PR body has agent-style 'Summary' and 'Test plan'/'Testing' sections",
            )
    for c in commits:
        lines = c.message[:HEURISTIC_CHARS].split("\n")[1:]
        md = sum(1 for line in lines if line.lstrip().startswith(("## ", "### ", "- **", "* **")))
        if md >= 2:
            yield _sig(
                "content_heuristic",
                SignalStrength.ADVISORY,
                f"commit {_short(c.sha)}: markdown headings or bold bullets in the message",
                commit=c.sha,
            )


# ----------------------------------------------------------------------------- verdict


def _confidence(signals: Sequence[Signal], ai: bool) -> float:
    best: dict[tuple[str, str | None], float] = {}
    for s in signals:
        if s.id in AI_SIGNAL_IDS or s.id == "content_heuristic":
            k = (s.id, s.agent)
            best[k] = max(best.get(k, 0.0), _WEIGHT[s.strength])
    miss = 1.0
    for w in best.values():
        miss *= 1.0 - w
    value = 1.0 - miss
    return round(value if ai else min(value, _ADVISORY_CAP), 3)


_PHRASES = MappingProxyType(
    {
        "bot_account": "agent bot account",
        "trailer": "agent trailer",
        "footer": "agent footer",
        "agent_identity": "agent git identity",
        "pr_marker": "agent marker in PR body",
        "declared_ai": "PR declares AI assistance",
        "agent_branch": "agent branch name",
    }
)


def _summary(
    verdict: AIVerdict,
    agents: Sequence[str],
    col: _Collector,
    table: AgentTable,
    declared_none: bool,
    unread: int,
) -> str:
    note = f" ({unread} commit message(s) not read: size limit)" if unread else ""
    if verdict is AIVerdict.DECLARED_NONE:
        return _clean("PR declares no AI use (unverified); no AI-authorship marker found" + note)
    if verdict is AIVerdict.NO_MARKER:
        return _clean(_NO_MARKER_SUMMARY + note)
    names = ", ".join(table.display.get(a, a) for a in agents) or "unknown agent"
    parts: list[str] = []
    for sid, phrase in _PHRASES.items():
        kinds = [k for k in col.per_kind if k[0] == sid]
        if not kinds:
            continue
        commits = set().union(*(col.commits_per_kind.get(k, set()) for k in kinds))
        parts.append(f"{phrase} in {len(commits)} commit(s)" if commits else phrase)
    why = "; ".join(parts)
    if declared_none:
        why += "; contradicts the PR's no-AI declaration"
    return _clean(f"AI-generated ({names}): {why}{note}")


def detect(change: ChangeSet, config: AuthorshipConfig, *, branch: str | None = None) -> Authorship:
    """Authorship of a change from its commits, PR metadata and touched files. Pure.

    ``branch`` is the head branch name for a local scan; with PR metadata, ``pr.head_ref`` wins.
    """
    table = merged_table(builtin_table(), config)
    return detect_with_table(change, config, table, branch=branch)


def detect_with_table(
    change: ChangeSet, config: AuthorshipConfig, table: AgentTable, *, branch: str | None = None
) -> Authorship:
    """``detect`` with an explicit agent table (tests and benchmarks)."""
    scanner = _Scanner(table, _index(table))
    col = _Collector()
    hits: list[Iterable[_Hit]] = []
    if change.pr is not None:
        hits.append(_pr_signals(scanner, change.pr, config))
    head = change.pr.head_ref if change.pr is not None and change.pr.head_ref else branch
    hits.append(_branch_signal(scanner.index, head))
    commits = change.commits[:MAX_COMMITS]
    for commit in commits:
        hits.append(scanner.message(commit.message[:MAX_MESSAGE_CHARS], commit.sha))
        hits.append(_identity_signals(scanner.index, commit))
    touched = list(_instruction_signals(table, change.files, change.instruction_links))
    hits.append(touched)
    if config.content_heuristics:
        hits.append(_heuristic_signals(change, commits))
    for group in hits:
        for hit in group:
            col.add(hit)
    unread = scanner.unread + max(0, len(change.commits) - MAX_COMMITS)
    return _verdict(col, table, tuple(sorted({s.path for s in touched if s.path})), unread)


def _verdict(col: _Collector, table: AgentTable, files: tuple[str, ...], unread: int) -> Authorship:
    kinds = set(col.per_kind)
    ai = any(sid in AI_SIGNAL_IDS for sid, _ in kinds)
    declared_none = any(sid == "declared_none" for sid, _ in kinds)
    verdict = AIVerdict.YES if ai else AIVerdict.DECLARED_NONE if declared_none else AIVerdict.NO_MARKER
    agents = tuple(sorted({a for sid, a in kinds if a and sid in AI_SIGNAL_IDS}))
    signals = tuple(sorted(col.signals, key=_signal_order))
    return Authorship(
        ai_generated=verdict,
        confidence=_confidence(col.signals, ai),
        agents=agents,
        signals=signals,
        instruction_files=files,
        summary=_summary(verdict, agents, col, table, declared_none, unread),
    )


def _signal_order(s: Signal) -> tuple[int, int]:
    """Strongest first, then by kind; within a kind, the order of the commits is kept."""
    strength = {SignalStrength.STRONG: 0, SignalStrength.MEDIUM: 1, SignalStrength.ADVISORY: 2}[s.strength]
    return (strength, SIGNAL_IDS.index(s.id))
