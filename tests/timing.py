"""Timing that a loaded machine cannot break: wall time minus the time the thread waited for a CPU.

Linux reports each thread's run-queue delay (time it was ready to run but other work had the CPU) as the
second field of /proc/thread-self/schedstat, in nanoseconds. Wall time minus that delay is the time the code
spent computing or blocked (sleeping, on I/O, a lock, a timeout): what it would take on an idle machine, so
tests can bound it while other jobs share the cores. Only the measuring thread's delay is left out: measure in
the thread that does the work. Without that file (not Linux) it falls back to plain wall time.
"""
from __future__ import annotations

import time

SCHEDSTAT = "/proc/thread-self/schedstat"


def run_queue_delay_s() -> float | None:
    """Seconds this thread has waited for a CPU since it started, or None where the kernel does not say."""
    try:
        with open(SCHEDSTAT, encoding="ascii") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class Stopwatch:
    """`with Stopwatch() as sw: ...` then `sw.seconds` (running or blocked), `sw.wall`, `sw.waited_for_cpu`."""

    def __enter__(self) -> "Stopwatch":
        self.seconds = self.wall = self.waited_for_cpu = 0.0
        self._start, self._queued = time.perf_counter(), run_queue_delay_s()
        return self

    def __exit__(self, *exc) -> bool:
        self.wall = time.perf_counter() - self._start
        end = run_queue_delay_s()
        self.waited_for_cpu = end - self._queued if end is not None and self._queued is not None else 0.0
        self.seconds = self.wall - self.waited_for_cpu
        return False

    def __repr__(self) -> str:
        return f"Stopwatch(seconds={self.seconds:.3f}, wall={self.wall:.3f}, waited_for_cpu={self.waited_for_cpu:.3f})"
