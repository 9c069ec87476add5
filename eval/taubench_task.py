"""`shopassist eval taubench`: tau-bench's retail tasks against the service agent, scored as the benchmark does.

A task (`tasks_*.jsonl`: task_id, user_id, instruction, actions, outputs) is played by a simulated customer
(`--user scripted|llm`, see eval/taubench_users.py) against `ServiceAgent` on a fresh copy of the records.
Reward 1 when the records afterwards equal the records after replaying the task's ground-truth actions on
another fresh copy, and every required output string appears in the agent's messages (lower-cased, commas
removed). pass^k is the benchmark's estimator: per task C(c, k) / C(n, k) over n runs with c successes.

Policy violations are audited from the transcript, independently of the policy code: a write whose turn's
customer message is not an explicit yes or whose preceding agent message did not present it (order and item
ids); a write on another customer's records; a write on an order whose status did not allow it (replayed).
Failed runs get a cause: authentication, wrong_action, wrong_item_or_variant, wrong_payment_method,
wrong_arguments, missing_confirmation, gave_up, extra_write, missing_output.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
from math import comb
from pathlib import Path
from typing import Any, Sequence

from eval.harness import Case, backend_meta, percentile, print_table, run_meta, run_task, write_results
from eval.taubench_audit import audit_violations, ended_by, failure_cause

DEFAULT_MAX_TURNS = 14
PARSE_TIMEOUT_S = 300.0  # a loaded shared machine can take minutes; a fallback to action words is counted


def load_tasks(path: str | Path) -> list[dict[str, Any]]:
    tasks = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                t = json.loads(line)
                missing = [k for k in ("task_id", "user_id", "instruction", "actions") if k not in t]
                if missing:
                    raise ValueError(f"missing {', '.join(missing)}")
            except (json.JSONDecodeError, ValueError) as e:
                raise ValueError(f"{path}:{n}: bad task line ({e})") from e
            tasks.append({**t, "outputs": t.get("outputs") or []})
    return tasks


def select(tasks: list[dict], limit: int | None, sample: int | None, seed: int) -> list[dict]:
    if sample:
        return sorted(random.Random(seed).sample(tasks, min(sample, len(tasks))), key=lambda t: t["task_id"])
    return tasks[:limit] if limit else tasks


class TaubenchTask:
    name = "taubench"

    def __init__(self, data, tasks: list[dict], agent_backend, user_factory, repeats: int = 1,
                 max_turns: int = DEFAULT_MAX_TURNS, mode: str = "parse", temperature: float = 0.0, seed: int = 0,
                 partial: Path | None = None):
        self.data, self.tasks, self.backend, self.user_factory = data, tasks, agent_backend, user_factory
        self.repeats, self.max_turns, self.mode = repeats, max_turns, mode
        self.temperature, self.seed, self.partial = temperature, seed, partial
        self.done = _read_partial(partial)

    def cases(self) -> Sequence[Case]:
        return [Case(id=f"{t['task_id']}#{r}", input=t, meta={"trial": r}) for t in self.tasks
                for r in range(self.repeats)]

    def run_batch(self, cases: Sequence[Case]) -> list[dict]:
        out = []
        for c in cases:
            row = self.done.get(c.id) or self.run_case(c.input, c.meta["trial"])
            if c.id not in self.done and self.partial is not None:
                with open(self.partial, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"id": c.id, **row}, default=str) + "\n")
            out.append(row)
        return out

    def fresh_domain(self, folder: str):
        from assistant.service.domain import RetailDomain
        from assistant.service.records import ServiceRecords

        return RetailDomain(self.data, ServiceRecords(Path(folder) / "records.sqlite"))

    def run_case(self, task: dict, trial: int) -> dict:
        from assistant.service.agent import ServiceAgent

        with tempfile.TemporaryDirectory(prefix="taubench-") as tmp:
            domain = self.fresh_domain(tmp + "/agent")
            agent = ServiceAgent(domain, self.backend, self.mode, self.temperature, self.seed + 1000 * trial,
                                 timeout_s=PARSE_TIMEOUT_S)
            customer = self.user_factory(task, trial)
            state, turns = converse(agent, customer, self.max_turns)
            gt = self.fresh_domain(tmp + "/truth")
            replay_truth(gt, task["actions"])
            keys = domain.changed_keys() | gt.changed_keys()
            db_ok = domain.snapshot(keys) == gt.snapshot(keys)
        said = " ".join(t["agent"] for t in turns).lower().replace(",", "")
        outputs_ok = all(o.lower() in said for o in task["outputs"])
        executed = [w for t in turns for w in t["executed"]]
        proposed = [t["proposal"] for t in turns if t["proposal"]]
        return {"task_id": task["task_id"], "trial": trial, "reward": float(db_ok and outputs_ok), "db_match": db_ok,
                "outputs_said": outputs_ok, "authenticated": state.customer_id, "turns": len(turns),
                "ended_by": ended_by(turns, self.max_turns),
                "latency_s": [t["latency_s"] for t in turns], "llm_calls": agent.parser.calls,
                "parse_fallbacks": sum(p["source"] == "fallback" for t in turns for p in t["parse"]),
                "user_error": getattr(customer, "error", ""),
                "executed": executed, "gt_actions": task["actions"],
                "cause": failure_cause(task, state.customer_id, executed, proposed, db_ok, outputs_ok),
                "violations": audit_violations(self.data, task["user_id"], turns), "transcript": turns}

    def evaluate(self, case: Case, out: dict) -> dict[str, Any]:
        return {"task_id": out["task_id"], "trial": out["trial"], "reward": out["reward"], "turns": out["turns"],
                "cause": out["cause"], "violations": len(out["violations"]), "llm_calls": out["llm_calls"],
                "ended_by": out.get("ended_by", ""), "parse_fallbacks": out.get("parse_fallbacks", 0)}


def converse(agent, customer, max_turns: int):
    from eval.taubench_users import STOP

    state = agent.new_state()
    message, turns = customer.first_message(), []
    while message != STOP and len(turns) < max_turns:
        reply = agent.turn(state, message)
        turns.append({"customer": message, "agent": reply.text, "executed": reply.executed,
                      "proposal": reply.proposal, "latency_s": round(reply.latency_s, 3), "parse": reply.parse,
                      "tools": [{k: v for k, v in c.items() if k != "result"} for c in reply.tool_calls]})
        if reply.transferred:
            break
        message = customer.reply(reply.text)
    return state, turns


def replay_truth(domain, actions: list[dict]) -> None:
    """The task's ground-truth writes on a fresh copy; like the benchmark, a write that errors changes nothing."""
    from assistant.service.actions import WRITE_ACTIONS, ActionError

    for a in actions:
        if a["name"] in WRITE_ACTIONS:
            try:
                domain.commit(a["name"], a["arguments"], "ground-truth", "")
            except (ActionError, TypeError):
                pass


