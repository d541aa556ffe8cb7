"""LLM review benchmark against the local fake server (tests/router/fakellm.py): no network, no key.

Three measurements (see docs/llm.md for the figures and how to read them):

1. ``nearmiss``: invalid-output rate on near-miss replies built SYSTEMATICALLY from the review
   schema (enum near-misses per enum field, each optional field missing, extra keys, wrong types,
   prose and code-fence wrapping), per kind. "before" = the previous parser (fence unwrap +
   validation, unknown keys ignored, no repair); "after" = the replies sent through the official
   OpenAI SDK to the fake server (a prompt-only on-prem model, the path where they can still
   occur) and govbot's parse with the bounded repair step.
2. ``pushes``: input tokens and cost of a 5-push pull request with and without incremental
   review. The pushes are the first 5 commits of real merged pull requests of a public repository
   mirrored under /work/.mirror (default: Kozea/Radicale); push k = the PR diff base..commit k.
3. ``verifier``: the verifier's share of the LLM cost on the security diffs of the routing
   benchmark (benchmarks/data/routing/, labelled ``security``: a REGRESSION set written alongside
   the router, not a result). The fake reports input tokens = prompt characters / 4.

    nice -n 10 .venv/bin/python benchmarks/llm_bench.py            # all three
    nice -n 10 .venv/bin/python benchmarks/llm_bench.py nearmiss
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "router"))

from fakellm import FakeLLM, Reply, request_texts, review_json  # noqa: E402
from test_review import SECURITY as DIFF  # noqa: E402  (the routed-review tests' security diff)

from govbot.core.diff import changeset_from_diff  # noqa: E402
from govbot.core.models import Authorship, ChangeSet, Commit, PullRequestMeta  # noqa: E402
from govbot.policy.llm_config import Endpoint, LLMConfig, Tiers  # noqa: E402
from govbot.prompts.schema import LLMFindingOut, LLMReviewOut  # noqa: E402
from govbot.router.classify import default_rules  # noqa: E402
from govbot.router.incremental import Compare, ReviewedState, plan_incremental, scope_patches  # noqa: E402
from govbot.router.review import LLMEnvironment, ReviewOutcome, ReviewRequest, Seams, review  # noqa: E402

RESERVED = ("pallets", "urllib3", "psf+requests", "pyyaml", "paramiko", "aiohttp", "tornado", "starlette",
            "httpx", "python-multipart", "pillow", "lxml", "jupyter_server", "gradio", "simonw+llm",
            "pydantic-settings", "securityeval", "sallm", "purplellama", "sven")
FAST = Seams(sleep=lambda s: None)
RULES = default_rules()
PATH = "src/auth/login.py"


# --- 1. near-miss replies ------------------------------------------------------------------------


def _valid() -> dict[str, Any]:
    return {"summary": "one problem", "security_concern": True, "confidence": 0.8, "findings": [
        {"category": "command_execution", "severity": "high", "path": PATH, "line": 12, "end_line": None,
         "title": "Shell injection", "explanation": "user data reaches a shell", "cwe": ["CWE-78"],
         "confidence": "high"}]}


def near_misses() -> Iterator[tuple[str, str, str]]:
    """(kind, variant, reply text), derived from the schema's fields."""
    enum_fields = [(LLMFindingOut, name) for name, f in LLMFindingOut.model_fields.items()
                   if _literal(f.annotation)]
    for _, name in enum_fields:
        good = _valid()["findings"][0][name]
        for label, bad in (("Title Case", good.replace("_", " ").title()), ("UPPER", good.upper()),
                           ("hyphenated", good.replace("_", "-")), ("unknown", f"{good}ish")):
            data = _valid()
            data["findings"][0][name] = bad
            yield "enum near-miss", f"{name}: {label}", json.dumps(data)
    for model, where in ((LLMReviewOut, "review"), (LLMFindingOut, "finding")):
        for name, f in model.model_fields.items():
            if f.is_required():
                continue
            data = _valid()
            (data if where == "review" else data["findings"][0]).pop(name)
            yield "missing optional field", f"{where}.{name}", json.dumps(data)
    for where in ("review", "finding"):
        for key, value in (("labels", ["lgtm"]), ("decision", "approve"), ("fix", "use a list")):
            data = _valid()
            (data if where == "review" else data["findings"][0])[key] = value
            yield "extra key", f"{where}.{key}", json.dumps(data)
    for variant, mutate in (
        ("confidence as text", lambda d: d.__setitem__("confidence", "0.8")),
        ("confidence as percent", lambda d: d.__setitem__("confidence", "80%")),
        ("line as text", lambda d: d["findings"][0].__setitem__("line", "12")),
        ("cwe as a string", lambda d: d["findings"][0].__setitem__("cwe", "CWE-78")),
        ("security_concern as text", lambda d: d.__setitem__("security_concern", "true")),
        ("findings as one object", lambda d: d.__setitem__("findings", d["findings"][0])),
    ):
        data = _valid()
        mutate(data)
        yield "wrong type", variant, json.dumps(data)
    body = json.dumps(_valid(), indent=1)
    for variant, text in (("```json fence", f"```json\n{body}\n```"), ("bare ``` fence", f"```\n{body}\n```"),
                          ("prose before", f"Here is my review:\n{body}"),
                          ("prose after", f"{body}\nLet me know if you need more."),
                          ("prose and fence", f"Sure! Here it is:\n```json\n{body}\n```\nHope this helps.")):
        yield "wrapped", variant, text


