"""Speed regression check: a slowed-down benchmark result is flagged against the last recorded run."""
from __future__ import annotations

import json

import pytest

from benchmarks.benchrun import BenchRun, check_against
from eval import compare
from ui.cli import main

BASE = {"catalog_build_products_per_s": 24.0, "search_p50_ms_n1000000_t1_plain": 12.0, "recall@10_n1000000": 0.97,
        "index_build_s_n1000000": 1800.0, "decode_tok_s_installed_t2_passive_load0": 26.0,
        "turn_p50_s_installed_t2_passive_load0": 3.0, "rss_peak_mb": 6000.0}


def bench_file(tmp_path, name: str, metrics: dict, load: float = 0.1) -> str:
    run = BenchRun("retrieval")
    out = run.finish(metrics, rows=[{"products": 1000000}])
    out["meta"]["load_start"] = [load, load, load]
    path = tmp_path / name
    path.write_text(json.dumps(out))
    return str(path)


def slowed(factor: float) -> dict:
    """Every figure `factor` times worse: rates divided, durations and sizes multiplied."""
    worse = {}
    for k, v in BASE.items():
        lower = compare.LOWER_IS_BETTER.search(k)
        worse[k] = v * factor if lower else v / factor
    worse["recall@10_n1000000"] = BASE["recall@10_n1000000"]
    return worse


def test_metric_directions():
    lower = {k for k in BASE if compare.LOWER_IS_BETTER.search(k)}
    assert lower == {"search_p50_ms_n1000000_t1_plain", "index_build_s_n1000000",
                     "turn_p50_s_installed_t2_passive_load0", "rss_peak_mb"}
    assert all(compare.TIMING.search(k) for k in BASE if k != "recall@10_n1000000")
    assert not compare.TIMING.search("recall@10_n1000000")


def test_a_slowed_down_run_fails_the_check(tmp_path, capsys):
    a, b = bench_file(tmp_path, "a.json", BASE), bench_file(tmp_path, "b.json", slowed(1.3), load=0.2)
    assert main(["eval", "compare", a, b, "--timing", "--fail-on-regression"]) == 1
    out = capsys.readouterr().out
    assert out.count("REGRESSION") == 6 and "load average [0.1, 0.1, 0.1]" in out
    # without --timing a slowdown is reported but does not fail (shared CPUs make timings noisy)
    assert main(["eval", "compare", a, b, "--fail-on-regression"]) == 0
    assert "slower (timing)" in capsys.readouterr().out


def test_noise_within_tolerance_and_a_speedup_pass(tmp_path):
    a = bench_file(tmp_path, "a.json", BASE)
    for name, metrics in (("noise.json", slowed(1.05)), ("faster.json", slowed(0.7))):
        assert main(["eval", "compare", a, bench_file(tmp_path, name, metrics), "--timing",
                     "--fail-on-regression"]) == 0, name


def test_a_recall_drop_is_a_regression_even_without_timing(tmp_path):
    worse = dict(BASE, **{"recall@10_n1000000": 0.90})
    a, b = bench_file(tmp_path, "a.json", BASE), bench_file(tmp_path, "b.json", worse)
    assert main(["eval", "compare", a, b, "--fail-on-regression"]) == 1


@pytest.mark.parametrize("factor,expected", [(1.3, 6), (1.02, 0)])
def test_benchmarks_check_against_their_baseline(tmp_path, factor, expected):
    base = bench_file(tmp_path, "base.json", BASE)
    new = json.loads(open(bench_file(tmp_path, "new.json", slowed(factor))).read())
    assert len(check_against(base, new)) == expected
