"""The closed sets a policy names values from: tools, rule-id namespaces, agents, signals.

A rule that names a value outside these sets can never fire, so ``policy validate`` rejects it.
The sets mirror what the checks emit; ``tests/policy/test_vocab.py`` keeps them in step with
``checks/registry.py``, ``checks/authorship.py`` and ``checks/data/agents.yml``.
"""

from __future__ import annotations

TOOLS = ("semgrep", "bandit", "secrets", "llm", "authorship", "govbot")
RULE_ID_PREFIXES = TOOLS  # rule ids are "<tool>:<id>"
BUILTIN_AGENTS = (
    "claude", "copilot", "cursor", "codex", "gemini", "devin", "jules", "aider", "amazon-q",
    "openhands", "chatgpt", "windsurf", "cline", "opencode", "sweep", "junie", "goose", "amp",
    "coderabbit", "lovable",
)
SIGNAL_IDS = (
    "trailer", "footer", "agent_identity", "bot_account", "agent_branch", "pr_marker",
    "declared_ai", "declared_none", "instruction_file", "content_heuristic",
)
CONFIDENCES = ("low", "medium", "high")
BASELINES = ("new", "pre_existing")


def rule_id_problem(pattern: str) -> str | None:
    """Why a ``rule_id`` glob can never match a namespaced rule id, with a hint; None if it can."""
    from fnmatch import fnmatchcase

    if ":" not in pattern:
        if pattern.startswith("*"):
            return None
        guess = "bandit" if pattern[:1] in "Bb" and pattern[1:4].isdigit() else None
        hint = f"did you mean '{guess}:{pattern}'?" if guess else (
            "rule ids are '<tool>:<id>' with tool one of " + ", ".join(RULE_ID_PREFIXES))
        return f"rule id {pattern!r} has no tool prefix and can never match; {hint}"
    prefix = pattern.split(":", 1)[0]
    if not any(fnmatchcase(t, prefix) for t in RULE_ID_PREFIXES):
        return (f"rule id {pattern!r}: unknown tool prefix {prefix!r}; "
                "expected one of " + ", ".join(RULE_ID_PREFIXES))
    return None


def glob_problem(pattern: str) -> str | None:
    """A path glob that looks like a directory matches no file: say what to write instead."""
    if pattern.endswith("/"):
        return f"glob {pattern!r} names a directory and matches no file; write '{pattern}**'"
    return None
