from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt  # ships with rich

from govbot.bot.render.registry import comment_markdown, summary_markdown
from govbot.core.models import (
    AIVerdict,
    Authorship,
    Decision,
    Finding,
    LLMStatus,
    LLMSummary,
    Outcome,
    Severity,
    SkippedFile,
    ToolRun,
    ToolStatus,
)
from tests.bot.render.reports import (
    HOSTILE,
    SEVERITY_CYCLE,
    finding,
    hostile_report,
    make_report,
    many_findings,
    shuffled,
)

# CommonMark with GFM tables and raw HTML passed through, so injected HTML would show up.
RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def html(markdown: str) -> str:
    return RENDERER.render(markdown)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("outcome", "complete", "headline"),
    [
        (Outcome.PASS, True, "## ✅ govbot: pass"),
        (Outcome.WARN, True, "## ⚠️ govbot: pass with warnings"),
        (Outcome.REVIEW_REQUIRED, True, "## 👀 govbot: human review required"),
        (Outcome.BLOCK, True, "## ⛔ govbot: blocked"),
        (Outcome.PASS, False, "## ❗ govbot: analysis incomplete — not a pass"),
        (Outcome.WARN, False, "## ❗ govbot: analysis incomplete — not a pass"),
        (Outcome.BLOCK, False, "## ⛔ govbot: blocked"),
    ],
)
def test_headline(outcome: Outcome, complete: bool, headline: str) -> None:
    text = comment_markdown(make_report(decision=Decision(outcome=outcome, complete=complete)))
    assert text.startswith(headline + "\n")
    assert ("Analysis incomplete" in text) is (not complete)


def test_failed_tool_is_loud_even_when_the_decision_says_complete() -> None:
    tools = (ToolRun(name="bandit", version="1.7.9", status=ToolStatus.TIMEOUT, error="killed after 60 s"),)
    text = comment_markdown(make_report(tools=tools, decision=Decision(outcome=Outcome.PASS)))
    assert "> [!WARNING]" in text
    assert "> - `bandit` timeout — killed after 60 s" in text
    assert "| bandit | 1.7.9 | ⏱️ timeout | 0 | 0.0s |" in text


def test_not_applicable_tool_is_not_incomplete() -> None:
    tools = (ToolRun(name="bandit", status=ToolStatus.NOT_APPLICABLE),)
    text = comment_markdown(make_report(tools=tools, decision=Decision(outcome=Outcome.PASS)))
    assert "Analysis incomplete" not in text


def test_representative_comment_sections() -> None:
    text = comment_markdown(make_report())
    assert "7 findings (5 on changed lines) · 5 of 7 changed files analysed · 3 commits" in text
    # why
    assert "- ⛔ **block** — A secret was committed. · rule `no-critical-secrets` (1 finding)" in text
    assert "**Labels:** adding `human-review-required`, `ai-generated`; removing `govbot-pass`" in text
    # notices
    assert "> [!NOTE]\n> - Policy change pending review: the base branch policy was used." in text
    # authorship: summary, then the strongest signal first
    assert "**AI-generated:** yes (95% confidence; agent: Claude Code) — AI-generated: a commit" in text
    strong = text.index("- **strong**: Co-authored-by: Claude")
    assert strong < text.index("- **medium**: PR body says")
    assert "commit `cccccccccccc`" in text
    assert "Agent instruction files in this change: `CLAUDE.md`" in text
    # suppressions added by the change
    assert "- `nosec` at `app/tasks.py:20` silences `bandit:B602` (high)" in text
    # llm
    assert (
        "**LLM review:** ok · tier `pro` · model `gpt-5`, `gpt-5-mini` · 2 calls · "
        "23,345 in / 1,534 out tokens · total $0.0305"
    ) in text
    assert "| `gpt-5` | openai | pro | ok | 12,345 / 2,000 / 1,234 | $0.0271 | 9.8s |" in text
    assert "invalid\\_output — reply failed schema validation" in text
    # tools and skipped files
    assert "| semgrep | 1.90.0 | ✅ ok | 5 | 3.2s |" in text
    assert "- `data/dump.sql` (detect-secrets) — file too large" in text
    assert "- `assets/logo.png` — binary" in text
    assert text.rstrip().endswith("report schema 1.2</sub>")


