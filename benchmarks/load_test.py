"""Load test of the OpenAI-compatible HTTP API: many concurrent shopper sessions on 127.0.0.1, then a check
that every cart change the API acknowledged is in the session store.

    python benchmarks/load_test.py --backend scripted --sessions 50 --turns 20 --out load_scripted.json
    python benchmarks/load_test.py --backend llamacpp --model qwen0.5b --sessions 4 --turns 4 --out load_cpu.json
    python benchmarks/load_test.py --backend scripted --store pgserver --sessions 50 --turns 20 --out load_pg.json

It starts `ui.api` in a child process (this script's `serve` mode) on a free local port with a session store
(a SQLite file by default; `--store postgresql://...` a Postgres database; `--store pgserver` a throw-away
local Postgres from the pgserver wheel), drives it with one thread per session (each session its own user
id and X-Session-Id, a scripted shopping conversation with searches, details, reviews, comparisons, cart
adds and policy questions), and stops by itself: at most --max-seconds of driving (default 600), a per-request timeout, and the server is
killed at the end whatever happens. Only 127.0.0.1 is ever contacted.

Reports throughput (turns/s), latency p50/p95/p99, errors (HTTP errors, timeouts, internal-error replies)
and cart consistency: for every session, the cart in the store equals the sum of the add_to_cart calls the
API reported as done, and the cart in the last response agrees. Prints a table and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_SESSIONS, MAX_TURNS = 200, 100
CONVERSATION = [
    "show me wireless earbuds under 3000",
    "tell me more about the first one",
    "what do reviews say about it?",
    "add it to my cart",
    "compare the first and second",
    "add 2 units of the second one to my cart",
    "what's in my cart?",
    "running shoes for men under 4000",
    "add the first one to my cart",
    "what's your return policy?",
    "我想买一个电水壶，3000元以内",
    "第一个加入购物车",
    "laptops under 60000",
    "which one is the cheapest?",
    "add the cheapest one to my cart",
    "recommend something for me",
    "is the battery good on the first one?",
    "backpacks for travel",
    "add the second one to my cart",
    "where is my order?",
]


# ---- the server (child process) ------------------------------------------------------------------

def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.app import load_assistant
    from assistant.persistence import SessionStore
    from ui.api import create_app

    assistant = load_assistant(args.index, args.backend, args.model)
    assistant.sessions = SessionStore(args.db)
    app = create_app(assistant, model_name=f"shopassist-load-{args.backend}")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: str, backend: str, model: str | None, db: Path | str,
                 log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "serve", "--index", index, "--backend", backend,
           "--db", str(db), "--port", str(port)] + (["--model", model] if model else [])
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 600
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the API server did not start within 600 s")


# ---- the clients ---------------------------------------------------------------------------------

class Session:
    def __init__(self, i: int, user: str):
        self.user, self.sid = user, f"load-{i:03d}"
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.expected: Counter = Counter()   # acknowledged cart changes
        self.last_cart: dict | None = None
        self.turns = 0


def run_session(s: Session, url: str, turns: int, stop: threading.Event, timeout_s: float) -> None:
    import httpx

    with httpx.Client(timeout=timeout_s) as client:
        for t in range(turns):
            if stop.is_set():
                return
            text = CONVERSATION[t % len(CONVERSATION)]
            t0 = time.perf_counter()
            try:
                r = client.post(url + "/v1/chat/completions",
                                headers={"X-User-Id": s.user, "X-Session-Id": s.sid},
                                json={"model": "shopassist", "messages": [{"role": "user", "content": text}]})
                s.latencies.append(time.perf_counter() - t0)
                s.turns += 1
                if r.status_code != 200:
                    s.errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                    continue
                body = r.json()
                ext = body["shopassist"]
                reply = body["choices"][0]["message"]["content"]
                if "internal error" in reply or not reply.strip():
                    s.errors.append(f"degraded reply to {text!r}: {reply[:120]}")
                for call in ext["tool_calls"]:
                    if call["name"] == "add_to_cart" and not call.get("error"):
                        s.expected[call["arguments"]["product_id"]] += int(call["arguments"].get("quantity", 1))
                s.last_cart = ext["cart"]
            except Exception as e:  # timeouts, refused connections: counted, the session goes on
                s.latencies.append(time.perf_counter() - t0)
                s.turns += 1
                s.errors.append(f"{type(e).__name__}: {e}"[:200])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def check_carts(sessions: list[Session], db: Path | str) -> dict:
    from assistant.persistence import SessionStore
    from assistant.session import Session as ChatSession

    store = SessionStore(db)
    bad, lost_messages = [], 0
    for s in sessions:
        stored = store.cart(ChatSession(user_id=s.user, session_id=s.sid))
        if stored != dict(s.expected) or (s.last_cart is not None and s.last_cart != stored):
            bad.append({"session": s.sid, "expected": dict(s.expected), "stored": stored, "last_response": s.last_cart})
        saved = store.load(s.sid, s.user)
        answered = len(s.latencies) - sum(1 for e in s.errors if not e.startswith("degraded"))
        lost_messages += max(0, answered - sum(1 for t in (saved.turns if saved else []) if t.reply))
    changes = sum(sum(s.expected.values()) for s in sessions)
    return {"sessions_consistent": len(sessions) - len(bad), "sessions": len(sessions),
            "acknowledged_items": changes, "inconsistent": bad[:10], "answered_turns_not_stored": lost_messages}


def drive(args: argparse.Namespace) -> dict:
    from retrieval.store import Store

    sessions_n, turns = min(args.sessions, MAX_SESSIONS), min(args.turns, MAX_TURNS)
    users = sorted(Store.load(Path(args.index) / "store").users) or ["guest"]
    work = Path(tempfile.mkdtemp(prefix="shopassist-load-"))
    pg = None
    if args.store == "pgserver":
        import pgserver

        pg = pgserver.get_server(work / "pgdata", cleanup_mode="stop")
    db = pg.get_uri() if pg is not None else (args.store or work / "sessions.db")
    try:
        return _drive(args, sessions_n, turns, users, work, db)
    finally:
        if pg is not None:
            pg.cleanup()


def _drive(args, sessions_n: int, turns: int, users: list[str], work: Path, db) -> dict:
    proc, url = start_server(args.index, args.backend, args.model, db, work / "server.log")
    stop = threading.Event()
    sessions = [Session(i, users[i % len(users)]) for i in range(sessions_n)]
    try:
        warm = Session(999, "warmup")  # loads lazily built models once (the same kinds of turns); not counted
        run_session(warm, url, min(turns, len(CONVERSATION)), stop, args.request_timeout)
        threads = [threading.Thread(target=run_session, args=(s, url, turns, stop, args.request_timeout), daemon=True)
                   for s in sessions]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        deadline = t0 + args.max_seconds
        for t in threads:
            t.join(max(0.0, deadline - time.perf_counter()))
        stop.set()  # sessions still running stop after their current request
        for t in threads:
            t.join(args.request_timeout + 5)
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    lat = [x for s in sessions for x in s.latencies]
    errors = [e for s in sessions for e in s.errors]
    done = sum(s.turns for s in sessions)
    return {"backend": args.backend, "model": args.model, "sessions": sessions_n, "turns_per_session": turns,
            "turns_done": done, "turns_planned": sessions_n * turns, "wall_s": round(wall, 1),
            "throughput_turns_per_s": round(done / wall, 2) if wall else None,
            "latency_ms_p50": round(percentile(lat, 50) * 1e3, 1), "latency_ms_p95": round(percentile(lat, 95) * 1e3, 1),
            "latency_ms_p99": round(percentile(lat, 99) * 1e3, 1), "errors": len(errors),
            "error_examples": errors[:10], "stopped_by_deadline": done < sessions_n * turns,
            "carts": check_carts(sessions, db), "index": str(args.index), "cpus": os.cpu_count(),
            "store": "sqlite" if not str(db).startswith("postgres") else "postgresql",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S")}


def print_report(r: dict) -> None:
    from eval.harness import print_table

    c = r["carts"]
    print_table([{"backend": r["backend"] + (f" ({r['model']})" if r["model"] else ""),
                  "sessions x turns": f"{r['sessions']} x {r['turns_per_session']}", "turns": r["turns_done"],
                  "wall_s": r["wall_s"], "turns/s": r["throughput_turns_per_s"], "p50_ms": r["latency_ms_p50"],
                  "p95_ms": r["latency_ms_p95"], "p99_ms": r["latency_ms_p99"], "errors": r["errors"],
                  "carts_consistent": f"{c['sessions_consistent']}/{c['sessions']}",
                  "acked_items": c["acknowledged_items"], "turns_not_stored": c["answered_turns_not_stored"]}],
                title=f"load test (HTTP API on 127.0.0.1, {r.get('store', 'sqlite')} store)")


def default_index() -> str:
    from ui.commands.demo import ensure_demo_index

    return str(ensure_demo_index())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", nargs="?", default="drive", choices=["drive", "serve"])
    p.add_argument("--index", default=None, help="index folder (default: the demo index, built if missing)")
    p.add_argument("--backend", default="scripted")
    p.add_argument("--model", default=None)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--turns", type=int, default=20)
    p.add_argument("--max-seconds", type=float, default=600.0, help="stop driving after this long")
    p.add_argument("--request-timeout", type=float, default=180.0)
    p.add_argument("--out", default=None)
    p.add_argument("--store", default=None, help="session store: SQLite path (default: a temp file), "
                                                 "postgresql:// URL, or 'pgserver' (a throw-away local Postgres)")
    p.add_argument("--db", default=None, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.mode == "serve":
        return serve(args)
    args.index = args.index or default_index()
    report = drive(args)
    print_report(report)
    if report["errors"]:
        print("errors, e.g.:", *report["error_examples"][:5], sep="\n  ")
    if report["carts"]["inconsistent"]:
        print("inconsistent carts, e.g.:", json.dumps(report["carts"]["inconsistent"][:3], ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.out}")
    ok = report["errors"] == 0 and not report["carts"]["inconsistent"] and not report["carts"]["answered_turns_not_stored"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
