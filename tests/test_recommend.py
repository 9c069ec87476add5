"""The hybrid recommender on small hand-built stores: social evidence, true explanations, cold start, context."""
from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest

from assistant.insights.recommend import (
    align_vectors, fit_recommender, load_recommender, train_recommender,
)
from assistant.insights.recommend_data import EVENT_ORDER, EVENT_WEIGHTS, from_store
from retrieval.schema import Friendship, Interaction, Product, User
from retrieval.store import Store

CATEGORIES = ["Headphones", "Laptops", "Shoes", "Books"]


def product(pid: str, cat: str) -> Product:
    return Product(product_id=pid, title=f"{cat} item {pid}", category=["Shop", cat], brand="B", price=10.0)


def buy(user: str, pid: str, day: int, event: str = "purchase", value: float = 1.0) -> Interaction:
    return Interaction(user, pid, event, value, f"2025-01-{day:02d}T10:00:00")


def friends_store(with_friends: bool = True) -> Store:
    """Mia bought two headphones; her friends Alice and Bo bought book X and shoes; strangers bought other books."""
    products = {f"H{k}": product(f"H{k}", "Headphones") for k in range(6)}
    products.update({f"K{k}": product(f"K{k}", "Books") for k in range(6)})
    products.update({f"S{k}": product(f"S{k}", "Shoes") for k in range(4)})
    products["X"] = Product(product_id="X", title="The Book X", category=["Shop", "Books"])
    users = {u: User(u, name) for u, name in [("mia", "Mia"), ("alice", "Alice"), ("bo", "Bo")]}
    inter = [buy("mia", "H0", 1), buy("mia", "H1", 2),
             buy("alice", "X", 3), buy("alice", "S0", 3), buy("alice", "S1", 4),
             buy("bo", "X", 5), buy("bo", "S2", 5), buy("bo", "S3", 6)]
    for s in range(8):  # strangers: 8 bought K0, 5 of them K1, 3 of them K2
        users[f"s{s}"] = User(f"s{s}", f"Stranger {s}")
        inter += [buy(f"s{s}", f"K{k}", 7 + s) for k, n in enumerate((8, 5, 3)) if s < n]
    ties = [Friendship("mia", "alice", 1.0), Friendship("alice", "mia", 1.0),
            Friendship("mia", "bo", 0.8), Friendship("bo", "mia", 0.8)] if with_friends else []
    return Store(products=products, users=users, interactions=inter, friendships=ties)


def community_store(seed: int = 0, n_users: int = 60, copy_p: float = 0.5) -> Store:
    """Four taste communities, friends mostly inside one; purchases partly copied from friends' earlier ones."""
    rng = random.Random(seed)
    products = {f"P{k:02d}": product(f"P{k:02d}", CATEGORIES[k % 4]) for k in range(80)}
    by_cat = {c: [p for p in products if products[p].category[-1] == c] for c in CATEGORIES}
    users = {f"u{k:02d}": User(f"u{k:02d}", f"User {k}") for k in range(n_users)}
    community = {u: k % 4 for k, u in enumerate(users)}
    ties = []
    for a in users:
        for b in users:
            if a < b and rng.random() < (0.25 if community[a] == community[b] else 0.01):
                ties += [Friendship(a, b, 1.0), Friendship(b, a, 1.0)]
    friends = {u: [f.friend_id for f in ties if f.user_id == u] for u in users}
    bought: dict[str, list[str]] = {u: [] for u in users}
    inter = []
    for day in range(1, 29):
        for u in rng.sample(list(users), 25):
            pool = [p for f in friends[u] for p in bought[f]]
            own = by_cat[CATEGORIES[community[u]]]
            pid = rng.choice(pool) if pool and rng.random() < copy_p else rng.choice(own[: 8 + rng.randrange(12)])
            event = rng.choice(["purchase", "purchase", "view", "cart"])
            inter.append(buy(u, pid, day, event))
            if event == "purchase":
                bought[u].append(pid)
    return Store(products=products, users=users, interactions=inter, friendships=ties)


def positives(store: Store, user: str) -> dict[str, str]:
    """product -> strongest positive event of the user."""
    out: dict[str, str] = {}
    for i in store.interactions:
        if i.user_id == user and (i.event != "rate" or i.value >= 4):
            best = out.get(i.product_id)
            if best is None or EVENT_ORDER.index(i.event) < EVENT_ORDER.index(best):
                out[i.product_id] = i.event
    return out


