"""Training, grouped cross-validation and calibration on a small fixture of diffs (needs scikit-learn)."""

from __future__ import annotations

import difflib
import json
import math

import pytest

from govbot.core.diff import changeset_from_diff
from govbot.policy.llm_config import LLMConfig
from govbot.router import train
from govbot.router.calibration import (
    conformal_threshold,
    mix_saving,
    mix_saving_split,
    routed_cost,
    size_adjusted,
    summary,
    wilson,
)
from govbot.router.catalogue import estimate_models
from govbot.router.features import change_features
from govbot.router.riskmodel import parse_model
from govbot.router.train import (
    SIZE_WEIGHTS,
    choose_size_weight,
    fit_and_calibrate,
    fit_for_ship,
    grouped_cv,
    prepare,
    ship,
    ship_gbt,
    ship_logistic,
    split_calibration,
)


def diff(path: str, before: str, after: str) -> str:
    body = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
    return f"diff --git a/{path} b/{path}\n{body}"


def fixture_rows() -> list:
    config = LLMConfig()
    models = estimate_models(config)
    rows = []
    for r in range(8):
        repo = f"owner/repo{r}"
        for i in range(4):
            sec = diff(f"pkg/m{i}.py", f"def f{i}(s):\n    return s\n",
                       f"def f{i}(s):\n    if len(s) > MAX_SIZE:\n        raise ValueError('too big')\n"
                       f"    return html.escape(os.path.normpath(s))\n")
            lint = diff(f"docs/p{i}.md", "Teh thing\n", "The thing\n")
            feat = diff(f"pkg/n{i}.py", "def g():\n    return 1\n",
                        f"def g():\n    return 1\n\n\ndef h{i}(items):\n    return [x * {i} for x in items]\n")
            for label, text in (("security", sec), ("lint", lint), ("feature", feat)):
                p = prepare(repo, f"{r}{i}{label}", label, text, config, models)
                assert p is not None
                rows.append(p)
    return rows


def test_conformal_threshold_and_intervals() -> None:
    scores = [float(i) for i in range(1, 20)]  # n = 19
    assert conformal_threshold(scores, 0.95) == 1.0  # k = floor(0.05 * 20) = 1
    assert conformal_threshold(scores, 0.90) == 2.0  # k = 2
    assert conformal_threshold(scores[:5], 0.95) == -math.inf  # too few: everything to pro
    with pytest.raises(ValueError):
        conformal_threshold(scores, 1.0)
    lo, hi = wilson(95, 100)
    assert 0.88 < lo < 0.95 < hi < 0.99
    assert wilson(0, 0) == (0.0, 1.0)


def test_mix_saving_weights_classes_not_rows() -> None:
    rows = [("security", "pro", 400)] + [("lint", "mini", 400)] * 10 + [("feature", "standard", 400)]
    money = mix_saving(rows)
    # 0.1 * 1.0 + 0.4 * 0.15 + 0.5 * 0.40 = 0.36 of always-pro
    assert money["saving"] == pytest.approx(0.64)
    s = summary(rows)
    assert s["pro_recall"] == 1.0 and s["lint_mini"] == 1.0


def test_size_adjusted_score_ranks_small_changes_first() -> None:
    assert size_adjusted(1.5, 4000, 0.0) == 1.5  # weight 0: the model's score unchanged
    assert size_adjusted(1.5, 4000, 2.0) == pytest.approx(1.5 - 2.0 * math.log1p(1000))
    # the same model score: the small change costs less at pro, so it ranks first
    assert size_adjusted(0.0, 400, 1.0) > size_adjusted(0.0, 40_000, 1.0)


def test_calibration_split_holds_out_whole_repositories() -> None:
    groups = [f"r{i % 8}" for i in range(40)]
    fit, cal = split_calibration(groups)
    assert not {groups[i] for i in fit} & {groups[i] for i in cal}
    assert len({groups[i] for i in cal}) == 2


