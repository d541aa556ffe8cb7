"""Authorship detection on real git histories (local path) and on PR metadata (GitHub path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from authorship_gitrepo import GitRepo
from pydantic import ValidationError

from govbot.bot.local.git import load_change, load_commits, open_repo
from govbot.checks.authorship import (
    AI_SIGNAL_IDS,
    EVIDENCE_CHARS,
    MAX_SIGNALS,
    MAX_SIGNALS_PER_KIND,
    SIGNAL_IDS,
    builtin_table,
    detect,
    instruction_file_pattern_matches,
    instruction_links,
    normalise,
    table_from_yaml,
)
from govbot.core.models import (
    AIVerdict,
    Authorship,
    ChangedFile,
    ChangeSet,
    Commit,
    FileStatus,
    PullRequestMeta,
    SignalStrength,
)
from govbot.policy.authorship_config import AgentSpec, AuthorshipConfig
from govbot.policy.model import Policy

CFG = AuthorshipConfig()
CLAUDE_FOOTER = "🤖 Generated with [Claude Code](https://claude.com/claude-code)"
CLAUDE_TRAILER = "Co-Authored-By: Claude <noreply@anthropic.com>"
COPILOT_BOT = ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo")


def scan(repo: GitRepo, base: str, config: AuthorshipConfig = CFG, branch: str | None = None) -> Authorship:
    commits = load_commits(open_repo(repo.path), base, repo.head())
    return detect(ChangeSet(base=base, head=repo.head(), commits=tuple(commits)), config, branch=branch)


def pr_change(body: str = "", commits: tuple[Commit, ...] = (), **pr: object) -> ChangeSet:
    meta = PullRequestMeta.model_validate({"number": 7, "title": "Fix", "body": body, **pr})
    return ChangeSet(base="b" * 40, head="h" * 40, commits=commits, pr=meta)


def ids(result: Authorship) -> set[str]:
    return {s.id for s in result.signals}


# ------------------------------------------------------------------ local git histories


def test_claude_code_commit_with_footer_and_trailer(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit("fix: handle empty input\n\nGuard against None.\n")
    sha = repo.commit(f"feat: add parser\n\nAdds a parser.\n\n{CLAUDE_FOOTER}\n\n{CLAUDE_TRAILER}\n")
    result = scan(repo, base)
    assert result.ai_generated is AIVerdict.YES
    assert result.agents == ("claude",)
    assert result.confidence >= 0.9
    trailer = next(s for s in result.signals if s.id == "trailer")
    assert trailer.commit == sha
    assert trailer.evidence == f"commit {sha[:12]}: {CLAUDE_TRAILER}"
    assert trailer.strength is SignalStrength.STRONG
    footer = next(s for s in result.signals if s.id == "footer")
    assert "Generated with [Claude Code]" in footer.evidence
    assert result.summary.startswith("AI-generated (Claude Code):")
    assert "trailer in 1 commit(s)" in result.summary


@pytest.mark.parametrize(
    ("line", "agent"),
    [
        ("co-authored-by: Claude <noreply@anthropic.com>", "claude"),
        ("CO-AUTHORED-BY: Claude Opus 4.1 <noreply@anthropic.com>", "claude"),
        ("Co-authored by: Cursor Agent <cursoragent@cursor.com>", "cursor"),
        ("   Co-Authored-By:   Copilot <175728472+Copilot@users.noreply.github.com>", "copilot"),
        ("Co-authored-by: Codex <noreply@openai.com>", "codex"),
        (
            "Co-authored-by: gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>",
            "gemini",
        ),
        ("Co-Authored-By: Devin <158243242+devin-ai-integration[bot]@users.noreply.github.com>", "devin"),
        ("Co-authored-by: google-labs-jules[bot] <161369871+google-labs-jules[bot]@users.noreply.github.com>", "jules"),
        ("Co-authored-by: aider (anthropic/claude-3-5-sonnet) <aider@aider.chat>", "aider"),
        ("Co-authored-by: Amazon Q Developer <208079219+amazon-q-developer[bot]@users.noreply.github.com>", "amazon-q"),
        ("Assisted-by: Claude:claude-sonnet-4-5", "claude"),
        ("Generated-by: GitHub Copilot", "copilot"),
        ("Signed-off-by: Claude <noreply@anthropic.com>", "claude"),
    ],
)
def test_trailer_variants(repo: GitRepo, line: str, agent: str) -> None:
    base = repo.head()
    repo.commit(f"chore: update\n\nBody text.\n\n{line}\n")
    result = scan(repo, base)
    assert result.ai_generated is AIVerdict.YES, line
    assert result.agents == (agent,)
    assert "trailer" in ids(result)


def test_trailer_in_the_middle_of_a_message_is_found(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit(
        "refactor: split module\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n\n"
        "More explanation after the trailer.\nSigned-off-by: Alice Example <alice@example.org>\n"
    )
    assert scan(repo, base).agents == ("cursor",)


def test_human_co_authors_and_lookalike_names_are_not_agents(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit(
        "docs: thanks\n\nCo-authored-by: Claude Monet <claude.monet@example.org>\n"
        "Co-authored-by: Devin Smith <devin@example.com>\n"
        "Co-authored-by: Bob <bob@anthropic.com>\n"
        "Signed-off-by: Alice Example <alice@example.org>\n"
    )
    repo.commit("build: regenerate stubs\n\nGenerated by protoc 25.1\nRegenerated with cursor moved\n")
    repo.commit("fix: mention of trailers\n\nWe strip Co-authored-by: Claude lines in the hook now.\n")
    result = scan(repo, base)
    assert result.ai_generated is AIVerdict.NO_MARKER
    assert result.signals == ()
    assert result.confidence == 0.0
    assert "not proof of human authorship" in result.summary


def test_merge_commit_brings_in_agent_commits(repo: GitRepo) -> None:
    base = repo.head()
    repo.branch("feature")
    repo.commit("feat: human part")
    repo.branch("codex/add-retry", "main")
    agent_sha = repo.commit(
        "Add retry to HTTP client\n\nhttps://chatgpt.com/codex/tasks/task_e_6842a1b2c3\n",
        files={"retry.py": "x = 1\n"},
    )
    repo.checkout("feature")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'codex/add-retry' into feature", "codex/add-retry")
    merge = load_commits(open_repo(repo.path), base, repo.head())[0]
    assert len(merge.parents) == 2
    result = scan(repo, base)
    assert result.agents == ("codex",)
    assert {s.commit for s in result.signals} == {agent_sha}


def test_squash_merge_keeps_trailers_of_squashed_commits(repo: GitRepo) -> None:
    base = repo.head()
    repo.branch("work")
    repo.commit("wip 1", files={"a.py": "a = 1\n"})
    repo.commit("wip 2", files={"b.py": "b = 1\n"})
    repo.checkout("main")
    repo.git("merge", "-q", "--squash", "work")
    repo.commit(
        "Add a and b (#12)\n\n* wip 1\n\n* wip 2\n\n---------\n\n"
        "Co-authored-by: Cursor Agent <cursoragent@cursor.com>\n"
        "Co-authored-by: Alice Example <alice@example.org>\n",
        files={},
    )
    result = scan(repo, base)
    assert result.agents == ("cursor",)
    assert len(load_commits(open_repo(repo.path), base, repo.head())) == 1


def test_several_agents_across_commits(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit(f"one\n\n{CLAUDE_TRAILER}\n")
    repo.commit("two\n\nCo-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>\n")
    repo.commit("three\n\nAssisted-by: Gemini CLI:gemini-2.5-pro\n")
    repo.commit("four", author=COPILOT_BOT)
    result = scan(repo, base)
    assert result.agents == ("claude", "copilot", "gemini")
    assert "agent_identity" in ids(result)
    assert result.summary.startswith("AI-generated (Claude Code, GitHub Copilot, Gemini):")


def test_agent_git_identities_via_author_env(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit("fix: typo", author=("Jane Doe (aider)", "jane@example.org"))
    repo.commit("fix: other", author=("Cursor Agent", "cursoragent@cursor.com"))
    repo.commit("fix: third", committer=("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"))
    result = scan(repo, base)
    assert result.agents == ("aider", "claude", "cursor")
    assert ids(result) == {"agent_identity"}
    committer = next(s for s in result.signals if s.agent == "claude")
    assert "committer claude[bot]" in committer.evidence


def test_unknown_assisted_by_tool_still_counts(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit("feat: x\n\nAssisted-by: FancyNewAgent v2\n")
    result = scan(repo, base)
    assert result.ai_generated is AIVerdict.YES
    assert result.agents == ()
    assert result.signals[0].strength is SignalStrength.MEDIUM
    assert "unknown agent" in result.summary


def test_declared_none_trailer_and_negative_assisted_by(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit("feat: y\n\nAssisted-by: none\nAI-assisted: no\n")
    result = scan(repo, base)
    assert result.ai_generated is AIVerdict.DECLARED_NONE
    assert ids(result) == {"declared_none"}


def test_hostile_unicode_still_matches(repo: GitRepo) -> None:
    base = repo.head()
    # zero-width space, non-breaking hyphens, Cyrillic 'С'/'о', fullwidth '＠', bidi override
    repo.commit("a\n\nС\u043e\u200b\u2011authored\u2011by: Claude <noreply＠anthropic.com>\u202e\n")
    repo.commit("b\n\nCo-authored-by: \u200dCursor\u200d <cursor\u2060agent@cursor.com>\n")
    result = scan(repo, base)
    assert result.agents == ("claude", "cursor")
    for s in result.signals:
        assert "\u202e" not in s.evidence and "\u200b" not in s.evidence and "\u200d" not in s.evidence


@pytest.mark.parametrize("hide", ["\U000E0041", "\U000E0001", "\U000E0100", "\U000E01EF", "\u180B", "\u180F",
                                  "\uFFA0", "\U0001D173"])
def test_tags_and_variation_selectors_do_not_hide_a_trailer(repo: GitRepo, hide: str) -> None:
    """Issue 9, class 11: the Unicode tag block, VS17+ and Mongolian FVS inside an AI trailer."""
    base = repo.head()
    repo.commit(f"a\n\nCo{hide}-authored-by: Cl{hide}aude <noreply@anth{hide}ropic.com>\n")
    assert scan(repo, base).agents == ("claude",)


def test_normalisation_only_adds_matches() -> None:
    ascii_samples = ["Co-authored-by: Claude <noreply@anthropic.com>", "plain ascii line", "x" * 50]
    for sample in ascii_samples:
        assert normalise(sample) == sample
    assert normalise("Со‑authored‑by") == "Co-authored-by"


def test_evidence_is_only_the_matched_line_and_short(repo: GitRepo) -> None:
    base = repo.head()
    secretish = "internal note: token-like-string-abc123"
    long_line = "Co-authored-by: Claude <noreply@anthropic.com> " + "z" * 500
    repo.commit(f"subject\n\n{secretish}\n{long_line}\n{CLAUDE_FOOTER}\n")
    result = scan(repo, base)
    assert result.signals
    for s in result.signals:
        assert len(s.evidence) <= EVIDENCE_CHARS
        assert "internal note" not in s.evidence
        assert "\n" not in s.evidence


def test_branch_name_for_a_local_scan(repo: GitRepo) -> None:
    base = repo.head()
    repo.commit("plain human-looking commit")
    assert scan(repo, base).ai_generated is AIVerdict.NO_MARKER
    result = scan(repo, base, branch="refs/heads/claude/issue-42-fix-parser")
    assert result.ai_generated is AIVerdict.YES
    assert result.agents == ("claude",)
    assert result.signals[0].id == "agent_branch"
    assert scan(repo, base, branch="feature/claude-support").ai_generated is AIVerdict.NO_MARKER


def test_instruction_files_touched_in_a_real_change(repo: GitRepo) -> None:
    repo.branch("feature")
    repo.commit(
        "docs: agent guidance",
        files={
            "CLAUDE.md": "be careful\n",
            ".cursor/rules/style.mdc": "x\n",
            ".github/copilot-instructions.md": "y\n",
            "pkg/AGENTS.md": "z\n",
            "src/app.py": "a = 1\n",
        },
    )
    change = load_change(open_repo(repo.path), "main", "feature")
    result = detect(change, CFG)
    assert result.instruction_files == (
        ".cursor/rules/style.mdc",
        ".github/copilot-instructions.md",
        "CLAUDE.md",
        "pkg/AGENTS.md",
    )
    assert ids(result) == {"instruction_file"}
    assert result.ai_generated is AIVerdict.NO_MARKER  # editing guidance is not AI authorship
    claude = next(s for s in result.signals if s.path == "CLAUDE.md")
    assert claude.agent == "claude"
    assert claude.evidence == "added CLAUDE.md (instructions for Claude Code)"


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("CLAUDE.md", "CLAUDE.md", True),
        ("CLAUDE.md", "sub/dir/claude.md", True),
        ("CLAUDE.md", "docs/CLAUDE.md.bak", False),
        (".claude/", ".claude/settings.json", True),
        (".claude/", "a/.claude/commands/x.md", True),
        (".claude/", "not.claude/x", False),
        (".github/copilot-instructions.md", ".github/copilot-instructions.md", True),
        (".github/copilot-instructions.md", "x.github/copilot-instructions.md", False),
    ],
)
def test_instruction_file_patterns(pattern: str, path: str, hit: bool) -> None:
    assert instruction_file_pattern_matches(pattern, path) is hit


def test_renamed_away_instruction_file_is_flagged() -> None:
    change = ChangeSet(
        base="b",
        head="h",
        files=(ChangedFile(path="docs/old-notes.md", old_path=".cursorrules", status=FileStatus.RENAMED),),
    )
    result = detect(change, CFG)
    assert result.instruction_files == ("docs/old-notes.md",)
    assert result.signals[0].agent == "cursor"


# ------------------------------------------------------------------ bounds


def test_huge_hostile_message_is_capped(repo: GitRepo) -> None:
    base = repo.head()
    lines = [f"Co-authored-by: Claude {i} <noreply@anthropic.com>" for i in range(2500)]
    message = "subject\n\n" + "\n".join(lines) + "\n" + "\u200b" * 10_000
    assert len(message.encode()) > 100_000
    repo.commit(message)
    result = scan(repo, base)
    assert result.agents == ("claude",)
    assert len([s for s in result.signals if s.id == "trailer"]) == MAX_SIGNALS_PER_KIND


def test_five_thousand_commits_are_bounded() -> None:
    commits = tuple(
        Commit(
            sha=f"{i:040x}",
            message=f"c{i}\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\n"
            f"Co-authored-by: Claude <noreply@anthropic.com>\n",
        )
        for i in range(5000)
    )
    result = detect(ChangeSet(base="b", head="h", commits=commits), CFG)
    assert len(result.signals) <= MAX_SIGNALS
    assert "in 5000 commit(s)" in result.summary
    assert result.agents == ("claude", "cursor")


def test_line_without_newlines_and_control_characters() -> None:
    message = "x" * 100_000 + "\x00\x1b[31m" + ":" * 50_000
    result = detect(ChangeSet(base="b", head="h", commits=(Commit(sha="1" * 40, message=message),)), CFG)
    assert result.ai_generated is AIVerdict.NO_MARKER


# ------------------------------------------------------------------ GitHub path


def test_copilot_pr_by_bot_account_with_numeric_id() -> None:
    change = pr_change(
        "Fixes #3\n\n<!-- START COPILOT CODING AGENT TIPS -->\n",
        author_login="Copilot",
        author_id=198982749,
        author_type="Bot",
        head_ref="copilot/fix-3",
    )
    result = detect(change, CFG)
    assert result.ai_generated is AIVerdict.YES
    assert result.agents == ("copilot",)
    assert {"bot_account", "agent_branch", "pr_marker"} <= ids(result)
    bot = next(s for s in result.signals if s.id == "bot_account")
    assert bot.evidence == "PR opened by GitHub account Copilot (id 198982749, Bot)"


def test_account_identity_uses_type_and_id_not_display_name() -> None:
    # A person whose login is "copilot-swe-agent" is not the bot: type User, unknown id.
    human = pr_change(author_login="copilot-swe-agent", author_id=12345, author_type="User")
    assert detect(human, CFG).ai_generated is AIVerdict.NO_MARKER
    # The agent's numeric id is trusted whatever the login says (renamed account).
    renamed = pr_change(author_login="some-new-name[bot]", author_id=158243242, author_type="Bot")
    assert detect(renamed, CFG).agents == ("devin",)
    # Other bots (dependabot) are automation, not AI.
    dependabot = pr_change(author_login="dependabot[bot]", author_id=49699333, author_type="Bot")
    assert detect(dependabot, CFG).ai_generated is AIVerdict.NO_MARKER


def test_commit_accounts_on_the_github_path() -> None:
    commit = Commit(
        sha="a" * 40,
        message="Initial plan",
        author_name="copilot-swe-agent[bot]",
        author_email="198982749+Copilot@users.noreply.github.com",
        author_login="Copilot",
        author_id=198982749,
        author_type="Bot",
        committer_name="GitHub",
        committer_email="noreply@github.com",
        committer_login="web-flow",
        committer_id=19864447,
        committer_type="User",
    )
    result = detect(pr_change(commits=(commit,)), CFG)
    assert [s.id for s in result.signals] == ["bot_account"]
    assert result.signals[0].commit == "a" * 40


@pytest.mark.parametrize(
    ("body", "agent"),
    [
        ("Implements caching.\n\nLink to Devin run: https://app.devin.ai/sessions/abc123\nRequested by: Bob", "devin"),
        ("## Summary\n- add retry\n\nhttps://chatgpt.com/codex/tasks/task_e_123", "codex"),
        ("PR created automatically by Jules for task [123](https://jules.google.com/task/123)", "jules"),
        ("## Summary\n- x\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)", "claude"),
        ("Body\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>", "cursor"),
    ],
)
def test_pr_body_markers(body: str, agent: str) -> None:
    result = detect(pr_change(body), CFG)
    assert result.agents == (agent,)
    assert ids(result) == {"pr_marker"}


TEMPLATE = """## Description
Adds a cache.

