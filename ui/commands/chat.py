"""`shopassist chat`: streaming terminal chat over an index; one line of stdin is one turn.

Tool steps print as they run (`  [tool] search_products {...} 12 ms`), the reply streams as it is
written, then the products shown. Works the same with a pipe as stdin (scripts, tests); `/quit` or end
of input stops, `/new` starts a fresh session. `/photo PATH [words]` (or a line that is just the path of
an image file) sends a photo or screenshot: the product read on it is searched (assistant.photo).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from assistant.app import BACKENDS, add_turn_arguments
from assistant.render import money


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index folder")
    p.add_argument("--backend", default="llamacpp", choices=BACKENDS)
    p.add_argument("--model", help="model for the backend")
    p.add_argument("--base-url", help="server URL for --backend openai")
    p.add_argument("--user", help="signed-in user id (default: a guest)")
    add_turn_arguments(p)


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")


def photo_request(line: str) -> tuple[str, str] | None:
    """(path, words) for `/photo PATH [words]` or a line that is an image file's path; None otherwise."""
    if line.startswith("/photo"):
        try:
            parts = shlex.split(line[len("/photo"):])
        except ValueError:
            parts = line[len("/photo"):].split()
        return (parts[0], " ".join(parts[1:])) if parts else ("", "")
    candidate = line.strip().strip("'\"")
    if candidate.lower().endswith(IMAGE_SUFFIXES) and Path(candidate).expanduser().is_file():
        return candidate, ""
    return None


def run_photo_turn(photos, session, path: str, words: str, out=sys.stdout) -> None:
    """A turn with the image at `path` (a missing or unreadable file is said, not raised)."""
    from assistant.photo import stream_with_image

    try:
        data = Path(path).expanduser().read_bytes() if path else None
    except OSError as e:
        data, problem = None, f"cannot read {path}: {e.strerror or e}"
    else:
        problem = "usage: /photo PATH [words]" if not path else ""
    if data is None:
        print(f"assistant> {problem}", file=out, flush=True)
        return
    run_turn(None, session, words, out, events=stream_with_image(photos, session, words, data))


def run_turn(assistant, session, text: str, out=sys.stdout, events=None) -> None:
    from assistant.engine import DoneEvent, TextEvent, ToolEvent

    started = False
    for event in events if events is not None else assistant.stream(session, text):
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
    from assistant.photo import PhotoSearch

    session = assistant.new_session(args.user)
    photos = PhotoSearch(assistant)  # OCR models load with the first photo
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
        photo = photo_request(text)
        if photo is not None:
            run_photo_turn(photos, session, *photo)
        elif text:
            run_turn(assistant, session, text)
