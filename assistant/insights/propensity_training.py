"""Training sets for purchase propensity: the store's own sessions (event logs split at 30-minute gaps,
features from the events before the first purchase) or the UCI Online Shoppers data, and the default model.

Knows stores' interaction logs and the UCI file; knows nothing about live sessions or the UI.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from assistant.insights.propensity import PurchasePropensityModel
from assistant.insights.propensity_features import BASE_FEATURES, uci_features
from assistant.insights.session_signals import SessionSignals


SESSION_GAP_S = 30 * 60


def _sessions(store) -> list[tuple[str, list]]:
    """(user_id, events) per session: a user's view/cart/purchase events split at 30-minute gaps."""
    by_user: dict[str, list] = {}
    for i in store.interactions:
        if i.event in ("view", "cart", "purchase") and i.user_id and i.ts:
            by_user.setdefault(i.user_id, []).append(i)
    out = []
    for uid, events in by_user.items():
        events.sort(key=lambda e: e.ts)
        current = [events[0]]
        for prev, e in zip(events, events[1:]):
            if (datetime.fromisoformat(e.ts) - datetime.fromisoformat(prev.ts)).total_seconds() > SESSION_GAP_S:
                out.append((uid, current))
                current = []
            current.append(e)
        out.append((uid, current))
    return out


def _before_purchase(events: list) -> tuple[list, int, float]:
    """Events before the session's first purchase, the label, and that purchase's revenue share per view."""
    cut = next((k for k, e in enumerate(events) if e.event == "purchase"), None)
    if cut is None:
        return events, 0, 0.0
    revenue = sum(e.value for e in events[cut:] if e.event == "purchase")
    return events[:cut], 1, float(revenue)


def store_sessions(store):
    """Store sessions as (frame in the UCI feature space, purchase labels, product page values).

    A session is labelled 1 when it contains a purchase; its features use only the events before the
    first purchase. PageValues follows Google Analytics: a product's page value is the revenue of the
    converting sessions that viewed it divided by the sessions that viewed it, computed leaving the
    session itself out (otherwise the label leaks into the feature). Sessions with no events before
    their purchase are skipped: there is nothing to predict from.
    """
    import pandas as pd

    price = {pid: (p.price or 0.0) for pid, p in store.products.items()}
    rows, labels, sessions = [], [], []
    for uid, events in _sessions(store):
        pre, label, _ = _before_purchase(events)
        if pre:
            revenue = sum(price.get(e.product_id, 0.0) * e.value for e in events if e.event == "purchase")
            sessions.append((uid, pre, label, revenue))
    views: dict[str, int] = {}
    value: dict[str, float] = {}
    for _, pre, label, revenue in sessions:
        for pid in {e.product_id for e in pre}:
            views[pid] = views.get(pid, 0) + 1
            value[pid] = value.get(pid, 0.0) + (revenue if label else 0.0)
    seen_users: set[str] = set()
    for uid, pre, label, revenue in sorted(sessions, key=lambda s: s[1][0].ts):
        products = {e.product_id for e in pre}
        loo = [(value[p] - (revenue if label else 0.0)) / (views[p] - 1) for p in products if views[p] > 1]
        rows.append(_session_row(pre, float(np.mean(loo)) if loo else 0.0, uid in seen_users, store))
        labels.append(label)
        seen_users.add(uid)
    page_values = {p: value[p] / views[p] for p in views}
    return pd.DataFrame(rows, columns=BASE_FEATURES), np.array(labels, dtype=int), page_values


def _session_row(pre: list, page_value: float, returning: bool, store) -> dict:
    start, end = datetime.fromisoformat(pre[0].ts), datetime.fromisoformat(pre[-1].ts)
    viewed = [e.product_id for e in pre if e.event in ("view", "cart")]
    cats: dict[str, set] = {}
    for pid in viewed:
        product = store.products.get(pid)
        cats.setdefault(product.category[0] if product and product.category else "", set()).add(pid)
    signals = SessionSignals(
        product_views=len(set(viewed)), product_seconds=(end - start).total_seconds(), n_turns=len(pre),
        page_value=page_value, started_at=start, returning=returning,
        cart_adds=sum(e.event == "cart" for e in pre),
        comparison_turns=sum(len(v) for v in cats.values() if len(v) >= 2))
    feats = signals.features()
    for k in ("price_questions", "sentiment", "Administrative", "Administrative_Duration", "Informational",
              "Informational_Duration"):
        feats[k] = np.nan  # the event log does not know these; the live session does
    return feats


def train_propensity(store=None, uci_csv: str | Path | None = None, min_positives: int = 30
                     ) -> PurchasePropensityModel:
    """The default model: from the store's own sessions when it has enough, else from the UCI data."""
    if store is not None:
        X, y, page_values = store_sessions(store)
        if y.sum() >= min_positives and (len(y) - y.sum()) >= min_positives:
            model = PurchasePropensityModel().fit(X, y, source=f"store:{store.name}")
            model.page_values = page_values
            return model
    if uci_csv is not None and Path(uci_csv).exists():
        import pandas as pd

        X, y = uci_features(pd.read_csv(uci_csv))
        return PurchasePropensityModel().fit(X, y, source="uci")
    raise ValueError("no training data for purchase propensity: the store has too few sessions with and without "
                     f"a purchase (need {min_positives} of each) and no UCI Online Shoppers CSV was given")
