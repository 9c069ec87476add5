"""`shopassist eval shopbench`: the ShopBench (Shopping MMLU, KDD Cup 2024) public dev questions through any
backend, scored with the official metric of each question.

Prompting follows the starter kit's zero-shot baseline: its system sentence, the question as the user
message, greedy decoding, 100 new tokens (multiple choice: a few). Small models rarely start a reply with
the option number, so `--mc constrained` also offers a second reading of multiple choice: the reply is
constrained (JSON schema, a grammar on llama.cpp) to one of the listed option numbers; the official
free-form protocol stays the default. Parsing follows its `parsers.py`
(multiple choice: the first character as an integer; ranking / retrieval: the integers of the reply;
NER: a Python list literal or comma-separated). Metrics follow its `metrics.py`: accuracy, hit@3,
micro-F1 over a task's entities, ROUGE-L F, NDCG with 2^rel - 1 gains, BLEU (sacrebleu's 13a
tokenisation, lowercased, exponential smoothing), sentence-transformer cosine clipped at 0 with the local
all-MiniLM-L6-v2. Scores are averaged per task, tasks per track, tracks into `overall`.

Differences from the official scorer, all small: ROUGE-L without the Porter stemmer; Japanese BLEU on
characters (no MeCab here); ranking indices outside the list score 0 instead of wrapping around.
With 96 questions the interval is about +-10 points: a sanity check of a backbone, not a headline.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from eval.harness import Case, backend_meta, percentile, print_table, run_meta, run_task, write_results

SYSTEM = ("You are a helpful online shopping assistant. Please answer the following question about online "
          "shopping and follow the given instructions.")
MAX_TOKENS = {"multiple-choice": 4}
DEFAULT_MAX_TOKENS = 100


def load_questions(path: str | Path) -> list[Case]:
    path = Path(path)
    if path.is_dir():
        path = path / "development.json"
    cases, per_task = [], Counter()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                per_task[q["task_name"]] += 1
                cases.append(Case(id=f"{q['task_name']}-{per_task[q['task_name']]:02d}", input=q["input_field"],
                                  expected=q["output_field"],
                                  meta={k: q[k] for k in ("task_name", "task_type", "metric", "track")}))
            except (KeyError, json.JSONDecodeError) as e:
                raise ValueError(f"{path}:{n}: bad question line ({e})") from e
    return cases


# ---- parsing (as the starter kit's parsers.py) ---------------------------------------------------------
def parse_multichoice(text: str) -> int:
    try:
        return int(text.strip()[0])
    except (ValueError, IndexError):
        return -1


def parse_integers(text: str, limit: int) -> list[int]:
    cleaned = "".join(c for c in text if c.isnumeric() or c in ", ")
    out = []
    for item in cleaned.split(","):
        try:
            out.append(int(item))
        except ValueError:
            pass
    return out[:limit]


def parse_ranking(text: str) -> list[int]:
    ranked = parse_integers(text, 5)
    return ranked if len(ranked) == len(set(ranked)) else []


def parse_entities(text: str) -> list[str]:
    try:
        value = ast.literal_eval(text)
        if isinstance(value, list) and all(isinstance(x, str) for x in value):
            return value
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        pass
    return [e.strip() for e in text.split(",")]


# ---- metrics (as the starter kit's metrics.py) ---------------------------------------------------------
def hit_rate_3(pred: list[int], truth: list[int]) -> float:
    return len(set(truth) & set(pred[:3])) / len(truth) if truth else 0.0


def ndcg(pred: list[int], weights: list[float]) -> float:
    pred = pred[: len(weights)]
    dcg = sum((2 ** (weights[i - 1] if 1 <= i <= len(weights) else 0) - 1) / math.log2(pos + 2)
              for pos, i in enumerate(pred))
    idcg = sum((2 ** w - 1) / math.log2(pos + 2) for pos, w in enumerate(sorted(weights, reverse=True)))
    return dcg / idcg if idcg > 0 else 0.0


def tp_fp_fn(entities: list[str], truth: list[str]) -> tuple[int, int, int]:
    answer = [e.lower().strip(" ") for e in entities]
    gold = [t.lower() for t in truth]
    tp = len(set(answer) & set(gold))
    return tp, len(answer) - tp, len(gold) - tp


def micro_f1(counts: Sequence[tuple[int, int, int]]) -> float:
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _rouge_tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def rouge_l(generation: str, truth: str) -> float:
    a, b = _rouge_tokens(truth), _rouge_tokens(generation)
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(b), lcs / len(a)
    return 2 * p * r / (p + r)


_13A = [(re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "), (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
        (re.compile(r"([\.,])([^0-9])"), r" \1 \2"), (re.compile(r"([0-9])(-)"), r"\1 \2 ")]


def tokenize_13a(line: str) -> list[str]:
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for pattern, repl in _13A:
        line = pattern.sub(repl, line)
    return line.split()


def tokenize_chars(line: str) -> list[str]:
    """CJK characters one by one, other runs by 13a (stands in for MeCab)."""
    out = []
    for tok in tokenize_13a(line):
        out += re.findall(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]|[^\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+", tok)
    return out


def bleu(generation: str, truth: str, jp: bool = False) -> float:
    """sacrebleu's sentence score of corpus_bleu([gen], [[truth]], lowercase=True) / 100."""
    generation = generation.strip("\n").split("\n")[0]
    tok = tokenize_chars if jp else tokenize_13a
    hyp, ref = tok(generation.lower()), tok(truth.lower())
    if not hyp:
        return 0.0
    precisions, smooth = [], 1.0
    for n in range(1, 5):
        h = Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
        total = sum(h.values())
        if total == 0:
            precisions.append(0.0)
            continue
        correct = sum(min(c, r[g]) for g, c in h.items())
        if correct == 0:
            smooth *= 2
            precisions.append(1.0 / (smooth * total))
        else:
            precisions.append(correct / total)
    bp = 1.0 if len(hyp) >= len(ref) else math.exp(1 - len(ref) / len(hyp))
    return bp * math.exp(sum(math.log(p) if p > 0 else -9999999999 for p in precisions) / 4)


