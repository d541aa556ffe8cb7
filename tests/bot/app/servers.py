"""Throwaway database and queue servers for the fault tests: a private PostgreSQL cluster (initdb
into a temporary directory, pg_ctl on a free port) and a private redis-server, so killing and
restarting them never touches the shared 127.0.0.1:5432 / :6379 other tests use."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bot.app.harness import free_port, wait_for


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """One cluster owned by the test. initdb refuses to run as root, so as root the server runs
    as the ``postgres`` user (``runuser``); a superuser named like the current user is created."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.data = root / "data"
        self.port = free_port()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        self.url = f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/postgres"
        self._run(str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", user, "--no-sync",
                  "-E", "UTF8")

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_owner, *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        # fsync=off is safe here: the tests stop the server process, the OS keeps what it wrote.
        # synchronous_commit must stay on: off, a COMMIT is answered before its WAL is written and
        # an immediate stop loses it (this test caught a false 2xx that way).
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c max_connections=100")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: like a crash (no clean shutdown), the harshest restart."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return subprocess.run([*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
                              capture_output=True, check=False).returncode == 0


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="govbot-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    pg = PrivatePostgres(bindir, root)
    pg.start()
    try:
        yield pg
    finally:
        if pg.running():
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


def start_redis(port: int, tmp: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                                    check=False).stdout.strip() == b"PONG", timeout=10, what="redis-server")
    return proc
