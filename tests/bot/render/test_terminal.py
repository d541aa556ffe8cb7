from __future__ import annotations

import io

from rich.console import Console

from govbot.bot.render.registry import print_terminal
from govbot.bot.render.terminal import MAX_ROWS
from govbot.core.models import (
    Decision,
    LLMStatus,
    LLMSummary,
    Outcome,
    Report,
    SkippedFile,
    ToolRun,
    ToolStatus,
    exit_code,
)
from tests.bot.render.reports import hostile_report, make_report, many_findings


def render(report: Report, *, width: int = 200, stacked: bool | None = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False, record=True)
    print_terminal(report, console, exit_code(report.decision, "review_required"), stacked=stacked)
    return console.export_text()


def test_piped_or_narrow_output_stacks_per_finding_and_counts_the_rest() -> None:
    report = make_report()
    piped = render(report, stacked=None)  # not a terminal
    narrow = io.StringIO()
    console = Console(file=narrow, width=80, color_system=None, force_terminal=True, record=True)
    print_terminal(report, console, 1)
    for text in (piped, console.export_text()):
        assert "Findings in the changed lines" in text and "┃" not in text and "Severity" not in text
    in_diff = [f for f in report.findings if f.in_diff and f.suppression is None]
    assert piped.count("\n         ") >= len(in_diff)
    wide = render(report, width=200, stacked=None)
    assert "Findings in the changed lines" in wide  # still piped: stacked whatever the width


def test_stacked_output_prints_hostile_text_literally() -> None:
    text = render(hostile_report(), width=400, stacked=True)
    assert "[bold red]markup[/bold red]" in text and "\x1b" not in text


def test_sections_present() -> None:
    text = render(make_report())
    assert "BLOCKED" in text
    assert "• block: A secret was committed. [no-critical-secrets]" in text
    assert "ℹ Policy change pending review" in text
    assert "labels: human-review-required, ai-generated" in text
    assert "AI-generated: yes (95%) — AI-generated: a commit trailer names Claude Code" in text
    assert "Findings (7)" in text
    assert "app/api/views.py:42" in text and "semgrep:python.lang.security.audit.eval-detected" in text
    assert "LLM review: ok · tier pro · 2 calls · total $0.0305" in text
    assert "gpt-5 (openai) ok: 12,345 in / 1,234 out · $0.0271" in text
    assert "semgrep" in text and "1.90.0" in text and "3.2s" in text
    assert "Not analysed (3):" in text and "data/dump.sql [detect-secrets]: file too large" in text
    assert "exit code 1" in text


def test_incomplete_pass_is_not_shown_as_pass() -> None:
    report = make_report(decision=Decision(outcome=Outcome.PASS, complete=False), findings=())
    text = render(report)
    assert "ANALYSIS INCOMPLETE — NOT A PASS" in text
    assert "exit code 2" in text
    assert "No findings." in text


def test_skipped_llm_line() -> None:
    report = make_report(llm=LLMSummary(status=LLMStatus.SKIPPED, reason="no API key configured"))
    assert "LLM review: skipped — no API key configured" in render(report)


def test_hostile_text_is_printed_literally_without_escapes() -> None:
    text = render(hostile_report(), width=400)
    assert "[bold red]markup[/bold red]" in text  # shown as text, not interpreted as markup
    assert "\x1b" not in text  # the ANSI escape in the message was removed
    assert "Analysis incomplete: some checks did not finish." in text
    assert "bandit failed: @org/team please look <img src=x onerror=alert(1)>" in text


def test_rich_markup_in_untrusted_text_does_not_style_output() -> None:
    out = io.StringIO()
    console = Console(file=out, width=300, color_system="truecolor", force_terminal=True)
    print_terminal(hostile_report(), console, 2)
    ansi = out.getvalue()
    assert "[bold red]markup[/bold red]" in ansi
    assert "\x1b[31mred" not in ansi  # the payload's own escape sequence never reaches the terminal


def test_long_lists_are_capped() -> None:
    text = render(make_report(findings=many_findings(MAX_ROWS + 50)))
    assert "… 50 more findings in the report (--format json)" in text


def test_incomplete_skip_is_flagged() -> None:
    tools = (
        ToolRun(
            name="bandit",
            status=ToolStatus.OK,
            skipped=(SkippedFile(path="gen.py", reason="parse error", incomplete=True),),
        ),
    )
    text = render(make_report(tools=tools, decision=Decision(outcome=Outcome.WARN)))
    assert "Analysis incomplete: some checks did not finish." in text
    assert "1 file could not be analysed" in text
    assert "gen.py [bandit]: parse error (INCOMPLETE)" in text
