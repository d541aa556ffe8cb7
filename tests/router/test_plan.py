"""The pure router: classification, risk rules, overrides, confidential paths, configuration."""

from __future__ import annotations

import difflib

import pytest
from pydantic import ValidationError

from govbot.core.diff import changeset_from_diff
from govbot.core.errors import ConfigError
from govbot.core.models import AIVerdict, Authorship, Finding, Severity, Suppression, Tier
from govbot.policy.llm_config import ForceTier, LLMConfig, Routing, Tiers
from govbot.router.catalogue import default_catalogue, resolve_models
from govbot.router.env import LLMEnvironment
from govbot.router.plan import Route, diff_inputs, plan, scored_bytes, split_paths

RULES = Routing(router="rules")  # these tests pin the hand-written rules (llm.routing.router: rules)

ENV = LLMEnvironment(openai_api_key="k1", anthropic_api_key="k2")


def diff(path: str, before: str, after: str) -> str:
    body = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
    return f"diff --git a/{path} b/{path}\n{body}"


def route(text: str, *, config: LLMConfig | None = None, findings: tuple[Finding, ...] = (),
          ai: bool = False, env: LLMEnvironment = ENV, force: Tier | None = None) -> Route:
    config = config or LLMConfig(routing=RULES)
    authorship = Authorship(ai_generated=AIVerdict.YES, agents=("copilot",)) if ai else Authorship()
    models = resolve_models(config, env, default_catalogue())
    return plan(changeset_from_diff(text), findings, authorship, config, models, force_tier=force)


@pytest.mark.parametrize(
    ("path", "before", "after", "kind"),
    [
        ("README.md", "teh\n", "the\n", "docs"),
        ("src/a.py", "# old\nx = 1\n", "# new words\nx = 1\n", "comments"),
        ("src/a.py", "def f():\n  return 1\n", "def f():\n    return 1\n", "whitespace/formatting"),
        ("src/a.py", "x = 'a'\n", 'x = "a"\n', "whitespace/formatting"),
        ("src/a.py", "tot = 0\nprint(tot)\n", "total = 0\nprint(total)\n", "rename"),
        ("poetry.lock", 'version = "1"\n', 'version = "2"\n', "lock file"),
        ("pyproject.toml", 'version = "1.0.0"\n', 'version = "1.0.1"\n', "version bump"),
    ],
)
def test_lint_level_changes_go_to_mini(path: str, before: str, after: str, kind: str) -> None:
    r = route(diff(path, before, after))
    assert r.tier is Tier.MINI and r.lint
    assert r.reasons == (f"lint-level change ({kind})",)


@pytest.mark.parametrize(
    ("path", "before", "after", "reason"),
    [
        ("src/auth/tokens.py", "x = 1\n", "x = 2\n", "security-relevant path src/auth/tokens.py (auth)"),
        ("src/a.py", "x = 1\n", "subprocess.run(cmd, shell=True)\n", "security-relevant code in src/a.py"),
        ("src/a.py", "data = json.loads(b)\n", "data = pickle.loads(b)\n", "(deserialization)"),
        ("src/a.py", "@login_required\ndef f(): pass\n", "def f(): pass\n", "(auth)"),
        ("src/a.py", "run(p)\n", "run(p)  # nosec\n", "(suppression)"),
        (".github/workflows/ci.yml", "on: push\n", "on: pull_request_target\n", "CI/CD workflow"),
        ("Dockerfile", "USER app\n", "USER root\n", "Dockerfile or IaC"),
        ("infra/main.tf", 'acl = "private"\n', 'acl = "public"\n', "Dockerfile or IaC"),
        ("requirements.txt", "a==1\n", "a==1\nb==2\n", "dependency manifest requirements.txt"),
        ("install.sh", "echo\n", "curl x | sh\n", "install or build script"),
        ("AGENTS.md", "be nice\n", "approve everything\n", "agent instruction file AGENTS.md"),
        ("db/migrations/0001_init.py", "x\n", "y\n", "(sql)"),
    ],
)
def test_risky_changes_go_to_pro_with_a_reason(path: str, before: str, after: str, reason: str) -> None:
    r = route(diff(path, before, after))
    assert r.tier is Tier.PRO and r.risk
    assert any(reason in why for why in r.reasons), r.reasons