@pytest.mark.slow
def test_grouped_cv_and_shipping_are_deterministic() -> None:
    pytest.importorskip("sklearn")  # here, not at import: scikit-learn takes seconds to load
    rows = fixture_rows()
    results = grouped_cv(rows, 0.8, folds=4)
    assert set(results) == {"logistic", "knn", "gbt", "mlp", "rules", "gbt+size", "ens+size"}
    assert all(w in SIZE_WEIGHTS for w in results["gbt+size"]["size_weights"])
    assert all(w in SIZE_WEIGHTS for w in results["ens+size"]["size_weights"])
    assert grouped_cv(rows, 0.8, folds=4, kinds=["ens+size"]) == {"ens+size": results["ens+size"]}
    assert results["logistic"]["pro_recall"] == 1.0  # a separable fixture: the learner finds it
    assert results["logistic"]["lint_mini"] == 1.0
    doc = ship_logistic(rows, 0.8, "test", {"note": "fixture"})
    again = ship_logistic(rows, 0.8, "test", {"note": "fixture"})
    assert json.dumps(doc, sort_keys=True) == json.dumps(again, sort_keys=True)
    model = parse_model(doc)
    sec = next(p for p in rows if p.label == "security")
    lint = next(p for p in rows if p.label == "lint")
    assert model.score(sec.feats) > model.threshold(0.8) > model.score(lint.feats)
    assert any(name.startswith(("cue:", "+tok:")) for name, _ in model.explain(sec.feats))


@pytest.mark.slow
def test_shipped_trees_score_exactly_as_scikit_learn() -> None:
    """The JSON trees, walked in pure Python, give scikit-learn's decision function."""
    rows = fixture_rows()
    doc = json.loads(json.dumps(ship_gbt(rows, 0.8, "test-gbt", {"note": "fixture"})))
    model = parse_model(doc)
    assert model.trees and not model.weights
    fitted, _, pos_scores, score = fit_and_calibrate("gbt", rows, 0.8)
    expected = score(rows)
    for p, want in zip(rows, expected, strict=True):
        assert model.score(p.feats) == pytest.approx(float(want), abs=1e-4)
    assert list(model.positive_scores) == pytest.approx(sorted(pos_scores), abs=1e-5)
    sec = next(p for p in rows if p.label == "security")
    _, top = model.assess(sec.feats, 3)
    assert top and all(c > 0 for _, c in top)
    assert fitted.n_iter_ == len(model.trees)


def test_features_are_named_and_bounded() -> None:
    text = "".join(f"+x{i} = escape(y)\n" for i in range(2000))
    feats = change_features([("pkg/a.py", "@@ -0,0 +1,2000 @@\n" + text)])
    assert feats["shape:added"] == pytest.approx(math.log1p(400))  # at most 400 lines read per file
    assert feats["cue:escape"] == pytest.approx(math.log1p(50))  # occurrences, capped
    assert feats["kind:code"] == 1.0 and feats["path:pkg"] == 1.0


@pytest.mark.slow
def test_size_weight_is_chosen_without_the_calibration_repositories(monkeypatch: pytest.MonkeyPatch) -> None:
    """The weight comes from grouped CV over the fitting repositories only; the shipped file carries
    it, and its calibration scores and routed scores are the size-adjusted ones of training."""
    rows = fixture_rows()
    weight, table = choose_size_weight("gbt", rows, 0.8)
    assert weight in SIZE_WEIGHTS and set(table) == set(SIZE_WEIGHTS)
    assert choose_size_weight("gbt", rows, 0.8) == (weight, table)  # deterministic
    fit, cal = split_calibration([p.repo for p in rows])
    seen: list[set[str]] = []

    def chosen(kind: str, batch: list, target: float, **_: object) -> tuple[float, dict]:
        seen.append({p.repo for p in batch})
        return 1.5, {}

    monkeypatch.setattr(train, "choose_size_weight", chosen)
    *_, got = fit_for_ship("gbt+size", rows, 0.8)
    assert got == 1.5 and seen == [{rows[i].repo for i in fit}]
    assert not seen[0] & {rows[i].repo for i in cal}
    doc = json.loads(json.dumps(ship("gbt+size", rows, 0.8, "test-size", {"note": "fixture"})))
    model = parse_model(doc)
    assert model.size_weight == 1.5
    _, _, pos_scores, score = fit_and_calibrate("gbt", rows, 0.8, size_weight=1.5)
    assert list(model.positive_scores) == pytest.approx(sorted(pos_scores), abs=1e-5)
    for p, want in zip(rows, score(rows), strict=True):
        routed, raw, _ = model.route_score(p.feats, p.patch_bytes, 0)
        assert routed == pytest.approx(float(want), abs=1e-4)
        assert routed == pytest.approx(raw - 1.5 * math.log1p(p.patch_bytes / 4))
    assert ship("gbt", rows, 0.8, "test-raw", {})["size_weight"] == 0.0


