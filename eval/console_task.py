"""`shopassist eval console`: the agent console on the demo store's own labelled conversations.

The demo store writes its customer-service conversations with a ground-truth topic (order tracking,
refund, product question, complaint, cancellation, delivery options) and mood (calm, angry); the
analysis never reads either. For each store seed (`--stores 0-9`: ten stores, 30 conversations each) it
scores what an agent sees:
- `intent_accuracy`: the intent shown belongs to the topic's reply family; `family_accuracy`: the reply
  type the suggestions are built for is the topic's; both also per topic and per language.
- `apology_rate_angry`: angry customers whose first suggestion apologises (and `apology_rate_calm`).
- `passed_eta_suggestions`: suggestions that give an ETA already past as an estimate (must be 0).
- `foreign_status_rate`: Chinese conversations whose suggestions write an English order status outside
  a quote of the store's policy (must be 0).
The customer-service intent model is the index's (`--index`) or, as in `shopassist demo`, one trained
on the built-in bilingual seeds. Seed 0 is the demo store the console was developed on; the other seeds
are stores it never saw (other users, products, orders; the same conversation writers). `--suite FILE`
adds hand-written conversations in other words (eval/suites/console_paraphrases.jsonl, one JSON object a
line with conversation_id, topic, lang, mood, messages), read as ad hoc conversations in demo store 0,
reported apart as `suite`. Prints a table and writes JSON.
"""
from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from typing import Any

from eval.harness import print_table, run_meta, write_results

TOPIC_FAMILY = {"order_tracking": "tracking", "refund": "refund", "product_question": "product",
                "complaint": "complaint", "cancel_order": "cancel", "delivery_options": "delivery"}
APOLOGY = re.compile(r"\bsorry\b|\bapologi[sz]e|抱歉|对不起", re.I)
LATE = re.compile(r"\blate\b|\bwas due\b|\boverdue\b|晚了|延误|原定")
ENGLISH_STATUS = re.compile(r"\b(?:processing|shipped|delivered|returned|cancelled|pending)\b")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stores", default="0-9", help="demo store seeds: '0-9', '3' or '0,4,7'")
    p.add_argument("--index", help="index folder whose models/ holds the customer-service intent model "
                                   "(default: train it on the built-in seeds, as the demo build does)")
    p.add_argument("--suite", help="JSONL of labelled conversations in other words (scored apart)")
    p.add_argument("--out", required=True, help="results JSON")
    p.add_argument("--quiet", action="store_true")


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(f"--stores: expected seeds like '0-9' or '0,4,7', got {text!r}")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


# ---- per-suggestion checks (each can fail: tests/test_console_eval.py) ------------------------------

def apologises(text: str) -> bool:
    return bool(APOLOGY.search(text))


def gives_passed_eta(text: str, order, today: str) -> bool:
    """The text names the ETA of an order still on its way that is already past, without saying it is late."""
    eta = order.estimated_delivery if order is not None and order.status in ("processing", "shipped") else None
    return bool(eta) and eta < today and eta in text and not LATE.search(text)


def foreign_status(text: str, policy_sentences: list[str]) -> bool:
    """A Chinese reply that writes an English order status outside a quote of the store's policy."""
    for sentence in policy_sentences:
        text = text.replace(sentence, "")
    return bool(ENGLISH_STATUS.search(text))


def policy_sentences(policy: str) -> list[str]:
    from assistant.agent_policy import policy_lines

    return [line.text for line in policy_lines(policy)]


# ---- scoring ------------------------------------------------------------------------------------------

def score_conversation(conv: dict[str, Any], analysis, suggestions: list, store, today: str,
                       quoted: list[str]) -> dict[str, Any]:
    from assistant.agent_assist import FAMILIES

    expected = TOPIC_FAMILY[conv["topic"]]
    order = store.orders.get(conv.get("order_id") or "")
    texts = [s.text for s in suggestions]
    row = {"id": conv["conversation_id"], "topic": conv["topic"], "lang": conv["lang"], "mood": conv["mood"],
           "expected_family": expected, "family": analysis.family, "intent": analysis.intent,
           "family_correct": float(analysis.family == expected),
           "intent_correct": float(FAMILIES.get(analysis.intent, analysis.intent) == expected),
           "passed_eta": sum(gives_passed_eta(t, order, today) for t in texts),
           "first_suggestion": texts[0] if texts else ""}
    row["apology_first"] = float(bool(texts) and apologises(texts[0]))
    if conv["lang"] == "zh":
        row["foreign_status"] = float(any(foreign_status(t, quoted) for t in texts))
    return row


