"""`shopassist eval photos`: shopping from a photo, end to end, on pictures rendered from the catalog.

Each case is one catalog product drawn on a box face (eval/photo_render.py: brand, name, model or
capacity line, small print, sometimes a price sticker; Latin or CJK fonts) and photographed `clean`
(straight, plain table) or `damaged` (busy background with stray words, rotation, perspective, blur,
uneven light, noise, JPEG 35-75). The picture's JPEG bytes go through the same path as a shopper's
upload (assistant.photo: decode, OCR, reading, then the engine's turn over a fresh session).

Metrics: recall@1 / recall@5 (the product is the first / among the cards shown), OCR character
accuracy (1 - edit distance / length, over the text drawn, case and spaces ignored, lines aligned; and
`name_char_accuracy` over the brand and name lines alone, the large print that identifies the product),
read_rate (a query was read at all), the same recall with perfect OCR (`oracle_recall@1`: reading and
search alone), OCR latency per picture, and with `--absent-index` pictures of another store's products,
for which the reply must say that nothing matches (`absent_no_match_rate`). All figures come from
rendered pictures, never from camera photos.
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from eval.harness import Case, percentile, print_table, run_meta, run_task, write_results

KEYS = ["recall@1", "recall@5", "oracle_recall@1", "char_accuracy", "name_char_accuracy", "read_rate", "ocr_ms_p50", "ocr_ms_p95",
        "photo_turn_ms_p50", "n"]


# ---- metrics -----------------------------------------------------------------------------------------

def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = np.arange(len(b) + 1)
    for i, ca in enumerate(a, start=1):
        current = np.empty_like(previous)
        current[0] = i
        subst = previous[:-1] + (np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32) != ord(ca))
        current[1:] = np.minimum(previous[1:] + 1, subst)
        for j in range(1, len(b) + 1):  # insertions run left to right
            if current[j - 1] + 1 < current[j]:
                current[j] = current[j - 1] + 1
        previous = current
    return int(previous[-1])


def _norm(text: str) -> str:
    return "".join(text.lower().split())


def char_accuracy(truth_lines: Sequence[str], read_lines: Sequence[str]) -> float:
    """1 - CER over the drawn text: each read line is put beside the drawn line it resembles most (OCR
    reads rotated pictures in another order), then the texts are compared; 0 when nothing right was read."""
    import difflib

    truth = [_norm(t) for t in truth_lines if _norm(t)]
    if not truth:
        return 1.0 if not any(_norm(r) for r in read_lines) else 0.0
    slots: list[list[str]] = [[] for _ in truth]
    for line in (_norm(r) for r in read_lines):
        if line:
            best = max(range(len(truth)), key=lambda i: difflib.SequenceMatcher(None, truth[i], line).ratio())
            slots[best].append(line)
    reference, hypothesis = "".join(truth), "".join("".join(s) for s in slots)
    return max(0.0, 1.0 - edit_distance(reference, hypothesis) / len(reference))


def line_accuracy(truth_lines: Sequence[str], read_lines: Sequence[str]) -> float:
    """1 - CER of the given lines alone (the brand and name), each against the read line closest to it; read
    lines that match none of them (small print, background words) do not count against it."""
    import difflib

    truth = [_norm(t) for t in truth_lines if _norm(t)]
    read = [_norm(r) for r in read_lines if _norm(r)]
    if not truth:
        return 1.0
    errors = 0
    for t in truth:
        best = max(read, key=lambda r: difflib.SequenceMatcher(None, t, r).ratio(), default="")
        errors += min(edit_distance(t, best), len(t))
    return 1.0 - errors / sum(len(t) for t in truth)


def recall_at(shown: Sequence[str], gold: str, k: int) -> float:
    return 1.0 if gold in list(shown)[:k] else 0.0


# ---- the task ----------------------------------------------------------------------------------------

class PhotoTask:
    """Cases: (product, damage level, present in the store or not). Output: what the photo turn showed."""

    def __init__(self, photos, cases: list[Case], images_dir: Path | None = None):
        self.photos, self._cases, self.images_dir = photos, cases, images_dir
        self.name = f"photos/{photos.engine}"

    def cases(self) -> list[Case]:
        return self._cases

    def run_batch(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        return [self._run(c) for c in cases]

    def _run(self, case: Case) -> dict[str, Any]:
        from assistant.engine import DoneEvent
        from eval.photo_render import damage, render_box

        rng = random.Random(case.meta["seed"])
        box = render_box(case.input, rng)
        jpeg, truth = damage(box, rng, case.meta["level"])
        if self.images_dir is not None:
            self.images_dir.mkdir(parents=True, exist_ok=True)
            (self.images_dir / f"{case.id}.jpg").write_bytes(jpeg)
        t0 = time.perf_counter()
        result = next(e.result for e in self.photos.stream(self.photos.assistant.new_session(), "", jpeg)
                      if isinstance(e, DoneEvent))
        turn_ms = (time.perf_counter() - t0) * 1e3
        read = result.tool_calls[0].get("result") or {}
        return {"shown": [p["product_id"] for p in result.products], "no_match": result.no_match,
                "lines": [ln["text"] for ln in read.get("lines", [])], "query": read.get("query", ""),
                "truth": truth, "name_lines": box.name_lines, "ocr_ms": (read.get("timings") or {}).get("total_ms"),
                "det_ms": (read.get("timings") or {}).get("det_ms"), "turn_ms": turn_ms,
                "oracle": self._oracle(box.lines) if case.meta["present"] else None, "reply": result.text[:300]}

    def _oracle(self, lines: list[str]) -> list[str]:
        """The products shown when OCR is perfect: the drawn lines, read and searched the same way."""
        from assistant.engine import DoneEvent
        from assistant.ocr import OcrLine

        perfect = [OcrLine(t, 1.0, (0.0, float(i * 40), 100.0, float(i * 40 + 30 - i))) for i, t in enumerate(lines)]
        query = self.photos.reader.read(perfect).query
        if not query:
            return []
        events = self.photos.assistant.stream(self.photos.assistant.new_session(), query)
        result = next(e.result for e in events if isinstance(e, DoneEvent))
        return [p["product_id"] for p in result.products if not result.no_match]

    def evaluate(self, case: Case, out: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {"level": case.meta["level"], "lang": case.meta["lang"], "present": case.meta["present"],
                               "char_accuracy": char_accuracy(out["truth"], out["lines"]),
                               "name_char_accuracy": line_accuracy(out["name_lines"], out["lines"]),
                               "read_rate": 1.0 if out["query"] else 0.0, "ocr_ms": out["ocr_ms"],
                               "det_ms": out["det_ms"], "turn_ms": out["turn_ms"], "query": out["query"],
                               "lines": out["lines"], "shown": out["shown"][:5]}
        if case.meta["present"]:
            shown = [] if out["no_match"] else out["shown"]
            row.update({"recall@1": recall_at(shown, case.expected, 1), "recall@5": recall_at(shown, case.expected, 5),
                        "oracle_recall@1": recall_at(out["oracle"], case.expected, 1), "gold": case.expected})
        else:
            row["said_no_match"] = 1.0 if (out["no_match"] or not out["shown"]) else 0.0
        return row


def make_cases(store, n: int, levels: Sequence[str], seed: int, present: bool, prefix: str) -> list[Case]:
    from eval.photo_render import _is_cjk

    products = sorted((p for p in store.products.values() if p.title), key=lambda p: p.product_id)
    picked = random.Random(seed).sample(products, min(n, len(products)))
    cases = []
    for i, p in enumerate(picked):
        for level in levels:
            cases.append(Case(id=f"{prefix}{p.product_id}-{level}", input=p, expected=p.product_id,
                              meta={"level": level, "lang": "zh" if _is_cjk(p.title) else "en", "present": present,
                                    "seed": seed * 100_003 + i * 7 + len(level)}))
    return cases


def summarise(rows: list[dict]) -> dict[str, Any]:
    present = [r for r in rows if r["present"]]
    absent = [r for r in rows if not r["present"]]
    ocr = [r["ocr_ms"] for r in rows if r["ocr_ms"] is not None]
    out: dict[str, Any] = {"n": len(present), "n_absent": len(absent),
                           "ocr_ms_p50": percentile(ocr, 50), "ocr_ms_p95": percentile(ocr, 95),
                           "ocr_ms_mean": float(np.mean(ocr)) if ocr else float("nan"),
                           "photo_turn_ms_p50": percentile([r["turn_ms"] for r in rows], 50)}
    for key in ("recall@1", "recall@5", "oracle_recall@1", "char_accuracy", "name_char_accuracy", "read_rate"):
        out[key] = float(np.mean([r[key] for r in present])) if present else float("nan")
    if absent:
        out["absent_no_match_rate"] = float(np.mean([r["said_no_match"] for r in absent]))
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index folder from `shopassist index`")
    p.add_argument("--n", type=int, default=60, help="catalog products to picture (each at every level)")
    p.add_argument("--levels", default="clean,damaged", help="comma-separated: clean, damaged")
    p.add_argument("--engine", default="ppocrv4", help="OCR engine: ppocrv4 (default) or ppocrv5")
    p.add_argument("--absent-index", help="another store's index: its products must get 'nothing matches'")
    p.add_argument("--n-absent", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save-images", help="folder to keep the rendered JPEGs in (to look at them)")
    p.add_argument("--out", required=True, help="results JSON")


def main(args: argparse.Namespace) -> int:
    import os

    from assistant.app import load_assistant
    from assistant.photo import PhotoSearch
    from eval.photo_render import LEVELS, fonts_available
    from retrieval.search import ProductIndex

    levels = [x.strip() for x in args.levels.split(",") if x.strip()]
    if not set(levels) <= set(LEVELS):
        raise ValueError(f"--levels must be among {', '.join(LEVELS)}")
    if not fonts_available()["latin"] and not fonts_available()["cjk"]:
        raise FileNotFoundError("no fonts found to render pictures: apt-get install fonts-dejavu fonts-noto-cjk")
    load = os.getloadavg()
    assistant = load_assistant(args.index, backend="none")
    photos = PhotoSearch(assistant, engine=args.engine)
    photos.ocr()  # load the models before timing anything
    cases = make_cases(assistant.index.store, args.n, levels, args.seed, True, "")
    if args.absent_index:
        other = ProductIndex.load(args.absent_index).store
        cases += make_cases(other, args.n_absent, levels[-1:], args.seed + 1, False, "absent-")
    res = run_task(PhotoTask(photos, cases, Path(args.save_images) if args.save_images else None))
    rows = res.per_case
    groups = {"all": rows, **{f"level={lv}": [r for r in rows if r["level"] == lv] for lv in levels},
              **{f"lang={lg}": [r for r in rows if r["lang"] == lg] for lg in ("en", "zh")
                 if any(r["lang"] == lg and r["present"] for r in rows)}}
    table = [{"group": g, **{k: v for k, v in summarise(rs).items() if k in KEYS + ["absent_no_match_rate"]}}
             for g, rs in groups.items() if any(r["present"] for r in rs)]
    print_table(table, ["group"] + KEYS + (["absent_no_match_rate"] if args.absent_index else []),
                title=f"photos: {args.index} (rendered pictures, OCR {args.engine})")
    payload = {**summarise(rows), "groups": {g: summarise(rs) for g, rs in groups.items()}, "per_case": rows,
               "meta": run_meta(index=str(args.index), engine=args.engine, levels=levels, n=args.n, seed=args.seed,
                                absent_index=args.absent_index, source="rendered pictures (eval/photo_render.py)",
                                load_average_start=load, load_average_end=os.getloadavg())}
    write_results(args.out, payload)
    return 0
