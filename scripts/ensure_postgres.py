"""Make sure a PostgreSQL server answers for the test suite.

If TEST_DATABASE_URL's server does not answer, start the machine's local
cluster with pg_ctlcluster and say so. Never skips: if it still does not
answer, exit non-zero so `make test` fails loudly."""

from __future__ import annotations

import glob
import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    url = urlparse(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
                   .replace("+asyncpg", ""))
    host, port = url.hostname or "127.0.0.1", url.port or 5432
    if answers(host, port):
        return 0
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions:
        print(f"PostgreSQL at {host}:{port} does not answer and no local cluster is installed", file=sys.stderr)
        return 1
    print(f"PostgreSQL at {host}:{port} did not answer: starting local cluster {versions[-1]}/main")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
    for _ in range(30):
        if answers(host, port):
            print("PostgreSQL is up")
            return 0
        time.sleep(1)
    print("PostgreSQL still does not answer; the suite will not run without it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