def test_friends_purchase_is_recommended_with_their_names():
    rec = fit_recommender(from_store(friends_store())[0])
    top = rec.recommend("mia", k=3)
    x = next((r for r in top if r.product_id == "X"), None)
    assert x is not None, [r.product_id for r in top]
    assert "2 friends bought this (Alice, Bo)" in x.reasons
    assert x.evidence["social"]["friend_ids"] == ["alice", "bo"]
    assert x.components["social"] > 0


def test_without_the_friend_graph_the_book_is_not_recommended():
    rec = fit_recommender(from_store(friends_store(with_friends=False))[0])
    assert "X" not in [r.product_id for r in rec.recommend("mia", k=3)]


def test_user_without_history_gets_friends_items():
    store = friends_store()
    store.interactions = [i for i in store.interactions if i.user_id != "mia"]
    top = fit_recommender(from_store(store)[0]).recommend("mia", k=3)
    x = next(r for r in top if r.product_id == "X")
    assert x.evidence["social"]["friend_names"] == ["Alice", "Bo"]


def test_cold_start_user_gets_most_popular_items():
    store = friends_store(with_friends=False)
    store.users["new"] = User("new", "Newcomer")
    rec = fit_recommender(from_store(store)[0])
    likers = {p: len({i.user_id for i in store.interactions if i.product_id == p}) for p in store.products}
    expected = sorted(likers, key=lambda p: -likers[p])[:2]
    for user in ("new", None, "not-a-user"):
        top = rec.recommend(user, k=2)
        assert sorted(r.product_id for r in top) == sorted(expected)
        assert all(r.reasons[0].startswith("popular in Books: ") for r in top)


def test_already_bought_items_only_when_allowed():
    store = community_store()
    rec = fit_recommender(from_store(store)[0])
    for user in list(store.users)[:15]:
        touched = {i.product_id for i in store.interactions if i.user_id == user}
        assert not touched & {r.product_id for r in rec.recommend(user, k=10)}
    user = "u01"
    mine = sorted({i.product_id for i in store.interactions if i.user_id == user})
    assert [r.product_id for r in rec.recommend(user, k=1, candidate_filter=mine[:1], allow_seen=True)] == mine[:1]
    assert rec.recommend(user, k=1, candidate_filter=mine[:1]) == []


def test_candidate_filter_restricts_results():
    store = community_store()
    rec = fit_recommender(from_store(store)[0])
    shoes = lambda pid: store.products[pid].category[-1] == "Shoes"  # noqa: E731
    top = rec.recommend("u02", k=5, candidate_filter=shoes)
    assert len(top) == 5 and all(shoes(r.product_id) for r in top)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_explanation_is_true(seed):
    store = community_store(seed)
    data = from_store(store)[0]
    rec = fit_recommender(data)
    ties = {(f.user_id, f.friend_id) for f in store.friendships}
    checked = 0
    for user in store.users:
        mine = positives(store, user)
        for r in rec.recommend(user, k=5):
            assert r.product_id not in mine
            for reason in r.reasons:
                checked += check_reason(store, user, mine, ties, r, reason)
    assert checked > 100


def check_reason(store, user, mine, ties, r, reason) -> int:
    verbs = {"bought this": "purchase", "added this to a cart": "cart", "viewed this": "view",
             "rated this highly": "rate"}
    if reason.startswith("similar to "):
        ev = r.evidence.get("itemknn") or r.evidence.get("content")
        src = ev["source_product_id"]
        assert src in mine
        assert reason == f"similar to {store.products[src].title} you {verb_of(mine[src])}"
    elif "of your friends" in reason:
        direct = {b for a, b in ties if a == user}
        for fid in r.evidence["social"]["friend_of_friend_ids"]:
            assert fid not in direct and fid != user
            assert any((f, fid) in ties for f in direct)
            assert r.product_id in positives(store, fid)
    elif "friend" in reason:
        for clause in reason.split("; "):
            m = re.fullmatch(r"(\d+) friends? (.+?) \((.+)\)", clause)
            assert m, clause
            for fid in r.evidence["social"]["friend_ids"]:
                assert (user, fid) in ties or (fid, user) in ties
            shown, _, more = m.group(3).partition(" and ")
            names = shown.split(", ")
            event = verbs[m.group(2)]
            assert event == r.evidence["social"]["events"][r.evidence["social"]["friend_names"].index(names[0])]
            for name in names:
                fid = next(u for u in store.users if store.users[u].name == name)
                assert positives(store, fid).get(r.product_id) == event
            assert int(m.group(1)) == len(names) + (int(more.split()[0]) if more else 0)
    elif reason.startswith("fits your history"):
        src = r.evidence["als"]["source_product_id"]
        assert src in mine and store.products[src].title in reason
    elif reason.startswith("you often shop in "):
        cat = store.products[r.product_id].category[-1]
        n = sum(store.products[p].category[-1] == cat for p in mine)
        assert reason == f"you often shop in {cat} ({n} of your items)"
    elif reason.startswith("popular") or reason.startswith("trending"):
        likers = [u for u in store.users if r.product_id in positives(store, u)]
        counts = [int(n) for n in re.findall(r"(\d+) shoppers?", reason)]
        assert sum(counts) <= len(likers) and counts
    return 1