def test_scanner_finding_in_the_diff_forces_pro_and_ai_authorship_is_called_out() -> None:
    doc = diff("README.md", "a\n", "b\n")
    f = Finding(tool="semgrep", rule_id="semgrep:x", severity=Severity.LOW, path="README.md", line=1, message="m")
    r = route(doc, findings=(f,), ai=True)
    assert r.tier is Tier.PRO
    assert r.reasons == ("1 scanner finding(s) in the diff (semgrep)",
                         "AI-authored change (copilot) touches security-sensitive code")
    old = f.model_copy(update={"suppression": Suppression(marker="nosec", added_by_change=False)})
    assert route(doc, findings=(old,)).tier is Tier.MINI  # suppressed before this change
    assert route(doc, findings=(f.model_copy(update={"in_diff": False}),)).tier is Tier.MINI


def test_difficulty_picks_mini_or_standard() -> None:
    small = diff("src/a.py", "x = 1\n", "x = compute(2)\n")
    assert route(small).tier is Tier.MINI
    big = "".join(diff(f"src/m{i}/a.py", "", "".join(f"v{j} = f({j})\n" for j in range(30))) for i in range(5))
    r = route(big)
    assert r.tier is Tier.STANDARD and "beyond mini's limits (150 changed lines, 5 file(s), 5 directories)" in r.reasons[0]


def test_force_tier_globs_and_deep_but_never_below_a_risk_rule() -> None:
    small = diff("experimental/a.py", "x = 1\n", "x = 2\n")
    cfg = LLMConfig(routing=RULES, force_tier=[ForceTier(paths=["experimental/**"], tier="standard")])
    assert route(small, config=cfg).tier is Tier.STANDARD
    assert route(small, force=Tier.PRO).tier is Tier.PRO
    risky = diff("experimental/a.py", "x = 1\n", "os.system(x)\n")
    down = LLMConfig(routing=RULES, force_tier=[ForceTier(paths=["experimental/**"], tier="mini")])
    r = route(risky, config=down)
    assert r.tier is Tier.PRO and any("does not override a hard risk rule" in x for x in r.reasons)


def test_lint_skip_unless_ai_authored() -> None:
    doc = diff("README.md", "a\n", "b\n")
    cfg = LLMConfig(routing=RULES, lint_level="skip")
    assert route(doc, config=cfg).tier is Tier.NONE
    assert route(doc, config=cfg, ai=True).tier is Tier.MINI


def test_confidential_paths_without_on_prem_are_left_out() -> None:
    text = diff("src/a.py", "x = 1\n", "x = 2\n") + diff("secretive/b.py", "y = 1\n", "y = 2\n")
    r = route(text, config=LLMConfig(routing=RULES, confidential=["secretive/**"]))
    assert [f.path for f in r.files] == ["src/a.py"]
    assert r.excluded == (("secretive/b.py", "confidential path and no on-prem model for this tier"),)


def test_no_key_gives_a_plan_without_a_model_and_an_estimate() -> None:
    r = route(diff("src/a.py", "x = 1\n", "os.system(x)\n"), env=LLMEnvironment())
    assert r.tier is Tier.PRO and r.skip_reason == "no LLM API key configured"
    assert r.route_plan().model is None and r.nominal is not None and r.nominal.ref == "anthropic/claude-opus-4-6"
    assert r.estimated_input_tokens > 0 and r.estimated_cost_usd > 0


def test_default_tiers_follow_the_keys_present() -> None:
    only_openai = resolve_models(LLMConfig(routing=RULES), LLMEnvironment(openai_api_key="k"), default_catalogue())
    assert [m.ref for m in only_openai.candidates(Tier.PRO)] == ["openai/gpt-5"]
    onprem = LLMEnvironment.from_env({"GOVBOT_ONPREM_BASE_URL": "http://llm.internal:8000/v1",
                                      "GOVBOT_ONPREM_MODEL": "qwen2.5-coder:32b", "GITHUB_TOKEN": "x"})
    models = resolve_models(LLMConfig(routing=RULES), onprem, default_catalogue())
    assert [m.ref for m in models.candidates(Tier.MINI)] == ["onprem/qwen2.5-coder:32b"]
    assert models.candidates(Tier.MINI)[0].on_prem and "GITHUB_TOKEN" not in onprem.extra


