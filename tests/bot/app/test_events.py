from __future__ import annotations

import json

from govbot.bot.app.events import classify, iso_seconds, signature_ok
from tests.bot.app.fakeapp import comment_event, pr_event


def test_github_documented_signature_vector() -> None:
    # docs.github.com "Validating webhook deliveries": secret, payload and expected signature.
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_ok(secret, body, expected)
    assert not signature_ok(secret, body + b" ", expected)
    assert not signature_ok("other", body, expected)
    assert not signature_ok(secret, body, None)
    assert not signature_ok(secret, body, expected.replace("sha256=", "sha1="))


def test_pull_request_actions_make_runs_others_are_ignored() -> None:
    run = classify("g1", "pull_request", json.loads(pr_event(1, "o/r", 7, "a" * 40)), "govbot[bot]")
    assert (run.disposition, run.pr, run.head_sha, run.installation_id) == ("run", 7, "a" * 40, 1)
    closed = classify("g2", "pull_request", json.loads(pr_event(1, "o/r", 7, "a" * 40, "closed")), "govbot[bot]")
    assert closed.disposition == "ignored"


def test_govbots_own_events_are_ignored() -> None:
    own = classify("g3", "issue_comment", json.loads(comment_event(1, "o/r", 7, "/govbot deep", "govbot[bot]")),
                   "govbot[bot]")
    assert own.disposition == "ignored" and "itself" in own.reason
    check = {"action": "completed", "installation": {"id": 1}, "repository": {"full_name": "o/r"},
             "check_run": {"head_sha": "a" * 40}, "sender": {"login": "govbot[bot]"}}
    assert classify("g4", "check_run", check, "govbot[bot]").disposition == "ignored"


def test_commands_from_people_are_commands() -> None:
    deep = classify("g5", "issue_comment", json.loads(comment_event(1, "o/r", 7, "/govbot deep", "alice")),
                    "govbot[bot]")
    assert (deep.disposition, deep.kind) == ("command", "deep")
    chat = classify("g6", "issue_comment", json.loads(comment_event(1, "o/r", 7, "nice work", "alice")),
                    "govbot[bot]")
    assert chat.disposition == "ignored"



def test_pushes_carry_their_push_time_and_other_events_are_ignored() -> None:
    late = classify("g7", "pull_request", json.loads(pr_event(1, "o/r", 7, "a" * 40, updated_at="2026-12-01T10:00:00Z")),
                    "govbot[bot]")
    assert (late.disposition, late.pushed_at) == ("run", 1796119200.0)
    assert classify("g8", "pull_request", json.loads(pr_event(1, "o/r", 7, "a" * 40)), "govbot[bot]").pushed_at == 0.0
    assert iso_seconds("not a time") == 0.0 and iso_seconds(None) == 0.0
    assert classify("x", "ping", {"zen": "hi"}, "govbot[bot]").disposition == "ignored"
