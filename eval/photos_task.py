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
search alone, the brand and name lines read perfectly), OCR latency per picture, and with
`--absent-index` pictures of another store's products (`absent_no_match_rate`: the share for which the
reply says nothing matches; a product of a kind the store sells still gets similar ones). `--source screens` uses
phone-sized screenshots of a product page taken by headless Chromium instead (eval/photo_screens.py;
level `clean`: the screenshot as is, `damaged`: that screenshot photographed badly, as a phone photo of
a screen would be). All figures come from rendered pictures, never from camera photos.
"""
from __future__ import annotations

import argparse
import io
import random
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from eval.harness import Case, percentile, print_table, run_meta, run_task, write_results

KEYS = ["recall@1", "recall@5", "oracle_recall@1", "char_accuracy", "name_char_accuracy", "read_rate", "ocr_ms_p50",
        "ocr_ms_p95", "photo_turn_ms_p50", "n"]


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


def _aligned(truth: list[str], read: list[str]) -> list[str]:
    """For each drawn line, the read lines (in reading order) whose characters are most found in it: OCR
    splits, joins and reorders lines (rotation), and a wrapped title comes back as several lines."""
    import difflib

    slots: list[list[str]] = [[] for _ in truth]
    for line in read:
        def found(i: int) -> tuple[float, float]:
            m = difflib.SequenceMatcher(None, truth[i], line, autojunk=False)
            return sum(b.size for b in m.get_matching_blocks()) / len(line), m.ratio()
        slots[max(range(len(truth)), key=found)].append(line)
    return ["".join(s) for s in slots]


def char_accuracy(truth_lines: Sequence[str], read_lines: Sequence[str], only: Sequence[str] | None = None) -> float:
    """1 - CER over the text drawn (case and spaces ignored), each read line put beside the drawn line it
    belongs to; with `only`, scored over those drawn lines alone (the others still absorb their read lines,
    so background words and small print do not count against the name). 0 when nothing right was read."""
    truth = [_norm(t) for t in truth_lines if _norm(t)]
    read = [_norm(r) for r in read_lines if _norm(r)]
    if not truth:
        return 1.0 if not read else 0.0
    hyp = _aligned(truth, read) if read else [""] * len(truth)
    keep = {_norm(o) for o in only} if only is not None else set(truth)
    pairs = [(t, h) for t, h in zip(truth, hyp) if t in keep]
    if not pairs:
        return 1.0
    errors = sum(min(edit_distance(t, h), len(t)) for t, h in pairs)
    return max(0.0, 1.0 - errors / sum(len(t) for t, _ in pairs))


def recall_at(shown: Sequence[str], gold: str, k: int) -> float:
    return 1.0 if gold in list(shown)[:k] else 0.0


# ---- the task ----------------------------------------------------------------------------------------

class PhotoTask:
    """Cases: (product, damage level, present in the store or not). Output: what the photo turn showed."""

    def __init__(self, photos, cases: list[Case], images_dir: Path | None = None, source: str = "boxes"):
        self.photos, self._cases, self.images_dir, self.source = photos, cases, images_dir, source
        self.name = f"photos/{source}/{photos.engine}"
        self._screens: dict[str, object] = {}

    def _picture(self, case: Case, rng: random.Random):
        """(the drawn box or page as a BoxPicture, JPEG/PNG bytes as photographed, every text line on it)."""
        from eval.photo_render import BoxPicture, damage, render_box

        if self.source == "boxes":
            box = render_box(case.input, rng)
            return (box, *damage(box, rng, case.meta["level"]))
        shot = self._screens[case.input.product_id]
        if case.meta["level"] == "clean":
            return BoxPicture(None, shot.lines, " ".join(shot.name_lines), shot.name_lines), shot.png, shot.lines
        from PIL import Image

        image = Image.open(io.BytesIO(shot.png)).convert("RGB")
        box = BoxPicture(image, shot.lines, " ".join(shot.name_lines), shot.name_lines)
        return (box, *damage(box, rng, "damaged"))

    def cases(self) -> list[Case]:
        return self._cases

    def run_batch(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        if self.source == "screens":  # one browser for the batch's pages
            from eval.photo_screens import screenshots

            todo = {c.input.product_id: c.input for c in cases if c.input.product_id not in self._screens}
            todo = list(todo.values())
            self._screens.update({s.product_id: s for s in screenshots(todo)})
        return [self._run(c) for c in cases]

    def _run(self, case: Case) -> dict[str, Any]:
        from assistant.engine import DoneEvent

        rng = random.Random(case.meta["seed"])
        box, jpeg, truth = self._picture(case, rng)
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
                "oracle": self._oracle(box.name_lines) if case.meta["present"] else None, "reply": result.text[:300]}

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
                               "name_char_accuracy": char_accuracy(out["truth"], out["lines"], out["name_lines"]),
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
    p.add_argument("--source", default="boxes", choices=["boxes", "screens"],
                   help="boxes: product boxes drawn with Pillow; screens: product-page screenshots from Chromium")
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
    res = run_task(PhotoTask(photos, cases, Path(args.save_images) if args.save_images else None, args.source),
                   batch_size=16)
    rows = res.per_case
    groups = {"all": rows, **{f"level={lv}": [r for r in rows if r["level"] == lv] for lv in levels},
              **{f"lang={lg}": [r for r in rows if r["lang"] == lg] for lg in ("en", "zh")
                 if any(r["lang"] == lg and r["present"] for r in rows)}}
    table = [{"group": g, **{k: v for k, v in summarise(rs).items() if k in KEYS + ["absent_no_match_rate"]}}
             for g, rs in groups.items() if any(r["present"] for r in rs)]
    print_table(table, ["group"] + KEYS + (["absent_no_match_rate"] if args.absent_index else []),
                title=f"photos: {args.index} ({args.source}: rendered pictures, OCR {args.engine})")
    payload = {**summarise(rows), "groups": {g: summarise(rs) for g, rs in groups.items()}, "per_case": rows,
               "meta": run_meta(index=str(args.index), engine=args.engine, levels=levels, n=args.n, seed=args.seed,
                                absent_index=args.absent_index, source=args.source,
                                rendered_by="eval/photo_render.py" if args.source == "boxes" else
                                "eval/photo_screens.py (headless Chromium)",
                                load_average_start=load, load_average_end=os.getloadavg())}
    write_results(args.out, payload)
    return 0
