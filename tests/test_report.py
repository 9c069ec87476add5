"""`shopassist eval report`: one HTML page (+ Markdown) from any results files of the harness."""
from __future__ import annotations

import base64
import json
import re

from eval import report
from ui.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def retrieval_results(tmp_path) -> dict:
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps({"qid": f"q{i}", "query": f"usb cable number {i}", "filters": {},
                                             "relevant": {"B01": 2}}) for i in range(12)))
    rows = [{"id": f"q{i}", "ndcg@10": i / 11, "recall@10": 1.0, "latency_ms": 40.0 + i} for i in range(12)]
    return {"ndcg@10": 0.5, "recall@10": 1.0, "latency_ms_p50": 45.0, "n_queries": 12,
            "by_lang": {"en": {"ndcg@10": 0.5, "n": 10}, "zh": {"ndcg@10": 0.6, "n": 2}},
            "modes": {"hybrid": {"ndcg@10": 0.5, "by_lang": {}}, "bm25": {"ndcg@10": 0.4, "by_lang": {}}},
            "per_case": rows, "meta": {"git_commit": "abc1234", "queries": str(queries), "index": "/tmp/idx"}}


def dialogue_results() -> dict:
    ok = {"user": "earbuds under 1500", "reply": "I found 3 products.", "products": ["B0A"],
          "tools": [{"name": "search_products", "arguments": {"max_price": 1500}}], "latency_ms": 120.0}
    bad = {"user": "add the second one", "reply": "Which one do you mean?", "products": [], "tools": [],
           "latency_ms": 90.0, "ungrounded_sentences": ["It costs ₹999."]}
    per_case = [{"id": "d-ok", "task_success": True, "transcript": [ok], "turns": [{"latency_ms": 120.0, "tool_ok": True}]},
                {"id": "d-bad", "task_success": False, "transcript": [ok, bad],
                 "turns": [{"latency_ms": 120.0, "tool_ok": True}, {"latency_ms": 90.0, "tool_ok": False}]},
                {"id": "d-ok2", "task_success": True, "transcript": [ok], "turns": [{"latency_ms": 100.0}]}]
    return {"task_success": 2 / 3, "tool_accuracy": 0.75, "false_claim_rate": None, "n_turns": 4, "task": "dialogues",
            "per_case": per_case, "meta": {"git_commit": "def5678", "git_dirty": True, "backend": "llamacpp",
                                           "model": "qwen1.5b", "model_sha256": "cc324af070c2ecbf" + "0" * 48,
                                           "temperature": 0.7, "seed": 0, "repeats": 3, "suite": "s.jsonl"}}


def classifier_results() -> dict:  # a task written elsewhere: confusion matrices, per-category, no per_case
    return {"accuracy": 0.8, "macro_f1": 0.75, "n": 50, "task": "sentiment",
            "per_category": {"books": {"accuracy": 0.9, "n": 20}, "phones": {"accuracy": 0.7, "n": 30}},
            "confusion": {"labels": ["neg", "pos"], "matrix": [[20, 5], [5, 20]]}, "meta": {}}


def test_report_html_and_markdown_from_mixed_results(tmp_path):
    files = []
    for name, payload in (("ret.json", retrieval_results(tmp_path)), ("dlg.json", dialogue_results()),
                          ("cls.json", classifier_results())):
        (tmp_path / name).write_text(json.dumps(payload))
        files.append(str(tmp_path / name))
    out = tmp_path / "out" / "report.html"
    assert main(["eval", "report", *files, "--out", str(out), "--top", "3"]) == 0
    html = out.read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == 3  # two latency histograms, one confusion matrix
    assert all(base64.b64decode(x).startswith(PNG) for x in images)
    # provenance, breakdowns, confusion table
    assert "qwen1.5b" in html and "cc324af070c2ecbf" in html and "uncommitted changes" in html
    assert "temperature 0.7, seed 0, 3 runs" in html
    for title in ("by_lang", "modes", "per_category", "true \\ predicted"):
        assert f">{title}<" in html
    # worst cases: failed dialogues with transcripts; retrieval's lowest ndcg with the query text looked up
    assert "Failures (1 of 3 with task_success false" in html and "d-bad" in html and "d-ok2" not in html
    assert "add the second one" in html and "ungrounded: [&#x27;It costs ₹999.&#x27;]" in html
    assert "failed: tool_ok" in html
    assert "Worst 3 of 12 cases by ndcg@10" in html and "usb cable number 0" in html
    assert "usb cable number 11" not in html
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| by_lang | ndcg@10 | n |" in md and "| zh | 0.6000 | 2.0000 |" not in md and "| zh | 0.6000 | 2 |" in md
    figures = re.findall(r"\]\((report_fig[\d_]+\.png)\)", md)
    assert len(figures) == 3 and all((tmp_path / "out" / f).read_bytes().startswith(PNG) for f in figures)
    assert "shopper: add the second one" in md