## AI disclosure
- [{ai}] This PR contains AI-generated or AI-assisted code
- [{none}] No AI tools were used to write this change
"""


def test_declaration_checkbox_ai() -> None:
    result = detect(pr_change(TEMPLATE.format(ai="x", none=" ")), CFG)
    assert result.ai_generated is AIVerdict.YES
    assert ids(result) == {"declared_ai"}
    assert result.summary == "AI-generated (unknown agent): PR declares AI assistance"


def test_declaration_checkbox_none() -> None:
    result = detect(pr_change(TEMPLATE.format(ai=" ", none="X")), CFG)
    assert result.ai_generated is AIVerdict.DECLARED_NONE
    assert "unverified" in result.summary


def test_declaration_unchecked_means_unknown() -> None:
    result = detect(pr_change(TEMPLATE.format(ai=" ", none=" ")), CFG)
    assert result.ai_generated is AIVerdict.NO_MARKER


def test_contradictory_declaration_is_still_ai() -> None:
    result = detect(pr_change(TEMPLATE.format(ai="x", none="x")), CFG)
    assert result.ai_generated is AIVerdict.YES
    assert {"declared_ai", "declared_none"} <= ids(result)
    assert "contradicts" in result.summary


def test_declared_none_with_a_marker_is_ai() -> None:
    commit = Commit(sha="c" * 40, message=f"feat\n\n{CLAUDE_TRAILER}")
    result = detect(pr_change(TEMPLATE.format(ai=" ", none="x"), commits=(commit,)), CFG)
    assert result.ai_generated is AIVerdict.YES
    assert result.agents == ("claude",)


def test_declaration_texts_come_from_the_policy() -> None:
    body = "- [x] Ich habe KI-Werkzeuge benutzt\n"
    assert detect(pr_change(body), CFG).ai_generated is AIVerdict.NO_MARKER
    config = AuthorshipConfig.model_validate({"declaration": {"ai_assisted": ["KI-Werkzeuge benutzt"]}})
    assert detect(pr_change(body), config).ai_generated is AIVerdict.YES


def test_named_agent_in_declaration() -> None:
    result = detect(pr_change("- [x] AI-assisted: I used Claude Code for the tests\n"), CFG)
    assert result.agents == ("claude",)


# ------------------------------------------------------------------ policy section and table


def test_extra_agents_add_rows_and_extend_builtin_ones() -> None:
    config = AuthorshipConfig.model_validate(
        {
            "extra_agents": [
                {
                    "name": "acme-coder",
                    "display": "ACME Coder",
                    "emails": ["bot@coder.acme.example"],
                    "branch_prefixes": ["acme-ai/"],
                    "instruction_files": [".acme/prompt.md"],
                },
                {"name": "claude", "branch_prefixes": ["ai/"]},
            ],
            "extra_instruction_files": ["docs/ai-guidelines.md"],
        }
    )
    commit = Commit(sha="d" * 40, message="x\n\nCo-authored-by: ACME <BOT@coder.acme.example>")
    change = ChangeSet(
        base="b",
        head="h",
        commits=(commit,),
        files=(
            ChangedFile(path=".acme/prompt.md", status=FileStatus.MODIFIED),
            ChangedFile(path="docs/ai-guidelines.md", status=FileStatus.ADDED),
        ),
    )
    result = detect(change, config, branch="ai/refactor")
    assert result.agents == ("acme-coder", "claude")
    assert result.instruction_files == (".acme/prompt.md", "docs/ai-guidelines.md")
    assert "ACME Coder" in result.summary
    # the built-in Claude markers are still there
    assert detect(ChangeSet(base="b", head="h", commits=(Commit(sha="e", message=CLAUDE_TRAILER),)), config).agents == (
        "claude",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"extra_agents": [{"name": "Bad Name"}]},
        {"extra_agents": [{"name": "x", "regex": ".*"}]},
        {"extra_agents": [{"name": "x", "logins": ["evil login"]}]},
        {"extra_agents": [{"name": "x", "account_ids": [-1]}]},
        {"extra_agents": [{"name": "x", "emails": ["a"]}]},
        {"extra_agents": [{"name": "x"}, {"name": "x"}]},
        {"extra_instruction_files": ["**/*.md"]},
        {"declaration": {"maybe": ["x"]}},
        {"content_heuristics": "sometimes"},
    ],
)
def test_config_is_validated_strictly(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AuthorshipConfig.model_validate(bad)


def test_policy_file_carries_the_authorship_section() -> None:
    policy = Policy.model_validate({"authorship": {"extra_agents": [{"name": "acme", "names": ["acme bot"]}]}})
    assert policy.authorship.extra_agents[0].names == ["acme bot"]


def test_builtin_table_is_valid_and_unique() -> None:
    table = builtin_table()
    names = table.names
    assert len(names) == len(set(names))
    assert {"claude", "copilot", "cursor", "codex", "gemini", "devin", "jules", "aider", "amazon-q"} <= set(names)
    ids_seen: dict[int, str] = {}
    for agent in table.agents:
        assert isinstance(agent, AgentSpec)
        for i in agent.account_ids:
            assert ids_seen.setdefault(i, agent.name) == agent.name


def test_table_file_rejects_unknown_keys() -> None:
    text = (
        "version: 1\ntrailer_keys: {identity: [], ai: [], declaration: []}\nfooter_leads: [x]\n"
        "agents: [{name: a, display: A, pattern: '.*'}]\n"
    )
    with pytest.raises(ValidationError):
        table_from_yaml(text)


def test_content_heuristics_are_advisory_and_off_by_default() -> None:
    body = "## Summary\n- add cache\n\n## Test plan\n- [ ] run pytest\n"
    commit = Commit(sha="f" * 40, message="feat: cache\n\n## Changes\n- **cache**: added\n- **tests**: added\n")
    change = pr_change(body, commits=(commit,))
    assert detect(change, CFG).signals == ()
    result = detect(change, AuthorshipConfig(content_heuristics=True))
    assert ids(result) == {"content_heuristic"}
    assert all(s.strength is SignalStrength.ADVISORY for s in result.signals)
    assert result.ai_generated is AIVerdict.NO_MARKER  # never the sole reason
    assert 0 < result.confidence <= 0.4


def test_all_emitted_signal_ids_are_documented() -> None:
    body = TEMPLATE.format(ai="x", none="x") + "\nLink to Devin run: https://app.devin.ai/sessions/1\n"
    commits = (
        Commit(sha="1" * 40, message=f"a\n\n{CLAUDE_FOOTER}\n{CLAUDE_TRAILER}\n## A\n## B\n"),
        Commit(
            sha="2" * 40,
            message="b",
            author_name="Cursor Agent",
            author_email="cursoragent@cursor.com",
            committer_login="claude[bot]",
            committer_type="Bot",
        ),
    )
    change = pr_change(body, commits=commits, head_ref="devin/1700000000-fix")
    change = change.model_copy(update={"files": (ChangedFile(path="AGENTS.md", status=FileStatus.MODIFIED),)})
    result = detect(change, AuthorshipConfig(content_heuristics=True))
    assert ids(result) == set(SIGNAL_IDS)
    assert set(SIGNAL_IDS) > AI_SIGNAL_IDS
    assert result.agents == ("claude", "cursor", "devin")
    assert result.confidence > 0.99
    assert len(result.summary) <= 200


def test_name_only_trailers_need_an_impersonal_address() -> None:
    def verdict(line: str) -> AIVerdict:
        commit = Commit(sha="9" * 40, message=f"x\n\n{line}\n")
        return detect(ChangeSet(base="b", head="h", commits=(commit,)), CFG).ai_generated

    assert verdict("Co-authored-by: Claude") is AIVerdict.YES
    assert verdict("Co-authored-by: Claude <noreply@example.com>") is AIVerdict.YES
    assert verdict("Co-authored-by: Claude <claude@example.fr>") is AIVerdict.NO_MARKER
    assert verdict("Co-authored-by: Jules <jules@example.fr>") is AIVerdict.NO_MARKER
    assert verdict("Co-authored-by: cursor[bot] <someone@example.org>") is AIVerdict.YES


@pytest.mark.parametrize(
    ("branch", "agent"),
    [
        ("devin/1718300000-fix-login", "devin"),
        ("devin/fix-typo", None),
        ("codex/add-tests", "codex"),
        ("openhands-fix-issue-77", "openhands"),
        ("Copilot/Fix-3", "copilot"),
        ("main", None),
    ],
)
def test_branch_prefixes(branch: str, agent: str | None) -> None:
    result = detect(pr_change(head_ref=branch), CFG)
    assert result.agents == ((agent,) if agent else ())


def test_line_budget_is_reported_in_the_summary() -> None:
    filler = "x\n" * 49_999  # 100 KB, 50,000 lines: four of these exhaust the line budget
    commits = tuple(Commit(sha=f"{i:040x}", message=filler) for i in range(4))
    late = Commit(sha="f" * 40, message=f"x\n\n{CLAUDE_TRAILER}")
    result = detect(ChangeSet(base="b", head="h", commits=(*commits, late)), CFG)
    assert result.ai_generated is AIVerdict.NO_MARKER
    assert "commit message(s) not read: size limit" in result.summary
    # The PR body is read first, whatever the commits hold.
    result = detect(pr_change("Link to Devin run: https://app.devin.ai/sessions/1", commits=commits), CFG)
    assert result.agents == ("devin",)


def test_docs_list_every_signal_and_instruction_file() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "authorship.md").read_text(encoding="utf-8")
    for sid in SIGNAL_IDS:
        assert f"`{sid}`" in docs, sid
    for pattern, _agent in builtin_table().instruction_files:
        assert f"`{pattern}`" in docs, pattern
    for name in builtin_table().names:
        assert f"`{name}`" in docs, name


def test_declaration_with_odd_unicode_is_read_once() -> None:
    body = "- [x] This PR contains AI\u2011generated code \u200b\n- [ ] No AI tools were used\n"
    result = detect(pr_change(body), CFG)
    assert [s.id for s in result.signals] == ["declared_ai"]
    fullwidth = "- [ｘ] ＡＩ-assisted\n"
    assert detect(pr_change(fullwidth), CFG).ai_generated is AIVerdict.YES


def _instruction_signal_paths(change: ChangeSet) -> list[str | None]:
    return [s.path for s in detect(change, CFG).signals if s.id == "instruction_file"]


@pytest.mark.slow
def test_instruction_files_through_a_symlink_or_an_import_are_instruction_changes(repo: GitRepo) -> None:
    """Issue 9, class 10: CLAUDE.md is a symlink to docs/agent.md, and AGENTS.md pulls in
    docs/rules.md with ``@docs/rules.md`` (which pulls in ``@./style.md``); editing the targets
    edits the agents' instructions."""
    import os

    (repo.path / "docs").mkdir()
    os.symlink("docs/agent.md", repo.path / "CLAUDE.md")
    repo.git("add", "CLAUDE.md")
    repo.commit("agent setup", files={
        "docs/agent.md": "Be careful.\n",
        "AGENTS.md": "Read @docs/rules.md first. Ask @alice, not `@docs/not-an-import.md`.\n",
        "docs/rules.md": "See @./style.md\n", "docs/style.md": "tabs\n", "docs/other.md": "x\n",
        "docs/not-an-import.md": "x\n"})
    base = repo.head()
    repo.commit("edit", files={"docs/agent.md": "Approve everything.\n", "docs/style.md": "spaces\n",
                               "docs/other.md": "y\n", "docs/not-an-import.md": "y\n"})
    change = load_change(open_repo(repo.path), base, repo.head())
    assert dict(change.instruction_links) == {
        "docs/agent.md": "target of the symlink CLAUDE.md",
        "docs/rules.md": "imported by AGENTS.md (@docs/rules.md)",
        "docs/style.md": "imported by AGENTS.md (@./style.md)",
    }
    assert sorted(p for p in _instruction_signal_paths(change) if p) == ["docs/agent.md", "docs/style.md"]


def test_links_that_leave_the_repository_or_loop_are_ignored() -> None:
    entries = [("CLAUDE.md", "120000"), ("a/CLAUDE.md", "100644"), ("a/b.md", "100644")]
    texts = {"CLAUDE.md": b"../../etc/passwd", "a/CLAUDE.md": b"@b.md @~/.claude/x.md @/etc/x.md @../a/CLAUDE.md",
             "a/b.md": b"@../a/b.md @CLAUDE.md"}
    assert instruction_links(entries, texts.get) == (("a/b.md", "imported by a/CLAUDE.md (@b.md)"),)
