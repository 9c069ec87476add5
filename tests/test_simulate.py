"""Simulated shoppers (eval/simulate.py) and the scoring the dialogue eval shares with them:
per-sentence groundedness, pass^k over repeated runs, sampling settings reaching the backend."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from assistant.engine import Assistant, AssistantConfig
from assistant.llm.scripted import ScriptedBackend
from eval import simulate as sim
from eval.dialogues_task import Groundedness, pass_hat_k, repeated_metrics
from retrieval.schema import Order, OrderItem, Product, Review
from retrieval.search import ProductIndex
from retrieval.store import Store


def _p(pid, title, kind, price, rating, cat="Headphones"):
    return Product(pid, title, title, ["Electronics", cat], title.split()[0], price, "INR", price * 1.3, rating, 50,
                   attributes={"type": kind, "battery_hours": 30})


PRODUCTS = [
    _p("E1", "Auralis Pods true wireless earbuds", "True Wireless Earbuds", 1299, 4.3),
    _p("E2", "Voltix Buds true wireless earbuds", "True Wireless Earbuds", 999, 3.6),
    _p("E3", "Sonique Air true wireless earbuds", "True Wireless Earbuds", 1899, 4.5),
    _p("E4", "Auralis Max true wireless earbuds", "True Wireless Earbuds", 4999, 4.6),
    _p("E5", "Voltix Pro true wireless earbuds", "True Wireless Earbuds", 1499, 4.1),
    _p("L1", "Nestora desk lamp 600 lumens", "Desk Lamp", 399, 4.4, "Home"),
    _p("L2", "Nestora Neo desk lamp 400 lumens", "Desk Lamp", 299, 3.9, "Home"),
    _p("L3", "Lumo desk lamp with clamp", "Desk Lamp", 799, 4.2, "Home"),
    _p("L4", "Lumo Mini desk lamp", "Desk Lamp", 199, 4.0, "Home"),
    _p("L5", "Brightly desk lamp foldable", "Desk Lamp", 599, 4.7, "Home"),
]
REVIEWS = [Review("R1", "E1", "U1", 5, "", "Great sound and the battery lasts all week."),
           Review("R2", "E1", "U2", 2, "", "The battery died after a month.")]
ORDERS = {"O10001": Order("O10001", "U1", [OrderItem("E1", 1, 1299)], "shipped", carrier="BlueDart",
                          tracking_number="BD123", estimated_delivery="2026-04-02")}


@pytest.fixture(scope="module")
def index():
    store = Store(products={p.product_id: p for p in PRODUCTS}, reviews=list(REVIEWS), orders=dict(ORDERS),
                  policy="# Returns\nReturns are accepted within 30 days of delivery.")
    return ProductIndex.build(store)


def earbuds_goal(needs=("shown", "cart"), max_price=1500.0, min_rating=4.0) -> sim.Goal:
    return sim.Goal(gid="g1", desc="You want true wireless earbuds under ₹1,500 rated 4+ and add them to the cart.",
                    kinds=["true wireless earbuds"], needs=list(needs), max_price=max_price, min_rating=min_rating,
                    aspect="battery", opening="I'm looking for true wireless earbuds under ₹1,500 with at least 4 stars.")


def run_goals(index, goals, turns=5):
    assistant = Assistant(index, None)
    task = sim.SimulationTask(assistant, goals, sim.user_backend_factory("scripted", None), turns)
    return [task.evaluate(c, task.run_batch([c])[0]) for c in task.cases()]


# ---- goals -------------------------------------------------------------------------------------------
def test_store_goals_are_deterministic_checkable_and_achievable(index):
    a, b = sim.store_goals(index.store, n=4, seed=3), sim.store_goals(index.store, n=4, seed=3)
    assert [g.desc for g in a] == [g.desc for g in b]
    kinds = [g for g in a if g.kinds]
    assert {g.kinds[0] for g in kinds} == {"true wireless earbuds", "desk lamp"}
    assert all(g.n_fitting >= 1 and g.max_price for g in kinds)
    order = [g for g in a if g.needs == ["order_status"]]
    assert order and order[0].order_id == "O10001" and order[0].user_id == "U1"


def test_kind_matching_uses_category_and_type_not_words_in_titles():
    goal = sim.Goal(gid="x", desc="", kinds=["smartphone"])
    phone = {"title": "Redmi 10", "category": ["Electronics", "Mobiles", "Smartphones"], "attributes": {}}
    cable = {"title": "USB cable for smartphones", "category": ["Electronics", "Cables", "USBCables"], "attributes": {}}
    bare = {"title": "A smartphone stand", "category": [], "attributes": {}}
    assert sim.fits_kind(phone, goal) and not sim.fits_kind(cable, goal) and sim.fits_kind(bare, goal)
    camel = sim.Goal(gid="y", desc="", kinds=["smart watches"])
    assert sim.fits_kind({"title": "", "category": ["Wearables", "SmartWatches"], "attributes": {}}, camel)
    limits = sim.Goal(gid="z", desc="", kinds=[], max_price=1000, min_rating=4.0)
    assert sim.limit_violations({"price": 1200, "rating": 3.5}, limits) == ["max_price", "min_rating"]
    assert sim.limit_violations({"price": 1005, "rating": None}, limits) == ["min_rating"]  # 1% slack; unknown rating


def test_mgshopdial_scenarios_become_goals_in_store_currency(tmp_path, index):
    data = [{"id": 1, "metadata": {"id": "7", "desc": "You have a budget of $20 and are looking for a new smartphone."}},
            {"id": 2, "metadata": {"id": "8", "desc": "You have a budget of $20 and are looking for a new smartphone."}},
            {"id": 3, "metadata": {"id": "9", "desc": "You are looking for running shoes."}},
            {"id": 4, "metadata": {"id": "10", "desc": "You want to learn to knit."}}]
    path = tmp_path / "mg.json"
    path.write_text(json.dumps(data))
    goals = sim.mgshopdial_goals(path, index.store)
    assert [g.category for g in goals] == ["Cellphones", "Sports"]  # one per scenario; no kind -> no goal
    phone = goals[0]
    assert phone.max_price == 20 * sim.USD_TO_INR and "₹1,660" in phone.desc and "$" not in phone.opening
    assert phone.opening.startswith("Hi! I have a budget of ₹1,660 and am looking for a new smartphone")
    assert phone.source == "mgshopdial:7,8" and phone.n_fitting == 0  # this store sells no phones


# ---- the rule shopper --------------------------------------------------------------------------------
def test_shop_view_cards_parse_back_into_position_price_rating():
    view = ("I found 2 products.\nProducts shown:\n1. [E1] Auralis | Pods | ₹1,299 (list ₹1,689, 23% off) | 4.3★ (50 ratings)"
            "\n2. [E2] Voltix Buds | ₹999 | why: under INR 1500")
    assert sim.listed_products(view) == [(1, "E1", 1299.0, 4.3), (2, "E2", 999.0, None)]


def test_rule_shopper_picks_the_first_fitting_product_then_asks_for_reviews_and_the_cart():
    shopper = sim.RuleShopper(earbuds_goal(needs=("shown", "reviews", "cart")))
    old = f"{sim.SHOP} Products shown:\n1. [E9] Old pick | ₹100 | 5.0★\n{sim.YOU} more please\n"  # an earlier turn
    msg = lambda text: [SimpleNamespace(role="user", content=f"{old}{sim.SHOP} {text}")]  # noqa: E731
    assert shopper(msg("Hello!")) == earbuds_goal().opening
    listing = "Here you go.\nProducts shown:\n1. [E2] Voltix | ₹999 | 3.6★\n2. [E1] Auralis | ₹1,299 | 4.3★"
    assert shopper(msg(listing)) == "What do reviews say about the battery of the second one?"
    assert shopper(msg("2 reviews...")) == "Please add the second one to my cart."
    assert shopper(msg("Added 1 x Auralis to your cart.")) == sim.DONE


def test_rule_shopper_restates_limits_when_nothing_fits_then_gives_up():
    shopper = sim.RuleShopper(earbuds_goal())
    msg = lambda text: [SimpleNamespace(role="user", content=text)]  # noqa: E731
    shopper(msg("Hello!"))
    assert shopper(msg("Sorry, nothing.")) == "Do you have any true wireless earbuds under ₹1,500 rated 4 stars or more?"
    assert "under ₹1,500 rated 4 stars or more" in shopper(msg("Sorry, nothing."))
    assert shopper(msg("Sorry, nothing.")) == sim.STOP


# ---- end to end with the scripted shopper ------------------------------------------------------------
def test_scripted_simulation_is_deterministic_and_scored_from_what_the_assistant_did(index):
    goals = [earbuds_goal(), earbuds_goal(needs=("shown", "reviews", "cart")),
             sim.Goal(gid="o1", desc="order", kinds=[], needs=["order_status"], order_id="O10001", user_id="U1",
                      opening="Where is my order O10001?", n_fitting=1)]
    for g in goals[:2]:
        g.n_fitting = sum(sim.fits(p, g) for p in index.store.products.values())
    first, second = run_goals(index, goals), run_goals(index, goals)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "transcript"} for r in rows]  # noqa: E731
    assert strip(first) == strip(second)
    assert [[t["reply"] for t in r["transcript"]] for r in first] == [[t["reply"] for t in r["transcript"]] for r in second]
    cart, reviews, order = first
    assert cart["completed"] and cart["turns_to_completion"] == 2 and set(cart["milestones"]) == {"shown", "cart"}
    assert cart["ended"] == "done" and cart["violations"] == 0 and cart["shown"] >= 1
    added = cart["transcript"][-1]["cart"]
    assert len(added) == 1 and sim.fits(index.store.products[next(iter(added))], goals[0])
    assert reviews["completed"] and reviews["turns_to_completion"] == 3
    assert order["completed"] and order["turns_to_completion"] == 1
    m = sim.aggregate(first, [])
    assert m["goal_completion_rate"] == 1.0 and m["constraint_violation_rate"] == 0.0 and m["n_goals"] == 3
    assert m["premature_done_rate"] == 0.0 and m["turns_to_completion_mean"] == pytest.approx(2.0)


def test_products_shown_outside_the_goal_limits_count_as_violations(index):
    goal = earbuds_goal(needs=("shown",), max_price=1000.0, min_rating=None)
    goal.opening = "I'm looking for true wireless earbuds."  # the shopper never states the budget
    goal.n_fitting = 1
    row = run_goals(index, [goal], turns=2)[0]
    listed = row["transcript"][0]
    assert row["shown"] >= 3 and row["violations"] >= 2
    assert all(index.store.products[p].price > 1000 * 1.01 for p in listed["violating_products"])
    assert not row["completed"] or row["turns_to_completion"] >= 1
    assert sim.aggregate([row], [])["constraint_violation_rate"] == row["violations"] / row["shown"]


def test_llm_shopper_gets_the_goal_and_ends_on_done(index):
    backend = ScriptedBackend(["I need true wireless earbuds under 1500 rupees", "###DONE###"])
    task = sim.SimulationTask(Assistant(index, None), [earbuds_goal(needs=("shown",))],
                              lambda goal, turns: backend, max_turns=4)
    out = task.run_batch(task.cases())[0]
    assert len(out["turns"]) == 1 and out["ended"] == "done"
    first = backend.calls[0].messages
    assert "true wireless earbuds under ₹1,500" in first[0].content and sim.DONE not in first[0].content
    assert sim.DONE in backend.calls[1].messages[0].content  # how to end: from the second message on
    second = backend.calls[1].messages[-1].content
    assert "You: I need true wireless earbuds under 1500 rupees" in second  # its own message in the transcript
    assert second.rindex("Products shown:") > second.rindex("You:")       # then the cards it was shown
    # a shopper that says done before its goal's cart step: premature, and not a completion
    eager = ScriptedBackend(["I need true wireless earbuds under 1500 rupees", "###DONE###"])
    task = sim.SimulationTask(Assistant(index, None), [earbuds_goal()], lambda goal, turns: eager, max_turns=4)
    rows = [task.evaluate(c, task.run_batch([c])[0]) for c in task.cases()]
    m = sim.aggregate(rows, [])
    assert not rows[0]["completed"] and m["user_done_rate"] == 1.0 and m["premature_done_rate"] == 1.0


def test_simulate_command_writes_transcripts(index, tmp_path):
    from ui.cli import main

    index.save(tmp_path / "idx")
    out = tmp_path / "sim.json"
    assert main(["eval", "simulate", "--index", str(tmp_path / "idx"), "--scenarios", "demo", "--backend", "none",
                 "--user-backend", "scripted", "--turns", "4", "--limit", "3", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["task"] == "simulate" and r["n_goals"] == 3 and len(r["per_case"]) == 3
    assert all(row["transcript"] and "goal" in row for row in r["per_case"])
    assert r["meta"]["user"]["backend"] == "scripted" and r["meta"]["backend"] == "none"
    assert 0.0 <= r["goal_completion_rate"] <= 1.0 and set(r["per_category"])


# ---- scoring shared with the dialogue eval -----------------------------------------------------------
def test_groundedness_flags_sentences_the_turn_facts_do_not_support(index):
    g = Groundedness(index.store)
    card = {"product_id": "E1", "title": "Auralis Pods true wireless earbuds", "price": 1299.0, "rating": 4.3,
            "currency": "INR"}
    result = SimpleNamespace(text="The Auralis Pods cost ₹1,299. They are rated 4.9 stars. Enjoy your music!",
                             tool_calls=[{"name": "search_products", "arguments": {"query": "earbuds"},
                                          "result": {"products": [card], "matched": True}}], cart={})
    s = g.score(result, "earbuds please")
    assert (s["sentences"], s["grounded_sentences"], s["factual_sentences"], s["grounded_factual"]) == (3, 2, 2, 1)
    assert s["ungrounded"] == ["They are rated 4.9 stars."]
    carted = SimpleNamespace(text="Your cart: 1 x Auralis Pods at ₹1,299; total ₹1,299.", tool_calls=[],
                             cart={"E1": 1})
    assert g.score(carted, "show my cart")["grounded_sentences"] == 1  # the cart is a fact of the turn


def test_pass_hat_k_is_the_share_passing_every_run():
    assert pass_hat_k([[True, True, True], [True, False, True], [False, False, False]], 3) == pytest.approx(1 / 3)
    assert pass_hat_k([[True, True, True], [True, False, True], [False, False, False]], 1) == pytest.approx(5 / 9)
    turn = {"latency_ms": 1.0, "grounding_violations": 0, "forbidden": 0, "tool_ok": True}
    runs = [[{"id": "a", "task_success": True, "turns": [turn]}, {"id": "b", "task_success": True, "turns": [turn]}],
            [{"id": "a", "task_success": True, "turns": [turn]}, {"id": "b", "task_success": False, "turns": [turn]}]]
    m = repeated_metrics(runs)
    assert m["pass^1"] == 0.75 and m["pass^2"] == 0.5 and m["n_dialogues"] == 2 and m["n_turns"] == 2


def test_sampling_settings_reach_the_backend(index):
    backend = ScriptedBackend()
    a = Assistant(index, backend, config=AssistantConfig(router="llm", temperature=0.7, seed=3))
    a.turn(a.new_session("U1"), "something nice for my sister")
    assert backend.calls and all(c.temperature == 0.7 and c.seed == 3 for c in backend.calls)
