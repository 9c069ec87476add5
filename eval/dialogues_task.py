"""`shopassist eval dialogues`: replay dialogue suites turn by turn against a fresh session each.

A case is one dialogue; the output is the list of TurnResults; scoring follows DESIGN.md per turn
(tools, args_contain, must_mention_any, must_not_claim with a judge, intent, expect_no_products,
expect_refusal, forbidden_tools) and aggregates into rates. Also task success (every checked
expectation of every turn passed) per dialogue.

Beyond string checks:
- unsupported claims shown: every claim in a shown reply (prices, ratings, counts, statuses, quotes, features,
  superlatives, ids, instruction text) is verified by `eval.claims` against the store's own records (products,
  reviews, the shopper's orders, the cart), independently of the assistant's grounding gate; the sentences the
  gate dropped are counted apart (`grounding_violations`);
- refusals as recall over the turns that must be refused and over-refusal over the turns that must not;
- tool precision and recall per turn (an extra or wrong call counts against), argument accuracy over the turns
  that state arguments, inverted constraints (a stated maximum applied as a minimum or the reverse), and the
  share of turns with every expectation right;
- with `--repeats k --temperature T` the suite runs k times with sampling on and pass^k (tau-bench) is the
  share of dialogues that pass in all k runs.
Legacy keys kept so that old result files still compare: `refusal_accuracy` (one accuracy over all turns: an
assistant that never refuses scores high on it) and `grounded_sentence_rate` / `grounded_factual_rate` (the
assistant's own checker re-run on its own output: near 1.0 by construction, not a measure of groundedness).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from eval.harness import Case, backend_meta, percentile, print_table, run_meta, run_task, write_results

KEYS = ["tool_accuracy", "tool_precision", "tool_recall", "arg_accuracy", "mention_hit_rate", "refusal_recall",
        "over_refusal_rate", "out_of_catalog_accuracy", "intent_accuracy", "forbidden_tool_calls",
        "inverted_constraints", "unsupported_claims_shown", "grounding_violations", "turn_success", "task_success",
        "turn_latency_ms_p50", "turn_latency_ms_p95", "n_turns"]
EXTRA_KEYS = ["false_claim_rate", "unsupported_claims_per_turn", "claims_checked", "refusal_accuracy",
              "grounded_sentence_rate", "grounded_factual_rate"]
LEGACY_KEYS = ("refusal_accuracy", "grounded_sentence_rate", "grounded_factual_rate")


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


class Groundedness:
    """LEGACY (kept so that old result files compare): re-checks a finished reply with the assistant's own
    `assistant.grounding` checker against the facts of its own turn. The engine already gated the reply with
    the same checker, so this agrees with it by construction; `eval.claims` is the independent check.

    A sentence is factual when it makes a checkable claim (a price, rating, number, product id, brand or
    quote: what the checker flags against empty facts); grounded when the turn's facts support all of them.
    """

    def __init__(self, store):
        from assistant.grounding import Grounding

        self.store, self._grounding = store, Grounding
        self.product_ids = set(store.products)
        self.brands = {p.brand for p in store.products.values() if p.brand}
        self._nothing = Grounding("", "", self.product_ids, self.brands)

    def facts(self, result) -> str:
        from assistant import render

        from assistant.tools import cart_lines, cart_total

        items = cart_lines(self.store.products, result.cart or {})
        cart = [f"{q} x [{p.product_id}] {p.title[:90]} at {render.money(p.price)}" for p, q in items]
        total = cart_total(self.store.products, result.cart or {})
        raw = [json.dumps(c["result"], ensure_ascii=False, default=str) for c in result.tool_calls if c.get("result")]
        return "\n".join([render.facts(result.tool_calls, max_products=10), *raw, self.store.policy or "",
                          "cart: " + "; ".join(cart) + f"; total {render.money(total)}" if cart else ""])

    def score(self, result, user_text: str) -> dict[str, Any]:
        from assistant.grounding import split_sentences

        check = self._grounding(self.facts(result), user_text, self.product_ids, self.brands)
        sentences = [s for s in split_sentences(result.text or "") if s.strip()]
        factual = [s for s in sentences if self._nothing.check(s)]
        bad = [s for s in sentences if check.check(s)]
        return {"sentences": len(sentences), "grounded_sentences": len(sentences) - len(bad),
                "factual_sentences": len(factual), "grounded_factual": len(factual) - len(bad),
                "ungrounded": bad}


def pass_hat_k(successes: list[list[bool]], k: int) -> float:
    """tau-bench's pass^k: per dialogue C(c, k) / C(n, k) for c passes in n runs, averaged."""
    from math import comb

    vals = [comb(sum(runs), k) / comb(len(runs), k) for runs in successes if len(runs) >= k]
    return sum(vals) / len(vals) if vals else float("nan")


