"""Thread choice from the free cores: /proc/stat arithmetic, our own CPU time, overrides, the OpenMP default."""
from __future__ import annotations

import pytest

from retrieval.threads import CpuMonitor, CpuSample, ThreadPolicy, openmp_defaults, others_from, read_sample


def samples(*rows):
    """A reader that returns the given (busy, total, own_cpu_s, wall_s) samples in order."""
    it = iter([CpuSample(*r) for r in rows])
    return lambda cpus: next(it)


def policy(*rows, cores=2, env="TEST_THREADS"):
    monitor = CpuMonitor(cpus=list(range(cores)), reader=samples(*rows), sleep=lambda s: None)
    return ThreadPolicy(env, monitor)


def test_idle_machine_gets_every_core(monkeypatch):
    monkeypatch.delenv("TEST_THREADS", raising=False)
    # 2 cores x 100 ticks over 1 s, 2 ticks busy: idle
    assert policy((0, 0, 0.0, 0.0), (2, 200, 0.0, 1.0)).choose() == 2


def test_a_core_busy_with_another_process_is_not_counted(monkeypatch):
    monkeypatch.delenv("TEST_THREADS", raising=False)
    p = policy((0, 0, 0.0, 0.0), (100, 200, 0.0, 1.0))  # one core's worth busy, none of it ours
    assert p.choose() == 1 and "others busy on 1.0" in p.last_reason


def test_our_own_threads_do_not_count_against_us(monkeypatch):
    monkeypatch.delenv("TEST_THREADS", raising=False)
    # both cores fully busy, but 1.9 of those core-seconds were this process (its last generation)
    p = policy((0, 0, 0.0, 0.0), (200, 200, 1.9, 1.0))
    assert p.choose() == 2


def test_overloaded_machine_gets_one_thread(monkeypatch):
    monkeypatch.delenv("TEST_THREADS", raising=False)
    assert policy((0, 0, 0.0, 0.0), (200, 200, 0.0, 1.0), cores=2).choose() == 1
    assert policy((0, 0, 0.0, 0.0), (400, 400, 0.0, 1.0), cores=4).choose() == 1
    assert policy((0, 0, 0.0, 0.0), (200, 400, 0.0, 1.0), cores=4).choose() == 2


def test_environment_override_and_bad_values(monkeypatch):
    monkeypatch.setenv("TEST_THREADS", "3")
    assert policy().choose() == 3
    monkeypatch.setenv("TEST_THREADS", "auto")
    assert policy((0, 0, 0.0, 0.0), (0, 200, 0.0, 1.0)).choose() == 2
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("TEST_THREADS", bad)
        with pytest.raises(ValueError, match="TEST_THREADS"):
            policy().choose()


def test_measurement_runs_between_calls_and_repeats_when_too_soon(monkeypatch):
    monkeypatch.delenv("TEST_THREADS", raising=False)
    slept = []
    rows = [(0, 0, 0.0, 0.0), (0, 200, 0.0, 0.1), (200, 400, 0.0, 1.1), (200, 401, 0.0, 1.11)]
    monitor = CpuMonitor(cpus=[0, 1], reader=samples(*rows), sleep=slept.append)
    assert monitor.others_busy() == 0.0 and slept == [0.1]          # first call: a short sample
    assert monitor.others_busy() == pytest.approx(2.0)             # since the previous call, no sleep
    assert monitor.others_busy() == pytest.approx(2.0) and slept == [0.1]  # 10 ms later: same answer


def test_others_from_is_bounded():
    a, b = CpuSample(0, 0, 0.0, 0.0), CpuSample(100, 100, 5.0, 1.0)
    assert others_from(a, b, 1) == 0.0  # our own time exceeds the busy time: never negative
    assert others_from(b, a, 1) == 0.0  # counters going backwards (a new sample source): nothing known


def test_reads_real_proc_stat_and_missing_file(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  9 9 9 9 9 9 9 9 0 0\ncpu0 10 0 5 80 5 0 0 0 0 0\ncpu1 50 0 0 50 0 0 0 0 0 0\n")
    s = read_sample([0, 1], str(stat))
    assert s.total_ticks == 200 and s.busy_ticks == 65
    assert read_sample([0], str(tmp_path / "absent")) is None


def test_openmp_wait_policy_defaults_to_passive_but_respects_the_user(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("SHOPASSIST_OMP_WAIT", raising=False)
    openmp_defaults()
    import os
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    openmp_defaults()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_openmp_wait_policy_choices(monkeypatch):
    import os
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("SHOPASSIST_OMP_WAIT", "default")
    openmp_defaults()
    assert "OMP_WAIT_POLICY" not in os.environ        # OpenMP's own default stays
    monkeypatch.setenv("SHOPASSIST_OMP_WAIT", "active")
    openmp_defaults()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.setenv("SHOPASSIST_OMP_WAIT", "spin")
    with pytest.raises(ValueError, match="SHOPASSIST_OMP_WAIT"):
        openmp_defaults()