def pass_hat_k(per_task: dict[str, list[float]], k: int) -> float:
    scores = [comb(int(sum(r)), k) / comb(len(r), k) for r in per_task.values() if len(r) >= k]
    return sum(scores) / len(scores) if scores else float("nan")


def aggregate(repeats: int):
    def agg(per_case: list[dict], outputs: list[dict]) -> dict[str, Any]:
        per_task: dict[str, list[float]] = {}
        for row in per_case:
            per_task.setdefault(row["task_id"], []).append(row["reward"])
        causes: dict[str, int] = {}
        for row in per_case:
            if row["cause"]:
                causes[row["cause"]] = causes.get(row["cause"], 0) + 1
        kinds: dict[str, int] = {}
        for out in outputs:
            for v in out["violations"]:
                kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
        latencies = [x for out in outputs for x in out["latency_s"]]
        ends: dict[str, int] = {}
        for row in per_case:
            ends[row["ended_by"]] = ends.get(row["ended_by"], 0) + 1
        return {**{f"pass^{k}": pass_hat_k(per_task, k) for k in range(1, repeats + 1)},
                "policy_violations": sum(kinds.values()), "violations_by_kind": kinds, "n_tasks": len(per_task),
                "n_runs": len(per_case), "failures_by_cause": causes, "ended_by": ends,
                "turn_latency_s_p50": percentile(latencies, 50), "turn_latency_s_p95": percentile(latencies, 95),
                "transcripts": outputs}
    return agg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True,
                   help="service data folder (tau-bench retail layout, or an index's service/)")
    p.add_argument("--tasks", required=True, help="tasks JSONL (task_id, user_id, instruction, actions, outputs)")
    p.add_argument("--user", choices=["scripted", "llm"], default="scripted")
    p.add_argument("--user-backend", default="llamacpp", help="backend of the llm user")
    p.add_argument("--user-model", default="qwen1.5b", help="model of the llm user")
    p.add_argument("--backend", default="llamacpp",
                   help="agent backend: llamacpp, openai, transformers, scripted, none")
    p.add_argument("--model", help="agent model (llamacpp default qwen0.5b)")
    p.add_argument("--base-url", help="server URL for --backend openai")
    p.add_argument("--mode", choices=["parse", "agent"], default="parse",
                   help="parse: the model labels, code acts; agent: the model picks the tools")
    p.add_argument("--repeats", type=int, default=1, help="runs per task (pass^1..pass^k)")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--limit", type=int, help="the first N tasks")
    sel.add_argument("--sample", type=int, help="a seeded random sample of N tasks (--seed)")
    p.add_argument("--max-turns", type=int, default=DEFAULT_MAX_TURNS, help="customer messages per conversation")
    p.add_argument("--resume", action="store_true", help="reuse finished runs from OUT.partial.jsonl")
    p.add_argument("--out", required=True)