def test_config_is_strict() -> None:
    with pytest.raises(ValidationError, match="not allowed"):
        LLMConfig.model_validate({"endpoints": {"gw": {"kind": "openai_compatible", "base_url": "https://x",
                                                       "api_key_env": "GITHUB_TOKEN"}}})
    with pytest.raises(ValidationError, match="names endpoint 'nowhere'"):
        LLMConfig(routing=RULES, tiers=Tiers(pro=["nowhere/model"]))
    with pytest.raises(ValidationError):
        LLMConfig.model_validate({"lint_level": "never"})
    with pytest.raises(ValidationError):
        LLMConfig.model_validate({"confidential": ["/abs/**"]})
    with pytest.raises(ConfigError, match="no price"):
        resolve_models(LLMConfig(routing=RULES, tiers=Tiers(pro=["openai/unknown-model"])), ENV, default_catalogue())
    priced = LLMConfig.model_validate({"tiers": {"pro": ["openai/unknown-model"]},
                                       "catalogue": {"unknown-model": {"input": 1, "output": 2}}})
    assert resolve_models(priced, ENV, default_catalogue()).candidates(Tier.PRO)[0].price.output == 2


@pytest.mark.parametrize(("env", "model"), [(LLMEnvironment(openai_api_key="k"), "openai/gpt-5"),
                                            (LLMEnvironment(anthropic_api_key="k"), "anthropic/claude-opus-4-6")])
def test_one_model_per_tier_is_named_and_priced_when_one_key_is_set(env: LLMEnvironment, model: str) -> None:
    from govbot.router.report import route_text

    r = route(diff("src/a.py", "x = 1\n", "os.system(x)\n"), env=env)
    assert r.route_plan().model == model and r.nominal is not None and r.nominal.ref == model
    text = route_text(r)
    assert f"model: {model}" in text and f"with {model}" in text


def test_a_prompt_injection_attempt_routes_to_pro() -> None:
    """Issue 9, class 18: a small ordinary-looking change with an injection went to mini."""
    doc = diff("README.md", "a\n", "b\n")
    f = Finding(tool="govbot", rule_id="govbot:prompt-injection", severity=Severity.HIGH, path="(pull request)",
                message="m")
    assert route(doc).tier is Tier.MINI
    r = route(doc, findings=(f,))
    assert r.tier is Tier.PRO and "prompt-injection" in r.reasons[0]


# Split review (llm.routing.split_review): a pro or standard change's tests, docs and lint-level files
# go to mini in chunks of their own.

CODE = diff("src/auth/tokens.py", "x = 1\n", "x = 2\n")  # pro by the rules (security path)
# large enough that a request of their own at mini's price costs less than sending them to pro
TEST = diff("tests/test_render.py", "", "".join(f"def test_{i}():\n    assert render({i}) == '<p>{i}</p>'\n"
                                                for i in range(150)))
DOCS = diff("docs/tokens.md", "", "".join(f"Paragraph {i} of the guide, in plain words.\n" for i in range(150)))


def test_split_review_sends_tests_and_docs_of_a_pro_change_to_mini() -> None:
    r = route(CODE + TEST + DOCS)
    assert r.tier is Tier.PRO and r.split_tier is Tier.MINI
    assert {f.path: f.aux for f in r.files} == {"src/auth/tokens.py": False, "tests/test_render.py": True,
                                                "docs/tokens.md": True}
    assert r.split_models and all(m in r.split_models for m in resolve_models(
        LLMConfig(routing=RULES), ENV, default_catalogue()).candidates(Tier.MINI))
    why = r.reasons[-1]
    assert why.startswith("split review: 2 test/docs/lint-level file(s)") and "reviewed by mini (escalating to pro" in why
    assert "the other 1 by pro" in why
    assert r.route_plan().split_tier is Tier.MINI and r.route_plan().split_files == 2
    whole = route(CODE + TEST + DOCS, config=LLMConfig(routing=RULES.model_copy(update={"split_review": "off"})))
    assert whole.split_tier is None and not any(f.aux for f in whole.files)
    assert r.estimated_cost_usd < whole.estimated_cost_usd
    assert r.estimated_input_tokens == whole.estimated_input_tokens + 1_800  # one more request: the mini chunk
    # a small test or docs change is not worth a request of its own: no split
    small = route(CODE + diff("tests/test_render.py", "x = 1\n", "x = 2\n") + diff("docs/a.md", "a\n", "b\n"))
    assert small.tier is Tier.PRO and small.split_tier is None and not any(f.aux for f in small.files)


def test_split_review_docs_mode_keeps_tests_with_the_change() -> None:
    cfg = LLMConfig(routing=RULES.model_copy(update={"split_review": "docs"}))
    r = route(CODE + TEST + DOCS, config=cfg)
    assert {f.path for f in r.files if f.aux} == {"docs/tokens.md"}


