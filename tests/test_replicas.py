"""Two `shopassist api` processes on one Postgres: sessions switch replica every turn, carts are written from
both at once, one replica is killed with SIGKILL mid-run and restarted; every cart change a client saw
acknowledged is in the database, and clients see no error except for requests in flight on the killed one.

The client plays the load balancer: it sends turn t of a session to replica t % 2, and when that replica
refuses connections (dead, nothing sent) it sends the turn to the other one. Everything is on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from retrieval.schema import Product
from retrieval.search import ProductIndex
from retrieval.store import Store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
N_SESSIONS, N_TURNS, N_PRODUCTS = 20, 8, 10
KILL_AT_OK_TURNS = N_SESSIONS * 3  # replica 1 is killed once this many turns were answered (others in flight)
RESUME_AT_TURN = 5                 # turns from here on wait until replica 1 is back (re-added to the balancer)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    products = {f"PR{i:03d}": Product(f"PR{i:03d}", f"Replica test item {i} steel bottle", "", ["Home", "Kitchen"],
                                      "Brand", 100.0 + i, "INR", 120.0 + i, 4.0, 10) for i in range(N_PRODUCTS)}
    path = tmp_path_factory.mktemp("replica-index")
    ProductIndex.build(Store(products=products)).save(path)
    return path


class Replica:
    def __init__(self, index_dir: Path, url: str, log: Path):
        self.index_dir, self.url, self.log, self.port = index_dir, url, log, free_port()
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "ui.cli", "api", "--index", str(self.index_dir), "--backend", "none",
               "--store", self.url, "--port", str(self.port)]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.time() + 120
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError("replica did not become ready: " + self.log.read_text()[-3000:])

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def shopper(i: int, key: str, replicas: list[Replica], report: dict, lock: threading.Lock,
            restarted: threading.Event) -> None:
    acked: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {key}", "X-Session-Id": f"replica-session-{i}"}
    with httpx.Client(timeout=60) as client:
        for t in range(N_TURNS):
            if t == RESUME_AT_TURN:
                restarted.wait(240)
            pid = f"PR{(i + t) % N_PRODUCTS:03d}"
            body = {"messages": [{"role": "user", "content": f"add {pid} to my cart"}]}
            outcome, data, served_by = _send(client, replicas, t, headers, body)
            with lock:
                report[outcome] = report.get(outcome, 0) + 1
                if outcome == "error":
                    report.setdefault("error_examples", []).append(data)
            if outcome != "ok":
                continue
            calls = data["shopassist"]["tool_calls"]
            if any(c["name"] == "add_to_cart" and not c["error"] for c in calls):
                acked[pid] = acked.get(pid, 0) + 1
            with lock:
                report["switches"] += served_by != report["last_replica"].get(i, served_by)
                report["last_replica"][i] = served_by
                # continuity: what this client saw acknowledged (on either replica) is in the cart it gets back
                if any(data["shopassist"]["cart"].get(p, 0) < 1 for p in acked):
                    report["continuity_failures"] += 1
    with lock:
        report["acked"][i] = acked


def _send(client, replicas, t, headers, body):
    first = t % 2
    for r in (replicas[first], replicas[1 - first]):
        try:
            resp = client.post(r.base + "/v1/chat/completions", headers=headers, json=body)
        except httpx.ConnectError:  # refused: the balancer sends it to the other replica (nothing was sent)
            continue
        except httpx.TransportError as e:  # sent, then the connection died: in flight on the killed replica
            return "in_flight_on_killed", repr(e), r.port
        if resp.status_code != 200:
            return "error", f"{resp.status_code} {resp.text[:200]}", r.port
        return "ok", resp.json(), r.port
    return "error", "no replica accepted the connection", None


def test_two_replicas_share_sessions_and_carts_and_survive_a_kill(index_dir, pg_url, tmp_path):
    from assistant.persistence import SessionStore
    from assistant.session import Session
    from ui.auth import ApiKeyStore

    keys = ApiKeyStore(pg_url)
    user_keys = [keys.create(f"RU{i}")[1] for i in range(N_SESSIONS)]
    replicas = [Replica(index_dir, pg_url, tmp_path / f"replica{k}.log") for k in range(2)]
    report = {"ok": 0, "switches": 0, "last_replica": {}, "acked": {}, "continuity_failures": 0}
    lock, restarted = threading.Lock(), threading.Event()
    try:
        for r in replicas:
            r.start()
        threads = [threading.Thread(target=shopper, args=(i, user_keys[i], replicas, report, lock, restarted))
                   for i in range(N_SESSIONS)]
        for th in threads:
            th.start()
        deadline = time.time() + 240
        while report["ok"] < KILL_AT_OK_TURNS and time.time() < deadline:
            time.sleep(0.01)
        replicas[1].kill()
        report["killed_at_ok_turns"] = report["ok"]
        replicas[1].start()
        restarted.set()
        for th in threads:
            th.join(300)
        report["metrics_scraped"] = "shopassist_turns_total" in httpx.get(replicas[0].base + "/metrics").text
    finally:
        for r in replicas:
            r.stop()
    store = SessionStore(pg_url)
    missing = []
    for i, acked in report["acked"].items():
        cart = store.load(f"replica-session-{i}", f"RU{i}").cart
        missing += [(i, pid) for pid in acked if cart.get(pid, 0) < 1]
    summary = {k: v for k, v in report.items() if k not in ("last_replica", "acked")}
    summary.update(acknowledged_changes=sum(sum(a.values()) for a in report["acked"].values()), missing=missing)
    print("replica test:", json.dumps(summary))
    assert len(report["acked"]) == N_SESSIONS
    assert not missing                                   # every acknowledged cart change is in Postgres
    assert report.get("error", 0) == 0, report.get("error_examples")
    assert report["continuity_failures"] == 0 and report["switches"] >= N_SESSIONS  # sessions really moved
    assert report["ok"] + report.get("in_flight_on_killed", 0) == N_SESSIONS * N_TURNS
    assert report["metrics_scraped"]
