"""Measure govbot's authorship detector: precision/recall on a labelled set, and worst-case time.

    .venv/bin/python benchmarks/authorship_eval.py [--verbose]

The labelled set (benchmarks/data/authorship/labelled.yml) is written by hand: real-shaped
commit messages and PR metadata of agent-made and human-made changes, including tricky ones.
"Predicted AI" means ``ai_generated == yes``. Content heuristics are measured separately: they
are advisory and never decide ``ai_generated``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from govbot.checks.authorship import MAX_COMMITS, MAX_MESSAGE_CHARS, MAX_TOTAL_LINES, detect
from govbot.core.models import (
    AIVerdict,
    Authorship,
    ChangedFile,
    ChangeSet,
    Commit,
    FileStatus,
    PullRequestMeta,
)
from govbot.policy.authorship_config import AuthorshipConfig

DATA = Path(__file__).parent / "data" / "authorship" / "labelled.yml"


@dataclass(frozen=True)
class Example:
    id: str
    truth: bool
    agent: str | None
    kind: str
    change: ChangeSet
    branch: str | None


def _identity(text: str | None) -> tuple[str, str]:
    if not text:
        return "Alice Example", "alice@example.org"
    name, _, rest = text.partition("<")
    return name.strip(), rest.rstrip(">").strip()


def _commit(i: int, raw: dict[str, Any]) -> Commit:
    author = _identity(raw.get("author"))
    committer = _identity(raw.get("committer") or raw.get("author"))
    account = raw.get("account") or {}
    sha = hashlib.sha1(f"{i}:{raw['message']}".encode(), usedforsecurity=False).hexdigest()
    return Commit(
        sha=sha,
        parents=tuple(f"{p:040x}" for p in range(raw.get("parents", 1))),
        message=raw["message"],
        author_name=author[0],
        author_email=author[1],
        committer_name=committer[0],
        committer_email=committer[1],
        author_login=account.get("login"),
        author_id=account.get("id"),
        author_type=account.get("type"),
    )


def load(path: Path = DATA) -> list[Example]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    out: list[Example] = []
    for raw in data["examples"]:
        commits = tuple(_commit(i, c) for i, c in enumerate(raw.get("commits", [])))
        pr = PullRequestMeta(number=1, **raw["pr"]) if "pr" in raw else None
        files = tuple(ChangedFile(path=p, status=FileStatus.MODIFIED) for p in raw.get("files", []))
        change = ChangeSet(base="0" * 40, head="1" * 40, commits=commits, pr=pr, files=files)
        out.append(Example(raw["id"], raw["truth"] == "ai", raw.get("agent"), raw["kind"], change, raw.get("branch")))
    return out


@dataclass
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        if truth and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self, label: str) -> str:
        return (
            f"{label:<44} precision {self.precision:6.1%}  recall {self.recall:6.1%}  "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})"
        )


def evaluate(examples: list[Example], verbose: bool) -> int:
    plain, heuristic, marked_only = Scores(), Scores(), Scores()
    agent_errors: list[str] = []
    misses: list[str] = []
    config_h = AuthorshipConfig(content_heuristics=True)
    for ex in examples:
        result = detect(ex.change, AuthorshipConfig(), branch=ex.branch)
        predicted = result.ai_generated is AIVerdict.YES
        plain.add(ex.truth, predicted)
        if ex.kind not in {"stripped", "forged"}:
            marked_only.add(ex.truth, predicted)
        with_h = detect(ex.change, config_h, branch=ex.branch)
        heuristic.add(ex.truth, any(s.id == "content_heuristic" for s in with_h.signals))
        if predicted and ex.truth and ex.agent and ex.agent not in result.agents:
            agent_errors.append(f"{ex.id}: expected {ex.agent}, got {result.agents}")
        if predicted != ex.truth:
            misses.append(f"  {'FP' if predicted else 'FN'} [{ex.kind}] {ex.id}: {result.summary}")
        if verbose:
            print(
                f"{ex.id:<36} truth={'ai' if ex.truth else 'human':<5} -> {result.ai_generated.value:<13} "
                f"{','.join(result.agents)}"
            )
    kinds: dict[str, int] = {}
    for ex in examples:
        kinds[ex.kind] = kinds.get(ex.kind, 0) + 1
    print(
        f"labelled set: {len(examples)} examples "
        f"({sum(e.truth for e in examples)} AI, {sum(not e.truth for e in examples)} human; "
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        + ")"
    )
    print(plain.line("markers (ai_generated == yes), all examples"))
    print(marked_only.line("markers, without stripped/forged examples"))
    print(heuristic.line("content heuristics alone (advisory)"))
    print(f"agent named correctly: {plain.tp - len(agent_errors)}/{plain.tp} detected AI examples")
    for err in agent_errors:
        print(f"  agent mismatch: {err}")
    print("misclassified:")
    print("\n".join(misses) or "  none")
    return 0


def _timed(fn: Callable[[], Authorship], repeat: int = 3) -> tuple[float, Authorship]:
    best = float("inf")
    result = Authorship()
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def hostile_messages() -> dict[str, str]:
    size = 100_000
    trailer = "Co-authored-by: Claude <noreply@anthropic.com>\n"
    return {
        "100 KB of trailers": (trailer * (size // len(trailer) + 1))[:size],
        "100 KB of 'Co-authored-by: a' + zero-width": ("Co\u200b-authored-by: a\u200b<b@c\n" * 4000)[:size],
        "100 KB single line of colons": ":" * size,
        "100 KB single line, no spaces": "x" * size,
        "100 KB of '<' and '@'": ("Co-authored-by: " + "<@" * size)[:size],
        "100 KB of footers": ("🤖 Generated with " + "the " * 20 + "\n") * (size // 100),
        "100 KB of checked boxes": ("- [x] " + "no ai " * 5 + "\n") * (size // 37),
        "100 KB of bidi/combining marks": ("\u202e\u0301a\u200d" * (size // 4))[:size],
        "100 KB of newlines": "\n" * size,
    }


def timings() -> None:
    config = AuthorshipConfig(content_heuristics=True)
    print("worst-case parse time (best of 3, content heuristics on):")
    worst = 0.0
    for label, message in hostile_messages().items():
        commit = Commit(sha="a" * 40, message=message)
        pr = PullRequestMeta(number=1, body=message, head_ref="claude/x")
        change = ChangeSet(base="b", head="h", commits=(commit,), pr=pr)
        seconds, _ = _timed(lambda c=change: detect(c, config))  # type: ignore[misc]
        worst = max(worst, seconds)
        print(f"  {label:<48} {seconds * 1000:8.1f} ms  (commit message + PR body)")
    print(f"  worst hostile 100 KB input: {worst * 1000:.1f} ms")
    typical = (
        "feat: add thing\n\nSome explanation of the change that spans\na couple of lines.\n\n"
        "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
        "Co-Authored-By: Claude <noreply@anthropic.com>\n"
    )
    commits = tuple(
        Commit(sha=f"{i:040x}", message=typical, author_name="Alice", author_email="a@example.org")
        for i in range(MAX_COMMITS)
    )
    change = ChangeSet(base="b", head="h", commits=commits)
    seconds, result = _timed(lambda: detect(change, config), repeat=2)
    print(f"  {MAX_COMMITS} commits with agent markers: {seconds * 1000:8.1f} ms ({len(result.signals)} signals kept)")
    big = tuple(
        Commit(sha=f"{i:040x}", message=("Co-authored-by: x <y@z>\n" * 400)[:10_000]) for i in range(MAX_COMMITS)
    )
    seconds, _ = _timed(lambda: detect(ChangeSet(base="b", head="h", commits=big), config), repeat=1)
    print(f"  {MAX_COMMITS} commits x 10 KB of repeated human trailers: {seconds * 1000:8.1f} ms")
    distinct = tuple(
        Commit(
            sha=f"{i:040x}",
            message="".join(f"Co-authored-by: P{i} {j} <p{i}.{j}@x{j % 97}.example>\n" for j in range(2_500))[
                :MAX_MESSAGE_CHARS
            ],
        )
        for i in range(MAX_COMMITS)
    )
    seconds, result = _timed(lambda: detect(ChangeSet(base="b", head="h", commits=distinct), config), repeat=1)
    print(
        f"  {MAX_COMMITS} commits x 100 KB of distinct trailers: {seconds * 1000:8.1f} ms "
        f"(line budget {MAX_TOTAL_LINES:,}; summary: {result.summary})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="print every example's verdict")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args(argv)
    evaluate(load(), args.verbose)
    if not args.no_timing:
        timings()
    return 0


if __name__ == "__main__":
    sys.exit(main())