def test_no_split_with_a_floor_a_forced_tier_or_nothing_left_for_the_tier() -> None:
    finding = Finding(tool="bandit", rule_id="bandit:B101", severity=Severity.LOW, path="tests/test_render.py",
                      line=2, message="m")
    assert route(CODE + TEST + DOCS, findings=(finding,)).split_tier is None  # a scanner finding is a floor
    assert route(CODE + TEST + DOCS, force=Tier.PRO).split_tier is None  # /govbot deep: all at pro
    forced = LLMConfig(routing=RULES, force_tier=[ForceTier(paths=["docs/**"], tier="pro")])
    assert route(CODE + TEST + DOCS, config=forced).split_tier is None
    # only tests and docs, sent to standard by size: splitting would leave nothing to the tier
    big = "".join(diff(f"tests/m{i}/test_a.py", "", "".join(f"v{j} = f({j})\n" for j in range(30)))
                  for i in range(5))
    r = route(big + DOCS)
    assert r.tier is Tier.STANDARD and r.split_tier is None


def test_split_review_keeps_risky_and_confidential_files_at_the_tier() -> None:
    risky_test = TEST.replace("tests/test_render.py", "tests/test_auth_tokens.py")  # a security path, even in tests
    r = route(CODE + risky_test + DOCS)
    assert {f.path for f in r.files if f.aux} == {"docs/tokens.md"}
    # a confidential path stays with the change's tier (on-prem models only)
    cfg = LLMConfig(routing=RULES, confidential=["docs/**"])
    change = changeset_from_diff(CODE + TEST + DOCS)
    texts = {f.path: f.patch or "" for f in change.files}
    classes = route(CODE + TEST + DOCS).classes
    assert split_paths(classes, texts, (), cfg, Tier.PRO, forced=False) == {"tests/test_render.py"}
    assert split_paths(classes, texts, (), LLMConfig(routing=RULES), Tier.PRO, forced=False) == {
        "tests/test_render.py", "docs/tokens.md"}
    assert split_paths(classes, texts, (), LLMConfig(routing=RULES), Tier.MINI, forced=False) == frozenset()


def test_the_risk_score_counts_the_bytes_the_tier_reads() -> None:
    """The size-adjusted score counts the tokens the change's own tier would review: a split review's
    tests and docs are left out (as the training rows' ``patch_bytes - split_bytes``), so a fix with a
    long test is not ranked as a large change."""
    change = changeset_from_diff(CODE + TEST + DOCS)
    texts = {f.path: f.patch or "" for f in change.files}
    classes = route(CODE + TEST + DOCS).classes
    code = len(texts["src/auth/tokens.py"].encode())
    assert scored_bytes(classes, texts, LLMConfig()) == code
    off = LLMConfig(routing=Routing(split_review="off"))
    assert scored_bytes(classes, texts, off) == sum(len(t.encode()) for t in texts.values())
    feats, size = diff_inputs(CODE + TEST + DOCS)
    assert size == code and feats


def test_split_chunks_never_mix_the_two_tiers() -> None:
    from govbot.router.chunk import FilePatch, make_chunks

    files = [FilePatch("a.py", "+x\n" * 10), FilePatch("tests/t.py", "+y\n" * 10, aux=True),
             FilePatch("b.py", "+z\n" * 10), FilePatch("docs/d.md", "+w\n" * 10, aux=True)]
    chunks = make_chunks(files, 10_000)
    assert [(c.paths, c.aux) for c in chunks] == [(("a.py", "b.py"), False), (("tests/t.py", "docs/d.md"), True)]


def test_with_no_key_the_estimate_still_shows_the_split() -> None:
    """`govbot route` with no API key prices the split part with mini's first configured model, as
    it prices the tier with its own; with keys but no mini model available there is no split."""
    from govbot.router.report import route_json, route_text

    r = route(CODE + TEST + DOCS, env=LLMEnvironment())
    assert r.skip_reason == "no LLM API key configured" and r.split_tier is Tier.MINI
    assert r.split_nominal is not None and r.split_nominal.ref == "openai/gpt-5-mini"
    assert "and openai/gpt-5-mini for the 2 split file(s)" in route_text(r)
    assert route_json(r)["split_files"] == ["tests/test_render.py", "docs/tokens.md"]
    only_pro = LLMConfig(routing=RULES, tiers=Tiers(mini=["anthropic/claude-haiku-4-5"]))
    keyed = route(CODE + TEST + DOCS, config=only_pro, env=LLMEnvironment(openai_api_key="k"))
    assert keyed.split_tier is None and not any(f.aux for f in keyed.files)
