"""The built-in demo store: deterministic, internally consistent, bilingual, and with the signals it promises
(reviews that follow hidden qualities, friend homophily, friends' purchases that predict one's own)."""
from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from retrieval.demo_catalog import CATEGORIES, TIERS, generate_products
from retrieval.demo_people import NOW, parse_segment
from retrieval.demo_reviews import write_review
from retrieval.demo_store import build_demo_store
from retrieval.demo_support import POLICY_TERMS, TOPICS
from retrieval.store import Store
from tests.timing import Stopwatch

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
SENTENCE_END = re.compile(r"[.!?](?:\s|$)|[。！？]")


@pytest.fixture(scope="module")
def store() -> Store:
    return build_demo_store(seed=0)


def _digest(directory: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(directory.iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def _purchases(store: Store) -> dict[str, list[tuple[str, str]]]:
    out = defaultdict(list)
    for i in store.interactions:
        if i.event == "purchase":
            out[i.user_id].append((i.ts, i.product_id))
    return {u: sorted(v) for u, v in out.items()}


# ---- determinism and speed ---------------------------------------------------------------------

def test_same_seed_gives_identical_files_and_other_seed_differs(store, tmp_path):
    store.save(tmp_path / "a")
    build_demo_store(seed=0).save(tmp_path / "b")
    build_demo_store(seed=1).save(tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_identical_across_processes_with_different_hash_seeds(store, tmp_path):
    """Set/dict-of-str ordering must not leak into the output (PYTHONHASHSEED differs per process)."""
    store.save(tmp_path / "here")
    code = f"from retrieval.demo_store import build_demo_store; build_demo_store(0).save({str(tmp_path / 'there')!r})"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env={"PYTHONHASHSEED": "12345"})
    assert _digest(tmp_path / "here") == _digest(tmp_path / "there")


def test_builds_fast():
    with Stopwatch() as sw:  # time waiting for a CPU (other jobs on the machine) is left out
        build_demo_store(seed=2)
    assert sw.seconds < 5.0, sw  # ~1 s on a 2-core laptop; the budget is 3 s


def test_save_load_round_trip(store, tmp_path):
    store.save(tmp_path / "s")
    loaded = Store.load(tmp_path / "s")
    assert loaded.name == "demo" and loaded.policy == store.policy
    assert loaded.products == store.products and loaded.reviews == store.reviews
    assert loaded.users == store.users and loaded.friendships == store.friendships
    assert loaded.interactions == store.interactions and loaded.orders == store.orders
    assert loaded.conversations == store.conversations
    loaded.save(tmp_path / "again")
    assert _digest(tmp_path / "s") == _digest(tmp_path / "again")


# ---- catalog -------------------------------------------------------------------------------------

def test_counts_and_ids(store):
    assert len(store.products) == 500 and len(store.users) == 200
    assert list(store.products)[:2] == ["P0001", "P0002"] and list(store.users)[0] == "U001"
    per_category = Counter(p.category[-1] for p in store.products.values())
    assert len(per_category) == 10 and min(per_category.values()) >= 45
    for cat in {tuple(p.category) for p in store.products.values()}:
        brands = {p.brand for p in store.products.values() if tuple(p.category) == cat}
        assert len(brands) >= 3, cat
    assert all(re.fullmatch(r"R\d{5}", r.review_id) for r in store.reviews)
    assert len({r.review_id for r in store.reviews}) == len(store.reviews)
    assert all(re.fullmatch(r"O1\d{4}", o) for o in store.orders)
    assert store.name == "demo"


def test_prices_and_fields(store):
    for p in store.products.values():
        assert p.currency == "INR" and 0 < p.price <= p.list_price, p.product_id
        assert p.image_url.startswith("https://placehold.co/") and p.brand in p.image_url
        assert p.attributes and p.title and p.brand in p.title
        assert 1 <= len(SENTENCE_END.findall(p.description)) <= 3, p.description
    median = {c: sorted(p.price for p in store.products.values() if p.category[-1] == c)[25]
              for c in ("Laptops", "Mobile Phones", "Cables & Chargers", "Skincare")}
    assert median["Laptops"] > median["Mobile Phones"] > 5 * median["Cables & Chargers"]
    assert median["Skincare"] < 2000


def test_descriptions_mention_real_attributes(store):
    battery = [p for p in store.products.values() if "battery_hours" in p.attributes]
    said = [p for p in battery if str(p.attributes["battery_hours"]) in p.description + p.title]
    assert len(said) > 0.8 * len(battery)


def test_both_languages(store):
    zh = [p for p in store.products.values() if p.lang == "zh"]
    assert 0.18 <= len(zh) / len(store.products) <= 0.35
    assert all(CJK.search(p.title) and CJK.search(p.description) for p in zh)
    assert not any(CJK.search(p.title + p.description) for p in store.products.values() if p.lang == "en")
    for records in (store.reviews, list(store.users.values()), store.conversations):
        langs = Counter(r["lang"] if isinstance(r, dict) else r.lang for r in records)
        assert langs["en"] > 0 and langs["zh"] > 0
    assert all(bool(CJK.search(r.text)) == (r.lang == "zh") for r in store.reviews)


# ---- reviews -------------------------------------------------------------------------------------

def test_ratings_are_exactly_the_reviews(store):
    by_product = defaultdict(list)
    for r in store.reviews:
        by_product[r.product_id].append(r.rating)
    for pid, p in store.products.items():
        stars = by_product[pid]
        assert 3 <= len(stars) <= 12 and p.rating_count == len(stars)
        assert p.rating == round(sum(stars) / len(stars), 1)
    assert set(Counter(r.rating for r in store.reviews)) == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_review_text_agrees_with_latent_qualities():
    rng = random.Random(7)
    products = generate_products(random.Random(3), 200)
    agree = total = 0
    stars_good, stars_bad = [], []
    for dp in products:
        for _ in range(6):
            w = write_review(rng, dp.qualities, dp.category.key, rng.choice(("en", "zh")))
            for aspect, strength in w.mentions:
                if abs(dp.qualities[aspect]) > 0.4:
                    total += 1
                    agree += (strength > 0) == (dp.qualities[aspect] > 0)
            (stars_good if dp.overall > 0.4 else stars_bad if dp.overall < -0.1 else []).append(w.stars)
    assert agree / total > 0.85
    assert sum(stars_good) / len(stars_good) - sum(stars_bad) / len(stars_bad) > 1.0


def test_a_bad_battery_gets_complaints_and_fewer_stars():
    rng = random.Random(1)
    base = {"sound": 0.5, "battery": 0.5, "comfort": 0.5, "quality": 0.5, "delivery": 0.5, "value": 0.5}
    bad = dict(base, battery=-0.9)
    good_reviews = [write_review(rng, base, "headphones", "en") for _ in range(300)]
    bad_reviews = [write_review(rng, bad, "headphones", "en") for _ in range(300)]
    battery_remarks = [s for w in bad_reviews for a, s in w.mentions if a == "battery"]
    assert sum(s < 0 for s in battery_remarks) > 0.85 * len(battery_remarks)
    mean = lambda ws: sum(w.stars for w in ws) / len(ws)  # noqa: E731
    assert mean(good_reviews) - mean(bad_reviews) > 0.4


def test_mixed_reviews_and_varied_phrasing(store):
    texts = [r.text for r in store.reviews]
    assert len(set(texts)) > 0.8 * len(texts)
    assert any(" but " in t or "However" in t for t in texts) and any("但是" in t or "不过" in t for t in texts)
    assert any("not bad" in t for t in texts) and any("一般" in t for t in texts)


def test_a_sentiment_model_trained_on_reviews_reads_new_sentences(store):
    """Stars must be learnable from the words, not from template ids: unseen sentences, both languages."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rows = [r for r in store.reviews if r.rating != 3]
    model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True),
                          LogisticRegression(max_iter=1000))
    model.fit([r.text for r in rows], [int(r.rating >= 4) for r in rows])
    positive = ["The headphones sound fantastic and are really comfortable for long calls.",
                "Fast delivery, solid build, great price. Very happy.", "My skin feels so smooth now, love this cream.",
                "质量很好，物流也很快，非常满意。", "这双鞋穿着很舒服，尺码也合适。", "性价比很高，推荐给大家。"]
    negative = ["Broke after three days and support did not help. Waste of money.",
                "The screen is dim and the phone lags all the time.", "Uncomfortable straps and the zip broke.",
                "质量很差，用了几天就坏了，非常失望。", "快递太慢了，包装还破了。", "太贵了，效果也不好，不推荐。"]
    predicted = list(model.predict(positive + negative))
    correct = sum(p == y for p, y in zip(predicted, [1] * len(positive) + [0] * len(negative)))
    assert correct >= 9, predicted  # chance is 6; seed 0 gets 12


# ---- people, orders, behaviour -------------------------------------------------------------------

def test_every_reference_resolves(store):
    users, products = store.users, store.products
    assert all(r.product_id in products and (r.user_id == "" or r.user_id in users) for r in store.reviews)
    assert all(i.user_id in users and i.product_id in products for i in store.interactions)
    assert all(f.user_id in users and f.friend_id in users and f.user_id != f.friend_id for f in store.friendships)
    for o in store.orders.values():
        assert o.user_id in users and o.items and all(i.product_id in products and i.quantity >= 1 for i in o.items)
    assert {i.event for i in store.interactions} == {"view", "cart", "purchase", "rate"}


def test_dates_are_in_2025_2026_and_ordered(store):
    stamps = [r.created_at for r in store.reviews] + [i.ts for i in store.interactions]
    stamps += [t for o in store.orders.values() for t in (o.created_at, o.updated_at)]
    assert all(datetime.fromisoformat(s).year in (2025, 2026) and s <= NOW.isoformat() for s in stamps)
    ts = [i.ts for i in store.interactions]
    assert ts == sorted(ts)
    for o in store.orders.values():
        assert o.created_at <= o.updated_at
        assert o.status == "cancelled" or o.estimated_delivery > o.created_at[:10]


def test_orders_statuses_and_tracking(store):
    per_user = Counter(o.user_id for o in store.orders.values())
    assert max(per_user.values()) <= 5 and len(per_user) < len(store.users)  # 0-5 orders each
    statuses = Counter(o.status for o in store.orders.values())
    assert set(statuses) == {"processing", "shipped", "delivered", "cancelled", "returned"}
    for o in store.orders.values():
        shipped = o.status in ("shipped", "delivered", "returned")
        assert bool(o.carrier) == shipped and bool(o.tracking_number) == shipped, o.order_id
        assert all(i.unit_price == store.products[i.product_id].price for i in o.items)


def test_purchases_are_exactly_the_non_cancelled_order_items(store):
    from_orders = Counter((o.user_id, i.product_id, o.created_at) for o in store.orders.values()
                          if o.status != "cancelled" for i in o.items)
    events = Counter((i.user_id, i.product_id, i.ts) for i in store.interactions if i.event == "purchase")
    assert events == from_orders


def test_customer_reviews_follow_their_own_received_orders(store):
    received = defaultdict(list)
    for o in store.orders.values():
        if o.status in ("delivered", "returned"):
            for i in o.items:
                received[(o.user_id, i.product_id)].append(o.updated_at)
    by_users = [r for r in store.reviews if r.user_id]
    assert len(by_users) > 100
    for r in by_users:
        assert any(t <= r.created_at for t in received[(r.user_id, r.product_id)]), r.review_id
    rates = {(i.user_id, i.product_id, i.ts, i.value) for i in store.interactions if i.event == "rate"}
    assert rates == {(r.user_id, r.product_id, r.created_at, r.rating) for r in by_users}


def test_segments_describe_tastes_that_drive_purchases(store):
    leaves = {c.path[-1] for c in CATEGORIES}
    in_taste = total = 0
    purchases = _purchases(store)
    for uid, user in store.users.items():
        seg = parse_segment(user.segment)
        assert seg["price_level"] in TIERS and set(seg["categories"]) <= leaves and seg["categories"]
        for _, pid in purchases.get(uid, []):
            total += 1
            in_taste += store.products[pid].category[-1] in seg["categories"]
    assert in_taste / total > 0.75


def test_friendships_are_symmetric_weighted_and_homophilous(store):
    edges = {(f.user_id, f.friend_id): f.weight for f in store.friendships}
    assert all(edges.get((b, a)) == w and 0 < w <= 1 for (a, b), w in edges.items())
    cats = {u: set(parse_segment(x.segment)["categories"]) for u, x in store.users.items()}
    jaccard = lambda a, b: len(cats[a] & cats[b]) / len(cats[a] | cats[b])  # noqa: E731
    friends = sum(jaccard(a, b) for a, b in edges) / len(edges)
    rng, ids = random.Random(0), list(store.users)
    pairs = [rng.sample(ids, 2) for _ in range(3000)]
    strangers = sum(jaccard(a, b) for a, b in pairs) / len(pairs)
    assert friends > strangers + 0.15, (friends, strangers)


def test_friends_purchases_predict_held_out_purchases(store):
    """Leave out each user's last purchase; friends' earlier purchases must beat category popularity at hit@10."""
    purchases = _purchases(store)
    friends = defaultdict(list)
    for f in store.friendships:
        friends[f.user_id].append(f)
    hits_social = hits_plain = n = 0
    for uid, bought in purchases.items():
        if len(bought) < 2:
            continue
        t, held = bought[-1]
        history = {p for _, p in bought[:-1]}
        popularity = Counter(p for v in purchases.values() for ts, p in v if ts < t)
        cats = {store.products[p].category[-1] for p in history}
        plain = sorted((p for p in store.products if p not in history),
                       key=lambda p: (store.products[p].category[-1] not in cats, -popularity[p], p))[:10]
        score = Counter()
        for f in friends[uid]:
            for ts, p in purchases.get(f.friend_id, []):
                if ts < t and p not in history:
                    score[p] += f.weight
        social = [p for p, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))][:10]
        social += [p for p in plain if p not in social][: 10 - len(social)]
        n += 1
        hits_social += held in social
        hits_plain += held in plain
    assert n > 100
    assert hits_social / n > hits_plain / n + 0.08, (hits_social / n, hits_plain / n)


# ---- policy and conversations --------------------------------------------------------------------

def test_policy_states_the_numbers_in_both_languages(store):
    policy = store.policy
    for key in ("free_shipping_min_inr", "return_days", "standard_fee_inr", "express_fee_inr"):
        assert policy.count(str(POLICY_TERMS[key])) >= 2, key  # English and Chinese sections
    for word in ("## Shipping", "## Returns", "## Refunds", "## Warranty", "## Cancellations", "## 中文说明", "退货"):
        assert word in policy


def test_conversations_are_about_the_users_own_orders(store):
    convs = store.conversations
    assert len(convs) == 30 and [c["conversation_id"] for c in convs[:2]] == ["C001", "C002"]
    assert {c["topic"] for c in convs} == set(TOPICS)
    assert any(c["mood"] == "angry" for c in convs) and any(c["mood"] == "calm" for c in convs)
    assert len({c["user_id"] for c in convs}) == len(convs)
    for c in convs:
        assert c["user_id"] in store.users and c["lang"] == store.users[c["user_id"]].lang
        assert c["messages"] and c["messages"][-1]["role"] == "customer"
        assert all(m["role"] in ("customer", "agent") and m["text"] for m in c["messages"])
        assert c["product_id"] in store.products
        if c["order_id"] is not None:
            order = store.orders[c["order_id"]]
            assert order.user_id == c["user_id"] and c["order_id"] in c["messages"][0]["text"]
            assert c["created_at"] >= order.updated_at
    cancels = [store.orders[c["order_id"]].status for c in convs if c["topic"] == "cancel_order"]
    assert "processing" in cancels
    assert json.loads(json.dumps(convs, ensure_ascii=False)) == convs


def test_small_stores_keep_the_invariants():
    s = build_demo_store(seed=5, n_products=40, n_users=15)
    assert len(s.products) == 40 and len(s.users) == 15
    for pid, p in s.products.items():
        stars = [r.rating for r in s.reviews if r.product_id == pid]
        assert p.rating_count == len(stars) >= 3 and p.rating == round(sum(stars) / len(stars), 1)
    assert all(c["user_id"] in s.users for c in s.conversations)
