"""tests/timing.py: the stopwatch leaves out the time spent waiting for a CPU, and only that."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.timing import Stopwatch, run_queue_delay_s


def test_blocked_time_counts():
    with Stopwatch() as sw:
        time.sleep(0.3)
    assert 0.29 <= sw.seconds <= sw.wall


def test_waiting_for_a_cpu_does_not_count():
    if run_queue_delay_s() is None:
        pytest.skip("the kernel does not report run-queue delay here (/proc/thread-self/schedstat)")
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4)]
    try:
        time.sleep(0.2)  # the spinners are running: more runnable work than cores
        cpu = time.thread_time()
        with Stopwatch() as sw:
            n = 0
            for i in range(3_000_000):
                n += i
        cpu = time.thread_time() - cpu
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    assert sw.waited_for_cpu > 0.0 and sw.wall > sw.seconds
    assert abs(sw.seconds - cpu) <= 0.25 * cpu + 0.05, (sw.seconds, cpu, sw.wall)