def _literal(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is Literal or any(
        getattr(a, "__origin__", None) is Literal for a in get_args(annotation))


class _OldFinding(LLMFindingOut):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _OldReview(LLMReviewOut):
    model_config = ConfigDict(frozen=True, extra="ignore")
    findings: list[_OldFinding] = Field(default_factory=list, max_length=50)  # type: ignore[assignment]


def old_parse_ok(text: str) -> bool:
    """The parser before issue 14: unwrap one ```json fence around the whole reply, validate."""
    body = text.strip()
    if body.startswith("```"):
        first, _, rest = body.partition("\n")
        if first.strip() in ("```", "```json") and rest.rstrip().endswith("```"):
            body = rest.rstrip()[:-3]
    try:
        _OldReview.model_validate_json(body)
    except ValidationError:
        return False
    return True


def env_for(fake: FakeLLM) -> LLMEnvironment:
    return LLMEnvironment(openai_api_key="bench", openai_base_url=fake.url + "/v1",
                          anthropic_api_key="bench", anthropic_base_url=fake.url)


def change_of(diff: str, commits: tuple[tuple[str, str], ...] = (), title: str = "change", body: str = "") -> ChangeSet:
    cs = changeset_from_diff(diff)
    return cs.model_copy(update={"pr": PullRequestMeta(number=1, title=title, body=body),
                                 "commits": tuple(Commit(sha=sha, message=m) for sha, m in commits)})


def run_review(cs: ChangeSet, cfg: LLMConfig, fake: FakeLLM, scope: dict[str, str] | None = None,
               since: str | None = None) -> ReviewOutcome:
    patches = {f.path: f.patch or "" for f in cs.files}
    return review(ReviewRequest(cs, (), Authorship(), patches, scope, since=since), cfg, env_for(fake), FAST)


def bench_nearmiss(fake: FakeLLM) -> dict[str, Any]:
    local = Endpoint(kind="openai_compatible", base_url=fake.url + "/v1", on_prem=True, json_mode="none")
    cfg = LLMConfig(endpoints={"local": local}, tiers=Tiers(mini=["local/m"], standard=["local/m"], pro=["local/m"]),
                    escalate_from=(), max_retries=0)
    cs = change_of(DIFF)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # n, before invalid, after invalid, repaired
    rows = []
    for kind, variant, text in near_misses():
        fake.script("m", Reply(text=text))
        out = run_review(cs, cfg, fake)
        call = out.llm.calls[0]
        before_bad = not old_parse_ok(text)
        after_bad = call.status == "invalid_output"
        counts = per[kind]
        counts[0] += 1
        counts[1] += before_bad
        counts[2] += after_bad
        counts[3] += bool(call.repairs)
        rows.append({"kind": kind, "variant": variant, "before_invalid": before_bad, "after_invalid": after_bad,
                     "repairs": list(call.repairs)})
    total = [sum(c[i] for c in per.values()) for i in range(4)]
    return {"per_kind": {k: {"replies": c[0], "invalid_before": c[1], "invalid_after": c[2], "repaired": c[3]}
                         for k, c in per.items()},
            "total": {"replies": total[0], "invalid_before": total[1], "invalid_after": total[2],
                      "repaired": total[3]},
            "rows": rows}


# --- 2. five pushes -------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo}", *args], check=True, capture_output=True,
                          text=True, errors="replace").stdout


