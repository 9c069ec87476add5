"""Tool-call parsing: the shapes small models emit, JSON repair, argument validation."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.toolcalls import (call_id, calls_from_objects, loads_lenient, parse_tool_calls, repair_json,
                                 tool_call_schema, validate_arguments)

NAMES = ["search_products", "get_product", "recommend", "predict_order_intent"]
SEARCH = {"type": "function", "function": {
    "name": "search_products", "description": "Search the catalog.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string"}, "max_price": {"type": ["number", "null"]}, "k": {"type": "integer"}},
        "required": ["query"], "additionalProperties": False}}}
GET = {"type": "function", "function": {
    "name": "get_product", "parameters": {"type": "object", "properties": {"product_id": {"type": "string"}},
                                          "required": ["product_id"]}}}

EXAMPLES = [
    # (model output, expected prose, expected [(name, arguments)])
    ('Sure!\n<tool_call>\n{"name": "search_products", "arguments": {"query": "earbuds", "max_price": 1500}}\n'
     '</tool_call>', "Sure!", [("search_products", {"query": "earbuds", "max_price": 1500})]),
    ('```json\n{\n  "name": "search_products",\n  "arguments": {"query": "earbuds"}\n}\n```',
     "", [("search_products", {"query": "earbuds"})]),
    ('Let me look.\n```\n{"name": "get_product", "arguments": {"product_id": "B07"}}\n```\nOne moment.',
     "Let me look.\nOne moment.", [("get_product", {"product_id": "B07"})]),
    ('{"function": "search_products", "parameters": {"query": "mouse",}}',
     "", [("search_products", {"query": "mouse"})]),
    ('{"name": "search_products", "arguments": "{\\"query\\": \\"usb c cable\\"}"}',
     "", [("search_products", {"query": "usb c cable"})]),
    ("{'name': 'search_products', 'arguments': {'query': 'men\\'s shoes', 'max_price': None}}",
     "", [("search_products", {"query": "men's shoes", "max_price": None})]),
    ('<tool_call>\n{"name": "search_products", "arguments": {"query": "kettle"',
     "", [("search_products", {"query": "kettle"})]),
    ('[{"name": "get_product", "arguments": {"product_id": "A"}}, '
     '{"name": "get_product", "arguments": {"product_id": "B"}}]',
     "", [("get_product", {"product_id": "A"}), ("get_product", {"product_id": "B"})]),
    ('{"type": "function", "function": {"name": "get_product", "arguments": "{\\"product_id\\": \\"B9\\"}"}}',
     "", [("get_product", {"product_id": "B9"})]),
    ('<tool_call>{"name": "get_product", "arguments": {"product_id": "A"}}</tool_call>\n'
     '<tool_call>{"name": "get_product", "arguments": {"product_id": "B"}}</tool_call>',
     "", [("get_product", {"product_id": "A"}), ("get_product", {"product_id": "B"})]),
    ('{"name": "predict_order_intent"}', "", [("predict_order_intent", {})]),
    ('{"name": "search_products", "query": "shoes", "k": 3}', "", [("search_products", {"query": "shoes", "k": 3})]),
    ('{"tool_calls": [{"name": "recommend", "arguments": {"k": 2}}]}', "", [("recommend", {"k": 2})]),
    ('<tool_call>\n```json\n{"name": "recommend", "arguments": {}}\n```\n</tool_call>', "", [("recommend", {})]),
    ('{"name": "search_products", "arguments": {"query": "tv", "in_stock": True}}', "",
     [("search_products", {"query": "tv", "in_stock": True})]),
]

NOT_CALLS = [
    "The cheapest is the boAt Airdopes 141 at ₹1,099.",
    'The price is {"amount": 5}.',
    "Here's a {curly} thing and it's fine [really].",
    '[{"name": "Airdopes 141", "price": 1099}, {"name": "Nord Buds", "price": 1499}]',
    '```python\nprint({"a": 1})\n```',
    "Use the format {name: value} when you write.",
]


@pytest.mark.parametrize("output,prose,expected", EXAMPLES)
def test_examples_parse_to_the_right_calls(output, prose, expected):
    text, calls, errors = parse_tool_calls(output, NAMES)
    assert errors == []
    assert [(c.name, c.arguments) for c in calls] == expected
    assert text == prose
    assert all(c.id.startswith("call_") for c in calls)


@pytest.mark.parametrize("output", NOT_CALLS)
def test_ordinary_text_and_json_stay_text(output):
    text, calls, errors = parse_tool_calls(output, NAMES)
    assert (text, calls, errors) == (output, [], [])


def test_unknown_tool_is_an_error_not_a_call():
    text, calls, errors = parse_tool_calls('<tool_call>{"name": "delete_user", "arguments": {}}</tool_call>',
                                           NAMES)
    assert calls == []
    assert len(errors) == 1 and "delete_user" in errors[0] and "search_products" in errors[0]


def test_unknown_names_accepted_when_tools_not_given():
    _, calls, errors = parse_tool_calls('{"name": "anything", "arguments": {"x": 1}}')
    assert [(c.name, c.arguments) for c in calls] == [("anything", {"x": 1})] and errors == []


@pytest.mark.parametrize("output,needle", [
    ("<tool_call>not json at all</tool_call>", "no JSON"),
    ('<tool_call>{"arguments": {"q": 1}}</tool_call>', "name"),
    ('<tool_call>{"name": "search_products", "arguments": "{,,: :}"}</tool_call>', "not valid JSON"),
    ('<tool_call>{"name": "search_products", "arguments": [1, 2]}</tool_call>', "JSON object"),
    ('{"name": "search_products", "arguments": {"query": "x"}} {"name": "search_products" "arguments" 5}',
     "could not parse"),
])
def test_broken_calls_are_reported(output, needle):
    _, _, errors = parse_tool_calls(output, NAMES)
    assert errors and needle in errors[-1]


def test_tags_are_removed_even_when_the_call_is_broken():
    text, calls, errors = parse_tool_calls("Checking.<tool_call>{{{</tool_call>", NAMES)
    assert text == "Checking." and calls == [] and errors


def test_given_ids_are_kept_and_missing_ids_are_deterministic():
    _, calls, _ = parse_tool_calls('{"id": "abc", "name": "recommend", "arguments": {}}', NAMES)
    assert calls[0].id == "abc"
    a = parse_tool_calls('{"name": "recommend", "arguments": {"k": 1}}', NAMES).calls[0].id
    b = parse_tool_calls('{"name": "recommend", "arguments": {"k": 2}}', NAMES).calls[0].id
    assert a == call_id("recommend", {"k": 1}, 0) and a != b


def test_calls_from_openai_objects():
    objects = [{"id": "c1", "type": "function", "function": {"name": "get_product",
                                                            "arguments": '{"product_id": "B1",}'}},
               {"id": "c2", "type": "function", "function": {"name": "nope", "arguments": "{}"}}]
    calls, errors = calls_from_objects(objects, NAMES)
    assert [(c.id, c.name, c.arguments) for c in calls] == [("c1", "get_product", {"product_id": "B1"})]
    assert len(errors) == 1 and "nope" in errors[0]


@pytest.mark.parametrize("broken,expected", [
    ('{"a": 1,}', {"a": 1}),
    ('[1, 2, 3,]', [1, 2, 3]),
    ("{'a': 'b'}", {"a": "b"}),
    ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}),
    ('{"a": "unterminated', {"a": "unterminated"}),
    ('{"a": True, "b": False, "c": None}', {"a": True, "b": False, "c": None}),
    ('{a: 1, b_c: "x"}', {"a": 1, "b_c": "x"}),
    ('{"a": "line\nbreak"}', {"a": "line\nbreak"}),
    ("{'q': 'say \"hi\"'}", {"q": 'say "hi"'}),
    ('{"a": 1}}', {"a": 1}),
    ('{"a":', {"a": None}),
])
def test_repair(broken, expected):
    assert loads_lenient(broken) == expected


def test_lenient_load_gives_up_with_a_value_error():
    with pytest.raises(ValueError, match="invalid JSON"):
        loads_lenient("{,,: :}")


def test_validate_arguments():
    assert validate_arguments(SEARCH, {"query": "shoes", "max_price": 50}) == []
    errors = validate_arguments(SEARCH, {"max_price": "cheap", "colour": "red"})
    assert any("query" in e and "required" in e for e in errors)
    assert any(e.startswith("max_price:") for e in errors)
    assert any("colour" in e for e in errors)
    # the bare parameters schema works too
    assert validate_arguments(GET["function"]["parameters"], {"product_id": 7}) == \
        ["product_id: 7 is not of type 'string'"]


def test_tool_call_schema_accepts_exactly_valid_calls():
    schema = tool_call_schema([SEARCH, GET])
    assert validate_arguments(schema, {"name": "get_product", "arguments": {"product_id": "B1"}}) == []
    assert validate_arguments(schema, {"name": "search_products", "arguments": {"query": "x"}}) == []
    assert validate_arguments(schema, {"name": "get_product", "arguments": {}}) != []
    assert validate_arguments(schema, {"name": "drop_table", "arguments": {}}) != []


# ---- properties -------------------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False) \
    | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
arguments = st.dictionaries(st.text(max_size=10), json_values, max_size=4)
# prose without the characters that start markup or JSON
prose = st.text(alphabet=st.characters(blacklist_characters="{[<`'\"", blacklist_categories=("Cs",)),
                max_size=40)


def _render(name: str, args: dict, form: int) -> str:
    if form == 0:
        return f"<tool_call>\n{json.dumps({'name': name, 'arguments': args})}\n</tool_call>"
    if form == 1:
        return f"```json\n{json.dumps({'name': name, 'arguments': args}, indent=2)}\n```"
    if form == 2:
        return json.dumps({"function": name, "parameters": args})
    if form == 3:
        return json.dumps({"name": name, "arguments": json.dumps(args)})
    return json.dumps({"type": "function", "function": {"name": name, "arguments": args}}, ensure_ascii=False)


@settings(max_examples=150, deadline=None)
@given(name=names, args=arguments, form=st.integers(0, 4), before=prose, after=prose)
def test_any_call_in_any_form_round_trips(name, args, form, before, after):
    text, calls, errors = parse_tool_calls(before + "\n" + _render(name, args, form) + "\n" + after)
    assert errors == []
    assert [(c.name, c.arguments) for c in calls] == [(name, args)]
    assert text == "\n".join(p for p in (before.strip(), after.strip()) if p)


@settings(max_examples=100, deadline=None)
@given(calls=st.lists(st.tuples(names, arguments), min_size=1, max_size=4))
def test_several_tagged_calls_keep_their_order(calls):
    output = "".join(f"<tool_call>{json.dumps({'name': n, 'arguments': a})}</tool_call>" for n, a in calls)
    parsed = parse_tool_calls(output)
    assert [(c.name, c.arguments) for c in parsed.calls] == calls
    assert len({c.id for c in parsed.calls}) == len(calls)


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=4), cut=st.integers(1, 3))
def test_missing_closing_brackets_are_restored(value, cut):
    full = json.dumps(value)
    closing = len(full) - len(full.rstrip("}]"))
    truncated = full[:len(full) - min(cut, closing)]
    assert loads_lenient(truncated) == value


def _dump_with_trailing_commas(v) -> str:
    if isinstance(v, dict) and v:
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump_with_trailing_commas(x)}" for k, x in v.items()) + ",}"
    if isinstance(v, list) and v:
        return "[" + ", ".join(_dump_with_trailing_commas(x) for x in v) + ", ]"
    return json.dumps(v)


@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_trailing_commas_are_removed(value):
    assert loads_lenient(_dump_with_trailing_commas(value)) == value


@settings(max_examples=150, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers(-1000, 1000)
                          | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126,
                                                           blacklist_characters="\\'\""), max_size=10),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(alphabet="abcxyz_", min_size=1, max_size=5), inner, max_size=3),
                          max_leaves=8))
def test_python_literal_syntax_is_understood(value):
    assert loads_lenient(repr(value)) == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parser_never_crashes_and_never_leaves_tags(text):
    out, calls, errors = parse_tool_calls(text, NAMES)
    assert "<tool_call>" not in out and "</tool_call>" not in out
    assert all(c.name in NAMES and isinstance(c.arguments, dict) for c in calls)
    assert all(isinstance(e, str) for e in errors)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_repair_never_crashes(text):
    repaired = repair_json(text)
    assert isinstance(repaired, str)


def test_find_json_skips_prose_and_broken_fragments():
    from assistant.toolcalls import find_json
    assert find_json('Sure! {"intent": "buy",} hope that helps') == {"intent": "buy"}
    assert find_json("use {,,: :} or [1, 2]") == [1, 2]
    with pytest.raises(ValueError, match="no JSON"):
        find_json("nothing here")


def _show(deltas):
    from assistant.toolcalls import ProseFilter
    f = ProseFilter()
    return "".join(f.feed(d) for d in deltas) + f.flush()


@pytest.mark.parametrize("deltas,shown", [
    (["Hello", " there", "!\n", "<tool", "_call>", '{"name": "x"'], "Hello there!\n"),
    (["Price is", " 5 <", "b> ok <"], "Price is 5 <b> ok <"),
    (['{"name"', ': "recommend", "arguments": {}}'], ""),
    (["Sure.\n", "``", "`json\n{}"], "Sure.\n"),
    (["one\n", "two\n", "[", "1]"], "one\ntwo"),
])
def test_prose_filter_examples(deltas, shown):
    assert _show(deltas) == shown


@settings(max_examples=150, deadline=None)
@given(text=prose, cuts=st.lists(st.integers(0, 40), max_size=6), name=names, args=arguments,
       form=st.sampled_from([0, 1]))
def test_prose_filter_shows_prose_and_hides_calls(text, cuts, name, args, form):
    def split(s):
        points = sorted({min(c, len(s)) for c in cuts})
        return [s[a:b] for a, b in zip([0] + points, points + [len(s)])]

    assert _show(split(text)) == text
    with_call = text + "\n" + _render(name, args, form)
    shown = _show(split(with_call))
    assert shown == text + "\n" or shown == text
    assert "<tool_call>" not in shown and "```" not in shown
