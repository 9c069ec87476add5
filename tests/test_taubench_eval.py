"""`shopassist eval taubench`: reward, pass^k, the violation audit and failure causes can all fail."""
from __future__ import annotations

import json

import pytest

from eval.taubench_audit import audit_violations, failure_cause
from eval.taubench_task import TaubenchTask, aggregate, load_tasks, pass_hat_k, select
from eval.taubench_users import STOP, ScriptedCustomer, first_person
from tests.conftest import shared_data
from tests.service_fixtures import tiny_data

CANCEL = {"name": "cancel_pending_order", "arguments": {"order_id": "#W0000001", "reason": "ordered by mistake"}}


def task(instruction: str, actions: list[dict], outputs=(), tid="t-1") -> dict:
    return {"task_id": tid, "user_id": "alice_1", "instruction": instruction, "actions": actions,
            "outputs": list(outputs)}


def run(tasks, repeats=1):
    t = TaubenchTask(tiny_data(), tasks, None, lambda tk, trial: ScriptedCustomer(tk["instruction"]), repeats)
    cases = t.cases()
    outs = t.run_batch(cases)
    rows = [{"id": c.id, **t.evaluate(c, o)} for c, o in zip(cases, outs)]
    return rows, outs, aggregate(repeats)(rows, outs)


def test_pass_hat_k_is_the_benchmark_estimator():
    runs = {"a": [1.0, 1.0, 0.0], "b": [1.0, 1.0, 1.0], "c": [0.0, 0.0, 0.0]}
    assert pass_hat_k(runs, 1) == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert pass_hat_k(runs, 2) == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert pass_hat_k(runs, 3) == pytest.approx(1 / 3)


def test_a_right_conversation_scores_one_and_a_wrong_one_zero():
    good = task("Your name is Alice Smith and your zip code is 10001. Cancel order #W0000001 because you ordered "
                "it by mistake.", [CANCEL])
    wrong_reason = task(good["instruction"], [{**CANCEL, "arguments": {**CANCEL["arguments"],
                                                                       "reason": "no longer needed"}}], tid="t-2")
    nothing = task("Your email is alice@example.com. You wonder about the weather.", [CANCEL], tid="t-3")
    said = task(good["instruction"], [CANCEL], outputs=["4242.42"], tid="t-4")
    rows, outs, metrics = run([good, wrong_reason, nothing, said])
    assert [r["reward"] for r in rows] == [1.0, 0.0, 0.0, 0.0]
    assert [r["cause"] for r in rows] == ["", "wrong_arguments", "gave_up", "missing_output"]
    assert metrics["pass^1"] == 0.25 and metrics["policy_violations"] == 0
    assert outs[0]["transcript"][0]["customer"].startswith("My name is Alice Smith")
    assert outs[0]["transcript"][1]["customer"] == "Yes."


def test_the_audit_finds_each_kind_of_violation():
    data = tiny_data()
    write = {"name": "cancel_pending_order", "arguments": {"order_id": "#W0000001", "reason": "no longer needed"}}
    shown = {"customer": "I want to cancel", "agent": "Shall I cancel #W0000001? Please answer yes.", "executed": []}
    ok = [shown, {"customer": "Yes.", "agent": "Done.", "executed": [write]}]
    assert audit_violations(data, "alice_1", ok) == []
    unconfirmed = [shown, {"customer": "hmm, maybe", "agent": "Done.", "executed": [write]}]
    assert [v["kind"] for v in audit_violations(data, "alice_1", unconfirmed)] == ["write_without_yes"]
    unshown = [{"customer": "cancel it", "agent": "Sure.", "executed": []},
               {"customer": "yes", "agent": "Done.", "executed": [write]}]
    assert [v["kind"] for v in audit_violations(data, "alice_1", unshown)] == ["write_without_yes"]
    other = [{**shown, "agent": "Cancel #W0000004?"}, {"customer": "yes", "agent": "Done.", "executed": [
        {"name": "cancel_pending_order", "arguments": {"order_id": "#W0000004", "reason": "no longer needed"}}]}]
    assert [v["kind"] for v in audit_violations(data, "alice_1", other)] == ["other_customer"]
    twice = ok + [{"customer": "yes", "agent": "Done.", "executed": [write]}]
    assert "wrong_status" in [v["kind"] for v in audit_violations(data, "alice_1", twice)]