def test_findings_grouped_by_severity_with_in_diff_first() -> None:
    text = comment_markdown(make_report())
    section = text[text.index("### Findings") : text.index("### Suppressions")]
    headers = re.findall(r"^#{4,5} .+$", section, flags=re.M)
    assert headers == [
        "#### 🔴 Critical (2)",
        "#### 🟠 High (1)",
        "#### 🟡 Medium (1)",
        "#### ⚪ Info (1)",
        "##### 🔵 Low (1)",
        "##### ⚪ Info (1)",
    ]
    details = section.index("<details><summary>2 findings outside the changed lines</summary>")
    assert section.index("`app/util.py:7`") > details
    assert section.index("`app/api/views.py:42`") < details
    assert "`app/old dir/hash.py`" in section  # line 0 is shown as the file only
    assert "`app/tasks.py:20`" not in section  # suppressed: listed under suppressions instead


def test_skipped_llm_and_no_findings() -> None:
    report = make_report(
        findings=(),
        llm=LLMSummary(status=LLMStatus.SKIPPED, reason="no API key configured"),
        decision=Decision(),
        authorship=Authorship(),
    )
    text = comment_markdown(report)
    assert "**LLM review:** skipped — no API key configured" in text
    assert "No findings in the analysed code." in text
    assert "No policy rule was triggered." in text
    assert "**AI-generated:** unknown — no AI-authorship marker found" in text


def test_declared_none_authorship() -> None:
    authorship = Authorship(ai_generated=AIVerdict.DECLARED_NONE, summary="the PR template says: no AI")
    assert "**AI-generated:** declared as not AI-assisted (unverified)" in comment_markdown(
        make_report(authorship=authorship)
    )


def test_hostile_text_is_neutralised() -> None:
    text = comment_markdown(hostile_report())
    rendered = html(text)
    # No mention can ping: every "@" outside a code span is followed by a zero-width joiner.
    outside_code = re.sub(r"<code>.*?</code>", "", rendered, flags=re.S)
    assert re.search(r"@(?!\u200d)", outside_code) is None
    assert "@org/team" in text  # still readable inside code spans, where GitHub does not link
    # No injected HTML, image, link or hidden comment.
    assert "<img" not in rendered
    assert "<a " not in rendered
    assert "<!--" not in text
    assert "onerror" not in re.sub(r"&lt;img src=x onerror", "", rendered).replace("<code>", "")
    assert "http://" not in text and "https://" not in text  # autolinks broken
    # No workflow command at the start of a line, no terminal escapes.
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "\x1b" not in text and "\r" not in text


def test_hostile_text_never_breaks_a_table_row() -> None:
    text = comment_markdown(hostile_report())
    for line in text.splitlines():
        if line.startswith("| "):
            header_cells = 3 if "Location" in line or "`" in line else None
            if header_cells:
                assert len(UNESCAPED_PIPE.findall(line)) in (4, 6, 8), line
    rendered = html(text)
    for row in re.findall(r"<tr>(.*?)</tr>", rendered, flags=re.S):
        cells = re.findall(r"<t[dh]>", row)
        assert len(cells) in (3, 5, 7)
    assert "pipe new line" in text  # the newline became a space


def test_code_spans_survive_backticks_and_pipes() -> None:
    f = finding(path="we`ird|pa``th.py", rule_id="semgrep:a|b", message="m")
    rendered = html(comment_markdown(make_report(findings=(f,))))
    assert "<code>we`ird|pa``th.py:10</code>" in rendered
    assert "<code>semgrep:a|b</code>" in rendered


def test_no_sticky_marker_and_deterministic() -> None:
    report = make_report(findings=many_findings(200) + make_report().findings)
    text = comment_markdown(report)
    assert "<!--" not in text
    assert text == comment_markdown(shuffled(report))


def shown_per_group(text: str) -> dict[tuple[bool, str], int]:
    """(in_diff, severity) -> rows shown, read from the group headers."""
    section = text[text.index("### Findings") :]
    groups = {}
    for hashes, name, count in re.findall(r"^(#{4,5}) \S+ (\w+) \(([\d,]+)\)$", section, flags=re.M):
        groups[(hashes == "####", name.lower())] = int(count.replace(",", ""))
    return groups


@pytest.mark.parametrize(("n", "max_chars"), [pytest.param(10_000, 65_000, marks=pytest.mark.slow), (1_000, 65_000), (1_000, 150_000)])
def test_many_findings_fit_and_drop_lowest_severity_first(n: int, max_chars: int) -> None:
    findings = many_findings(n)
    report = make_report(findings=findings)
    text = comment_markdown(report, max_chars=max_chars)
    assert utf16_len(text) <= max_chars
    match = re.search(r"^… (\d+) more findings in the report$", text, flags=re.M)
    assert match is not None
    hidden = int(match.group(1))
    shown = len(re.findall(r"^\| `pkg/", text, flags=re.M))
    assert shown + hidden == n
    assert shown > 300
    # Priority: severity first, in-diff before out-of-diff within a severity. What is shown is a
    # prefix of that order: every group before the last shown one is complete, none after it.
    order = [(in_diff, sev.value) for sev in SEVERITY_CYCLE for in_diff in (True, False)]
    totals = {key: sum(1 for f in findings if (f.in_diff, f.severity.value) == key) for key in order}
    groups = shown_per_group(text)
    counts = [groups.get(key, 0) for key in order]
    last = max(i for i, c in enumerate(counts) if c)
    assert all(counts[i] == totals[order[i]] for i in range(last))
    assert all(c == 0 for c in counts[last + 1 :])
    assert sum(counts) == shown
    if n == 1_000:
        assert last >= 2  # the cut falls past the critical findings
    # The sections after the findings are still there.
    assert "### Tools" in text and "**LLM review:**" in text
    assert text == comment_markdown(shuffled(report), max_chars=max_chars)


