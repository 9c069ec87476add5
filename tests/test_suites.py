"""Every evaluation suite in eval/suites is well-formed and agrees with the data it is written against."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, shared_data

_spec = importlib.util.spec_from_file_location("validate_suites", ROOT / "eval" / "suites" / "validate_suites.py")
vs = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("validate_suites", vs)
_spec.loader.exec_module(vs)

# retrieval and dialogue suites; other suites (attacks) have their own format and tests
SUITES = sorted(p for p in vs.HERE.glob("*.jsonl") if p.name.startswith(("retrieval_", "dialogues_")))
RETRIEVAL = [p for p in SUITES if vs.suite_kind(p) == "retrieval"]
DIALOGUES = [p for p in SUITES if vs.suite_kind(p) == "dialogues"]


def ids(paths):
    return [p.name for p in paths]


def test_suites_exist():
    names = {p.name for p in SUITES}
    assert {"retrieval_amazon_en_dev.jsonl", "dialogues_amazon_dev.jsonl"} <= names
    assert all(vs.suite_kind(p) for p in SUITES), "suite files are named retrieval_*.jsonl or dialogues_*.jsonl"


@pytest.mark.parametrize("path", SUITES, ids=ids(SUITES))
def test_suite_well_formed(path):
    """Schema only (no data needed): keys, types, unique ids, known filters, tools, arguments, intents."""
    assert vs.validate_file(path) == []


@pytest.mark.data
@pytest.mark.parametrize("path", [p for p in SUITES if "amazon" in p.name],
                         ids=ids([p for p in SUITES if "amazon" in p.name]))
def test_amazon_suite_matches_catalog(path):
    """Judged and mentioned products exist; judged products of filtered queries satisfy the filters."""
    catalog = vs.load_amazon_catalog(shared_data("catalog_amazon_in/amazon.csv"))
    assert vs.validate_file(path, amazon=catalog) == []


@pytest.mark.parametrize("path", [p for p in SUITES if "demo" in p.name],
                         ids=ids([p for p in SUITES if "demo" in p.name]))
def test_demo_suite_matches_demo_store(path):
    """Products, users and orders exist in the demo store; looked-up orders belong to the dialogue's user."""
    pytest.importorskip("retrieval.demo_store")
    assert vs.validate_file(path, demo=vs.load_demo_index()) == []


@pytest.mark.parametrize("path", RETRIEVAL, ids=ids(RETRIEVAL))
def test_retrieval_suite_size(path):
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(lines) >= 30
    assert any(q.get("filters") for q in lines), "some queries carry filters"


@pytest.mark.parametrize("path", DIALOGUES, ids=ids(DIALOGUES))
def test_dialogue_suite_covers_the_contract(path):
    dialogues = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(dialogues) >= 16
    turns = [t["expect"] for d in dialogues for t in d["turns"]]
    assert {t.get("intent") for t in turns} >= {"browse", "purchase"}
    assert any(t.get("expect_refusal") for t in turns), "at least one refusal case"


# --- the validator itself catches what it should (no data needed)

def _write(tmp_path: Path, name: str, records: list[dict]) -> Path:
    p = tmp_path / name
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return p


def test_validator_flags_bad_retrieval(tmp_path):
    p = _write(tmp_path, "retrieval_x.jsonl", [
        {"qid": "q1", "query": "a", "filters": {"max_prize": 3}, "relevant": {"B0AAAAAAAA": 3}},
        {"qid": "q1", "query": "", "relevant": {}},
    ])
    errs = "\n".join(vs.validate_file(p))
    for needle in ("unknown filter", "grade", "duplicate qid", "query must be", "relevant must be"):
        assert needle in errs


def test_validator_flags_bad_dialogue(tmp_path):
    p = _write(tmp_path, "dialogues_x.jsonl", [{"did": "d1", "turns": [
        {"user": "hi", "expect": {"tools": ["search"], "intent": "shopping"}},
        {"user": "x", "expect": {"tools": ["add_to_cart"], "args_contain": {"max_price": 3}}},
        {"user": "y", "expect": {"tools": ["order_status"], "forbidden_tools": ["order_status"]}},
    ]}])
    errs = "\n".join(vs.validate_file(p))
    for needle in ("unknown tool 'search'", "intent 'shopping'", "belongs to none", "both expected and forbidden"):
        assert needle in errs


def test_validator_checks_filters_against_catalog(tmp_path):
    item = vs.CatalogItem("B0AAAAAAAA", "boAt Airdopes 141", "boAt", ["Electronics", "Headphones"], [1499.0, 1299.0], 3.9)
    p = _write(tmp_path, "retrieval_amazon_x.jsonl", [
        {"qid": "q1", "query": "earbuds", "filters": {"max_price": 1400, "min_rating": 4.0, "brand": "Boat",
                                                      "category": "headphones"},
         "relevant": {"B0AAAAAAAA": 2, "B0BBBBBBBB": 1}},
    ])
    errs = "\n".join(vs.validate_file(p, amazon={item.product_id: item}))
    assert "B0BBBBBBBB is not in the catalog" in errs
    assert "max_price" in errs and "min_rating" in errs
    assert "brand" not in errs and "category" not in errs


def test_validator_checks_demo_ownership(tmp_path):
    demo = vs.DemoIndex(product_ids={"P0001"}, user_ids={"U001", "U002"}, order_owner={"O1": "U002"})
    p = _write(tmp_path, "dialogues_demo_x.jsonl", [
        {"did": "d1", "user_id": "U001", "turns": [
            {"user": "where is O1", "expect": {"tools": ["order_status"], "args_contain": {"order_id": "O1"}}},
            {"user": "add P0009", "expect": {"tools": ["add_to_cart"], "args_contain": {"product_id": "P0009"}}}]},
        {"did": "d2", "user_id": "U404", "turns": [{"user": "hi", "expect": {"intent": "chitchat"}}]},
    ])
    errs = "\n".join(vs.validate_file(p, demo=demo))
    assert "belongs to U002" in errs and "P0009 is not in the catalog" in errs and "U404" in errs
