"""The one consolidated PR comment and the step summary, as GitHub-flavoured Markdown.

Pure and deterministic: the same report always gives the same text. Every string that came from
the pull request goes through ``md()`` or ``code()`` (see ``bot/render/text.py``). The comment never
exceeds ``max_chars`` (counted in UTF-16 code units, the stricter of the ways GitHub may count);
when the findings do not fit, the lowest-severity ones are left out and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from govbot.bot.render.text import (
    SEVERITY_ORDER,
    code,
    display_order_key,
    location,
    md,
    plural,
    short_sha,
    sorted_for_display,
    strongest_first,
)
from govbot.core.models import (
    AIVerdict,
    Finding,
    LLMCall,
    LLMStatus,
    Outcome,
    Reason,
    Report,
    Severity,
    Signal,
    SkippedFile,
    ToolStatus,
)

STEP_SUMMARY_MAX_BYTES = 1_000_000  # GitHub refuses step summaries above 1 MiB
MESSAGE_LIMIT = 1000  # the bundled rules put the fix last; their longest message is ~450
PATH_LIMIT = 150
RULE_LIMIT = 120
MAX_REASONS = 50
MAX_NOTICES = 20
MAX_SIGNALS = 3
MAX_SKIPPED = 50
MAX_CALLS = 30
MAX_RESOLVED = 20
MAX_SUPPRESSIONS = 30

_HEADLINE = {
    Outcome.PASS: "✅ govbot: pass",
    Outcome.WARN: "⚠️ govbot: pass with warnings",
    Outcome.REVIEW_REQUIRED: "👀 govbot: human review required",
    Outcome.BLOCK: "⛔ govbot: blocked",
}
_ACTION_ICON = {"block": "⛔", "require_review": "👀", "warn": "⚠️", "comment": "💬"}
_SEVERITY_ICON = {
    Severity.CRITICAL: "🔴",
    Severity.HIGH: "🟠",
    Severity.MEDIUM: "🟡",
    Severity.LOW: "🔵",
    Severity.INFO: "⚪",
}
_TOOL_ICON = {
    ToolStatus.OK: "✅",
    ToolStatus.NOT_APPLICABLE: "➖",
    ToolStatus.FAILED: "❌",
    ToolStatus.TIMEOUT: "⏱️",
    ToolStatus.MISSING: "❓",
}
_OK_STATUSES = (ToolStatus.OK, ToolStatus.NOT_APPLICABLE)


def comment_markdown(report: Report, *, max_chars: int = 65_000) -> str:
    """The sticky PR comment body (without the hidden marker, which the publisher adds)."""
    return _capped(report, max_chars, comment_size)


def summary_markdown(report: Report) -> str:
    """``$GITHUB_STEP_SUMMARY``: the comment, capped only by GitHub's 1 MiB step-summary limit."""
    return _capped(report, STEP_SUMMARY_MAX_BYTES, _utf8_size)


