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


def register_in_process() -> None:
    """For a scan inside this process (``detect_secrets.core.scan.scan_file`` under
    ``default_settings()``) rather than the ``detect-secrets`` command: the same plugin, filter and
    dropped ``is_indirect_reference`` filter that ``checks.secrets.build_argv`` passes as flags."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import get_filters, get_plugins, get_settings

    settings = get_settings()
    settings.plugins[GovbotSecretFormats.__name__] = {"path": f"file://{__file__}"}
    settings.filters[f"file://{__file__}::is_decoy"] = {}
    settings.disable_filters("detect_secrets.filters.heuristic.is_indirect_reference")
    get_mapping_from_secret_type_to_class.cache_clear()
    get_plugins.cache_clear()
    get_filters.cache_clear()