def _rate(rows: list[dict], key: str, where=lambda r: True) -> float | None:
    values = [r[key] for r in rows if where(r) and key in r]
    return round(sum(values) / len(values), 4) if values else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "intent_accuracy": _rate(rows, "intent_correct"), "family_accuracy": _rate(rows, "family_correct"),
        "apology_rate_angry": _rate(rows, "apology_first", lambda r: r["mood"] == "angry"),
        "apology_rate_calm": _rate(rows, "apology_first", lambda r: r["mood"] == "calm"),
        "passed_eta_suggestions": sum(r["passed_eta"] for r in rows),
        "foreign_status_rate": _rate(rows, "foreign_status"), "n_conversations": len(rows)}
    for key, name in (("topic", "per_topic"), ("lang", "by_lang")):
        groups: dict[str, list] = defaultdict(list)
        for r in rows:
            groups[r[key]].append(r)
        out[name] = {g: {"intent_accuracy": _rate(rs, "intent_correct"), "family_accuracy": _rate(rs, "family_correct"),
                         "n": len(rs)} for g, rs in sorted(groups.items())}
    return out


def evaluate_store(seed: int, cs_intent) -> list[dict[str, Any]]:
    from assistant.agent_assist import AgentModels, analyse_conversation, suggest_replies
    from retrieval.demo_store import build_demo_store

    store = build_demo_store(seed)
    models = AgentModels(store, cs_intent=cs_intent, with_propensity=False)
    today = max(o.updated_at for o in store.orders.values())[:10]
    quoted = policy_sentences(store.policy)
    rows = []
    for conv in store.conversations:
        analysis = analyse_conversation(store, conv, models)
        row = score_conversation(conv, analysis, suggest_replies(store, conv, analysis), store, today, quoted)
        rows.append({"store": seed, **row, "id": f"s{seed}-{conv['conversation_id']}"})
    return rows


def evaluate_suite(path: str, cs_intent) -> list[dict[str, Any]]:
    import json

    from assistant.agent_assist import AgentModels, analyse_conversation, suggest_replies
    from retrieval.demo_store import build_demo_store

    store = build_demo_store(0)
    models = AgentModels(store, cs_intent=cs_intent, with_propensity=False)
    today = max(o.updated_at for o in store.orders.values())[:10]
    quoted = policy_sentences(store.policy)
    rows = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        conv = json.loads(line)
        if conv.get("topic") not in TOPIC_FAMILY or conv.get("mood") not in ("calm", "angry"):
            raise ValueError(f"{path}:{n}: topic must be one of {', '.join(TOPIC_FAMILY)} and mood calm|angry")
        conv = {"user_id": None, "order_id": None, "product_id": None, **conv}
        analysis = analyse_conversation(store, conv, models)
        row = score_conversation(conv, analysis, suggest_replies(store, conv, analysis), store, today, quoted)
        rows.append({"store": "suite", **row})
    return rows


def load_cs_intent(index: str | None):
    from assistant.agent_models import find_artefacts
    from assistant.insights.intent import CSIntentClassifier

    path = find_artefacts(f"{index}/models").get(CSIntentClassifier.NAME) if index else None
    return CSIntentClassifier.load(path) if path else CSIntentClassifier.train()


def main(args: argparse.Namespace) -> int:
    seeds = parse_seeds(args.stores)
    t0 = time.perf_counter()
    cs = load_cs_intent(args.index)
    trained_s = time.perf_counter() - t0
    rows = [row for seed in seeds for row in evaluate_store(seed, cs)]
    metrics = summarise(rows)
    dev = summarise([r for r in rows if r["store"] == 0]) if 0 in seeds else None
    unseen = summarise([r for r in rows if r["store"] != 0]) if any(s != 0 for s in seeds) else None
    suite_rows = evaluate_suite(args.suite, cs) if args.suite else []
    suite = summarise(suite_rows) if suite_rows else None
    metrics.update({"seen_store_0": dev, "unseen_stores": unseen, "suite": suite, "suite_file": args.suite,
                    "intent_model_s": round(trained_s, 1)})
    table = [{"stores": name, **{k: part[k] for k in ("intent_accuracy", "family_accuracy", "apology_rate_angry",
                                                       "passed_eta_suggestions", "foreign_status_rate",
                                                       "n_conversations")}}
             for name, part in (("all", metrics), ("0 (seen)", dev), ("others (unseen)", unseen),
                                ("suite (other words)", suite)) if part]
    if not args.quiet:
        print_table(table, title="agent console on the demo stores' labelled conversations")
        print_table([{"topic": t, **v} for t, v in metrics["per_topic"].items()], title="per topic")
    if suite:
        print_table([{"topic": t, **v} for t, v in suite["per_topic"].items()], title="suite, per topic")
    write_results(args.out, {**metrics, "task": "console", "meta": run_meta(stores=seeds, index=args.index),
                             "per_case": rows + suite_rows})
    return 0