@pytest.mark.parametrize("max_chars", [50, 500, 3_000, 10_000, 30_000])
def test_never_exceeds_max_chars(max_chars: int) -> None:
    report = make_report(findings=many_findings(2_000))
    text = comment_markdown(report, max_chars=max_chars)
    assert utf16_len(text) <= max_chars
    assert text == comment_markdown(shuffled(report), max_chars=max_chars)


def test_wide_characters_count_as_two() -> None:
    emoji = "🔥" * 200
    findings = tuple(finding(message=emoji, line=i, fingerprint=str(i)) for i in range(1, 400))
    text = comment_markdown(make_report(findings=findings), max_chars=20_000)
    assert utf16_len(text) <= 20_000
    assert "more findings in the report" in text


def test_summary_has_no_comment_cap() -> None:
    report = make_report(findings=many_findings(2_000))
    summary = summary_markdown(report)
    assert "more findings in the report" not in summary
    assert len(re.findall(r"^\| `pkg/", summary, flags=re.M)) == 2_000
    assert summary.startswith("## ⛔ govbot: blocked")


def test_severity_is_escaped_nowhere_else() -> None:
    # Every severity appears with its icon; no raw enum repr leaks.
    text = comment_markdown(make_report())
    assert "Severity." not in text and "Outcome." not in text and "ToolStatus." not in text
    assert Severity.CRITICAL.value.capitalize() in text


def test_hostile_constant_exercises_every_attack() -> None:
    for needle in ("@org/team", "<img", "![x](", "::set-output", "|", "\n", "\x1b", "`"):
        assert needle in HOSTILE


def test_incomplete_skip_makes_the_comment_loud() -> None:
    tools = (
        ToolRun(
            name="semgrep",
            status=ToolStatus.OK,
            skipped=(SkippedFile(path="big/generated.py", reason="semgrep timed out on file", incomplete=True),),
        ),
    )
    text = comment_markdown(make_report(tools=tools, decision=Decision(outcome=Outcome.PASS)))
    assert "> - 1 file could not be analysed (see below)" in text
    items = text[text.index("files not analysed</summary>") :]
    assert items.index("- ⚠️ `big/generated.py` (semgrep) — semgrep timed out on file") < items.index(
        "`assets/logo.png`"
    )
    assert "Analysis incomplete" not in comment_markdown(make_report(decision=Decision(outcome=Outcome.PASS)))


def test_summary_is_capped_in_utf8_bytes() -> None:
    findings = tuple(finding(message="漢字" * 150, line=i, fingerprint=str(i)) for i in range(1, 2_500))
    summary = summary_markdown(make_report(findings=findings))
    assert len(summary.encode("utf-8")) <= 1_000_000
    assert "more findings in the report" in summary


@pytest.mark.parametrize("max_chars", [0, 1, 2, 10])
def test_tiny_limits_are_still_respected(max_chars: int) -> None:
    assert utf16_len(comment_markdown(make_report(), max_chars=max_chars)) <= max_chars


def test_resolved_findings_are_listed_capped_and_escaped() -> None:
    resolved = tuple(
        Finding(tool="llm", rule_id="llm:injection", severity=Severity.HIGH, path=f"app/m{i}.py", line=i + 1,
                message=f"Shell <b>injection</b> @team {i}", fingerprint=f"fp{i}")
        for i in range(23)
    )
    llm = LLMSummary(status=LLMStatus.OK, reason="ok", scope="reviewed commits aaaaaaa..bbbbbbb",
                     resolved=tuple(f.fingerprint for f in resolved), resolved_findings=resolved)
    text = comment_markdown(make_report(llm=llm))
    assert "Resolved since the last review (23):" in text
    assert "- `app/m0.py:1` `llm:injection` Shell" in text and "`app/m19.py:20`" in text
    assert "`app/m20.py:21`" not in text and "… and 3 more (listed in the JSON report)" in text
    assert "<b>" not in text and "@team" not in text.replace("@\u200bteam", "")
