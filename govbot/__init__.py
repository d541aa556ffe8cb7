"""govbot: AI-code governance for pull requests."""

__version__ = "0.1.0"
