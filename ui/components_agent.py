"""HTML renderers for the agent console: the analysis of a conversation, the customer's orders, the
suggested replies with what they cite. Pure functions from `assistant.agent_assist` results and store
records to escaped HTML.
"""
from __future__ import annotations

from typing import Any

from ui.components import esc, short_title


def _meter(p: float | None) -> str:
    width = 0 if p is None else max(0.0, min(1.0, p)) * 100
    return f'<div class="sa-meter"><div style="width:{width:.0f}%"></div></div>'


def analysis_panel(a: dict[str, Any]) -> str:
    """Intent with confidence, sentiment, purchase propensity with its top factors, needs-human flag."""
    if a["needs_human"]:
        flag = '<span class="sa-badge red">⚠ Needs human</span> ' + "".join(
            f'<div class="sa-muted">• {esc(r)}</div>' for r in a["reasons"])
    else:
        flag = '<span class="sa-badge green">✓ Assist can draft</span>'
    alts = ", ".join(f"{esc(n)} {p:.0%}" for n, p in a.get("alternatives", []))
    families = ", ".join(f"{esc(n)} {p:.0%}" for n, p in a.get("families", [])[1:])
    tone = {"negative": "red", "positive": "green"}.get(a["sentiment"], "grey")
    prop = a.get("propensity") or {}
    p = prop.get("probability")
    factors = "".join(
        f'<div class="sa-muted">• {esc(f.get("description") or f["feature"])}'
        + (f' = {f["value"]:.4g}' if isinstance(f.get("value"), (int, float)) else "")
        + f': {esc(f.get("direction", ""))} ({f["contribution"]:+.2f})</div>' for f in prop.get("factors", [])[:3])
    return (f'<div class="sa-panel sa-analysis" data-family="{esc(a["family"])}" data-intent="{esc(a["intent"])}">'
            f'<div>{flag}</div>'
            f'<div style="margin-top:6px"><b>Intent</b>: <code>{esc(a["intent"])}</code> {a["confidence"]:.0%}'
            f'{_meter(a["confidence"])}<div class="sa-muted">reply type <b>{esc(a["family"])}</b> '
            f'{a["family_confidence"]:.0%}; other readings {families or "—"}; runners-up {alts or "—"}</div></div>'
            f'<div style="margin-top:6px"><b>Sentiment</b>: <span class="sa-badge {tone}">{esc(a["sentiment"])}</span> '
            f'<span class="sa-muted">tone {a["sentiment_score"]:+.2f}</span></div>'
            f'<div style="margin-top:6px"><b>Purchase propensity</b>: '
            + (f"{p:.0%}{_meter(p)}" if p is not None else '<span class="sa-muted">no model</span>')
            + f'{factors}</div><div class="sa-muted">language {esc(a["lang"])}</div></div>')


def orders_panel(store, user_id: str | None, highlight: list[str]) -> str:
    orders = sorted(store.orders_of(user_id or ""), key=lambda o: o.created_at, reverse=True)[:5]
    name = store.users[user_id].name if user_id in store.users else (user_id or "guest")
    if not orders:
        return f'<div class="sa-panel sa-orders"><h4>Orders of {esc(name)}</h4><div class="sa-muted">none</div></div>'
    rows = ""
    for o in orders:
        items = "; ".join(short_title(store.products[i.product_id].title, 40) if i.product_id in store.products
                          else esc(i.product_id) for i in o.items)
        cls = ' class="sa-best"' if o.order_id in highlight else ""
        rows += (f'<tr{cls}><td><b>{esc(o.order_id)}</b><br>{esc(o.status)}</td>'
                 f'<td style="white-space:nowrap">{esc(o.created_at[:10])}<br>ETA {esc(o.estimated_delivery or "—")}</td>'
                 f"<td>{esc(o.carrier or '—')}<br>{esc(o.tracking_number)}</td><td>{items}</td></tr>")
    return (f'<div class="sa-panel sa-orders"><h4>Orders of {esc(name)} <span class="sa-muted">{esc(user_id)}</span></h4>'
            f'<table class="sa-table"><tr><th>order</th><th>placed / ETA</th><th>carrier / tracking</th>'
            f"<th>items</th></tr>{rows}</table></div>")


def suggestion_html(i: int, s: dict[str, Any] | None) -> str:
    if s is None:
        return ""
    cites = "".join(f'<span class="sa-cite">{esc(c)}</span>' for c in s["cites"]) or \
        '<span class="sa-muted">cites nothing (a question or hand-off)</span>'
    tag = f'<span class="sa-tag">{esc(s.get("topic") or "")} · {esc(s["kind"])}</span>' + \
        (' <span class="sa-tag">LLM-phrased</span>' if s.get("phrased") else "")
    return (f'<div class="sa-suggestion" data-suggestion="{i}"><div><b>Suggestion {i + 1}</b> {tag}</div>'
            f'<div class="sa-suggestion-text" style="margin:4px 0">{esc(s["text"])}</div><div>{cites}</div></div>')


def phrase_status(done, limit_s: float) -> str:
    """The LLM phrasing's state: working (done is None), finished, or stopped at the time limit."""
    if done is None:
        return (f'<div class="sa-muted sa-working" aria-busy="true">⏳ Phrasing with the LLM (at most '
                f'{limit_s:.0f} s): the templated drafts below can be used meanwhile.</div>')
    cls = "sa-badge red" if done.timed_out else "sa-muted"
    return f'<div class="sa-phrased"><span class="{cls}">{esc(done.note())}</span></div>'
