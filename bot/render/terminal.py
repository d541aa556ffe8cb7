"""The report for a person at a terminal, through an injected rich Console.

Untrusted text is cleaned of control characters (ANSI escapes included) and either placed in
``rich.text.Text`` objects, which are never parsed as markup, or passed through
``rich.markup.escape`` when it sits inside a markup string.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from govbot.bot.render.text import (
    clean,
    display_order_key,
    headline,
    location,
    plural,
    short_sha,
    sorted_for_display,
    strongest_first,
)
from govbot.core.models import AIVerdict, LLMStatus, Outcome, Report, Severity, ToolStatus

MAX_ROWS = 200
MAX_SKIPPED = 50
MAX_STACKED = 50  # findings listed one by one when stacked; the rest are counted
WIDE = 110  # below this many columns the findings table is unreadable: stack instead

_OUTCOME = {
    Outcome.PASS: ("PASS", "green"),
    Outcome.WARN: ("PASS WITH WARNINGS", "yellow"),
    Outcome.REVIEW_REQUIRED: ("HUMAN REVIEW REQUIRED", "magenta"),
    Outcome.BLOCK: ("BLOCKED", "red"),
}
_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_TOOL_STYLE = {
    ToolStatus.OK: "green",
    ToolStatus.NOT_APPLICABLE: "dim",
    ToolStatus.FAILED: "red",
    ToolStatus.TIMEOUT: "red",
    ToolStatus.MISSING: "red",
}
_OK = (ToolStatus.OK, ToolStatus.NOT_APPLICABLE)


def _t(text: str, limit: int | None = None) -> str:
    """Untrusted text, safe inside a rich markup string."""
    return escape(clean(text, limit=limit))


def print_terminal(report: Report, console: Console, exit_code: int, stacked: bool | None = None) -> None:
    """The report for a person at a terminal; ``exit_code`` is what the process will return.

    ``stacked`` (default: when the console is not a terminal or narrower than ``WIDE``) lists
    each finding as a short block instead of a table, and counts what it does not list: CI logs
    are piped, and a reformat commit must not print thousands of lines."""
    if stacked is None:
        stacked = not console.is_terminal or console.width < WIDE
    console.print(_decision_panel(report))
    console.print(_authorship(report))
    if stacked:  # one finding per block; long lines are left to the log viewer, not hard-wrapped
        console.print(_findings_stacked(report), soft_wrap=True)
    else:
        console.print(_findings(report))
    console.print(_llm(report))
    if report.tools:
        console.print(_tools_line(report) if stacked else _tools(report))
    skipped = _skipped(report)
    if skipped is not None:
        console.print(skipped)
    c = report.change
    console.print(
        f"[dim]{_t(short_sha(c.base))}…{_t(short_sha(c.head))} · policy: {_t(report.policy_source)}"
        f" · govbot {_t(report.govbot_version)} · exit code {exit_code}[/dim]"
    )


def _decision_panel(report: Report) -> Panel:
    d = report.decision
    label, colour = _OUTCOME[d.outcome]
    skips = list(report.change.files_skipped) + [s for t in report.tools for s in t.skipped]
    missed = sum(1 for s in skips if s.incomplete)
    incomplete = not d.complete or missed > 0 or any(t.status not in _OK for t in report.tools)
    if not d.complete and d.outcome in (Outcome.PASS, Outcome.WARN):
        label, colour = "ANALYSIS INCOMPLETE — NOT A PASS", "red"
    lines: list[RenderableType] = [Text(label, style=f"bold {colour}")]
    if incomplete:
        lines.append(Text("Analysis incomplete: some checks did not finish.", style="bold red"))
        for t in sorted(report.tools, key=lambda t: t.name):
            if t.status not in _OK:
                err = f": {clean(t.error, limit=200)}" if t.error else ""
                lines.append(Text(f"  {clean(t.name)} {t.status.value}{err}", style="red"))
        if missed:
            lines.append(Text(f"  {plural(missed, 'file')} could not be analysed", style="red"))
    for r in d.reasons:
        lines.append(Text(f"• {r.action}: {clean(r.message, limit=400)} [{clean(r.rule)}]"))
    for n in d.notices:
        lines.append(Text(f"ℹ {clean(n, limit=400)}", style="blue"))
    if d.labels_add:
        lines.append(Text("labels: " + ", ".join(clean(x) for x in d.labels_add), style="dim"))
    return Panel(Group(*lines), title="govbot", border_style=colour)


def _authorship(report: Report) -> Text:
    a = report.authorship
    verdict = {
        AIVerdict.YES: f"yes ({a.confidence:.0%})",
        AIVerdict.NO_MARKER: "unknown",
        AIVerdict.DECLARED_NONE: "declared none (unverified)",
    }[a.ai_generated]
    text = Text.assemble(("AI-generated: ", "bold"), f"{verdict} — {clean(a.summary, limit=300)}")
    for s in strongest_first(a.signals)[:3]:
        text.append(f"\n  {s.strength.value}: {clean(s.evidence, limit=200)} ({clean(s.id)})", style="dim")
    return text


def _findings(report: Report) -> RenderableType:
    findings = [f for f in report.findings if f.suppression is None]
    if not findings:
        return Text("No findings.", style="green")
    priority = sorted(findings, key=lambda f: (-f.severity.rank, *display_order_key(f)))
    shown = sorted_for_display(priority[:MAX_ROWS])
    table = Table(title=f"Findings ({len(findings):,})", show_lines=False, expand=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Location", overflow="fold")
    table.add_column("Rule", overflow="fold")
    table.add_column("Message", overflow="fold", ratio=2)
    table.add_column("Diff", no_wrap=True)
    for f in shown:
        table.add_row(
            Text(f.severity.value, style=_SEVERITY_STYLE[f.severity]),
            Text(clean(location(f), limit=200) if f.path else "PR"),
            Text(clean(f.rule_id, limit=120)),
            Text(headline(f.message)),
            "in" if f.in_diff else "out",
        )
    if len(findings) > len(shown):
        table.caption = f"… {len(findings) - len(shown)} more findings in the report (--format json)"
    return table


def _findings_stacked(report: Report) -> Text:
    findings = [f for f in report.findings if f.suppression is None]
    if not findings:
        return Text("No findings.", style="green")
    listed = [f for f in findings if f.in_diff and f.baseline != "pre_existing"]
    old = sum(1 for f in findings if f.in_diff and f.baseline == "pre_existing")
    outside = sum(1 for f in findings if not f.in_diff)
    shown = sorted_for_display(sorted(listed, key=lambda f: (-f.severity.rank, *display_order_key(f)))[:MAX_STACKED])
    text = Text(f"Findings in the changed lines ({len(listed):,}):", style="bold")
    for f in shown:
        text.append("\n")
        text.append(f"{f.severity.value.upper():8}", style=_SEVERITY_STYLE[f.severity])
        text.append(f" {clean(location(f), limit=200) if f.path else 'PR'}  {clean(f.rule_id, limit=120)}")
        if f.also_reported_by:
            text.append(f" (also {', '.join(clean(a, limit=40) for a in f.also_reported_by)})", style="dim")
        text.append(f"\n         {clean(headline(f.message), limit=300)}")
    more = [f"{len(listed) - len(shown):,} more in the changed lines"] if len(listed) > len(shown) else []
    if old:
        more.append(f"{old:,} already on the base branch (moved or reformatted, not new)")
    if outside:
        more.append(f"{outside:,} outside the changed lines")
    if more:
        text.append("\n  not listed: " + "; ".join(more) + " — see --format json", style="dim")
    return text


def _tools_line(report: Report) -> Text:
    parts = [f"{clean(t.name)} {clean(t.version or '-')} {t.status.value} {t.files:,} files {t.duration_s:.1f}s"
             for t in sorted(report.tools, key=lambda t: t.name)]
    return Text("Tools: " + " · ".join(parts), style="dim")


def _llm(report: Report) -> Text:
    llm = report.llm
    if llm.status is LLMStatus.SKIPPED and not llm.calls:
        text = Text.assemble(("LLM review: ", "bold"), f"skipped — {clean(llm.reason, limit=300)}")
        if report.route.reasons:
            text.append(f"\n  route (no model called): tier {report.route.tier.value} — "
                        + "; ".join(clean(r, limit=200) for r in report.route.reasons[:5]), style="dim")
        return text
    text = Text.assemble(
        ("LLM review: ", "bold"),
        f"{llm.status.value} · tier {report.route.tier.value} · {plural(len(llm.calls), 'call')}"
        f" · total ${llm.cost_usd:.4f}",
    )
    for c in llm.calls:
        text.append(
            f"\n  {clean(c.model)} ({clean(c.provider)}) {clean(c.status)}: "
            f"{c.input_tokens:,} in / {c.output_tokens:,} out · ${c.cost_usd:.4f}",
            style="dim",
        )
    return text


def _tools(report: Report) -> Table:
    table = Table(title="Tools")
    for col in ("Tool", "Version", "Status", "Files", "Duration"):
        table.add_column(col)
    for t in sorted(report.tools, key=lambda t: t.name):
        table.add_row(
            Text(clean(t.name)),
            Text(clean(t.version or "-")),
            Text(t.status.value, style=_TOOL_STYLE[t.status]),
            f"{t.files:,}",
            f"{t.duration_s:.1f}s",
        )
    return table


def _skipped(report: Report) -> Text | None:
    entries = [("", s) for s in report.change.files_skipped]
    for t in report.tools:
        entries += [(t.name, s) for s in t.skipped]
    if not entries:
        return None
    entries.sort(key=lambda e: (not e[1].incomplete, e[1].path, e[0], e[1].reason))
    text = Text(f"Not analysed ({len(entries):,}):", style="bold")
    for tool, s in entries[:MAX_SKIPPED]:
        by = f" [{clean(tool)}]" if tool else ""
        mark = " (INCOMPLETE)" if s.incomplete else ""
        line = f"\n  {clean(s.path, limit=200)}{by}: {clean(s.reason, limit=200)}{mark}"
        text.append(line, style="red" if s.incomplete else "")
    if len(entries) > MAX_SKIPPED:
        text.append(f"\n  … {len(entries) - MAX_SKIPPED} more in the report")
    return text