class Cosine:
    """Sentence-transformer cosine clipped at 0 (a list of golds: the mean cosine)."""

    def __init__(self):
        from retrieval.embedders import load_embedder

        self.embedder = load_embedder("minilm")

    def __call__(self, generation: str, truth: str | list[str]) -> float:
        import numpy as np

        golds = [truth] if isinstance(truth, str) else list(truth)
        vecs = self.embedder.embed_passages([generation] + golds)
        g = vecs[0] / (np.linalg.norm(vecs[0]) or 1.0)
        cos = [float(g @ (v / (np.linalg.norm(v) or 1.0))) for v in vecs[1:]]
        return max(float(np.mean(cos)), 0.0)


# ---- the task -----------------------------------------------------------------------------------------
def option_numbers(question: str) -> list[int]:
    """The numbers of a multiple-choice question's options ("0. mouse pad" lines)."""
    return sorted({int(n) for n in re.findall(r"^\s*(\d+)\.\s", question, re.M)}) or [0, 1, 2, 3]


class ShopBenchTask:
    def __init__(self, backend, cases: list[Case], max_tokens: int = DEFAULT_MAX_TOKENS, timeout_s: float = 600.0,
                 mc: str = "free"):
        self.backend, self._cases, self.max_tokens, self.timeout_s = backend, cases, max_tokens, timeout_s
        self.mc = mc
        self._cosine = None
        self.name = "shopbench"

    def cases(self) -> list[Case]:
        return self._cases

    def run_batch(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        from assistant.errors import BackendError, BackendTimeout

        out = []
        for c in cases:
            t0 = time.perf_counter()
            constrained = self.mc == "constrained" and c.meta["task_type"] == "multiple-choice"
            schema = {"type": "object", "properties": {"answer": {"enum": option_numbers(c.input)}},
                      "required": ["answer"]} if constrained else None
            try:
                gen = self.backend.generate([{"role": "system", "content": SYSTEM}, {"role": "user", "content": c.input}],
                                            json_schema=schema,
                                            max_tokens=12 if constrained else MAX_TOKENS.get(c.meta["task_type"],
                                                                                             self.max_tokens),
                                            temperature=0.0, seed=0, timeout_s=self.timeout_s)
                text, error = gen.text or gen.raw or "", None
                if constrained:
                    text = _answer_field(text)
            except (BackendError, BackendTimeout) as e:  # scored as an empty answer, the run goes on
                text, error = "", str(e)
            out.append({"text": text, "error": error, "ms": (time.perf_counter() - t0) * 1e3})
        return out

    def cosine(self) -> Cosine:
        if self._cosine is None:
            self._cosine = Cosine()
        return self._cosine

    def evaluate(self, case: Case, output: dict[str, Any]) -> dict[str, Any]:
        row = score_answer(case.meta["task_type"], case.meta["metric"], output["text"], case.expected, self.cosine)
        return {**row, "task": case.meta["task_name"], "task_type": case.meta["task_type"],
                "metric": case.meta["metric"], "track": case.meta["track"], "output": output["text"][:300],
                "gold": case.expected, "latency_ms": output["ms"], "error": output.get("error")}


def _answer_field(text: str) -> str:
    try:
        return str(json.loads(text)["answer"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return text


def score_answer(task_type: str, metric: str, text: str, gold: Any, cosine=None) -> dict[str, Any]:
    """Parse one reply and score it; `score` is the per-question value (NER: its own F1, plus tp/fp/fn)."""
    if task_type == "multiple-choice":
        pred = parse_multichoice(text)
        return {"score": float(pred == gold), "parsed": pred, "format_ok": pred != -1}
    if task_type == "ranking":
        pred = parse_ranking(text)
        return {"score": ndcg(pred, [float(w) for w in gold]), "parsed": pred, "format_ok": bool(pred)}
    if task_type == "retrieval":
        pred = parse_integers(text, 3)
        return {"score": hit_rate_3(pred, list(gold)), "parsed": pred, "format_ok": bool(pred)}
    if task_type == "named_entity_recognition":
        pred = parse_entities(text)
        tp, fp, fn = tp_fp_fn(pred, list(gold))
        return {"score": micro_f1([(tp, fp, fn)]), "parsed": pred, "format_ok": bool(text.strip()),
                "tp": tp, "fp": fp, "fn": fn}
    answer = text.strip()
    if metric == "rougel":
        score = rouge_l(answer, gold)
    elif metric in ("bleu", "jp-bleu"):
        score = bleu(answer, gold, jp=metric == "jp-bleu")
    elif "sent-transformer" in metric:
        score = cosine()(answer, gold) if cosine else float("nan")
    else:
        raise ValueError(f"no metric {metric!r} for task type {task_type!r}")
    return {"score": score, "parsed": answer[:300], "format_ok": bool(answer)}


def aggregate(per_case: list[dict], outputs: list[Any]) -> dict[str, Any]:
    """Per task (mean, or micro-F1 for NER), per track (mean of its tasks), overall (mean of tracks)."""
    tasks: dict[str, list[dict]] = {}
    for r in per_case:
        tasks.setdefault(r["task"], []).append(r)
    task_scores = {t: (micro_f1([(r["tp"], r["fp"], r["fn"]) for r in rows]) if rows[0]["metric"] == "micro f1"
                       else sum(r["score"] for r in rows) / len(rows)) for t, rows in tasks.items()}
    tracks: dict[str, list[str]] = {}
    for t, rows in tasks.items():
        tracks.setdefault(rows[0]["track"], []).append(t)
    track_scores = {tr: sum(task_scores[t] for t in ts) / len(ts) for tr, ts in tracks.items()}
    mc = [r for r in per_case if r["task_type"] == "multiple-choice"]
    lat = [r["latency_ms"] for r in per_case]
    return {"overall": sum(track_scores.values()) / len(track_scores) if track_scores else float("nan"),
            **{f"track_{_short(tr)}": v for tr, v in sorted(track_scores.items())},
            "multiple_choice_accuracy": sum(r["score"] for r in mc) / len(mc) if mc else float("nan"),
            "format_ok_rate": sum(bool(r["format_ok"]) for r in per_case) / max(len(per_case), 1),
            "backend_errors": sum(bool(r.get("error")) for r in per_case),
            "latency_ms_p50": percentile(lat, 50), "latency_ms_p95": percentile(lat, 95),
            "n_questions": len(per_case)}


def _short(track: str) -> str:
    return track.replace("amazon-kdd-cup-24-", "")


def breakdowns(per_case: list[dict]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {"per_track": {}, "per_task_type": {}, "per_task": {}}
    m = aggregate(per_case, [])
    for key, field in (("per_track", "track"), ("per_task_type", "task_type"), ("per_task", "task")):
        for name in sorted({r[field] for r in per_case}):
            rows = [r for r in per_case if r[field] == name]
            entry = {"score": aggregate(rows, [])["overall"] if key != "per_task_type"
                     else sum(r["score"] for r in rows) / len(rows), "n": len(rows)}
            if key == "per_task":
                entry["metric"] = rows[0]["metric"]
            out[key][_short(name) if key == "per_track" else name] = entry
    for tr in out["per_track"]:
        out["per_track"][tr]["score"] = m[f"track_{tr}"]
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="shopbench_dev folder or its development.json")
    p.add_argument("--backend", default="llamacpp", help="llamacpp | transformers | openai | scripted")
    p.add_argument("--model", default=None)
    p.add_argument("--base-url", default=None)
    p.add_argument("--limit", type=int, default=None, help="only the first N questions (smoke test)")
    p.add_argument("--only", default=None, help="comma-separated task types, e.g. multiple-choice")
    p.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per question before it scores 0")
    p.add_argument("--mc", choices=["free", "constrained"], default="free",
                   help="multiple choice: free-form reply (official) or constrained to an option number")
    p.add_argument("--out", required=True)


KEYS = ["overall", "multiple_choice_accuracy", "format_ok_rate", "backend_errors", "latency_ms_p50", "n_questions"]


def main(args: argparse.Namespace) -> int:
    from assistant.llm import load_backend

    backend = load_backend(args.backend, args.model, **({"base_url": args.base_url} if args.base_url else {}))
    cases = load_questions(args.data)
    if args.only:
        cases = [c for c in cases if c.meta["task_type"] in args.only.split(",")]
    cases = cases[: args.limit or None]
    res = run_task(ShopBenchTask(backend, cases, args.max_tokens, args.timeout, args.mc), aggregate=aggregate,
                   batch_size=4)
    m = res.metrics
    parts = breakdowns(res.per_case)
    print_table([{"track": k, **v} for k, v in parts["per_track"].items()], title=f"shopbench: {args.data}")
    print_table([{"task_type": k, **v} for k, v in parts["per_task_type"].items()])
    print_table([{k: m[k] for k in KEYS}], KEYS)
    payload = {**{k: m[k] for k in m if k in KEYS or k.startswith("track_")}, "latency_ms_p95": m["latency_ms_p95"],
               "task": "shopbench", **parts, "per_case": res.per_case,
               "meta": run_meta(task="shopbench", data=str(args.data), **backend_meta(backend, args.backend),
                                max_tokens=args.max_tokens, system_prompt=SYSTEM, limit=args.limit, mc=args.mc)}
    write_results(args.out, payload)
    return 0
