"""govbot: AI-code governance for pull requests."""

__version__ = "0.2.0"
