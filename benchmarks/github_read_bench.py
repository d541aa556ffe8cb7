"""Wall time of the GitHub Action path on a 1,500-file pull request against the fake GitHub server
(tests/bot/github/fakegithub.py, 127.0.0.1) with a fixed per-request latency.

    PYTHONPATH=. .venv/bin/python benchmarks/github_read_bench.py [latency_ms] [repeats] [workers...]
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from govbot.bot import action
from govbot.bot.github.change import GitHubContent, load_change
from govbot.bot.github.pygithub import GitHubSettings, PyGithubAdapter, RetryBudget
from tests.bot.github.fakegithub import FULL, FakeCommit, FakeFile, FakeGitHub, FakePull, User

HEAD, BASE = "1f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
EVENT = Path("tests/data/events/pull_request_opened.json")


def make_fake(latency_s: float) -> FakeGitHub:
    fake = FakeGitHub(latency_s=latency_s)
    files = [FakeFile(f"docs/page{i:04}.md", b"# page %d\n" % i, status="added",
                      patch=f"@@ -0,0 +1 @@\n+# page {i}", additions=1) for i in range(1500)]
    fake.add_pull(FakePull(number=7, author=User("dev-alice", 101), title="t", body="b", head_sha=HEAD,
                           base_sha=BASE, files=files,
                           commits=[FakeCommit("d" * 40, "Add pages", User("dev-alice", 101))]))
    return fake


def reads_only(latency_s: float, concurrency: str | None) -> tuple[float, int, int]:
    with make_fake(latency_s) as fake:
        extra = {"read_concurrency": int(concurrency)} if concurrency else {}
        gh = PyGithubAdapter(GitHubSettings(token="t",  # noqa: S106 - the fake server takes any token
                                             repository=FULL, api_url=fake.url, **extra),
                             RetryBudget())
        pr = gh.get_pull(7)
        change = load_change(gh, pr)
        fake.max_concurrent = 0
        start = time.perf_counter()
        data = GitHubContent(gh, 1_000_000).read(change.files)
        elapsed = time.perf_counter() - start
        assert len(data) == 1500
        return elapsed, len(fake.calls("GET", r".*/git/blobs/.*")), fake.max_concurrent


def whole_run(latency_s: float, concurrency: str | None) -> float:
    with make_fake(latency_s) as fake, tempfile.TemporaryDirectory() as tmp:
        env = {"GITHUB_REPOSITORY": FULL, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(EVENT),
               "GITHUB_TOKEN": "t", "GITHUB_API_URL": fake.url, "GOVBOT_REPORT_DIR": tmp,
               "GOVBOT_GITHUB_WRITE_INTERVAL_S": "0", "GOVBOT_SCANNERS": "secrets"}
        if concurrency:
            env["GOVBOT_GITHUB_READ_CONCURRENCY"] = concurrency
        start = time.perf_counter()
        code = action.run(env, out=io.StringIO())
        elapsed = time.perf_counter() - start
        assert code == 0, code
        report = json.loads((Path(tmp) / "govbot-report.json").read_text())
        assert report["change"]["files_analysed"] == 1500, report["change"]
        return elapsed


def main() -> None:
    latency = float(sys.argv[1] if len(sys.argv) > 1 else 20) / 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for concurrency in sys.argv[3:] or [None]:
        reads = [reads_only(latency, concurrency) for _ in range(repeats)]
        runs = [whole_run(latency, concurrency) for _ in range(repeats)]
        label = concurrency or "default"
        print(f"latency {latency * 1000:.0f} ms, read concurrency {label}: "
              f"blob reads of 1,500 files median {statistics.median(r[0] for r in reads):.2f} s "
              f"({reads[0][1]} blob GETs, at most {max(r[2] for r in reads)} in flight); "
              f"whole action run median {statistics.median(runs):.2f} s over {repeats} runs")


if __name__ == "__main__":
    main()
