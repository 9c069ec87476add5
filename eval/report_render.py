"""Rendering report sections to one self-contained HTML page (style: eval/templates/report.css, figures
inlined as base64) and to its Markdown twin (figures as PNG files beside it).

Knows sections, tables and transcripts as the report shows them; knows nothing about reading results files.
"""
from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from eval.compare import headline, task_of
from eval.report_figures import Figure
from eval.report_read import is_num
from ui.markup import md_text


@dataclass
class Section:
    """One results file, as tables, figures and failure transcripts (rendered to HTML and Markdown)."""

    title: str
    provenance: list[tuple[str, str]]
    tables: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    failure_title: str = ""



@lru_cache(maxsize=1)
def css() -> str:
    """The page's style sheet, eval/templates/report.css."""
    return resources.files("eval").joinpath("templates").joinpath("report.css").read_text(encoding="utf-8").strip()


def overview(paths: list[str], results: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    rows = []
    for p, r in zip(paths, results):
        m = r.get("meta") or {}
        key = " · ".join(f"{k} {fmt(v)}" for k, v in list(headline(r).items())[:5])
        backend = f"{m.get('backend', '-')} {m.get('model') or ''}".strip()
        if isinstance(m.get("user"), dict):
            backend += f" (shopper: {m['user'].get('backend')} {m['user'].get('model') or ''})".replace(" )", ")")
        rows.append([Path(p).name, task_of(r) or "?", m.get("git_commit", "?"), backend, key])
    return ["file", "task", "commit", "backend", "headline metrics"], rows


def fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list) and v and all(isinstance(x, bool) for x in v):  # pass/fail per repeated run
        return "".join("✓" if x else "✗" for x in v)
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:.4f}" if abs(v) < 1000 else f"{v:,.1f}"
    return str(v)



def _table_html(cols: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    cell = lambda v: f"<td{'' if is_num(v) else ' class=l'}>{html.escape(fmt(v))}</td>"  # noqa: E731
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>"


def _scalars(row: dict[str, Any]) -> list[tuple[str, Any]]:
    """The one-line fields of a case: numbers, flags, short strings, pass/fail lists of repeated runs."""
    def shown(v: Any) -> bool:
        return not isinstance(v, (list, dict)) or (isinstance(v, list) and bool(v)
                                                    and all(isinstance(x, bool) for x in v))

    return [(k, v) for k, v in row.items() if k not in ("id", "transcript", "turns", "_query", "goal") and shown(v)]


def _case_html(row: dict[str, Any]) -> str:
    scalars = ", ".join(f"{k}={fmt(v)}" for k, v in _scalars(row))
    parts = [f"<div class='case'><b>{html.escape(str(row.get('id', '')))}</b> "
             f"<span class='meta'>{html.escape(scalars)}</span>"]
    q = row.get("_query")
    if q:
        parts.append(f"<div>query: <b>{html.escape(str(q['query']))}</b> <span class='meta'>filters "
                     f"{html.escape(json.dumps(q.get('filters') or {}, ensure_ascii=False))}; relevant "
                     f"{html.escape(', '.join(list((q.get('relevant') or {}))[:8]))}</span></div>")
    if row.get("goal"):
        parts.append(f"<div class='meta'>goal: {html.escape(str(row['goal']))}</div>")
    scored = row["turns"] if isinstance(row.get("turns"), list) else []
    for i, t in enumerate(row.get("transcript") or [], 1):
        parts.append(_turn_html(i, t, scored[i - 1] if i <= len(scored) else {}))
    parts.append("</div>")
    return "".join(parts)


def _turn_html(i: int, t: dict[str, Any], scored: dict[str, Any]) -> str:
    fails = [k for k, v in scored.items() if k.endswith("_ok") and v is False]
    tools = "; ".join(f"{c['name']}({json.dumps(c.get('arguments', {}), ensure_ascii=False)})"
                      + (f" ERROR {c['error']}" if c.get("error") else "") for c in t.get("tools") or [])
    out = [f"<div class='u'>{i}. shopper: {html.escape(str(t.get('user', '')))}</div>",
           f"<div class='a'>&nbsp;&nbsp;&nbsp;assistant: {html.escape(str(t.get('reply', '')))}</div>"]
    meta = [f"intent {t['intent']}" if t.get("intent") else "", f"tools: {tools}" if tools else "",
            f"products: {', '.join(map(str, t['products'][:6]))}" if t.get("products") else "",
            "refused" if t.get("refused") else "", "no match" if t.get("no_match") else ""]
    out.append(f"<div class='meta'>&nbsp;&nbsp;&nbsp;{html.escape(' | '.join(m for m in meta if m))}</div>")
    bad = [f"failed: {', '.join(fails)}" if fails else "",
           f"ungrounded: {t['ungrounded_sentences']}" if t.get("ungrounded_sentences") else "",
           f"constraint violations: {t['violations']}" if isinstance(t.get("violations"), int) and t["violations"]
           else ""]
    if any(bad):
        out.append(f"<div class='bad meta'>&nbsp;&nbsp;&nbsp;{html.escape(' | '.join(b for b in bad if b))}</div>")
    return "".join(out)


def to_html(paths: list[str], results: list[dict[str, Any]], sections: list[Section]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>shopassist evaluation report</title>"
             f"<style>{css()}</style></head><body><h1>shopassist evaluation report</h1>"]
    cols, rows = overview(paths, results)
    parts.append("<h3>Overview</h3>" + _table_html(cols, rows))
    for s in sections:
        prov = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in s.provenance)
        parts.append(f"<h2>{html.escape(s.title)}</h2><table class='prov'>{prov}</table>")
        for title, c, r in s.tables:
            parts.append(f"<h3>{html.escape(title)}</h3>" + _table_html(c, r))
        for f in s.figures:
            data = base64.b64encode(f.png).decode()
            parts.append(f"<figure><img alt='{html.escape(f.title)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{html.escape(f.title)}</figcaption></figure>")
        if s.failures:
            parts.append(f"<h3>{html.escape(s.failure_title)}</h3>" + "".join(_case_html(row) for row in s.failures))
    parts.append("</body></html>")
    return "\n".join(parts)