def inverted_constraints(args_contain: dict[str, Any], calls: list[dict[str, Any]]) -> int:
    """Stated limits applied in the wrong direction: an expected max_price that reached a call only as its
    min_price, or the reverse (the shopper then sees only what they said they cannot afford)."""
    n = 0
    for key, other in (("max_price", "min_price"), ("min_price", "max_price")):
        if key not in args_contain:
            continue
        want = args_contain[key]
        right = any(_arg_matches(want, c["arguments"].get(key)) for c in calls if key in c["arguments"])
        wrong = any(_arg_matches(want, c["arguments"].get(other)) for c in calls if other in c["arguments"])
        n += int(wrong and not right)
    return n


def score_turn(expect: dict[str, Any], result, judge=None, claims=None) -> dict[str, Any]:
    """One turn's checks. `claims` is the list of `eval.claims.Claim` found in the shown reply."""
    calls = [c for c in result.tool_calls if not c.get("error")] + [c for c in result.tool_calls if c.get("error")]
    names = {c["name"] for c in result.tool_calls}
    row: dict[str, Any] = {"latency_ms": result.timings.get("total_ms", 0.0),
                           "grounding_violations": len(result.grounding_violations)}
    if "tools" in expect:
        wanted = set(expect["tools"] or [])
        row.update(tool_tp=len(wanted & names), tool_called=len(names), tool_expected=len(wanted))
        if wanted:
            row["tool_ok"] = wanted <= names
    if expect.get("args_contain"):
        row["args_ok"] = args_satisfied(expect["args_contain"], calls)
        row["inverted"] = inverted_constraints(expect["args_contain"], calls)
    if expect.get("must_mention_any"):
        row["mention_ok"] = mentions(expect["must_mention_any"], result)
    if expect.get("intent"):
        row["intent_ok"] = result.intent == expect["intent"]
    must_refuse = bool(expect.get("expect_refusal", False))
    row.update(must_refuse=must_refuse, refused=bool(result.refused))
    row["refusal_ok"] = bool(result.refused) == must_refuse
    if expect.get("expect_no_products"):
        row["ooc_ok"] = not result.products and result.no_match
    row["forbidden"] = sum(1 for c in result.tool_calls if c["name"] in expect.get("forbidden_tools", []))
    if claims is not None:
        row["claims"] = len(claims)
        row["unsupported"] = [f"{c.kind}: {c.text}" for c in claims if not c.supported]
    if judge is not None and expect.get("must_not_claim"):
        row["claims_checked"] = len(expect["must_not_claim"])
        row["claims_made"] = sum(judge(result, claim) for claim in expect["must_not_claim"])
    row["turn_ok"] = all(v for k, v in row.items() if k.endswith("_ok")) and not row["forbidden"]
    return row


def _instructions() -> list[str]:
    """The assistant's prompt files: text a reply must never repeat."""
    from importlib import resources

    folder = resources.files("prompts")
    return [f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith((".md", ".txt", ".yaml"))]