def verb_of(event: str) -> str:
    return {"purchase": "bought", "cart": "added to a cart", "view": "viewed", "rate": "rated highly"}[event]


def category_vectors(store: Store, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    basis = {c: np.eye(8)[k] for k, c in enumerate(CATEGORIES)}
    return {p: basis[prod.category[-1]] + 0.1 * rng.standard_normal(8) for p, prod in store.products.items()}


def test_context_vector_steers_towards_the_request():
    store = community_store()
    data = from_store(store)[0]
    rec = fit_recommender(data, vectors=align_vectors(category_vectors(store), data.item_ids))
    user = "u00"  # community 0: Headphones
    cat = lambda r: store.products[r.product_id].category[-1]  # noqa: E731
    plain = rec.recommend(user, k=5)
    assert sum(cat(r) == "Headphones" for r in plain) >= 3
    steered = rec.recommend(user, k=5, context_vector=np.eye(8)[1])  # Laptops direction
    assert [cat(r) for r in steered] == ["Laptops"] * 5
    assert all(r.reasons[0].startswith("close to your request") for r in steered)
    assert all(r.evidence["context"]["similarity"] > 0.8 for r in steered)


def test_context_without_vectors_is_an_error():
    rec = fit_recommender(from_store(friends_store())[0])
    with pytest.raises(ValueError, match="product vectors"):
        rec.recommend("mia", context_vector=np.ones(8))


def test_weights_are_learned_and_social_counts_when_friends_copy():
    rec = fit_recommender(from_store(community_store(copy_p=0.7))[0])
    assert rec.info["validation"]["weights_source"] == "validation"
    assert rec.weights["social"] > 0
    assert rec.info["validation"]["validation_users"] >= 30


def test_train_save_load_round_trip(tmp_path):
    store = community_store()
    path = train_recommender(store, tmp_path / "rec", embeddings=category_vectors(store))
    meta = json.loads((path / "meta.json").read_text())
    assert meta["version"] == 1 and meta["name"] == "recommend" and len(meta["data_hash"]) == 64
    assert meta["created"] and "content" in meta["components"]
    loaded = load_recommender(path)
    fresh = fit_recommender(from_store(store)[0], vectors=align_vectors(category_vectors(store),
                                                                        sorted(store.products)))
    for user in ("u03", "u10"):
        a, b = loaded.recommend(user, k=5), fresh.recommend(user, k=5)
        assert [r.product_id for r in a] == [r.product_id for r in b]
        assert [r.reasons for r in a] == [r.reasons for r in b]
    meta["version"] = 99
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="version 99"):
        load_recommender(path)


def test_low_ratings_are_seen_but_not_liked():
    store = friends_store()
    store.interactions.append(Interaction("mia", "K0", "rate", 2.0, "2025-01-20T10:00:00"))
    data = from_store(store)[0]
    u, k0 = data.user_index["mia"], data.item_index["K0"]
    assert data.seen[u, k0] == 1 and data.weights[u, k0] == 0
    assert data.weights[u, data.item_index["H0"]] == EVENT_WEIGHTS["purchase"]
    assert "K0" not in [r.product_id for r in fit_recommender(data).recommend("mia", k=20)]


def test_now_moves_the_trending_window():
    store = friends_store(with_friends=False)
    store.interactions += [buy(f"s{s}", "K5", 28) for s in range(3)]  # a late burst for K5
    store.users["new"] = User("new", "Newcomer")
    rec = fit_recommender(from_store(store)[0])
    day10 = from_store(store)[0].times.data.min() + 86400.0 * 9
    late = rec.recommend("new", k=1, candidate_filter=["K5"])[0]
    early = rec.recommend("new", k=1, candidate_filter=["K5"], now=day10)[0]
    assert any(r.startswith("trending: 3 shoppers showed interest in it") for r in late.reasons), late.reasons
    assert late.components["trending"] > 0
    assert "trending" not in early.components and not any("trending" in r for r in early.reasons)
