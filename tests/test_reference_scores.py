"""Reference scores: recompute the cheap evaluations of the default CPU configuration and fail when a metric
drops beyond its tolerance (eval/reference/*.json with `"recompute_in_test": true`).

Cheap means no LLM: retrieval on the Chinese dev set and the English dev suite, the dialogue suites and the
scripted-shopper simulation with templated replies (`--backend none`). The three indexes (the demo one as
`shopassist demo` builds it, with its trained models) are built once per session in a pytest temporary folder
(about 4.5 min of CPU, mostly embedding the amazon.in catalog); set
SHOPASSIST_REFERENCE_INDEXES=DIR to keep them between sessions while working on the scores.

A better score passes and says so. After an intended change, rewrite the reference files from this run with
SHOPASSIST_UPDATE_REFERENCE=1 (tolerances are kept) and commit them with the change.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eval.compare import LOWER_IS_BETTER
from eval.harness import run_meta
from tests.conftest import ROOT, SHARED_DATA

REFERENCE_DIR = ROOT / "eval" / "reference"
pytestmark = [pytest.mark.slow, pytest.mark.data]

INDEXES = {  # name -> `shopassist index` arguments; "demo" is built as `shopassist demo` does (with its models)
    "zh_multicpr": ["--catalog", "{shared}/retrieval_zh_multicpr/corpus.jsonl", "--map", "product_id=doc_id",
                    "--map", "title=title"],
    "amazon_in": ["--catalog", "{shared}/catalog_amazon_in/amazon.csv", "--format", "amazon_in"],
    "demo": None,
}


def references() -> list[Path]:
    return sorted(p for p in REFERENCE_DIR.glob("*.json")
                  if json.loads(p.read_text()).get("reference", {}).get("recompute_in_test"))


def _fill(args: list[str], **values: str) -> list[str]:
    return [a.format(**values) for a in args]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory):
    """name -> folder of that index, built on first use."""
    from ui.cli import main

    keep = os.environ.get("SHOPASSIST_REFERENCE_INDEXES")
    base = Path(keep) if keep else tmp_path_factory.mktemp("reference_indexes")

    def get(name: str) -> Path:
        out = base / name
        if (out / "index").is_dir():
            return out
        if INDEXES[name] is None:
            from ui.commands.demo import ensure_demo_index

            return Path(ensure_demo_index(out))
        assert main(["index", *_fill(INDEXES[name], shared=str(SHARED_DATA)), "--out", str(out), "--quiet"]) == 0
        return out

    return get


def check(reference: dict, results: dict) -> tuple[list[str], list[str]]:
    """(regressions, improvements) of `results` against the reference metrics and tolerances."""
    worse, better = [], []
    for metric, ref in reference["metrics"].items():
        got = results.get(metric)
        tol = reference["tolerance"].get(metric, 0.0)
        if got is None:
            worse.append(f"{metric}: missing (reference {ref})")
            continue
        gain = (ref - got) if LOWER_IS_BETTER.search(metric) else (got - ref)
        line = f"{metric}: {got:.4f} vs reference {ref:.4f} (tolerance {tol})"
        if gain < -tol - 1e-9:
            worse.append(line)
        elif gain > tol + 1e-9:
            better.append(line)
    return worse, better


@pytest.mark.parametrize("path", references(), ids=lambda p: p.stem)
def test_reference_scores_hold(path: Path, index_dir, tmp_path):
    from ui.cli import main

    if not SHARED_DATA.exists():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (it lives in ../shared/data beside the project)")
    reference = json.loads(path.read_text())
    spec = reference["reference"]
    out = tmp_path / "results.json"
    args = _fill(spec["command"], index=str(index_dir(spec["index"])), shared=str(SHARED_DATA), root=str(ROOT))
    assert main(["eval", *args, "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    if os.environ.get("SHOPASSIST_UPDATE_REFERENCE") == "1":
        reference["metrics"] = {k: results[k] for k in reference["metrics"]}
        reference["counts"] = {k: results[k] for k in reference.get("counts", {})}
        keep = ("git_commit", "git_dirty", "machine", "cpu", "started")
        reference["meta"] = {k: v for k, v in run_meta().items() if k in keep}
        path.write_text(json.dumps(reference, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for key, n in reference.get("counts", {}).items():
        assert results[key] == n, f"{key} changed ({n} -> {results[key]}): the suite changed, update the reference"
    worse, better = check(reference, results)
    if better:
        print(f"\n{path.name}: better than the reference (update it with SHOPASSIST_UPDATE_REFERENCE=1):\n  "
              + "\n  ".join(better))
    assert not worse, f"{path.name}: below the reference beyond tolerance:\n  " + "\n  ".join(worse)


def test_check_flags_drops_beyond_tolerance_in_either_direction():
    ref = {"metrics": {"ndcg@10": 0.90, "filter_violation_rate": 0.0}, "tolerance": {"ndcg@10": 0.01}}
    assert check(ref, {"ndcg@10": 0.895, "filter_violation_rate": 0.0}) == ([], [])
    worse, _ = check(ref, {"ndcg@10": 0.88, "filter_violation_rate": 0.01})
    assert [w.split(":")[0] for w in worse] == ["ndcg@10", "filter_violation_rate"]
    assert check(ref, {"ndcg@10": 0.95, "filter_violation_rate": 0.0})[1][0].startswith("ndcg@10")
