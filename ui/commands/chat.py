"""`shopassist chat`: streaming terminal chat over an index; one line of stdin is one turn.

Tool steps print as they run (`  [tool] search_products {...} 12 ms`), the reply streams as it is
written, then the products shown. Works the same with a pipe as stdin (scripts, tests); `/quit` or end
of input stops, `/new` starts a fresh session.
"""
from __future__ import annotations

import argparse
import json
import sys

from assistant.app import BACKENDS, add_turn_arguments
from assistant.render import money


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index folder")
    p.add_argument("--backend", default="llamacpp", choices=BACKENDS)
    p.add_argument("--model", help="model for the backend")
    p.add_argument("--base-url", help="server URL for --backend openai")
    p.add_argument("--user", help="signed-in user id (default: a guest)")
    add_turn_arguments(p)


def run_turn(assistant, session, text: str, out=sys.stdout) -> None:
    from assistant.engine import DoneEvent, TextEvent, ToolEvent

    started = False
    for event in assistant.stream(session, text):
        if isinstance(event, ToolEvent) and event.done:
            c = event.call
            status = f"error: {c['error']}" if c.get("error") else f"{c.get('ms', 0):.0f} ms"
            print(f"  [tool] {c['name']} {json.dumps(c.get('arguments', {}), ensure_ascii=False)} {status}",
                  file=out, flush=True)
        elif isinstance(event, TextEvent):
            if not started:
                out.write("assistant> ")
                started = True
            out.write(event.delta)
            out.flush()
        elif isinstance(event, DoneEvent):
            if not started:  # some replies (bad input) arrive only with the result
                out.write("assistant> " + event.result.text)
            out.write("\n")
            for p in event.result.products:
                rating = f" {p['rating']:g}★ ({p.get('rating_count') or 0})" if p.get("rating") is not None else ""
                out.write(f"  - [{p['product_id']}] {p['title'][:70]}  {money(p.get('price'), p.get('currency', 'INR'))}"
                          f"{rating}\n")
            out.flush()


def main(args: argparse.Namespace) -> int:
    from assistant.app import load_for_serving

    assistant, note = load_for_serving(args.index, args.backend, args.model, args.base_url,
                                       router=args.router, answer_style=args.answer_style)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    session = assistant.new_session(args.user)
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("you> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or line.strip() == "/quit":
            return 0
        text = line.strip()
        if text == "/new":
            session = assistant.new_session(args.user)
            continue
        if text:
            run_turn(assistant, session, text)