def test_confusion_shapes_and_latency_collection():
    nested = {"confusion": {"pos": {"pos": 3, "neg": 1}, "neg": {"neg": 4}}}
    (title, rows, cols, m), = report.confusions(nested)
    assert rows == ["pos", "neg"] and cols == ["pos", "neg"] and m == [[3, 1], [0, 4]]
    several = {"confusion": {"intent": {"labels": ["a", "b"], "matrix": [[1, 0], [0, 1]]},
                             "goal": {"labels": ["x", "y"], "matrix": [[2, 1], [1, 2]]}}}
    assert [c[0] for c in report.confusions(several)] == ["confusion: intent", "confusion: goal"]
    lat = report.latencies(dialogue_results())
    assert sorted(lat["latency_ms"]) == [90.0, 100.0, 120.0, 120.0]  # per turn, counted once


def test_a_file_without_per_case_still_reports(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"recall@10": 0.3, "ndcg@10": 0.2, "n_users": 10, "meta": {"git_commit": "x"}}))
    html_path, md_path = report.build([str(p)], tmp_path / "r.html")
    html = html_path.read_text()
    assert "recall@10" in html and "Worst" not in html and "<img" not in html
    assert md_path.read_text().startswith("# shopassist evaluation report")


def test_simulation_reports_name_the_shopper_and_show_failed_goals(tmp_path):
    turn = {"user": "I want a desk lamp under ₹500", "reply": "Sorry, we don't carry anything that matches that.",
            "products": [], "tools": [{"name": "search_products", "arguments": {"max_price": 500}}],
            "latency_ms": 50.0, "violations": 2}
    payload = {"goal_completion_rate": 0.5, "n_goals": 2, "task": "simulate",
               "per_category": {"Home": {"goal_completion_rate": 0.5, "n": 2}},
               "per_case": [{"id": "g1", "completed": True, "goal": "find a lamp", "transcript": [turn]},
                            {"id": "g2", "completed": False, "goal": "find a cheap lamp", "transcript": [turn]}],
               "meta": {"backend": "none", "user": {"backend": "llamacpp", "model": "qwen1.5b", "temperature": 0.0}}}
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(payload))
    html = report.build([str(path)], tmp_path / "r.html")[0].read_text()
    assert "none (shopper: llamacpp qwen1.5b)" in html and "llamacpp qwen1.5b, temperature 0.0" in html
    assert "Failures (1 of 2 with completed false" in html and "goal: find a cheap lamp" in html
    assert "constraint violations: 2" in html and ">per_category<" in html


def test_transcript_text_in_the_reports_is_text(tmp_path):
    """A shopper's <img> or Markdown image in a transcript fetches nothing where the report is viewed."""
    mdit = __import__("pytest").importorskip("markdown_it")
    payload = dialogue_results()
    turn = {"user": "<img src='http://x/u.png'> ![p](http://x/m.png)", "reply": "<b>Bold</b> reply",
            "products": [], "tools": []}
    payload["per_case"][1]["transcript"] = [turn]
    (tmp_path / "dlg.json").write_text(json.dumps(payload))
    assert main(["eval", "report", str(tmp_path / "dlg.json"), "--out", str(tmp_path / "r.html")]) == 0
    for rendered in ((tmp_path / "r.html").read_text(), mdit.MarkdownIt("commonmark").render(
            (tmp_path / "r.md").read_text())):
        assert "<img src='http://x" not in rendered and '<img src="http://x' not in rendered
        assert "<b>Bold</b>" not in rendered and "&lt;b&gt;Bold" in rendered
