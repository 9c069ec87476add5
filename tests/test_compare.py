"""`shopassist eval compare`: deltas, bootstrap intervals over per-case rows, regression flags, exit codes."""
from __future__ import annotations

import json

import pytest

from eval import compare
from ui.cli import main


def results(scores: list[float], latency: float = 50.0, task: str = "retrieval", **extra) -> dict:
    rows = [{"id": f"q{i}", "ndcg@10": s, "latency_ms": latency, "violations": 0, "returned": 10}
            for i, s in enumerate(scores)]
    return {"ndcg@10": sum(scores) / len(scores), "latency_ms_p50": latency, "filter_violation_rate": 0.0,
            "n_queries": len(rows), "task": task, "meta": {"git_commit": "abc1234"}, "per_case": rows, **extra}


def write(tmp_path, name: str, payload: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(payload))
    return str(path)


def test_identical_runs_have_zero_deltas_and_no_regression(tmp_path, capsys):
    a = write(tmp_path, "a.json", results([0.9, 0.5, 1.0, 0.7] * 10))
    assert main(["eval", "compare", a, a, "--fail-on-regression"]) == 0
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "[+0.0000, +0.0000]" in out and "0 regression(s)" in out
    assert "n_queries" not in out.split("B - A")[1]  # counts are not metrics


def test_a_clear_drop_is_a_regression_with_an_interval_below_zero(tmp_path, capsys):
    base = [0.9, 0.8, 1.0, 0.7, 0.95] * 8
    worse = [s - 0.2 if i % 2 else s for i, s in enumerate(base)]
    a, b = write(tmp_path, "a.json", results(base)), write(tmp_path, "b.json", results(worse))
    assert main(["eval", "compare", a, b]) == 0                       # reported, not fatal
    assert main(["eval", "compare", a, b, "--fail-on-regression"]) == 1
    d = {x.metric: x for x in compare.compare(json.loads(open(a).read()), json.loads(open(b).read()))}["ndcg@10"]
    assert d.delta == pytest.approx(-0.1) and d.hi < 0 and d.verdict == "REGRESSION"
    assert "REGRESSION" in capsys.readouterr().out


def test_noise_is_not_a_regression_and_pairs_by_case_id():
    rng_a = [0.9, 0.1, 0.8, 0.2, 0.7, 0.3] * 5
    rng_b = list(rng_a)
    rng_b[0], rng_b[1] = rng_b[1], rng_b[0]  # one swap: same mean
    a, b = results(rng_a), results(rng_b)
    b["per_case"] = list(reversed(b["per_case"]))  # order must not matter: rows are paired by id
    d = {x.metric: x for x in compare.compare(a, b)}["ndcg@10"]
    assert d.delta == pytest.approx(0.0) and d.lo < 0 < d.hi and d.verdict == ""


def test_lower_is_better_metrics_and_timing(tmp_path):
    a = results([0.9] * 20, latency=50.0)
    b = results([0.9] * 20, latency=90.0)
    b["filter_violation_rate"] = 0.2
    for row in b["per_case"]:
        row["violations"] = 2
    ds = {x.metric: x for x in compare.compare(a, b)}
    assert ds["filter_violation_rate"].verdict == "REGRESSION"   # recomputed by the retrieval task's aggregate
    assert ds["filter_violation_rate"].lo == pytest.approx(0.2)
    assert ds["latency_ms_p50"].verdict == "slower (timing)"
    assert {x.metric: x for x in compare.compare(a, b, timing=True)}["latency_ms_p50"].verdict == "REGRESSION"
    assert {x.metric: x for x in compare.compare(b, a)}["filter_violation_rate"].verdict == "improved"


def test_without_per_case_rows_it_says_so_and_uses_the_tolerance(tmp_path, capsys):
    a = {"accuracy": 0.80, "macro_f1": 0.70, "n": 100, "meta": {}}
    b = {"accuracy": 0.79, "macro_f1": 0.60, "n": 100, "meta": {}}
    pa, pb = write(tmp_path, "a.json", a), write(tmp_path, "b.json", b)
    assert main(["eval", "compare", pa, pb, "--fail-on-regression"]) == 1
    out = capsys.readouterr().out
    assert out.count("no per-case data") >= 3 and "macro_f1" in out and "1 regression(s): macro_f1" in out


def test_dialogue_rates_are_recomputed_from_turns_through_the_task_aggregate():
    def dialogue(i: int, ok: bool) -> dict:
        turn = {"latency_ms": 10.0, "grounding_violations": 0, "forbidden": 0, "tool_ok": ok, "refusal_ok": True}
        return {"id": f"d{i}", "task_success": ok, "turns": [turn, dict(turn, tool_ok=True)]}

    def run(oks: list[bool]) -> dict:
        rows = [dialogue(i, ok) for i, ok in enumerate(oks)]
        from eval.dialogues_task import aggregate

        return {**aggregate(rows, []), "task": "dialogues", "meta": {}, "per_case": rows}

    a, b = run([True] * 30), run([True] * 15 + [False] * 15)
    ds = {x.metric: x for x in compare.compare(a, b)}
    assert ds["tool_accuracy"].delta == pytest.approx(-0.25) and ds["tool_accuracy"].hi < 0
    assert ds["task_success"].verdict == "REGRESSION" and ds["refusal_accuracy"].verdict == ""


def test_a_metric_the_rows_cannot_reproduce_gets_no_interval():
    a, b = results([0.5] * 10), results([0.5] * 10)
    a["ndcg@10"], b["ndcg@10"] = 0.6, 0.4  # not the mean of the rows (e.g. computed over another split)
    d = {x.metric: x for x in compare.compare(a, b)}["ndcg@10"]
    assert d.lo is None and d.note == "no per-case data" and d.verdict == "REGRESSION"


def test_comparison_json(tmp_path):
    a = write(tmp_path, "a.json", results([0.9, 0.8] * 10))
    b = write(tmp_path, "b.json", results([0.5, 0.4] * 10))
    out = tmp_path / "cmp.json"
    assert main(["eval", "compare", a, b, "--out", str(out)]) == 0
    c = json.loads(out.read_text())
    assert c["regressions"] == ["ndcg@10"] and c["deltas"][0]["delta"] == pytest.approx(-0.4)
