"""Split a change into review chunks by file, within a token budget per chunk (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
CHARS_PER_TOKEN = 4  # a conservative average for code; no tokenizer dependency


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


@dataclass(frozen=True)
class FilePatch:
    path: str
    patch: str
    confidential: bool = False
    aux: bool = False  # reviewed at the route's split tier (tests, docs, lint-level files of a split review)


@dataclass(frozen=True)
class Chunk:
    index: int
    paths: tuple[str, ...]
    patches: tuple[FilePatch, ...]
    tokens: int
    confidential: bool
    note: str | None = None  # e.g. "part 2 of 3 of big.py"
    aux: bool = False  # the files of a split review that its lower tier reviews


def make_chunks(files: Sequence[FilePatch], budget_tokens: int) -> list[Chunk]:
    """Greedy packing in the given order; confidential files never share a chunk with others, nor
    do the auxiliary files of a split review (they go to another tier).

    A file larger than the budget is split at hunk boundaries (and a huge hunk at line
    boundaries), each piece keeping the file header so the reviewer knows where it is.
    """
    pieces: list[tuple[FilePatch, str | None]] = []
    for f in files:
        parts = _split_file(f.patch, budget_tokens)
        for i, part in enumerate(parts, 1):
            note = f"part {i} of {len(parts)} of {f.path}" if len(parts) > 1 else None
            pieces.append((FilePatch(f.path, part, f.confidential, f.aux), note))
    chunks: list[Chunk] = []
    current: list[tuple[FilePatch, str | None]] = []
    used = 0
    for piece, note in sorted(pieces, key=lambda p: _group(p[0])):  # stable: order kept per group
        cost = estimate_tokens(piece.patch)
        mixed = bool(current) and _group(current[0][0]) != _group(piece)
        if current and (used + cost > budget_tokens or mixed or note is not None or current[-1][1]):
            chunks.append(_chunk(len(chunks), current))
            current, used = [], 0
        current.append((piece, note))
        used += cost
    if current:
        chunks.append(_chunk(len(chunks), current))
    return chunks


def _group(p: FilePatch) -> tuple[bool, bool]:
    return p.confidential, p.aux


def _chunk(index: int, items: list[tuple[FilePatch, str | None]]) -> Chunk:
    patches = tuple(p for p, _ in items)
    paths = tuple(dict.fromkeys(p.path for p in patches))
    notes = [n for _, n in items if n]
    return Chunk(
        index=index,
        paths=paths,
        patches=patches,
        tokens=sum(estimate_tokens(p.patch) for p in patches),
        confidential=patches[0].confidential,
        note="; ".join(notes) or None,
        aux=patches[0].aux,
    )


def _split_file(patch: str, budget_tokens: int) -> list[str]:
    if estimate_tokens(patch) <= budget_tokens:
        return [patch]
    lines = patch.splitlines(keepends=True)
    first_hunk = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
    header, body = lines[:first_hunk], lines[first_hunk:]
    hunks: list[list[str]] = []
    for line in body:
        if line.startswith("@@") or not hunks:
            hunks.append([])
        hunks[-1].append(line)
    budget_chars = budget_tokens * 4
    head = "".join(header)
    parts: list[str] = []
    current = ""
    for hunk in hunks:
        for piece in _split_hunk(hunk, budget_chars - len(head)):
            if current and len(head) + len(current) + len(piece) > budget_chars:
                parts.append(head + current)
                current = ""
            current += piece
    if current or not parts:
        parts.append(head + current)
    return parts


def _split_hunk(hunk: list[str], budget_chars: int) -> list[str]:
    """Split one hunk at line boundaries; every piece gets a correct ``@@`` header of its own."""
    text = "".join(hunk)
    m = _HUNK.match(hunk[0]) if hunk else None
    if len(text) <= budget_chars or len(hunk) < 3 or m is None:
        return [text]
    old_no, new_no = int(m.group(1)), int(m.group(2))
    pieces: list[tuple[int, int, list[str]]] = []
    current: list[str] = []
    start = (old_no, new_no)
    size = 0
    for line in hunk[1:]:
        if current and size + len(line) > budget_chars - 40:
            pieces.append((*start, current))
            current, size, start = [], 0, (old_no, new_no)
        current.append(line)
        size += len(line)
        tag = line[:1]
        old_no += tag in (" ", "-", "\n", "")
        new_no += tag in (" ", "+", "\n", "")
    pieces.append((*start, current))
    out = []
    for o, n, body in pieces:
        olen = sum(1 for line in body if line[:1] in (" ", "-", "\n", ""))
        nlen = sum(1 for line in body if line[:1] in (" ", "+", "\n", ""))
        out.append(f"@@ -{o},{olen} +{n},{nlen} @@\n" + "".join(body))
    return out