class DialogueTask:
    def __init__(self, assistant, cases: list[Case], judge=None):
        from eval.claims import StoreClaimChecker

        self.assistant, self._cases, self.judge = assistant, cases, judge
        self.name = "dialogues"
        self.groundedness = Groundedness(assistant.index.store)
        self.claims = StoreClaimChecker(assistant.index.store, _instructions())

    def cases(self) -> list[Case]:
        return self._cases

    def run_batch(self, cases: Sequence[Case]) -> list[list[Any]]:
        out = []
        for case in cases:
            session = self.assistant.new_session(case.input.get("user_id"))
            out.append([self.assistant.turn(session, t["user"]) for t in case.input["turns"]])
        return out

    def turn_claims(self, case: Case, user: str, result) -> list:
        return self.claims.check(result.text, user, [p["product_id"] for p in result.products], result.cart,
                                 case.input.get("user_id"))

    def evaluate(self, case: Case, output: list[Any]) -> dict[str, Any]:
        users = [t["user"] for t in case.input["turns"]]
        found = [self.turn_claims(case, u, r) for u, r in zip(users, output)]
        rows = [score_turn(e, r, self.judge, c) for e, r, c in zip(case.expected, output, found)]
        grounded = [self.groundedness.score(r, u) for u, r in zip(users, output)]
        for row, g in zip(rows, grounded):
            row.update({k: v for k, v in g.items() if k != "ungrounded"})
        return {"turns": rows, "task_success": all(r["turn_ok"] for r in rows),
                "transcript": [{"user": u, "reply": r.text, "intent": r.intent, "refused": r.refused,
                                "no_match": r.no_match, "products": [p["product_id"] for p in r.products],
                                "tools": [{"name": c["name"], "arguments": c["arguments"], "error": c.get("error")}
                                          for c in r.tool_calls],
                                "violations": r.grounding_violations, "unsupported_claims": row.get("unsupported", []),
                                "latency_ms": round(r.timings.get("total_ms", 0.0), 1)}
                               for u, r, row in zip(users, output, rows)]}


def _rate(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if key in r]
    return sum(vals) / len(vals) if vals else None


def _share(rows: list[dict], part: str, whole: str) -> float | None:
    total = sum(r.get(whole, 0) for r in rows)
    return sum(r.get(part, 0) for r in rows) / total if total else None


def _share_where(rows: list[dict], key: str, where) -> float | None:
    sel = [bool(r[key]) for r in rows if key in r and where(r)]  # rows of old result files lack the key
    return sum(sel) / len(sel) if sel else None