def test_split_review_cost_counts_the_extra_request_and_splits_only_where_cheaper() -> None:
    # 40,000 bytes = 10,000 tokens at pro, 20,000 of them (5,000 tokens) tests/docs
    assert routed_cost("pro", 40_000, 20_000) == pytest.approx(5_000 + 0.15 * (5_000 + 1_800))
    assert routed_cost("standard", 40_000, 20_000) == pytest.approx(0.4 * 5_000 + 0.15 * (5_000 + 1_800))
    assert routed_cost("mini", 40_000, 20_000) == pytest.approx(0.15 * 10_000)  # mini: nothing to split
    # a small split part is not worth a request of its own: the whole change at its tier
    assert routed_cost("pro", 4_000, 400) == pytest.approx(1_000)
    assert routed_cost("pro", 4_000, 0) == routed_cost("pro", 4_000) == pytest.approx(1_000)
    rows = [("feature", "pro", 40_000, 20_000), ("lint", "mini", 400, 0), ("security", "pro", 400, 0)]
    assert mix_saving_split(rows)["saving"] > mix_saving([r[:3] for r in rows])["saving"]
    assert mix_saving_split([(*r, 0) for r in [("feature", "pro", 400)]]) == mix_saving([("feature", "pro", 400)])


def test_prepared_rows_carry_the_split_bytes_plan_would_use() -> None:
    code = "diff --git a/src/app/view.py b/src/app/view.py\n--- a/src/app/view.py\n+++ b/src/app/view.py\n" \
           "@@ -1,1 +1,1 @@\n-x = 1\n+x = compute(2)\n"
    test_body = "".join(f"+assert render({i}) == {i}\n" for i in range(50))
    tests = ("diff --git a/tests/test_view.py b/tests/test_view.py\nnew file mode 100644\n--- /dev/null\n"
             f"+++ b/tests/test_view.py\n@@ -0,0 +1,50 @@\n{test_body}")
    config = LLMConfig()
    p = prepare("o/r", "0" * 40, "feature", code + tests, config, estimate_models(config))
    assert p is not None
    change = changeset_from_diff(code + tests)
    test_patch = next(f.patch for f in change.files if f.path == "tests/test_view.py")
    assert p.split_bytes == len((test_patch or "").encode()) and 0 < p.split_bytes < p.patch_bytes


def test_shipped_ensemble_scores_as_its_members_average() -> None:
    """The JSON ensemble (trees + logistic weights, half each) gives the trained ensemble's score,
    and its explanation merges both members' contributions."""
    rows = fixture_rows()
    doc = json.loads(json.dumps(train.ship_ensemble(rows, 0.8, "test-ens", {"note": "fixture"})))
    assert doc["kind"] == "ensemble" and doc["member_weights"] == [0.5, 0.5]
    model = parse_model(doc)
    assert [type(m.trees) for _, m in model.members] and model.members[0][1].trees and model.members[1][1].weights
    _, _, pos_scores, score = fit_and_calibrate("ens", rows, 0.8)
    for p, want in zip(rows, score(rows), strict=True):
        assert model.score(p.feats) == pytest.approx(float(want), abs=1e-3)
    assert list(model.positive_scores) == pytest.approx(sorted(pos_scores), abs=1e-5)
    sec = next(p for p in rows if p.label == "security")
    total, top = model.assess(sec.feats, 3)
    assert total == pytest.approx(sum(w * m.score(sec.feats) for w, m in model.members))
    assert top and all(c > 0 for _, c in top) and len(top) <= 3
    nested = {**doc, "members": [doc, doc["members"][1]]}
    with pytest.raises(ValueError, match="cannot be an ensemble"):
        parse_model(nested)
    with pytest.raises(ValueError, match="finite weight"):
        parse_model({**doc, "member_weights": [0.5, 0.0]})
