"""Explanations for recommendations, written only from evidence looked up in the data.

Every sentence states a fact the data holds: the friends named did like the item (with the event that says
so), the "similar to" product is one the user interacted with, the counts are counted. A component that
contributed but has no such fact behind it gets no sentence. Knows the data and the fitted components; knows
nothing about weights learning, sessions or the LLM.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np

from assistant.insights.recommend_data import EVENT_ORDER, EVENT_VERBS, InteractionData

MAX_NAMES = 3
Writer = Callable[[InteractionData, dict[str, Any], int, int, float], tuple[str, dict[str, Any]] | None]


def verb(code: int, obj: str = "") -> str:
    """'bought it', 'added it to a cart'; without an object: 'bought', 'added to a cart' (after a title)."""
    template = EVENT_VERBS[EVENT_ORDER[int(code) - 1]] if code >= 1 else "interacted with {obj}"
    return " ".join(template.format(obj=obj).split())


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _grouped(people: list[int], codes: list[int], data: InteractionData, noun: tuple[str, str]) -> str:
    """'2 friends bought this (Alice, Bo); 1 friend viewed this (Cy)' - one clause per event."""
    by_verb: dict[str, list[str]] = {}
    for p, c in sorted(zip(people, codes), key=lambda pc: pc[1]):  # strongest event first, stable by tie
        by_verb.setdefault(verb(c, "this"), []).append(data.user_name(p))
    parts = [f"{len(ns)} {noun[len(ns) > 1]} {v} ({_names(ns)})" for v, ns in by_verb.items()]
    return "; ".join(parts)


def _counts_phrase(codes: np.ndarray) -> str:
    """'5 shoppers bought it, 12 viewed it' from the likers' strongest events (the two largest groups,
    strongest event first)."""
    counts = Counter(int(c) for c in codes)
    top = sorted(c for c, _ in counts.most_common(2))
    return ", ".join(f"{counts[c]} shopper{'s' if counts[c] > 1 else ''} {verb(c, 'it')}" for c in top)


def _own_verb(data: InteractionData, user: int, item: int) -> str:
    return verb(int(data.events[user, item]))


def social(data, comp, user, item, ref_time):
    ev = comp.evidence(user, item)
    if ev.get("friends"):
        friends = ev["friends"]
        text = _grouped(friends, ev["friend_events"], data, ("friend", "friends"))
        return text, {"friend_ids": [data.user_ids[f] for f in friends],
                      "friend_names": [data.user_name(f) for f in friends],
                      "events": [EVENT_ORDER[c - 1] for c in ev["friend_events"]]}
    if ev.get("friends_of_friends"):
        two = ev["friends_of_friends"]
        codes = [int(data.events[g, item]) for g in two]
        text = _grouped(two, codes, data, ("friend of your friends", "friends of your friends"))
        return text, {"friend_of_friend_ids": [data.user_ids[g] for g in two]}
    return None


def similar(basis: str):
    def write(data, comp, user, item, ref_time):
        ev = comp.evidence(user, item)
        if "source_item" not in ev:
            return None
        src = ev["source_item"]
        return (f"similar to {data.title(src)} you {_own_verb(data, user, src)}",
                {"source_product_id": data.item_ids[src], "similarity": round(ev["similarity"], 4), "basis": basis})
    return write


def history(data, comp, user, item, ref_time):
    ev = comp.evidence(user, item)
    if "source_item" not in ev:
        return None
    src = ev["source_item"]
    return (f"fits your history, mostly because you {verb(int(data.events[user, src]), data.title(src))}",
            {"source_product_id": data.item_ids[src], "contribution": round(ev["contribution"], 4)})


def affinity(data, comp, user, item, ref_time):
    ev = comp.evidence(user, item)
    group = data.group_name(item)
    if not ev or not group:
        return None
    n = ev["group_items"]
    return f"you often shop in {group} ({n} of your items)", {"group": group, "your_items_in_group": n}


def popularity(data, comp, user, item, ref_time):
    codes = data.events[:, [item]].tocsc().data
    if len(codes) < 2:
        return None
    group = data.group_name(item)
    where = f"popular in {group}" if group else "popular"
    return f"{where}: {_counts_phrase(codes)}", {"group": group, "likers": int(len(codes))}


def trending(data, comp, user, item, ref_time):
    """Counts users whose latest like of the item falls in the window (their strongest event may be older)."""
    days = comp.half_life / 86400.0
    likers = comp.recent_likers(item, ref_time, days)
    if len(likers) < 2:
        return None
    until = datetime.fromtimestamp(ref_time, tz=timezone.utc).date().isoformat()
    return (f"trending: {len(likers)} shoppers showed interest in it in the {days:.0f} days up to {until}",
            {"recent_likers": len(likers), "window_days": days, "until": until})


WRITERS: dict[str, Writer] = {
    "social": social, "itemknn": similar("bought by the same shoppers"), "content": similar("product description"),
    "als": history, "affinity": affinity, "popularity": popularity, "trending": trending,
}


def explain(data: InteractionData, components: dict[str, Any], user: int | None, item: int,
            contributions: dict[str, float], ref_time: float, max_reasons: int = 3) -> tuple[list[str], dict]:
    """Reasons for the components that contributed most, each backed by evidence; (reasons, evidence by component)."""
    reasons, evidence = [], {}
    for name in sorted(contributions, key=contributions.get, reverse=True):
        if contributions[name] <= 0 or name not in WRITERS or name not in components:
            continue
        if user is None and name not in ("popularity", "trending"):
            continue
        written = WRITERS[name](data, components[name], user, item, ref_time)
        if written:
            reasons.append(written[0])
            evidence[name] = written[1]
        if len(reasons) >= max_reasons:
            break
    return reasons, evidence