def comment_size(text: str) -> int:
    """A comment's size as the cap counts it: UTF-16 code units (the stricter of GitHub's counts)."""
    return len(text.encode("utf-16-le")) // 2


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _capped(report: Report, limit: int, size: Callable[[str], int]) -> str:
    findings = [f for f in report.findings if f.suppression is None]
    rows = {id(f): _finding_row(f) for f in findings}
    # Truncation keeps the most severe findings; in-diff wins among equals.
    priority = sorted(findings, key=lambda f: (-f.severity.rank, *display_order_key(f)))

    def render(keep: int) -> str:
        return _render(report, priority[:keep], len(priority) - keep, rows)

    # The rows alone must fit, which bounds the search without rendering everything first.
    hi, used = 0, 0
    for f in priority:
        used += size(rows[id(f)]) + 1
        if used > limit:
            break
        hi += 1
    if hi == len(priority):
        text = render(hi)
        if size(text) <= limit:
            return text
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(render(mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    text = render(lo)
    return text if size(text) <= limit else _hard_truncate(text, limit, size)


def _hard_truncate(text: str, max_chars: int, size: Callable[[str], int]) -> str:
    tail = "\n\n… comment truncated; the full report has everything.\n"
    if size(tail) >= max_chars:
        short = tail.strip()
        while short and size(short) > max_chars:
            short = short[:-1]
        return short
    budget = max_chars - size(tail)
    cut = text[:budget]
    while size(cut) > budget:
        cut = cut[: len(cut) - (size(cut) - budget)]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + tail


def _finding_row(f: Finding) -> str:
    loc = location(f)
    notes: list[str] = []
    if f.cwe:
        notes.append(", ".join(md(c, limit=40) for c in f.cwe[:3]))
    if f.also_reported_by:
        notes.append("also " + ", ".join(md(t, limit=30) for t in sorted(f.also_reported_by)))
    if not f.verified:
        notes.append("location unverified")
    if f.confidence:
        notes.append(f"{f.confidence} confidence")
    if f.verification:
        v = f.verification
        notes.append(f"verifier {v.score:.2f}" + (" (below threshold)" if v.below_threshold else "")
                     + (f": {md(v.reason, limit=160)}" if v.reason else ""))
    extra = f" <sub>{' · '.join(notes)}</sub>" if notes else ""
    cells = [
        code(loc, limit=PATH_LIMIT) if f.path else "PR",
        code(f.rule_id, limit=RULE_LIMIT),
        md(f.message, limit=MESSAGE_LIMIT) + extra,
    ]
    return "| " + " | ".join(cells) + " |"


def _render(report: Report, shown: Sequence[Finding], hidden: int, rows: dict[int, str]) -> str:
    parts = [
        _headline(report),
        _incomplete(report),
        _reasons(report),
        _notices(report),
        _authorship(report),
        _findings(report, shown, hidden, rows),
        _suppressions(report),
        _llm(report),
        _tools(report),
        _skipped(report),
        _footer(report),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _incomplete_reasons(report: Report) -> list[str]:
    lines = []
    for t in sorted(report.tools, key=lambda t: t.name):
        if t.status not in _OK_STATUSES:
            err = f" — {md(t.error, limit=200)}" if t.error else ""
            lines.append(f"{code(t.name, in_table=False)} {t.status.value}{err}")
    if report.llm.status in (LLMStatus.INCOMPLETE, LLMStatus.BUDGET_EXCEEDED):
        lines.append(f"LLM review {report.llm.status.value.replace('_', ' ')} — {md(report.llm.reason)}")
    lines += [f"change set truncated: {md(t, limit=200)}" for t in report.change.truncated]
    missed = _incomplete_skips(report)
    if missed:
        lines.append(f"{plural(missed, 'file')} could not be analysed (see below)")
    return lines


def _incomplete_skips(report: Report) -> int:
    skips = list(report.change.files_skipped) + [s for t in report.tools for s in t.skipped]
    return sum(1 for s in skips if s.incomplete)


def _is_incomplete(report: Report) -> bool:
    return (
        not report.decision.complete
        or any(t.status not in _OK_STATUSES for t in report.tools)
        or _incomplete_skips(report) > 0
    )


def _headline(report: Report) -> str:
    d = report.decision
    title = _HEADLINE[d.outcome]
    if not d.complete and d.outcome in (Outcome.PASS, Outcome.WARN):
        title = "❗ govbot: analysis incomplete — not a pass"
    c = report.change
    active = [f for f in report.findings if f.suppression is None]
    in_diff = sum(1 for f in active if f.in_diff)
    stats = [
        f"{plural(len(active), 'finding')} ({in_diff:,} on changed lines)",
        f"{c.files_analysed:,} of {plural(c.files_changed, 'changed file')} analysed",
    ]
    if c.commits:
        stats.append(plural(c.commits, "commit"))
    return f"## {title}\n\n" + " · ".join(stats)


def _incomplete(report: Report) -> str:
    if not _is_incomplete(report):
        return ""
    lines = [
        "> [!WARNING]",
        "> **Analysis incomplete — this is not a pass.** Some checks did not finish, "
        "so problems may be missing from this comment.",
    ]
    lines += [f"> - {line}" for line in _incomplete_reasons(report)]
    return "\n".join(lines)


def _reasons(report: Report) -> str:
    d = report.decision
    if not d.reasons:
        why = "No policy rule was triggered." if d.outcome is Outcome.PASS else ""
    else:
        items = [_reason(r) for r in d.reasons[:MAX_REASONS]]
        if len(d.reasons) > MAX_REASONS:
            items.append(f"- … {len(d.reasons) - MAX_REASONS} more reasons in the report")
        why = "**Why**\n\n" + "\n".join(items)
    labels = []
    if d.labels_add:
        labels.append("adding " + ", ".join(code(x, in_table=False) for x in d.labels_add))
    if d.labels_remove:
        labels.append("removing " + ", ".join(code(x, in_table=False) for x in d.labels_remove))
    label_line = ("**Labels:** " + "; ".join(labels)) if labels else ""
    return "\n\n".join(p for p in (why, label_line) if p)


def _reason(r: Reason) -> str:
    icon = _ACTION_ICON.get(r.action, "•")
    count = f" ({plural(len(r.fingerprints), 'finding')})" if r.fingerprints else ""
    return (
        f"- {icon} **{md(r.action.replace('_', ' '))}** — {md(r.message, limit=400)}"
        f" · rule {code(r.rule, limit=RULE_LIMIT, in_table=False)}{count}"
    )


def _notices(report: Report) -> str:
    notices = report.decision.notices
    if not notices:
        return ""
    lines = ["> [!NOTE]"] + [f"> - {md(n, limit=400)}" for n in notices[:MAX_NOTICES]]
    if len(notices) > MAX_NOTICES:
        lines.append(f"> - … {len(notices) - MAX_NOTICES} more notices in the report")
    return "\n".join(lines)


def _authorship(report: Report) -> str:
    a = report.authorship
    if a.ai_generated is AIVerdict.YES:
        agents = f"; agent: {', '.join(md(x, limit=60) for x in a.agents)}" if a.agents else ""
        verdict = f"yes ({a.confidence:.0%} confidence{agents})"
    elif a.ai_generated is AIVerdict.DECLARED_NONE:
        verdict = "declared as not AI-assisted (unverified)"
    else:
        verdict = "unknown"
    lines = [f"**AI-generated:** {verdict} — {md(a.summary, limit=400)}"]
    signals = strongest_first(a.signals)
    if signals:
        lines.append("")
        lines.append("Why we think so:" if a.ai_generated is AIVerdict.YES else "Signals seen:")
        lines += [_signal(s) for s in signals[:MAX_SIGNALS]]
        if len(signals) > MAX_SIGNALS:
            lines.append(f"- … {plural(len(signals) - MAX_SIGNALS, 'more signal')} in the report")
    if a.instruction_files:
        files = ", ".join(code(f, limit=PATH_LIMIT, in_table=False) for f in a.instruction_files[:10])
        lines += ["", f"Agent instruction files in this change: {files}"]
    return "\n".join(lines)


def _signal(s: Signal) -> str:
    where = [code(s.id, limit=60, in_table=False)]
    if s.agent:
        where.append(md(s.agent, limit=60))
    if s.commit:
        where.append("commit " + code(short_sha(s.commit), in_table=False))
    if s.path:
        where.append(code(s.path, limit=PATH_LIMIT, in_table=False))
    return f"- **{s.strength.value}**: {md(s.evidence, limit=300)} ({', '.join(where)})"


def _findings(report: Report, shown: Sequence[Finding], hidden: int, rows: dict[int, str]) -> str:
    if not any(f.suppression is None for f in report.findings):
        return "### Findings\n\nNo findings in the analysed code."
    ordered = sorted_for_display(shown)
    inside = [f for f in ordered if f.in_diff]
    outside = [f for f in ordered if not f.in_diff]
    parts = ["### Findings"]
    if inside:
        parts += _severity_tables(inside, rows, level="####")
    elif not hidden or outside:
        parts.append("No findings on the changed lines.")
    if outside:
        inner = "\n\n".join(_severity_tables(outside, rows, level="#####"))
        parts.append(
            f"<details><summary>{plural(len(outside), 'finding')} outside the changed lines"
            f"</summary>\n\n{inner}\n\n</details>"
        )
    if hidden:
        parts.append(f"… {hidden} more findings in the report")
    return "\n\n".join(parts)


def _severity_tables(findings: Sequence[Finding], rows: dict[int, str], *, level: str) -> list[str]:
    tables = []
    for sev in SEVERITY_ORDER:
        group = [f for f in findings if f.severity is sev]
        if not group:
            continue
        header = f"{level} {_SEVERITY_ICON[sev]} {sev.value.capitalize()} ({len(group):,})"
        body = "\n".join(rows[id(f)] for f in group)
        tables.append(f"{header}\n\n| Location | Rule | Finding |\n| --- | --- | --- |\n{body}")
    return tables


def _suppressions(report: Report) -> str:
    suppressed = [(f, f.suppression) for f in report.findings if f.suppression is not None]
    added = sorted(((f, s) for f, s in suppressed if s.added_by_change), key=lambda fs: display_order_key(fs[0]))
    existing = len(suppressed) - len(added)
    lines = []
    if added:
        lines.append(f"### Suppressions added by this change ({len(added):,})")
        lines.append("")
        for f, supp in added[:MAX_SUPPRESSIONS]:
            loc = location(f)
            lines.append(
                f"- {code(supp.marker, limit=60, in_table=False)} at "
                f"{code(loc, limit=PATH_LIMIT, in_table=False)} silences "
                f"{code(f.rule_id, limit=RULE_LIMIT, in_table=False)} ({f.severity.value})"
            )
        if len(added) > MAX_SUPPRESSIONS:
            lines.append(f"- … {len(added) - MAX_SUPPRESSIONS} more in the report")
    if existing:
        lines += ["", f"{plural(existing, 'finding')} silenced by suppressions that were already there."]
    return "\n".join(lines).strip()


def _llm(report: Report) -> str:
    llm, route = report.llm, report.route
    if llm.status is LLMStatus.SKIPPED and not llm.calls:
        return f"**LLM review:** skipped — {md(llm.reason, limit=300)}"
    models = sorted({c.model for c in llm.calls}) or ([route.model] if route.model else [])
    tokens_in = sum(c.input_tokens for c in llm.calls)
    tokens_out = sum(c.output_tokens for c in llm.calls)
    head = [
        f"**LLM review:** {llm.status.value.replace('_', ' ')}",
        f"tier {code(route.tier.value, in_table=False)}" + (
            f" ({code(route.split_tier.value, in_table=False)} for {plural(route.split_files, 'test/docs file')})"
            if route.split_tier and route.split_files else ""),
        "model " + ", ".join(code(m, limit=80, in_table=False) for m in models) if models else "",
        f"{plural(len(llm.calls), 'call')}",
        f"{tokens_in:,} in / {tokens_out:,} out tokens",
        f"total ${llm.cost_usd:.4f}",
    ]
    lines = [" · ".join(h for h in head if h)]
    if llm.status is not LLMStatus.OK and llm.reason:
        lines.append(f"Reason: {md(llm.reason, limit=300)}")
    if route.reasons:
        lines.append("Routing: " + "; ".join(md(r, limit=200) for r in route.reasons[:10]))
    if llm.escalations:
        lines.append("Escalations: " + "; ".join(md(e, limit=200) for e in llm.escalations[:10]))
    if llm.scope:
        lines.append(f"Scope: {md(llm.scope, limit=300)}")
    if llm.resolved_findings:
        lines.append(_resolved(llm.resolved_findings))
    if llm.verifier:
        hidden = (f" · {plural(len(llm.hidden_findings), 'LLM finding')} hidden (listed in the JSON report)"
                  if llm.hidden_findings else "")
        lines.append(f"Verifier: {md(llm.verifier, limit=300)}{hidden}")
    if llm.calls:
        lines.append(_calls_table(llm.calls))
    return "\n\n".join(lines)


def _resolved(findings: Sequence[Finding]) -> str:
    """Earlier LLM findings the new push fixed: where they were and what they said, as last shown."""
    items = [f"- {code(location(f), limit=PATH_LIMIT, in_table=False)} "
             f"{code(f.rule_id, limit=RULE_LIMIT, in_table=False)} {md(f.message, limit=160)}"
             for f in findings[:MAX_RESOLVED]]
    more = len(findings) - MAX_RESOLVED
    if more > 0:
        items.append(f"- … and {more} more (listed in the JSON report)")
    return f"Resolved since the last review ({len(findings)}):\n" + "\n".join(items)


def _calls_table(calls: Sequence[LLMCall]) -> str:
    rows = [
        "| Model | Provider | Tier | Status | Tokens in / cached / out | Cost | Time |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in calls[:MAX_CALLS]:
        note = f" — {md(c.note, limit=120)}" if c.note else ""
        if c.repairs:
            note += f" (repaired: {md('; '.join(c.repairs), limit=120)})"
        rows.append(
            f"| {code(c.model, limit=80)} | {md(c.provider, limit=40)} | {c.tier.value} "
            f"| {md(c.status, limit=40)}{note} | {c.input_tokens:,} / {c.cached_input_tokens:,} / "
            f"{c.output_tokens:,} | ${c.cost_usd:.4f} | {c.duration_s:.1f}s |"
        )
    more = f"\n\n… {len(calls) - MAX_CALLS} more calls in the report" if len(calls) > MAX_CALLS else ""
    return "<details><summary>LLM calls</summary>\n\n" + "\n".join(rows) + more + "\n\n</details>"


def _tools(report: Report) -> str:
    if not report.tools:
        return ""
    rows = ["| Tool | Version | Status | Files | Duration |", "| --- | --- | --- | --- | --- |"]
    for t in sorted(report.tools, key=lambda t: t.name):
        rows.append(
            f"| {md(t.name, limit=40)} | {md(t.version or '—', limit=40)} "
            f"| {_TOOL_ICON[t.status]} {t.status.value.replace('_', ' ')} "
            f"| {t.files:,} | {t.duration_s:.1f}s |"
        )
    return "### Tools\n\n" + "\n".join(rows)


def _skipped(report: Report) -> str:
    entries: list[tuple[str, SkippedFile]] = [("", s) for s in report.change.files_skipped]
    for t in report.tools:
        entries += [(t.name, s) for s in t.skipped]
    if not entries:
        return ""
    entries.sort(key=lambda e: (not e[1].incomplete, e[1].path, e[0], e[1].reason))
    items = [_skipped_item(tool, s) for tool, s in entries[:MAX_SKIPPED]]
    if len(entries) > MAX_SKIPPED:
        items.append(f"- … {len(entries) - MAX_SKIPPED} more in the report")
    return (
        f"<details><summary>{plural(len(entries), 'file')} not analysed</summary>\n\n"
        + "\n".join(items)
        + "\n\n</details>"
    )


def _skipped_item(tool: str, s: SkippedFile) -> str:
    by = f" ({md(tool, limit=40)})" if tool else ""
    mark = "⚠️ " if s.incomplete else ""
    return f"- {mark}{code(s.path, limit=PATH_LIMIT, in_table=False)}{by} — {md(s.reason, limit=200)}"


def _footer(report: Report) -> str:
    c = report.change
    pr = f"PR #{c.pr_number} · " if c.pr_number else ""
    return (
        f"<sub>{pr}{md(short_sha(c.base))}…{md(short_sha(c.head))} · policy: "
        f"{md(report.policy_source, limit=120)} · govbot {md(report.govbot_version, limit=40)} · "
        f"report schema {md(report.schema_version, limit=10)}</sub>"
    )
