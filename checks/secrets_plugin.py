"""Loaded by detect-secrets itself (``--plugin`` and ``--filter``), inside its own process: the
secrets layer's formats as one plugin, its decoy rules as one filter. Kept tiny; the logic is in
``checks/secrets_layer.py``."""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector

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


PREFILTERED_TYPE = "govbot prefiltered provider formats"


def _regex_plugin_classes() -> list[type[RegexBasedDetector]]:
    """detect-secrets' built-in regex-based plugins (provider formats, private keys, basic auth,
    public IPs, JWTs): every one of them finds a secret only on a line one of its ``denylist``
    regexes matches."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    found: dict[str, type[RegexBasedDetector]] = {}
    mapping: Mapping[str, type[BasePlugin]] = get_mapping_from_secret_type_to_class()
    for cls in mapping.values():
        if issubclass(cls, RegexBasedDetector) and cls.__module__.startswith("detect_secrets.plugins."):
            found[cls.__name__] = cls
    return [found[name] for name in sorted(found)]


def _combined(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One regex matching wherever any of ``patterns`` matches (each keeps its own flags), or None
    when they cannot be combined."""
    parts = []
    for pattern in patterns:
        extra = pattern.flags & ~(re.IGNORECASE | re.VERBOSE | re.UNICODE)
        if extra:
            return None
        flags = ("i" if pattern.flags & re.IGNORECASE else "") + ("x" if pattern.flags & re.VERBOSE else "")
        body = pattern.pattern + ("\n" if pattern.flags & re.VERBOSE else "")  # a trailing comment stops here
        parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    try:
        return re.compile("|".join(parts))
    except re.error:
        return None


class GovbotPrefilteredFormats(RegexBasedDetector):
    """detect-secrets' regex-based plugins behind one combined regex: a line none of their
    ``denylist`` regexes matches (nearly every line) costs one search instead of one dispatch per
    plugin, which was about half of detect-secrets' time on a large change. A line that matches is
    given to every one of those plugins, unchanged, so what they report is exactly what they would
    report on their own (``tests/checks/test_secrets_plugin.py`` compares the two)."""

    secret_type = PREFILTERED_TYPE

    def __init__(self) -> None:
        self.plugins = [cls() for cls in _regex_plugin_classes()]
        self.prefilter = _combined([r for p in self.plugins for r in p.denylist])
        self.types: dict[str, str] = {}  # the last line's secrets and the plugin type that found each

    @property
    def denylist(self) -> tuple[re.Pattern[str], ...]:
        # a regex plugin like the ones it runs (detect-secrets' filters treat it as one)
        return tuple(r for p in self.plugins for r in p.denylist)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for plugin in self.plugins:
            yield from plugin.analyze_string(string)

    def analyze_line(self, filename: str, line: str, line_number: int = 0, context: Any = None,
                     **kwargs: Any) -> set[PotentialSecret]:
        self.types = {}
        if self.prefilter is not None and not self.prefilter.search(line):
            return set()
        found: set[PotentialSecret] = set()
        for plugin in self.plugins:
            for secret in plugin.analyze_line(filename=filename, line=line, line_number=line_number, context=context):
                found.add(secret)
                self.types.setdefault(str(secret.secret_value), secret.type)
        return found


def is_decoy(secret: str, line: str, filename: str, plugin: Any) -> bool:
    secret_type = str(getattr(plugin, "secret_type", ""))
    if secret_type == PLUGIN_TYPE:
        secret_type = secrets_layer.type_of(secret, line) or secret_type
    elif secret_type == PREFILTERED_TYPE:
        secret_type = plugin.types.get(secret, secret_type)
    return secrets_layer.decoy_reason(secret, line, filename, secret_type) is not None


def register_in_process(prefilter: bool = True) -> None:
    """For a scan inside this process (``detect_secrets.core.scan.scan_file`` under
    ``default_settings()``) rather than the ``detect-secrets`` command: the same plugin, filter and
    dropped ``is_indirect_reference`` filter that ``checks.secrets.build_argv`` passes as flags."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import get_filters, get_plugins, get_settings

    settings = get_settings()
    settings.plugins[GovbotSecretFormats.__name__] = {"path": f"file://{__file__}"}
    if prefilter:
        for cls in _regex_plugin_classes():  # run behind one prefilter instead (GovbotPrefilteredFormats)
            settings.plugins.pop(cls.__name__, None)
        settings.plugins[GovbotPrefilteredFormats.__name__] = {"path": f"file://{__file__}"}
    else:
        settings.plugins.pop(GovbotPrefilteredFormats.__name__, None)
    settings.filters[f"file://{__file__}::is_decoy"] = {}
    settings.disable_filters("detect_secrets.filters.heuristic.is_indirect_reference")
    get_mapping_from_secret_type_to_class.cache_clear()
    get_plugins.cache_clear()
    get_filters.cache_clear()
