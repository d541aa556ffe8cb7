"""Loaded by detect-secrets itself (``--plugin`` and ``--filter``), inside its own process: the
secrets layer's formats as one plugin, its decoy rules as one filter. Kept tiny; the logic is in
``checks/secrets_layer.py``."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import BasePlugin

from govbot.checks import secrets_layer

PLUGIN_TYPE = "govbot secret formats"


class GovbotSecretFormats(BasePlugin):
    secret_type = PLUGIN_TYPE

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        yield from (m.value for m in secrets_layer.find(string))

    def analyze_line(self, filename: str, line: str, line_number: int = 0, context: Any = None,
                     **kwargs: Any) -> set[PotentialSecret]:
        return {PotentialSecret(type=m.type, filename=filename, secret=m.value, line_number=line_number)
                for m in secrets_layer.find(line)}


def is_decoy(secret: str, line: str, filename: str, plugin: Any) -> bool:
    secret_type = str(getattr(plugin, "secret_type", ""))
    if secret_type == PLUGIN_TYPE:
        secret_type = secrets_layer.type_of(secret, line) or secret_type
    return secrets_layer.decoy_reason(secret, line, filename, secret_type) is not None
