"""Fuzz the path/comment renderers (issue 9, class 16): whatever a file name, rule id or message
says, the sticky comment keeps exactly one of each of govbot's hidden markers, in govbot's own
places, and approving (replacing the review block) never cuts the findings, tools or footer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govbot.bot.github.enforcement import ReviewVerdict
from govbot.bot.github.publish import (
    REVIEW_BEGIN,
    REVIEW_END,
    STICKY_MARKER,
    comment_body,
    replace_review_block,
    review_block,
)
from govbot.bot.github.state import RunState
from govbot.bot.render.markdown import comment_markdown
from govbot.core.models import SkippedFile
from tests.bot.render.reports import finding, make_report
from tests.lanes import cases

MARKERS = [STICKY_MARKER, REVIEW_BEGIN, REVIEW_END, "<!-- govbot:state e30= -->", "<!--", "-->", "`", "|", "\n"]
_hostile = st.lists(st.one_of(st.sampled_from(MARKERS), st.text(max_size=12)), max_size=6).map("".join)


@settings(max_examples=cases(full=300, fast=40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=_hostile, message=_hostile, rule=_hostile, reason=_hostile)
def test_no_rendered_string_can_forge_or_cut_a_marker(path: str, message: str, rule: str, reason: str) -> None:
    f = finding(path=path or "x", message=message or "m", rule_id=f"semgrep:{rule}")
    report = make_report(findings=(f,))
    report = report.model_copy(update={"change": report.change.model_copy(update={
        "files_skipped": (SkippedFile(path=path or "x", reason=reason or "r"),)})})
    pending = review_block(ReviewVerdict(False, (), "waiting for a maintainer"), "human-review-required")
    body = comment_body(lambda room: comment_markdown(report, max_chars=room), RunState("h" * 40, "review_required", True, "human-review-required"), pending)
    for marker in (STICKY_MARKER, REVIEW_BEGIN, REVIEW_END):
        assert body.count(marker) == 1, marker
    assert body.count("<!-- govbot:state ") == 1
    approved = review_block(ReviewVerdict(True, ("maint",), "approved by maint"), "human-review-required")
    after = replace_review_block(body, approved)
    assert after == body[: body.rfind(REVIEW_BEGIN)] + approved
