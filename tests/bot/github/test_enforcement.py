from __future__ import annotations

from govbot.bot.github.enforcement import candidates, evaluate_reviews
from govbot.bot.github.port import ReviewData, UserRef

HEAD, OLD = "h" * 40, "o" * 40
AUTHOR = UserRef("alice", 1, "User")
BOB = UserRef("bob", 2, "User")
CAROL = UserRef("carol", 3, "User")
BOT = UserRef("helper[bot]", 4, "Bot")


def review(user: UserRef, state: str, commit: str = HEAD, rid: int = 0) -> ReviewData:
    return ReviewData(id=rid, user=user, state=state, commit_id=commit, submitted_at=None)


def test_writer_approval_on_head_satisfies() -> None:
    v = evaluate_reviews([review(BOB, "APPROVED")], AUTHOR, HEAD, {"bob": "write"})
    assert v.satisfied and v.approvers == ("bob",)
    assert "@" not in v.reason


def test_author_bot_reader_and_stale_approvals_do_not_count() -> None:
    reviews = [review(AUTHOR, "APPROVED"), review(BOT, "APPROVED"), review(CAROL, "APPROVED"),
               review(BOB, "APPROVED", OLD)]
    perms = {"alice": "admin", "helper[bot]": "write", "carol": "read", "bob": "write"}
    assert candidates(reviews, AUTHOR, HEAD) == ["carol"]
    v = evaluate_reviews(reviews, AUTHOR, HEAD, perms)
    assert not v.satisfied
    for part in ("bot", "author", "earlier commit", "without write access"):
        assert part in v.reason


def test_author_detected_by_id_even_after_rename() -> None:
    renamed = UserRef("alice-new", 1, "User")
    assert not evaluate_reviews([review(renamed, "APPROVED")], AUTHOR, HEAD, {"alice-new": "write"}).satisfied


def test_latest_deciding_review_wins_comments_do_not_reset() -> None:
    reviews = [review(BOB, "APPROVED", rid=1), review(BOB, "COMMENTED", rid=2)]
    assert evaluate_reviews(reviews, AUTHOR, HEAD, {"bob": "maintain"}).satisfied
    reviews.append(review(BOB, "CHANGES_REQUESTED", rid=3))
    assert not evaluate_reviews(reviews, AUTHOR, HEAD, {"bob": "maintain"}).satisfied
    reviews.append(review(BOB, "APPROVED", rid=4))
    assert evaluate_reviews(reviews, AUTHOR, HEAD, {"bob": "maintain"}).satisfied


def test_dismissed_approval_does_not_count() -> None:
    reviews = [review(BOB, "APPROVED", rid=1), review(BOB, "DISMISSED", rid=2)]
    assert not evaluate_reviews(reviews, AUTHOR, HEAD, {"bob": "write"}).satisfied
