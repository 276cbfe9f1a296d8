"""A throwaway PostgreSQL cluster that a fault test may stop and start at will.

The shared server on 127.0.0.1:5432 belongs to every other test and session, so
fault tests never touch it: they `initdb` their own cluster into a temporary
directory, on a free port, listening on 127.0.0.1 only, with its socket in
that directory. initdb refuses to run as root, so the server runs as the
`postgres` OS user through `su` (shared/probes/README.md). Start and stop come
in an async flavour so the app keeps serving requests on the same event loop
while `pg_ctl` waits for the server.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

OS_USER = "postgres"
PG_TIMEOUT_S = 30  # pg_ctl -t: how long start/stop may wait before giving up


class ClusterUnavailable(RuntimeError):
    """The machine cannot run a throwaway cluster (not root, no `su`, no initdb, no postgres user)."""


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it for a socket bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bindir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian layout: /usr/lib/postgresql/<major>/bin)."""
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if not candidates:
        found = shutil.which("initdb")
        if found:
            return Path(found).parent
        raise ClusterUnavailable("initdb not found (looked in /usr/lib/postgresql/*/bin and PATH); "
                                 "install the postgresql server package")
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def check_prerequisites() -> None:
    if os.geteuid() != 0:
        raise ClusterUnavailable("the database fault tests must run as root: they start a throwaway cluster "
                                 f"as the `{OS_USER}` OS user through `su` (initdb refuses root)")
    if shutil.which("su") is None:
        raise ClusterUnavailable("`su` is missing; it is needed to run the throwaway cluster as "
                                 f"the `{OS_USER}` OS user")
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        raise ClusterUnavailable(f"there is no `{OS_USER}` OS user to run the throwaway cluster") from None


class PgCluster:
    def __init__(self) -> None:
        check_prerequisites()
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="envduty-pgfault-"))
        user = pwd.getpwnam(OS_USER)
        os.chown(self.root, user.pw_uid, user.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    # --- commands ---------------------------------------------------------------------------------------

    def _su(self, *argv: str) -> list[str]:
        # `-s /bin/sh` so a postgres user with a nologin shell still works.
        return ["su", OS_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _pg_ctl(self, action: str, mode: str = "fast") -> list[str]:
        server_options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        return self._su(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", server_options,
                        "-l", str(self.log), "-m", mode, "-w", "-t", str(PG_TIMEOUT_S), action)

    def _failed(self, what: str, output: str) -> RuntimeError:
        return RuntimeError(f"{what} failed:\n{output.strip()}\n--- {self.log} (tail) ---\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _run(self, argv: list[str], what: str) -> None:
        done = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=PG_TIMEOUT_S + 10,
                              check=False)
        if done.returncode != 0:
            raise self._failed(what, done.stdout + done.stderr)

    async def _run_async(self, argv: list[str], what: str) -> None:
        process = await asyncio.create_subprocess_exec(*argv, cwd=self.root, stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), PG_TIMEOUT_S + 10)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise self._failed(what, "timed out") from None
        if process.returncode != 0:
            raise self._failed(what, output.decode(errors="replace"))

    # --- lifecycle --------------------------------------------------------------------------------------

    def init(self) -> None:
        # UTF8 explicitly: a C/POSIX default locale would give SQL_ASCII, and names are Chinese.
        self._run(self._su(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                           "-E", "UTF8", "--locale=C", "--no-sync"), "initdb")

    def start(self) -> None:
        self._run(self._pg_ctl("start"), "pg_ctl start")

    async def start_async(self) -> None:
        await self._run_async(self._pg_ctl("start"), "pg_ctl start")

    async def stop_async(self, mode: str = "fast") -> None:
        await self._run_async(self._pg_ctl("stop", mode), f"pg_ctl -m {mode} stop")

    def destroy(self) -> None:
        """Stop whatever runs (immediate: nothing to keep) and remove the directory. Never raises."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self._pg_ctl("stop", "immediate"), cwd=self.root, capture_output=True,
                           timeout=PG_TIMEOUT_S + 10, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
