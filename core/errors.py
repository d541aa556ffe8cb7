"""The error tree. Every error a user can cause maps to exit code 2 with a clear message."""

from __future__ import annotations


class GovbotError(Exception):
    """Base class: a problem govbot can explain to the user (exit code 2)."""

    exit_code = 2


class ConfigError(GovbotError):
    """Bad input from the user: a policy file, a flag, a ref."""


class PolicyError(ConfigError):
    """The policy file is invalid. ``problems`` holds one line per problem, with file:line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid policy {source}:\n" + "\n".join(f"  {p}" for p in problems))


class GitError(GovbotError):
    """git failed, or the path is not a repository, or a ref does not exist."""


class ToolError(GovbotError):
    """A scanner could not run or produced output govbot cannot read."""
