"""Scoring a simulated conversation from what the assistant did, never from the shopper's "done":
milestones reached per turn, turns to completion, constraint violations (products shown as results that break
the goal's price or rating limits), groundedness, and their aggregates over goals.

Knows goals, assistant turn results and the store; knows nothing about how the shopper was played.
"""
from __future__ import annotations

from typing import Any

from eval.harness import percentile
from eval.sim_goals import Goal, fits, limit_violations

LIST_TOOLS = ("search_products", "recommend")


def milestones(goal: Goal, result, store) -> set[str]:
    """The goal's milestones this one assistant turn reached."""
    def fitting(pid: str) -> bool:  # cards lack category and type: judge the store's record
        return pid in store.products and fits(store.products[pid], goal)

    reached = set()
    if not result.no_match and any(fitting(p["product_id"]) for p in result.products):
        reached.add("shown")
    for c in result.tool_calls:
        if c.get("error"):
            continue
        r = c.get("result") or {}
        if c["name"] == "review_sentiment_summary" and fitting((r.get("product") or {}).get("product_id", "")):
            reached.add("reviews")
        if c["name"] == "order_status" and goal.order_id and str(r.get("order_id", "")).upper() == goal.order_id:
            reached.add("order_status")
    if any(fitting(pid) for pid in result.cart or {}):
        reached.add("cart")
    return reached


def shown_as_results(result) -> list[dict[str, Any]]:
    """Products the turn presented as matches of a search or recommendation."""
    out = []
    for c in result.tool_calls:
        r = c.get("result") or {}
        if c["name"] in LIST_TOOLS and not c.get("error") and r.get("matched", True):
            out += r.get("products", [])
    return out


def score_simulation(goal: Goal, turns: list[tuple[str, Any]], ended: str, store,
                     groundedness=None) -> dict[str, Any]:
    reached: set[str] = set()
    done_at = None
    shown = violations = 0
    transcript, sentences, grounded = [], 0, 0
    for i, (text, result) in enumerate(turns, 1):
        reached |= milestones(goal, result, store)
        if done_at is None and set(goal.needs) <= reached:
            done_at = i
        listed = shown_as_results(result)
        bad = [p["product_id"] for p in listed if limit_violations(p, goal)]
        shown, violations = shown + len(listed), violations + len(bad)
        g = groundedness.score(result, text) if groundedness else {"sentences": 0, "grounded_sentences": 0}
        sentences, grounded = sentences + g["sentences"], grounded + g["grounded_sentences"]
        transcript.append({"user": text, "reply": result.text, "intent": result.intent, "refused": result.refused,
                           "no_match": result.no_match, "products": [p["product_id"] for p in result.products],
                           "tools": [{"name": c["name"], "arguments": c["arguments"], "error": c.get("error")}
                                     for c in result.tool_calls],
                           "violations": len(bad), "violating_products": bad, "cart": dict(result.cart or {}),
                           "latency_ms": round(result.timings.get("total_ms", 0.0), 1)})
    return {"completed": done_at is not None, "turns_to_completion": done_at, "turns": len(turns),
            "achievable": goal.n_fitting > 0, "milestones": sorted(reached), "needs": goal.needs,
            "shown": shown, "violations": violations, "sentences": sentences, "grounded_sentences": grounded,
            "ended": ended, "category": goal.category, "goal": goal.desc, "transcript": transcript}


def aggregate(per_case: list[dict], outputs: list[Any]) -> dict[str, Any]:
    n = max(len(per_case), 1)
    achievable = [r for r in per_case if r["achievable"]]
    done = [r for r in per_case if r["completed"]]
    lat = [t["latency_ms"] for r in per_case for t in r["transcript"]]
    shown = sum(r["shown"] for r in per_case)
    sentences = sum(r["sentences"] for r in per_case)
    return {"goal_completion_rate": len(done) / n,
            "goal_completion_rate_achievable": (sum(r["completed"] for r in achievable) / len(achievable)
                                                if achievable else None),
            "turns_to_completion_mean": (sum(r["turns_to_completion"] for r in done) / len(done)) if done else None,
            "constraint_violation_rate": violations_rate(per_case, shown),
            "constraint_violations": sum(r["violations"] for r in per_case),
            "grounded_sentence_rate": sum(r["grounded_sentences"] for r in per_case) / sentences if sentences else None,
            "user_done_rate": sum(r["ended"] == "done" for r in per_case) / n,
            "premature_done_rate": sum(r["ended"] == "done" and not r["completed"] for r in per_case) / n,
            "turns_mean": sum(r["turns"] for r in per_case) / n,
            "turn_latency_ms_p50": percentile(lat, 50), "turn_latency_ms_p95": percentile(lat, 95),
            "n_goals": len(per_case), "n_achievable": len(achievable)}


def violations_rate(per_case: list[dict], shown: int) -> float | None:
    return sum(r["violations"] for r in per_case) / shown if shown else None


def per_category(per_case: list[dict]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cat in sorted({r["category"] for r in per_case}):
        rows = [r for r in per_case if r["category"] == cat]
        out[cat] = {"goal_completion_rate": sum(r["completed"] for r in rows) / len(rows),
                    "achievable": sum(r["achievable"] for r in rows), "n": len(rows)}
    return out


KEYS = ["goal_completion_rate", "goal_completion_rate_achievable", "turns_to_completion_mean",
        "constraint_violation_rate", "grounded_sentence_rate", "user_done_rate", "premature_done_rate",
        "turn_latency_ms_p50", "n_goals", "n_achievable"]
