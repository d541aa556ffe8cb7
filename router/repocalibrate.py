"""``govbot router calibrate``: fit the Pro threshold to a repository's own history.

Positives (changes that should have reached pro), each with its source:

- ``advisory``: commits whose message cites a CVE/GHSA/PYSEC id and a fix word;
- ``revert``: commits that a later ``This reverts commit <sha>`` undid;
- feedback rows from a JSONL file (one JSON object per line), e.g. recorded ``/govbot deep``
  requests exported by the GitHub App::

      {"repo": "owner/name", "sha": "<commit>", "label": "deep", "source": "app", "time": "2026-11-30T12:00:00Z"}

  ``sha`` or ``pr`` (a number; rows with only ``pr`` are counted but need a commit to be scored),
  ``label`` one of ``deep``/``security`` (positive) or ``ok`` (negative), ``source`` and ``time``
  free text.

The repository's positives are scored by the shipped model and appended to its held-out
calibration scores; the conformal threshold is then taken over both (so a repository whose fixes
look unlike the training data pulls the threshold down). The calibration file is plain JSON that
the policy names in ``llm.routing.calibration``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from govbot.core.errors import ConfigError
from govbot.core.ports import BaseTree
from govbot.policy.llm_config import LLMConfig
from govbot.router.riskmodel import RiskModel

CALIBRATION_FORMAT = "govbot-risk-calibration"
POSITIVE_LABELS = frozenset({"deep", "security"})
_REVERT = re.compile(r"This reverts commit ([0-9a-f]{7,40})")


@dataclass(frozen=True)
class Feedback:
    repo: str
    sha: str | None
    pr: int | None
    label: str
    source: str
    time: str


def parse_feedback(lines: Sequence[str]) -> list[Feedback]:
    out: list[Feedback] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"feedback line {n}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "label" not in row or not (row.get("sha") or row.get("pr")):
            raise ValueError(f"feedback line {n}: needs label and sha or pr")
        if row["label"] not in POSITIVE_LABELS | {"ok"}:
            raise ValueError(f"feedback line {n}: label must be deep, security or ok")
        out.append(Feedback(str(row.get("repo", "")), row.get("sha"), row.get("pr"), str(row["label"]),
                            str(row.get("source", "")), str(row.get("time", ""))))
    return out


def reverted_shas(messages: Mapping[str, str]) -> set[str]:
    return {m for msg in messages.values() for m in _REVERT.findall(msg)}


def calibration_doc(model: RiskModel, scores: Sequence[float], sources: Mapping[str, int], repo: str) -> dict[str, Any]:
    return {"format": CALIBRATION_FORMAT, "model_version": model.version, "repo": repo,
            "positive_scores": sorted(round(s, 5) for s in scores), "sources": dict(sorted(sources.items()))}


def apply_calibration(model: RiskModel, doc: Mapping[str, Any]) -> RiskModel:
    if doc.get("format") != CALIBRATION_FORMAT:
        raise ValueError(f"not a {CALIBRATION_FORMAT} file")
    if doc.get("model_version") != model.version:
        raise ValueError(f"calibration made for model {doc.get('model_version')}, this govbot ships {model.version}: "
                         "run `govbot router calibrate` again")
    extra = tuple(float(s) for s in doc.get("positive_scores", ()))
    return replace(model, positive_scores=tuple(sorted(model.positive_scores + extra)))


def load_calibration(model: RiskModel, path: Path) -> RiskModel:
    return apply_calibration(model, json.loads(path.read_text("utf-8")))


MAX_CALIBRATION_BYTES = 2_000_000


def calibrated_model(model: RiskModel, data: bytes | None, where: str) -> RiskModel:
    """The model with the calibration file ``data`` applied (read by the edge from ``where``: the
    base branch, like the policy, so a pull request cannot loosen its own routing). An absent,
    oversized or foreign file is a configuration error, never a silent fall-back."""
    if data is None:
        raise ConfigError(f"llm.routing.calibration: {where} not found (write it with `govbot router calibrate`)")
    if len(data) > MAX_CALIBRATION_BYTES:
        raise ConfigError(f"llm.routing.calibration: {where} is larger than {MAX_CALIBRATION_BYTES} bytes")
    try:
        return apply_calibration(model, json.loads(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"llm.routing.calibration: {where}: {exc}") from exc


def base_calibrated_model(tree: BaseTree, config: LLMConfig, model: RiskModel) -> RiskModel | None:
    """The policy's ``llm.routing.calibration`` read from the base tree (like the policy: a pull
    request cannot loosen its own routing) and applied to ``model``; None when the policy names no
    file or routes by the rules. Every edge (``govbot scan``, ``govbot route --repo``, the Action)
    reads it through here."""
    path = config.routing.calibration
    if not path or config.routing.router != "learned":
        return None
    where = f"{path}@{tree.label} (base branch)"
    return calibrated_model(model, tree.read_file(path, MAX_CALIBRATION_BYTES), where)
