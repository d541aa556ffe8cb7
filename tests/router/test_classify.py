"""The fast classifier gives the same answers as the plain per-pattern checks, and its scan
bound only ever adds scrutiny."""

from __future__ import annotations

import dataclasses
import difflib
import re
from importlib import resources

import pytest
from ruamel.yaml import YAML

from govbot.core.diff import changeset_from_diff
from govbot.core.errors import ConfigError
from govbot.core.globs import glob_match
from govbot.core.models import Authorship, Tier
from govbot.policy.llm_config import LLMConfig, Routing
from govbot.router.catalogue import default_catalogue, resolve_models
from govbot.router.classify import (
    CodeRule,
    RoutingRules,
    alternatives,
    default_rules,
    glob_literal,
    parse_rules,
    path_tokens,
)
from govbot.router.env import LLMEnvironment
from govbot.router.plan import Route, plan

RULES = Routing(router="rules")  # these tests pin the hand-written rules (llm.routing.router: rules)

DATA = YAML(typ="safe").load(resources.files("govbot.router").joinpath("data/routing.yml").read_text("utf-8"))
GLOBS = ("ci_cd", "docker_iac", "manifests", "install_scripts", "agent_instructions", "lock_files", "docs")
PATHS = [
    "Dockerfile", "a/b/Dockerfile.dev", "x.Dockerfile", "y.dockerfile", "infra/k8s/x.yaml", "k8s/x.yaml",
    "charts/a/templates/t.yaml", "charts/templates/t.yaml", ".github/workflows/a.yml", ".github/workflows",
    ".github/actions/x/action.yml", "action.yml", "src/Jenkinsfile", "values-prod.yaml", "values.yaml",
    "requirements-dev.txt", "requirements/base.txt", "requirements/sub/base.txt", "pkg/package.json",
    "x.gemspec", "a.csproj", "setup.py", "mysetup.py", "CLAUDE.md", "AGENTS.md", "docs/AGENTS.md",
    ".github/copilot-instructions.md", "docs/auth.md", "doc/x", "src/doc/x.py", "docs", "poetry.lock",
    "yarn.lock", "a/yarn.lock.bak", "Cargo.lock", "go.sum", "README.rst", "LICENSE-MIT", "LICENSE",
    "CHANGELOG", "src/x.sql", "web/x.vue", "src/a.tf", "src/a.tfvars", ".tf", "install.sh",
    "scripts/build.sh", "Makefile", "src/Makefile.am", "rules.mk", "src/a.txt", "src/main.py", "a//b/Dockerfile",
    "./x.py", "src/.hidden/a.py", "src/../x.py", "src/x.min.js", ".pre-commit-config.yaml", "CODEOWNERS",
    "docs/CODEOWNERS", "nginx.conf", "conf/nginx.conf.bak", "terraform/main.tf", "ansible/site.yml",
    "compose.yaml", "docker-compose.override.yml", "Pulumi.dev.yaml", "bootstrap.sh", "get-deps.sh",
    "src/installer/main.go", "README.md.orig", "src/auth/Dockerfile", "helm/values.yaml", "a/helm",
]
TOKENS = sorted({t for p in PATHS for t in path_tokens(p)} | {
    "auth", "authz", "authentication", "oauth2", "sessions", "cookie", "tokens", "passwds", "passwords",
    "crypto", "encryption", "decrypted", "ciphers", "tls", "certs", "rbac", "policies", "admin", "sql",
    "sqlite", "migrations", "serializer", "unmarshaller", "subprocess", "exec", "templates", "jinja2",
    "sanitize", "escaping", "uploads", "uploaded", "extractor", "storage", "mod17", "pkg3", "x", "",
})
LINES = [
    "subprocess.run(cmd, shell=True)", "xsubprocess.run()", "os.system(cmd)", "ios.system(x)", "eval(s)",
    "safe_eval(s)", "evaluate(s)", "pickle.loads(b)", "cPickle", "mycPickle", "yaml.load(t)", "yaml.safe_load(t)",
    "SELECT a FROM t", "XSELECT a FROM t", "select a from t", "db.execute(q)", "DROP TABLE x", "DROP  DATABASE",
    "hashlib.md5(x)", "md5sum", "random.choice(xs)", "verify=False", "@login_required", "is_admin", "is_admins",
    "api_key = 'x'", "API-KEY", "open(request.args['f'])", "open(path)", "requests.get(url)",
    "requests.put(u, params)", "# nosec", "x  # NOSEC", "eslint-disable-line", "value_1 = compute(1, 'row')",
    "eval", "(x)", "SELECT", "a", "FROM t", "GRANT ", "GRANTS", "", "  ", "Template(", "Markup (x)",
]


def _old_category(name: str, pattern: str, text: str) -> bool:
    rx = re.compile(pattern)
    words = CodeRule.of(name, pattern).triggers
    return any(w in text.lower() for w in words) and rx.search(text) is not None


@pytest.mark.parametrize("key", GLOBS)
def test_glob_sets_agree_with_glob_match(key: str) -> None:
    rules = default_rules()
    globs = getattr(rules, key)
    for path in PATHS:
        assert globs.match(path) == glob_match(path, DATA[key]), (key, path)
    assert rules.glob_literals is not None
    for path in PATHS:
        if not rules.glob_literals.search(path):
            assert not glob_match(path, DATA[key]), (key, path)