def read_manifest(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _parts(fake: FakeLLM) -> dict[str, int]:
    """Where the prompt tokens of the recorded requests went (characters / 4, like the fake bills)."""
    out = {"system": 0, "schema_native": 0, "pr_text": 0, "diff": 0}
    for r in fake.requests:
        system, user, native = request_texts(r.json)
        diff_at = user.find("## Diff (untrusted)")
        out["system"] += len(system) // 4
        out["schema_native"] += len(native) // 4
        out["pr_text"] += (diff_at if diff_at >= 0 else len(user)) // 4
        out["diff"] += (len(user) - diff_at) // 4 if diff_at >= 0 else 0
    return out


def bench_pushes(fake: FakeLLM, mirrors: Path, rows: list[dict[str, str]]) -> dict[str, Any]:
    cfg = LLMConfig(chunk_tokens=12_000)
    fake.usage_from_prompt = True
    results = []
    for row in rows:
        name = row["repo"]
        if any(r in name.lower().replace("/", "+") for r in RESERVED):
            raise SystemExit(f"{name} is reserved for independent evaluation")
        repo = mirrors / name.replace("/", "+") / "repo"
        base, commits = row["base"], row["commits"].split()
        messages = [git(repo, "log", "-1", "--format=%B", c).strip() for c in commits]
        # the merge commit's message stands in for the PR's title and description
        title, _, body = git(repo, "log", "-1", "--format=%B", row["merge"]).strip().partition("\n")
        full_tokens: list[int] = []
        inc_tokens: list[int] = []
        full_cost: list[float] = []
        inc_cost: list[float] = []
        inc_parts: dict[str, int] = defaultdict(int)
        previous: ReviewedState | None = None
        last = None
        for k, head in enumerate(commits):
            cs = change_of(git(repo, "diff", "--no-color", "--no-ext-diff", base, head),
                           tuple(zip(commits[: k + 1], messages[: k + 1], strict=True)), title, body.strip())
            fake.requests.clear()
            out = run_review(cs, cfg, fake)
            full_tokens.append(fake.prompt_tokens())
            full_cost.append(out.llm.cost_usd)
            patches = {f.path: f.patch or "" for f in cs.files}
            compare = None
            if last is not None:
                raw = git(repo, "diff", "--no-color", "--no-ext-diff", last, head)
                rng = changeset_from_diff(raw)
                compare = Compare(base=base, head=head, ancestor=True,
                                  patches={f.path: f.patch for f in rng.files},
                                  removed=frozenset(f.path for f in rng.files if f.status.value == "removed"))
            plan = plan_incremental(previous, compare, rules=RULES)
            fake.requests.clear()
            out = run_review(cs, cfg, fake, scope_patches(patches, plan), since=plan.since)
            inc_tokens.append(fake.prompt_tokens())
            inc_cost.append(out.llm.cost_usd)
            if k:
                for part, n in _parts(fake).items():
                    inc_parts[part] += n
            previous, last = ReviewedState(head=head, base=base), head
        later_full, later_inc = sum(full_tokens[1:]), sum(inc_tokens[1:])
        results.append({
            "repo": name, "merge": row["merge"][:10], "base": base[:10], "pushes": [c[:10] for c in commits],
            "commit_lines": [int(n) for n in row["commit_lines"].split()],
            "input_tokens_full": full_tokens, "input_tokens_incremental": inc_tokens,
            "incremental_2_5_parts": dict(inc_parts),
            "cost_full_usd": round(sum(full_cost), 4), "cost_incremental_usd": round(sum(inc_cost), 4),
            "pushes_2_5_saving": round(1 - later_inc / later_full, 3) if later_full else None,
        })
    fake.usage_from_prompt = False
    full = sum(sum(r["input_tokens_full"][1:]) for r in results)
    inc = sum(sum(r["input_tokens_incremental"][1:]) for r in results)
    savings = sorted(r["pushes_2_5_saving"] for r in results if r["pushes_2_5_saving"] is not None)
    return {"prs": results, "overall": {
        "sequences": len(results), "pushes_2_5_full": full, "pushes_2_5_incremental": inc,
        "pushes_2_5_saving": round(1 - inc / full, 3) if full else None,
        "median_saving": savings[len(savings) // 2] if savings else None,
        "sequences_at_60": sum(s >= 0.6 for s in savings)}}


# --- 3. verifier cost share -------------------------------------------------------------------------


def bench_verifier(fake: FakeLLM) -> dict[str, Any]:
    data = ROOT / "benchmarks" / "data" / "routing"
    labels = {}
    for line in (data / "labels.yml").read_text("utf-8").splitlines():
        if ":" in line and not line.startswith("#"):
            name, label = line.split(":", 1)
            labels[name.strip()] = label.strip()
    cfg = LLMConfig(verifier={"enabled": True})  # type: ignore[arg-type]
    fake.usage_from_prompt = True
    review_cost = verify_cost = 0.0
    cases = 0
    for name, label in sorted(labels.items()):
        if label != "security":
            continue
        cs = change_of((data / name).read_text("utf-8"))
        target = next(((f.path, min(f.added_lines)) for f in cs.files if f.added_lines), None)
        if target is None:
            continue
        finding = {"category": "injection", "severity": "high", "path": target[0], "line": target[1],
                   "title": "possible injection", "explanation": "user data reaches a sink", "cwe": ["CWE-74"],
                   "confidence": "medium"}
        fake.default = Reply(text=review_json([finding], concern=True))
        for model in ("claude-sonnet-4-6", "gpt-4.1"):
            verdict = {"id": "F1", "score": 0.8, "reason": "plausible"}
            fake.script(model, Reply(text=json.dumps({"verdicts": [verdict]})))
        out = run_review(cs, cfg, fake)
        cases += 1
        review_cost += sum(c.cost_usd for c in out.llm.calls if c.purpose == "review")
        verify_cost += sum(c.cost_usd for c in out.llm.calls if c.purpose == "verify")
    fake.usage_from_prompt = False
    fake.default = Reply(text=review_json())
    total = review_cost + verify_cost
    return {"set": "benchmarks/data/routing (security label; regression set)", "cases": cases,
            "review_cost_usd": round(review_cost, 4), "verifier_cost_usd": round(verify_cost, 4),
            "verifier_share": round(verify_cost / total, 3) if total else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # no ``choices``: Python 3.11's argparse checks an empty ``*`` list against them and fails
    parser.add_argument("what", nargs="*", help="nearmiss, pushes and/or verifier (default: all three)")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--manifest", type=Path, default=ROOT / "benchmarks" / "llm_data" / "pushes.csv",
                        help="5-push sequences (benchmarks/llm_data/build_pushes.py rebuilds it)")
    parser.add_argument("--json", type=Path, help="write the full results here")
    args = parser.parse_args(argv)
    what = args.what or ["nearmiss", "pushes", "verifier"]
    if unknown := set(what) - {"nearmiss", "pushes", "verifier"}:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    fake = FakeLLM()
    fake.start()
    results: dict[str, Any] = {}
    try:
        if "nearmiss" in what:
            results["nearmiss"] = bench_nearmiss(fake)
            print("near-miss replies: invalid before / after (repaired)")
            for kind, c in results["nearmiss"]["per_kind"].items():
                print(f"  {kind:24} {c['invalid_before']:>3}/{c['replies']:<3} -> "
                      f"{c['invalid_after']:>3}/{c['replies']:<3} ({c['repaired']} repaired)")
            t = results["nearmiss"]["total"]
            print(f"  {'total':24} {t['invalid_before']:>3}/{t['replies']:<3} -> "
                  f"{t['invalid_after']:>3}/{t['replies']:<3}")
        if "pushes" in what:
            results["pushes"] = bench_pushes(fake, args.mirrors, read_manifest(args.manifest))
            for pr in results["pushes"]["prs"]:
                print(f"5-push {pr['repo']} {pr['merge']} (lines/commit {pr['commit_lines']}): input tokens full "
                      f"{pr['input_tokens_full']} vs incremental {pr['input_tokens_incremental']}; pushes 2-5 "
                      f"saving {pr['pushes_2_5_saving']:.0%}; cost ${pr['cost_full_usd']} vs "
                      f"${pr['cost_incremental_usd']}; incremental 2-5 parts {pr['incremental_2_5_parts']}")
            o = results["pushes"]["overall"]
            print(f"overall pushes 2-5 over {o['sequences']} sequences: {o['pushes_2_5_full']} -> "
                  f"{o['pushes_2_5_incremental']} tokens, saving {o['pushes_2_5_saving']:.0%}; median "
                  f"{o['median_saving']:.0%}; {o['sequences_at_60']} of {o['sequences']} at >= 60%")
        if "verifier" in what:
            results["verifier"] = v = bench_verifier(fake)
            print(f"verifier on {v['cases']} security diffs ({v['set']}): review ${v['review_cost_usd']}, "
                  f"verifier ${v['verifier_cost_usd']}, share {v['verifier_share']:.0%}")
    finally:
        fake.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