def main(args: argparse.Namespace) -> int:
    from assistant.app import load_backend_or_none
    from assistant.service.data import RetailData

    data = RetailData.load(args.data)
    tasks = select(load_tasks(args.tasks), args.limit, args.sample, args.seed)
    kw = {"base_url": args.base_url} if args.base_url else {}
    agent_backend = load_backend_or_none(args.backend, args.model, **kw)
    user_backend = None
    if args.user == "llm":
        same = (args.user_backend, args.user_model) == (args.backend, args.model)
        user_backend = agent_backend if same else load_backend_or_none(args.user_backend, args.user_model, **kw)
    partial = Path(args.out).with_suffix(".partial.jsonl")
    if not args.resume and partial.exists():
        partial.unlink()
    task = TaubenchTask(data, tasks, agent_backend, _user_factory(args, user_backend), args.repeats, args.max_turns,
                        args.mode, args.temperature, args.seed, partial)
    meta = {"tasks_file": str(args.tasks), "user": args.user, "mode": args.mode, "repeats": args.repeats,
            "temperature": args.temperature, "seed": args.seed, "limit": args.limit, "sample": args.sample,
            "max_turns": args.max_turns, "agent": backend_meta(agent_backend, args.backend),
            "user_backend": backend_meta(user_backend, args.user_backend) if user_backend else None}
    result = run_task(task, aggregate(args.repeats), meta=meta, batch_size=1)
    _print(result)
    write_results(args.out, result.to_json())
    return 0


def _user_factory(args: argparse.Namespace, backend):
    from eval.taubench_users import LLMCustomer, ScriptedCustomer

    if args.user == "scripted":
        return lambda task, trial: ScriptedCustomer(task["instruction"])
    return lambda task, trial: LLMCustomer(task["instruction"], backend, args.temperature, args.seed + 1000 * trial)


def _print(result) -> None:
    m = result.metrics
    keys = [k for k in m if k.startswith("pass^")] + ["policy_violations", "n_tasks", "n_runs", "turns",
                                                       "turn_latency_s_p50", "turn_latency_s_p95"]
    print_table([{k: m.get(k) for k in keys}], title="tau-bench retail")
    causes = [{"cause": c, "runs": n} for c, n in sorted(m["failures_by_cause"].items())]
    print_table(causes or [{"cause": "-", "runs": 0}], title="failures by cause")
    print_table([{"id": r["id"], "reward": r["reward"], "turns": r["turns"], "cause": r["cause"]}
                 for r in result.per_case], title="runs")


def _read_partial(path: Path | None) -> dict[str, dict]:
    if path is None or not path.exists():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row.pop("id")] = row
    return rows