def test_glob_literal_is_a_piece_every_match_contains() -> None:
    assert glob_literal("**/k8s/**") == "k8s"
    assert glob_literal("requirements*.txt") == "requirements"
    assert glob_literal("*.{yml,yaml}") == ""  # braces, classes and escapes get no prefilter
    assert glob_literal("[Dd]ockerfile") == ""
    assert glob_literal("**") == ""


def test_path_token_categories_agree_with_one_regex_per_category() -> None:
    rules = default_rules()
    singles = [(n, re.compile(rf"^{p}$", re.IGNORECASE)) for n, p in DATA["security_path_tokens"].items()]
    memo: dict[str, int] = {}
    for token in TOKENS:
        expected = next((n for n, rx in singles if rx.match(token)), None)
        assert rules.path_tokens.first([token]) == expected, token
        assert rules.path_tokens.first([token], memo) == expected, token
    for path in PATHS:
        tokens = set(path_tokens(path))
        expected = next((n for n, rx in singles if any(rx.match(t) for t in tokens)), None)
        assert rules.path_tokens.first(tokens) == expected, path


def test_alternatives_split_only_where_meaning_is_kept() -> None:
    assert alternatives(r"\ba\.|b\s*\(|\b(C\s+D|E)") == (r"\ba\.", r"b\s*\(", r"\bC\s+D", r"\bE")
    assert alternatives(r"x[|]y|(a|b)z") == ("x[|]y", "(a|b)z")
    assert alternatives(r"[]|]|q") == ("[]|]", "q")
    assert alternatives(r"(?i)(a|b)") is None  # a global flag applies to every alternative
    assert alternatives(r"(a)|(b)\2") is None  # backreferences are numbered across alternatives
    assert alternatives(r"\b(a|b)c") is None  # nothing to split


@pytest.mark.parametrize("name", list(DATA["security_code"]))
def test_code_rules_agree_with_trigger_words_and_one_search(name: str) -> None:
    pattern = str(DATA["security_code"][name])
    rule = CodeRule.of(name, pattern)
    texts = [*LINES, "\n".join(LINES), "\n".join(reversed(LINES)), "y = eval\n(z)", "q = 'SELECT\na\nFROM t'"]
    texts += [a + "\n" + b for a in LINES for b in LINES[:12]]
    for text in texts:
        assert rule.fires(text, text.lower()) == _old_category(name, pattern, text), (name, text)


def test_scan_limit_must_not_be_negative() -> None:
    with pytest.raises(ConfigError, match="scan_limit_chars"):
        parse_rules({**DATA, "scan_limit_chars": -1})
    assert parse_rules({**DATA, "scan_limit_chars": 10}).scan_limit_chars == 10


def _diff(path: str, before: str, after: str) -> str:
    body = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
    return f"diff --git a/{path} b/{path}\n{body}"


def _route(text: str, rules: RoutingRules) -> Route:
    config = LLMConfig(routing=RULES)
    models = resolve_models(config, LLMEnvironment(openai_api_key="k1", anthropic_api_key="k2"), default_catalogue())
    return plan(changeset_from_diff(text), (), Authorship(), config, models, rules=rules)


def _ordinary(n: int) -> str:
    return "".join(_diff(f"src/m{i}/a.py", "", "".join(f"v{j} = f({j})\n" for j in range(30))) for i in range(n))


def test_files_beyond_the_scan_bound_are_never_routed_lower() -> None:
    text = _ordinary(5)
    exact = _route(text, default_rules())
    assert exact.tier is Tier.STANDARD and not any(c.unexamined for c in exact.classes)
    bounded = _route(text, dataclasses.replace(default_rules(), scan_limit_chars=len(text) // 3))
    assert bounded.tier is Tier.PRO and bounded.risk
    unread = [c for c in bounded.classes if c.unexamined]
    assert unread and all(c.is_risk for c in unread)
    assert bounded.reasons == (
        f"{len(unread)} file(s) beyond the router's scan bound ({len(text) // 3} diff characters per PR): "
        "content not examined, treated as security-sensitive",
    )
    assert _route(text, dataclasses.replace(default_rules(), scan_limit_chars=len(text))).reasons == exact.reasons


def test_path_rules_still_apply_beyond_the_bound_and_docs_stay_lint() -> None:
    zero = dataclasses.replace(default_rules(), scan_limit_chars=0)
    risky = _route(_diff(".github/workflows/ci.yml", "on: push\n", "on: pull_request_target\n"), zero)
    assert risky.tier is Tier.PRO and "CI/CD workflow .github/workflows/ci.yml" in risky.reasons
    docs = _route(_diff("README.md", "a\n", "b\n"), zero)
    assert docs.tier is Tier.MINI and docs.reasons == ("lint-level change (docs)",)
    assert docs.classes[0].unexamined and docs.classes[0].changed >= 2  # the diff's lines: never fewer
    big_docs = _diff("docs/big.md", "", "".join(f"line {i}\n" for i in range(100)))
    mixed = _route(big_docs + _diff("src/a.py", "x = 1\n", "x = 2\n"), dataclasses.replace(zero, scan_limit_chars=200))
    assert mixed.tier is Tier.STANDARD
    assert mixed.reasons[0].startswith("ordinary change beyond mini's limits (at most ")