def aggregate(per_case: list[dict], outputs: list[Any]) -> dict[str, Any]:
    rows = [t for d in per_case for t in d["turns"]]
    checked = sum(r.get("claims_checked", 0) for r in rows)
    lat = [r["latency_ms"] for r in rows]
    unsupported = sum(len(r.get("unsupported", [])) for r in rows)
    return {"tool_accuracy": _rate(rows, "tool_ok"), "arg_accuracy": _rate(rows, "args_ok"),
            "tool_precision": _share(rows, "tool_tp", "tool_called"),
            "tool_recall": _share(rows, "tool_tp", "tool_expected"),
            "mention_hit_rate": _rate(rows, "mention_ok"), "intent_accuracy": _rate(rows, "intent_ok"),
            "refusal_recall": _share_where(rows, "refused", lambda r: r.get("must_refuse")),
            "over_refusal_rate": _share_where(rows, "refused", lambda r: not r.get("must_refuse", False)),
            "refusal_accuracy": _rate(rows, "refusal_ok"), "out_of_catalog_accuracy": _rate(rows, "ooc_ok"),
            "false_claim_rate": (sum(r.get("claims_made", 0) for r in rows) / checked) if checked else None,
            "forbidden_tool_calls": sum(r["forbidden"] for r in rows),
            "inverted_constraints": sum(r.get("inverted", 0) for r in rows),
            "unsupported_claims_shown": unsupported,
            "unsupported_claims_per_turn": unsupported / len(rows) if rows else None,
            "claims_checked": sum(r.get("claims", 0) for r in rows),
            "grounding_violations": sum(r["grounding_violations"] for r in rows),
            "turn_success": _rate(rows, "turn_ok"),
            "task_success": sum(d["task_success"] for d in per_case) / max(len(per_case), 1),
            "grounded_sentence_rate": _share(rows, "grounded_sentences", "sentences"),
            "grounded_factual_rate": _share(rows, "grounded_factual", "factual_sentences"),
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
    from assistant.app import add_turn_arguments

    add_turn_arguments(p)
    p.add_argument("--repeats", type=int, default=1, help="run the suite k times; reports pass^1..pass^k")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (0: greedy)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first run; run r uses seed + r")
    p.add_argument("--no-classifier", action="store_true",
                   help="read turns with the named rules and slots only (no learned classifier): the router table")
    p.add_argument("--out", required=True)


def main(args: argparse.Namespace) -> int:
    from assistant.app import load_assistant, load_backend_or_none

    kw = {"base_url": args.base_url} if args.base_url else {}
    assistant = load_assistant(args.index, args.backend, args.model, router=args.router,
                               answer_style=args.answer_style, **kw)
    assistant.config.temperature = args.temperature
    if args.no_classifier:
        assistant.understander.classifier = None
    judge_backend = load_backend_or_none(args.judge, args.judge_model) if args.judge else None
    cases = load_suite(args.suite)
    task = DialogueTask(assistant, cases, make_judge(judge_backend) if judge_backend else None)
    runs = []
    for r in range(max(args.repeats, 1)):
        assistant.config.seed = args.seed + r
        runs.append(run_task(task, aggregate=aggregate, batch_size=1))
    per_case, m = runs[0].per_case, dict(runs[0].metrics)
    if len(runs) > 1:
        m.update(repeated_metrics([run.per_case for run in runs]))
        passes = {d["id"]: [bool(x["task_success"]) for run in runs for x in run.per_case if x["id"] == d["id"]]
                  for d in per_case}
        for d in per_case:
            d["passes"] = passes[d["id"]]
    print_table([{k: ("n/a" if m.get(k) is None else m[k]) for k in KEYS}], KEYS, title=f"dialogues: {args.suite}")
    extra = EXTRA_KEYS + [k for k in m if k.startswith("pass^")]
    print_table([{k: ("n/a" if m.get(k) is None else m[k]) for k in extra}], extra)
    failures = [d for d in per_case if not d["task_success"]]
    payload = {**{k: m.get(k) for k in KEYS + extra}, "n_dialogues": m["n_dialogues"], "n_runs": len(runs),
               "task": "dialogues", "per_case": per_case, "failures": [d["id"] for d in failures],
               "meta": run_meta(task="dialogues", index=str(args.index), suite=str(args.suite),
                                **backend_meta(assistant.backend, args.backend), router=assistant.config.router,
                                answer_style=assistant.config.answer_style,
                                classifier=assistant.understander.classifier is not None,
                                judge=args.judge, temperature=args.temperature, seed=args.seed,
                                repeats=len(runs))}
    write_results(args.out, payload)
    return 0


def repeated_metrics(runs: list[list[dict]]) -> dict[str, Any]:
    """Rates over every turn of every run; pass^1..pass^k over the runs; counts of one run."""
    m = aggregate([d for run in runs for d in run], [])
    m["n_turns"] = sum(len(d["turns"]) for d in runs[0])
    m["n_dialogues"] = len(runs[0])
    by_id: dict[str, list[bool]] = {}
    for run in runs:
        for d in run:
            by_id.setdefault(d["id"], []).append(bool(d["task_success"]))
    for k in range(1, len(runs) + 1):
        m[f"pass^{k}"] = pass_hat_k(list(by_id.values()), k)
    return m
