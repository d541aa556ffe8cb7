"""detect-secrets for real (``slow``): no filter hides a committed key, and no scan talks to the
network — every scanner runs behind a recording proxy that must see zero connection attempts."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from govbot.checks import secrets
from govbot.checks.registry import ScannerSettings
from govbot.checks.runner import run, tool_env
from govbot.checks.scan import run_scanners

pytestmark = pytest.mark.slow

# A made-up pair (AWS's documented example pair is dropped as a decoy by the secrets layer, issue
# 12); detect-secrets' AWS plugin would verify a pair against STS.
AWS_ID = "AKIA" "GOVBOTTEST2345Q7"
AWS_SECRET = "q9Xr7LmA2vT0pKw5sN1y" "Bc4hJ6fG9dEaZ3uWo8Rt"
PLANTED = {
    ".env": f"AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n",
    "app/settings.py": (f'aws_access_key_id = "{AWS_ID}"\naws_secret_access_key = "{AWS_SECRET}"\n'
                        'SLACK = "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd"\n'
                        'STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n'),
}

# Each file hid a committed key from detect-secrets' default filters (issue 9, class 5).
HIDDEN = {
    "indirect.py": f'key = "{AWS_ID}"; region = pick(regions)\n',
    "api/swagger/keys.py": f'KEY = "{AWS_ID}"\n',
    "theme.css": f"/* {AWS_ID} */\n",
    "logo.svg": f"<svg><!-- {AWS_ID} --></svg>\n",
    "bundle.js.map": f'{{"k": "{AWS_ID}"}}\n',
    "go.sum": f"example.com/m v1.0.0 h1:{AWS_ID}\n",
    "poetry.lock": f'token = "{AWS_ID}"\n',
    "yarn.lock": f'token "{AWS_ID}"\n',
    "ids.py": 'creds = {"client_id": "svc", "client_secret": "q8Zr2LmX0vT7pKw5sN1yBc4hJ6fG9dEa"}\n',
}


def _write(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return sorted(files)


def test_no_detect_secrets_filter_hides_a_committed_key(tmp_path: Path) -> None:
    paths = _write(tmp_path, HIDDEN)
    argv = secrets.build_argv(sys.executable, paths)
    result = run(argv, cwd=tmp_path, timeout_s=120, env=tool_env())
    assert result.returncode == 0, result.stderr_tail()
    found = {f.path for f in secrets.parse(result.stdout).findings}
    assert found == set(paths)


class _Recorder:
    """A TCP listener that records every connection attempt (what a proxy would be asked)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.seen: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(4096) or b"<connect>")
                except OSError:
                    self.seen.append(b"<connect>")
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Recorder]:
    rec = _Recorder()
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, rec.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield rec
    rec.close()


def test_a_scan_with_planted_credentials_makes_no_connection(tmp_path: Path, recorder: _Recorder) -> None:
    paths = _write(tmp_path, PLANTED)
    results = run_scanners(tmp_path, paths, ScannerSettings())
    by_tool = {r.run.name: r for r in results}
    assert by_tool["secrets"].run.complete, by_tool["secrets"].run.error
    assert {f.path for f in by_tool["secrets"].findings} == set(paths)
    assert recorder.seen == [], recorder.seen[:3]


def test_binary_looking_files_are_scanned_as_text(tmp_path: Path) -> None:
    """Issue 9, class 4: a NUL byte, UTF-16 or a stray invalid byte must not hide a key."""
    line = f"AWS_ACCESS_KEY_ID={AWS_ID}\n"
    files = {
        "nul.env": b"\x00\x01" + line.encode(),
        "utf16-bom.env": line.encode("utf-16"),
        "utf16-nobom.env": line.encode("utf-16-le"),
        "latin1.env": b"caf\xe9\n" + line.encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv = secrets.build_argv(sys.executable, sorted(files))
    result = run(argv, cwd=tmp_path, timeout_s=120, env=tool_env())
    assert result.returncode == 0, result.stderr_tail()
    assert {f.path for f in secrets.parse(result.stdout).findings} == set(files)
