"""Each named rule reads its own examples (as the first rule to fire) and none of its counterexamples."""
from __future__ import annotations

import pytest

from assistant.rules import RULES, first_rule

EXAMPLES = [(r.name, e) for r in RULES for e in r.examples]
COUNTER = [(r.name, c) for r in RULES for c in r.counterexamples]


@pytest.mark.parametrize("name, text", EXAMPLES, ids=[f"{n}:{t[:30]}" for n, t in EXAMPLES])
def test_rule_reads_its_examples(name, text):
    rule = first_rule(text)
    assert rule is not None and rule.name == name, f"{text!r} -> {rule and rule.name}"


@pytest.mark.parametrize("name, text", COUNTER, ids=[f"{n}:{t[:30]}" for n, t in COUNTER])
def test_rule_ignores_its_counterexamples(name, text):
    assert not next(r for r in RULES if r.name == name).matches(text)


def test_every_rule_is_documented_by_examples():
    for r in RULES:
        assert len(r.examples) >= 4, r.name
        assert (r.action == "refuse") == (r.refusal is not None), r.name