def test_failure_causes():
    t = task("x", [CANCEL, {"name": "return_delivered_order_items", "arguments": {
        "order_id": "#W0000002", "item_ids": ["1002"], "payment_method_id": "paypal_1"}}])
    ret = t["actions"][1]
    assert failure_cause(t, "bob_2", [], [], False, True) == "authentication"
    assert failure_cause(t, "alice_1", [CANCEL], [], False, True) == "gave_up"
    assert failure_cause(t, "alice_1", [CANCEL], [ret], False, True) == "missing_confirmation"
    wrong_pay = {**ret, "arguments": {**ret["arguments"], "payment_method_id": "gift_card_1"}}
    assert failure_cause(t, "alice_1", [CANCEL, wrong_pay], [], False, True) == "wrong_payment_method"
    wrong_item = {**ret, "arguments": {**ret["arguments"], "item_ids": ["1001"]}}
    assert failure_cause(t, "alice_1", [CANCEL, wrong_item], [], False, True) == "wrong_item_or_variant"
    assert failure_cause(t, "alice_1", [CANCEL, ret, CANCEL], [], False, True) == "extra_write"
    assert failure_cause(t, "alice_1", [CANCEL, ret], [], True, True) == ""


def test_the_scripted_customer():
    instruction = "Your name is Ann Lee and your email is ann@example.com. You want to return your lamp."
    c = ScriptedCustomer(instruction)
    assert c.first_message() == "My name is Ann Lee and my email is ann@example.com. I want to return my lamp."
    assert c.reply("Please give me your e-mail address.") == "My e-mail is ann@example.com."
    assert c.reply("Here is what I will do: return the lamp. Please answer yes to confirm.") == "Yes."
    assert c.reply("Done. Is there anything else I can help you with?") == STOP
    assert "told you everything" in c.reply("Which color would you like?")
    assert first_person("You've got your order; you're sure.") == "I've got my order; I'm sure."


def test_tasks_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "tasks.jsonl"
    bad.write_text(json.dumps({"task_id": "a", "user_id": "u", "instruction": "i", "actions": []}) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"tasks.jsonl:2"):
        load_tasks(bad)
    tasks = [{"task_id": f"t{i}"} for i in range(10)]
    assert select(tasks, None, 3, 7) == select(tasks, None, 3, 7) and len(select(tasks, None, 3, 7)) == 3


@pytest.mark.data
def test_dev_tasks_run_on_the_real_data_without_a_model(tmp_path):
    from assistant.service.data import RetailData
    from ui.cli import main

    folder = shared_data("cs_taubench_retail")
    RetailData.load(folder)
    out = tmp_path / "r.json"
    assert main(["eval", "taubench", "--data", str(folder), "--tasks", str(folder / "tasks_dev.jsonl"),
                 "--backend", "none", "--limit", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"pass^1", "policy_violations", "n_tasks", "failures_by_cause"} <= set(result)
    assert result["n_tasks"] == 2 and result["policy_violations"] == 0


def test_the_llm_customer_sees_a_transcript_and_stops_on_the_marker():
    from assistant.llm.scripted import ScriptedBackend
    from eval.taubench_users import LLMCustomer

    backend = ScriptedBackend(["Hi, I want to cancel an order.", "Customer: My email is ann@example.com", "###STOP###"])
    c = LLMCustomer("Your email is ann@example.com. Cancel your order.", backend)
    assert c.first_message() == "Hi, I want to cancel an order."
    assert "###STOP###" not in backend.calls[0].messages[0].content  # no end marker before the chat starts
    assert c.reply("Please give me your e-mail.") == "My email is ann@example.com"
    prompt = backend.calls[1].messages[-1].content
    assert "You: Hi, I want to cancel an order.\nAgent: Please give me your e-mail." in prompt
    assert "Cancel your order." in backend.calls[1].messages[0].content
    assert "###STOP###" not in prompt + backend.calls[1].messages[0].content  # no quitting mid-way
    assert c.reply("Done. Is there anything else I can help you with?") == STOP
    assert "###STOP###" in backend.calls[2].messages[0].content


def test_who_ended_the_conversation():
    from eval.taubench_audit import ended_by

    assert ended_by([{"agent": "Done. Is there anything else I can help you with?"}], 14) == "agent"
    assert ended_by([{"agent": "What is your zip code?"}], 14) == "customer"
    assert ended_by([{"agent": "What is your zip code?"}] * 14, 14) == "turn_cap"


def test_a_failing_user_backend_ends_the_conversation_and_is_reported():
    from assistant.errors import BackendTimeout
    from assistant.llm.scripted import ScriptedBackend
    from eval.taubench_users import LLMCustomer

    def slow(messages, tools):
        raise BackendTimeout("too slow")

    c = LLMCustomer("Your email is ann@example.com.", ScriptedBackend([slow]))
    assert c.first_message() == STOP and "too slow" in c.error
