"""`shopassist eval dialogues`: replay dialogue suites turn by turn against a fresh session each.

A case is one dialogue; the output is the list of TurnResults; scoring follows DESIGN.md per turn
(tools, args_contain, must_mention_any, must_not_claim with a judge, intent, expect_no_products,
expect_refusal, forbidden_tools) and aggregates into rates. Also task success (every checked
expectation of every turn passed) per dialogue.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from eval.harness import Case, percentile, print_table, run_meta, run_task, write_results

KEYS = ["tool_accuracy", "arg_accuracy", "mention_hit_rate", "false_claim_rate", "refusal_accuracy",
        "out_of_catalog_accuracy", "intent_accuracy", "forbidden_tool_calls", "grounding_violations",
        "task_success", "turn_latency_ms_p50", "turn_latency_ms_p95", "n_turns"]


def load_suite(path: str | Path) -> list[Case]:
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                try:
                    d = json.loads(line)
                    cases.append(Case(id=str(d["did"]), input=d, expected=[t.get("expect", {}) for t in d["turns"]]))
                except (KeyError, json.JSONDecodeError) as e:
                    raise ValueError(f"{path}:{n}: bad dialogue line ({e})") from e
    return cases


def _arg_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return expected == actual
    if isinstance(expected, (int, float)):
        try:
            return abs(float(actual) - expected) <= 0.01 * max(abs(expected), 1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, str):
        return isinstance(actual, str) and expected.lower() in actual.lower()
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(_arg_matches(e, a) for a in actual) for e in expected)
    return expected == actual


def args_satisfied(args_contain: dict[str, Any], calls: list[dict[str, Any]]) -> bool:
    return any(all(k in c["arguments"] and _arg_matches(v, c["arguments"][k]) for k, v in args_contain.items())
               for c in calls)


def mentions(strings: list[str], result) -> bool:
    hay = [result.text.lower()] + [f"{p['product_id']} {p['title']}".lower() for p in result.products]
    return any(s.lower() in h for s in strings for h in hay)


def score_turn(expect: dict[str, Any], result, judge=None) -> dict[str, Any]:
    calls = [c for c in result.tool_calls if not c.get("error")] + [c for c in result.tool_calls if c.get("error")]
    names = {c["name"] for c in result.tool_calls}
    row: dict[str, Any] = {"latency_ms": result.timings.get("total_ms", 0.0),
                           "grounding_violations": len(result.grounding_violations)}
    if expect.get("tools"):
        row["tool_ok"] = all(t in names for t in expect["tools"])
    if expect.get("args_contain"):
        row["args_ok"] = args_satisfied(expect["args_contain"], calls)
    if expect.get("must_mention_any"):
        row["mention_ok"] = mentions(expect["must_mention_any"], result)
    if expect.get("intent"):
        row["intent_ok"] = result.intent == expect["intent"]
    row["refusal_ok"] = bool(result.refused) == bool(expect.get("expect_refusal", False))
    if expect.get("expect_no_products"):
        row["ooc_ok"] = not result.products and result.no_match
    row["forbidden"] = sum(1 for c in result.tool_calls if c["name"] in expect.get("forbidden_tools", []))
    if judge is not None and expect.get("must_not_claim"):
        row["claims_checked"] = len(expect["must_not_claim"])
        row["claims_made"] = sum(judge(result, claim) for claim in expect["must_not_claim"])
    return row


class DialogueTask:
    def __init__(self, assistant, cases: list[Case], judge=None):
        self.assistant, self._cases, self.judge = assistant, cases, judge
        self.name = "dialogues"

    def cases(self) -> list[Case]:
        return self._cases

    def run_batch(self, cases: Sequence[Case]) -> list[list[Any]]:
        out = []
        for case in cases:
            session = self.assistant.new_session(case.input.get("user_id"))
            out.append([self.assistant.turn(session, t["user"]) for t in case.input["turns"]])
        return out

    def evaluate(self, case: Case, output: list[Any]) -> dict[str, Any]:
        rows = [score_turn(e, r, self.judge) for e, r in zip(case.expected, output)]
        checks = [v for r in rows for k, v in r.items() if k.endswith("_ok")]
        return {"turns": rows, "task_success": all(checks) and not any(r["forbidden"] for r in rows),
                "transcript": [{"user": t["user"], "reply": r.text, "intent": r.intent, "refused": r.refused,
                                "no_match": r.no_match, "products": [p["product_id"] for p in r.products],
                                "tools": [{"name": c["name"], "arguments": c["arguments"], "error": c.get("error")}
                                          for c in r.tool_calls],
                                "violations": r.grounding_violations}
                               for t, r in zip(case.input["turns"], output)]}


def _rate(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if key in r]
    return sum(vals) / len(vals) if vals else None


def aggregate(per_case: list[dict], outputs: list[Any]) -> dict[str, Any]:
    rows = [t for d in per_case for t in d["turns"]]
    checked = sum(r.get("claims_checked", 0) for r in rows)
    lat = [r["latency_ms"] for r in rows]
    return {"tool_accuracy": _rate(rows, "tool_ok"), "arg_accuracy": _rate(rows, "args_ok"),
            "mention_hit_rate": _rate(rows, "mention_ok"), "intent_accuracy": _rate(rows, "intent_ok"),
            "refusal_accuracy": _rate(rows, "refusal_ok"), "out_of_catalog_accuracy": _rate(rows, "ooc_ok"),
            "false_claim_rate": (sum(r.get("claims_made", 0) for r in rows) / checked) if checked else None,
            "forbidden_tool_calls": sum(r["forbidden"] for r in rows),
            "grounding_violations": sum(r["grounding_violations"] for r in rows),
            "task_success": sum(d["task_success"] for d in per_case) / max(len(per_case), 1),
            "turn_latency_ms_p50": percentile(lat, 50), "turn_latency_ms_p95": percentile(lat, 95),
            "n_turns": len(rows), "n_dialogues": len(per_case)}


def make_judge(backend):
    """A `must_not_claim` judge over any backend: does the reply assert the claim?"""
    import prompts
    from assistant.render import facts

    schema = {"type": "object", "properties": {"asserts": {"type": "boolean"}}, "required": ["asserts"]}

    def judge(result, claim: str) -> bool:
        prompt = prompts.render("judge.md", reply=result.text, facts=facts(result.tool_calls)[:3000], claim=claim)
        gen = backend.generate([{"role": "user", "content": prompt}], json_schema=schema, max_tokens=20)
        try:
            return bool(json.loads(gen.text or gen.raw).get("asserts"))
        except (json.JSONDecodeError, AttributeError):
            return "true" in (gen.text or gen.raw).lower()

    return judge


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True)
    p.add_argument("--suite", required=True, help="dialogue suite JSONL")
    p.add_argument("--backend", default="llamacpp", help="llamacpp | transformers | openai | scripted | none")
    p.add_argument("--model", default=None)
    p.add_argument("--base-url", default=None, help="for --backend openai")
    p.add_argument("--judge", default=None, help="backend that scores must_not_claim (e.g. llamacpp)")
    p.add_argument("--judge-model", default=None)
    p.add_argument("--router", default="auto", choices=["auto", "llm", "plan"])
    p.add_argument("--out", required=True)


def main(args: argparse.Namespace) -> int:
    from assistant.app import load_assistant, load_backend_or_none
    from assistant.engine import AssistantConfig

    kw = {"base_url": args.base_url} if args.base_url else {}
    assistant = load_assistant(args.index, args.backend, args.model, **kw)
    assistant.config.router = args.router
    judge_backend = load_backend_or_none(args.judge, args.judge_model) if args.judge else None
    cases = load_suite(args.suite)
    res = run_task(DialogueTask(assistant, cases, make_judge(judge_backend) if judge_backend else None),
                   aggregate=aggregate, batch_size=1)
    m = res.metrics
    print_table([{k: ("n/a" if m.get(k) is None else m[k]) for k in KEYS}], KEYS, title=f"dialogues: {args.suite}")
    failures = [d for d in res.per_case if not d["task_success"]]
    backend = assistant.backend
    payload = {**{k: m.get(k) for k in KEYS}, "n_dialogues": m["n_dialogues"],
               "per_case": res.per_case, "failures": [d["id"] for d in failures],
               "meta": run_meta(index=str(args.index), suite=str(args.suite), backend=args.backend,
                                model=getattr(backend, "model_id", None), model_sha256=getattr(backend, "sha256", None),
                                router=args.router, judge=args.judge, temperature=0, seed=0)}
    write_results(args.out, payload)
    return 0
