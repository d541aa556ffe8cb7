"""govbot: AI-code governance for pull requests."""

__version__ = "0.3.0"