# ---- Markdown ----------------------------------------------------------------------------------------
def _table_md(cols: list[str], rows: list[list[Any]]) -> str:
    esc = lambda v: fmt(v).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    return "\n".join(["| " + " | ".join(map(esc, cols)) + " |", "|" + "---|" * len(cols)]
                     + ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows])


def _case_md(row: dict[str, Any]) -> str:
    """One case in Markdown; its texts (shoppers' words, replies, product titles) only ever as text."""
    lines = [f"- **{md_text(row.get('id', ''))}**"]
    if row.get("_query"):
        q = row["_query"]
        lines.append(f"  query: {md_text(q['query'])} filters "
                     f"{md_text(json.dumps(q.get('filters') or {}, ensure_ascii=False))}")
    if row.get("goal"):
        lines.append(f"  goal: {md_text(row['goal'])}")
    scalars = [f"{k}={fmt(v)}" for k, v in _scalars(row)]
    if scalars:
        lines.append("  " + ", ".join(scalars))
    for i, t in enumerate(row.get("transcript") or [], 1):
        lines.append(f"  {i}. shopper: {md_text(str(t.get('user', '')).replace(chr(10), ' '))}")
        lines.append(f"     assistant: {md_text(str(t.get('reply', '')).replace(chr(10), ' '))}")
        tools = ", ".join(c["name"] + ("(error)" if c.get("error") else "") for c in t.get("tools") or [])
        if tools or t.get("products"):
            products = ", ".join(map(str, (t.get("products") or [])[:6]))
            lines.append(f"     tools: {md_text(tools or '-')}; products: {md_text(products or '-')}")
    return "\n".join(lines)


def to_markdown(paths: list[str], results: list[dict[str, Any]], sections: list[Section],
                figure_names: list[list[str]]) -> str:
    cols, rows = overview(paths, results)
    parts = ["# shopassist evaluation report", "", _table_md(cols, rows)]
    for s, names in zip(sections, figure_names):
        parts += ["", f"## {s.title}", ""] + [f"- {k}: {v}" for k, v in s.provenance]
        for title, c, r in s.tables:
            parts += ["", f"### {title}", "", _table_md(c, r)]
        parts += [""] + [f"![{f.title}]({n})" for f, n in zip(s.figures, names)]
        if s.failures:
            parts += ["", f"### {s.failure_title}", ""] + [_case_md(row) for row in s.failures]
    return "\n".join(parts) + "\n"
