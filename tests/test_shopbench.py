"""ShopBench dev set (eval/shopbench_task.py): the starter kit's parsers and metrics, per-track macro average."""
from __future__ import annotations

import json
import math

import pytest

from assistant.llm.scripted import ScriptedBackend
from eval import shopbench_task as sb
from tests.conftest import shared_data


def test_parsers_follow_the_starter_kit():
    assert sb.parse_multichoice(" 2") == 2 and sb.parse_multichoice("a") == -1 and sb.parse_multichoice("") == -1
    assert sb.parse_ranking("1, 2, 3, 4, 5") == [1, 2, 3, 4, 5] and sb.parse_ranking("[1, 2, 3]") == [1, 2, 3]
    assert sb.parse_ranking("1, 2, 2, 3") == [] and sb.parse_ranking("1, 4, 5, aicrowd, 6") == [1, 4, 5, 6]
    assert sb.parse_integers("100, 200, 300, 400", 3) == [100, 200, 300]
    assert sb.parse_entities("['New York', 'ShopBench']") == ["New York", "ShopBench"]
    assert sb.parse_entities("New York, ShopBench") == ["New York", "ShopBench"]
    assert sb.parse_entities("[New York, ShopBench]") == ["[New York", "ShopBench]"]


def test_rouge_l_and_bleu_values():
    assert sb.rouge_l("the cat sat", "the cat sat on the mat") == pytest.approx(2 / 3)
    assert sb.rouge_l("", "the cat") == 0.0 and sb.rouge_l("The Cat!", "the cat") == 1.0
    assert sb.tokenize_13a("Hello, world. A 3.5-inch screen") == ["Hello", ",", "world", ".", "A", "3.5", "-", "inch",
                                                                  "screen"]
    assert sb.bleu("The cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    # n-gram precisions 5/6, 3/5, 2/4, 1/3, no brevity penalty
    assert sb.bleu("the cat sat on a mat", "the cat sat on the mat") == pytest.approx((5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25)
    # exponential smoothing of zero counts: 3-grams 1/(2*2), 4-grams 1/(4*1)
    assert sb.bleu("a b c d", "a b x y") == pytest.approx((2 / 4 * 1 / 3 * 1 / 4 * 1 / 4) ** 0.25)
    assert sb.bleu("the cat", "the cat sat on the mat") == pytest.approx(0.0, abs=1e-12)  # no 3-grams at all
    assert sb.bleu("ケース ライトパープル", "ケース ライトパープル", jp=True) == pytest.approx(1.0)
    assert 0 < sb.bleu("iPad ケース パープル", "iPad ケース ライトパープル", jp=True) < 1


def test_ranking_retrieval_and_ner_metrics():
    assert sb.ndcg([1, 2, 3], [1.0, 0.1, 0.0]) == pytest.approx(1.0)
    assert sb.ndcg([3, 2, 1], [1.0, 0.1, 0.0]) < sb.ndcg([1, 3, 2], [1.0, 0.1, 0.0]) < 1.0
    assert sb.ndcg([9, 0], [1.0, 0.5]) == 0.0  # out-of-range indices score nothing
    assert sb.hit_rate_3([6, 9, 1], [6, 9, 15]) == pytest.approx(2 / 3)
    assert sb.tp_fp_fn([" Tablette", "asus"], ["tablette"]) == (1, 1, 0)
    per_row = [(2, 0, 0), (0, 1, 1)]
    assert sb.micro_f1(per_row) == pytest.approx(2 / 3)  # pooled, not the mean of row F1s (0.5)


def test_scores_average_per_task_then_track_then_overall():
    def row(task, track, score, metric="accuracy", **kw):
        return {"task": task, "track": track, "score": score, "metric": metric, "task_type": "multiple-choice",
                "format_ok": True, "latency_ms": 1.0, **kw}

    rows = [row("t1", "A", 1.0), row("t1", "A", 0.0), row("t2", "A", 1.0),               # A: (0.5 + 1) / 2
            row("t3", "B", 0.0, "micro f1", tp=2, fp=0, fn=0), row("t3", "B", 0.0, "micro f1", tp=0, fp=1, fn=1)]
    m = sb.aggregate(rows, [])
    assert m["track_A"] == pytest.approx(0.75) and m["track_B"] == pytest.approx(2 / 3)
    assert m["overall"] == pytest.approx((0.75 + 2 / 3) / 2) and m["n_questions"] == 5


def _gold_answer(q: dict) -> str:
    gold, kind = q["output_field"], q["task_type"]
    if kind == "ranking":
        return ", ".join(str(i + 1) for i in sorted(range(len(gold)), key=lambda i: -gold[i]))
    if isinstance(gold, list):
        return ", ".join(map(str, gold))
    return str(gold)


def test_the_dev_set_end_to_end_with_a_backend_that_knows_the_answers(tmp_path):
    from ui.cli import main

    data = shared_data("shopbench_dev")
    questions = [json.loads(line) for line in (data / "development.json").read_text().splitlines() if line.strip()]
    answers = {q["input_field"]: _gold_answer(q) for q in questions}
    oracle = lambda messages, tools: answers[messages[-1].content]  # noqa: E731
    cases = sb.load_questions(data)
    assert len(cases) == 96 and len({c.id for c in cases}) == 96
    task = sb.ShopBenchTask(ScriptedBackend([oracle] * 96), cases)
    rows = [{"id": c.id, **task.evaluate(c, o)} for c, o in zip(cases, task.run_batch(cases))]
    m = sb.aggregate(rows, [])
    assert m["format_ok_rate"] == 1.0 and m["multiple_choice_accuracy"] == 1.0
    assert m["overall"] > 0.99 and set(k for k in m if k.startswith("track_")) == {
        "track_understanding-shopping-concepts", "track_user-behavior-alignment",
        "track_shopping-knowledge-reasoning", "track_multi-lingual-abilities"}
    # the command with a backend that knows nothing: a valid file, low scores, every question answered
    out = tmp_path / "sb.json"
    assert main(["eval", "shopbench", "--data", str(data), "--backend", "scripted", "--limit", "12",
                 "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["n_questions"] == 12 and r["task"] == "shopbench" and r["meta"]["backend"] == "scripted"
    assert 0.0 <= r["overall"] < 0.5 and not math.isnan(r["overall"]) and r["per_track"] and r["per_task_type"]


def test_constrained_multiple_choice_offers_only_the_listed_options():
    from eval.harness import Case

    question = "Which one is a fruit?\n0. car\n1. apple\n2. chair\nAnswer: "
    assert sb.option_numbers(question) == [0, 1, 2]
    backend = ScriptedBackend([{"answer": 1}, "The answer is 1"])
    case = Case("task2-01", question, 1, {"task_name": "task2", "task_type": "multiple-choice", "metric": "accuracy",
                                          "track": "t"})
    constrained = sb.ShopBenchTask(backend, [case], mc="constrained")
    out = constrained.run_batch([case])[0]
    schema = backend.calls[0].json_schema
    assert schema["properties"]["answer"]["enum"] == [0, 1, 2] and out["text"] == "1"
    assert constrained.evaluate(case, out)["score"] == 1.0
    free = sb.ShopBenchTask(backend, [case])  # the official reading: the first character must be the number
    out = free.run_batch([case])[0]
    assert backend.calls[1].json_schema is None and free.evaluate(case, out)["score"] == 0.0
