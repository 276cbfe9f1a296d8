"""Whose CPU was it? The bench shares 2 cores with whatever else runs on the machine
(other engineers' test suites, for one), so every measurement records how much CPU
*other* processes used while it ran, and the driver waits, within a bound, for the
machine to be quiet before each one. Linux /proc only.

"Ours" = the service, the baseline, wrk and the PostgreSQL backends connected to a
bench database; "other" = all busy CPU time (/proc/stat) minus ours. PostgreSQL's
parallel query workers come and go within a statement and count as "other": rows with
slow parallel plans (GET /users at nation scale) overstate other load.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _busy() -> int:
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # all but idle and iowait


def _jiffies(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _reaped_children() -> float:
    """CPU seconds of this process's children that have exited and been waited for (wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_backends(databases: Iterable[str]) -> set[int]:
    """PostgreSQL backends serving a bench database (their title names the database)."""
    names, found = set(databases), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_text().replace("\0", " ").split()
            except OSError:
                continue
            if title[:1] == ["postgres:"] and names & set(title[1:5]):
                found.add(int(entry))
    return found


@dataclass
class Load:
    seconds: float
    ours: float  # cores used by the bench (service, baseline, wrk, its PostgreSQL backends)
    other: float  # cores used by everything else

    def as_dict(self) -> dict[str, float]:
        return {"seconds": round(self.seconds, 1), "ours_cores": round(self.ours, 2),
                "other_cores": round(self.other, 2)}


class Meter:
    """Measures CPU use of ours vs others between start() and stop()."""

    def __init__(self, ours: Callable[[], set[int]]) -> None:
        self.ours = ours

    def start(self) -> None:
        self.t0, self.busy0, self.children0 = time.monotonic(), _busy(), _reaped_children()
        self.pids0 = {pid: _jiffies(pid) for pid in self.ours()}

    def stop(self) -> Load:
        """Call after the measured child (wrk) has been waited for: its CPU then shows in RUSAGE_CHILDREN."""
        busy, elapsed = _busy() - self.busy0, time.monotonic() - self.t0
        ours = (_reaped_children() - self.children0) * TICK
        for pid in set(self.pids0) | self.ours():
            now, before = _jiffies(pid), self.pids0.get(pid) or 0
            ours += max(0, (now or before) - before)
        other = max(0.0, busy - ours)
        return Load(elapsed, ours / TICK / elapsed, other / TICK / elapsed)


def sample(ours: Callable[[], set[int]], seconds: float = 1.5) -> Load:
    meter = Meter(ours)
    meter.start()
    time.sleep(seconds)
    return meter.stop()


def wait_until_quiet(ours: Callable[[], set[int]], *, other_max: float, max_wait: float,
                     drain_wait: float = 120.0) -> dict[str, float]:
    """Wait for our own processes to finish leftover work (a slow row's queue drains), then,
    at most `max_wait` seconds, for other processes to use under `other_max` cores."""
    started = time.monotonic()
    load = sample(ours)
    while load.ours > 0.1 and time.monotonic() - started < drain_wait:
        load = sample(ours)
    drained = time.monotonic()
    while load.other > other_max and time.monotonic() - drained < max_wait:
        load = sample(ours)
    return {"waited_s": round(time.monotonic() - started, 1), "other_cores_before": round(load.other, 2)}
